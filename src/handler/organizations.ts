/**
 * Discovery: the organization, its roots, the whole OU tree and every account with its status,
 * walked breadth-first with bounded concurrency, through the SDK's paginators and its adaptive
 * retry (Organizations throttles with TooManyRequestsException).
 */
import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListParentsCommand,
  OrganizationsClient,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListRoots,
  paginateListTagsForResource,
  type Account,
} from '@aws-sdk/client-organizations';
import { forEachUntil } from './bounded';
import { organizationsRegion } from '../core/onboarding';

export { organizationsRegion };

/** Account states as Organizations reports them. */
export type AccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED' | string;

export interface OrgAccount {
  readonly id: string;
  readonly name: string;
  readonly email?: string;
  readonly status: AccountStatus;
  readonly joinedMethod?: string;
  /** The root or OU directly above the account. */
  readonly parentId: string;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface OrgUnit {
  readonly id: string;
  readonly name: string;
  /** `undefined` for a root. */
  readonly parentId?: string;
  /** 0 for a root, 1 for its OUs, … */
  readonly depth: number;
}

export interface OrganizationSnapshot {
  readonly organization: { readonly id: string; readonly arn: string; readonly managementAccountId: string };
  /** Roots and OUs by id. */
  readonly units: ReadonlyMap<string, OrgUnit>;
  readonly rootIds: readonly string[];
  readonly accounts: readonly OrgAccount[];
  /** The deepest OU level (0: accounts directly under roots only). */
  readonly depth: number;
  /** Organizations API calls made. */
  readonly calls: number;
}

export function organizationsClient(partition = 'aws', maxAttempts = 12): OrganizationsClient {
  return new OrganizationsClient({ region: organizationsRegion(partition), retryMode: 'adaptive', maxAttempts });
}

export interface DiscoveryOptions {
  /** Read each account's tags (only when selection rules use them: one call per account). */
  readonly withTags?: boolean;
  /**
   * Parents listed at once. 4 measured best against Organizations' throttle (bench/discovery.ts:
   * 1.14x the throttle bound; 8 gave 1.16x with more TooManyRequestsException).
   */
  readonly concurrency?: number;
  readonly onProgress?: (message: string) => void;
}

export interface ContinueDiscoveryOptions extends Omit<DiscoveryOptions, 'withTags'> {
  /**
   * The accounts whose tags to read, decided once the tree is complete (one call per account:
   * selection asks only for those its other rules leave selectable). Default: none.
   */
  readonly tagsFor?: (snapshot: OrganizationSnapshot) => readonly string[];
  /** Start no new listing once this says so: what is done so far stays in the progress. */
  readonly stop?: () => boolean;
}

/**
 * Discovery so far, as plain JSON: a Lambda invocation that ends before the organization is
 * walked saves it and the next one continues where it stopped. Each parent's listing and each
 * account's tags are recorded whole or not at all.
 */
export interface DiscoveryProgress {
  readonly organization: OrganizationSnapshot['organization'];
  readonly rootIds: string[];
  readonly units: OrgUnit[];
  readonly accounts: OrgAccount[];
  /** Roots and OUs whose OUs and accounts are still to be listed. */
  pending: string[];
  /** Accounts whose tags are still to be read: decided when `pending` is empty. */
  tagsPending?: string[];
  calls: number;
}

/** Discovery failures, with what to fix. */
export class DiscoveryError extends Error {
  constructor(message: string, public readonly cause?: unknown) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

function explain(error: unknown): Error {
  const name = (error as { name?: string })?.name ?? '';
  const detail = (error as Error)?.message ?? String(error);
  if (name === 'AWSOrganizationsNotInUseException') {
    return new DiscoveryError('This account is not in an AWS Organization: onboard it as a single provider, or run from the management account.', error);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new DiscoveryError(
      'Organizations discovery was denied: run from the management account or a delegated administrator, with organizations:DescribeOrganization, '
      + 'ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent and ListTagsForResource allowed '
      + `(the management ProwlerScan role with organizationDiscovery has them). AWS said: ${detail}`,
      error,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

async function explained<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw explain(error);
  }
}

/** Discovers the organization the client's credentials belong to, in one go. */
export async function discoverOrganization(client: OrganizationsClient, options: DiscoveryOptions = {}): Promise<OrganizationSnapshot> {
  const progress = await beginDiscovery(client);
  const snapshot = await continueDiscovery(client, progress, {
    ...options,
    tagsFor: options.withTags ? (s) => s.accounts.map((a) => a.id) : undefined,
  });
  return snapshot!;
}

/** The organization and its roots: what a run needs to know before walking the tree. */
export async function beginDiscovery(client: OrganizationsClient): Promise<DiscoveryProgress> {
  return explained(async () => {
    const { Organization: org } = await client.send(new DescribeOrganizationCommand({}));
    if (!org?.Id || !org.MasterAccountId) throw new DiscoveryError('DescribeOrganization returned no organization id');
    let calls = 1;
    const units: OrgUnit[] = [];
    for await (const page of paginateListRoots({ client, pageSize: 20 }, {})) {
      calls++;
      for (const root of page.Roots ?? []) units.push({ id: root.Id!, name: root.Name ?? 'Root', depth: 0 });
    }
    const rootIds = units.map((u) => u.id);
    return {
      organization: { id: org.Id, arn: org.Arn ?? '', managementAccountId: org.MasterAccountId },
      rootIds,
      units,
      accounts: [],
      pending: [...rootIds],
      calls,
    };
  });
}

/**
 * Walks the rest of the tree breadth-first (each level's parents listed concurrently, bounded),
 * then reads the tags asked for. Returns the snapshot when discovery is complete, `undefined`
 * when `stop` ended it first (the progress holds what was done).
 */
export async function continueDiscovery(
  client: OrganizationsClient,
  progress: DiscoveryProgress,
  options: ContinueDiscoveryOptions = {},
): Promise<OrganizationSnapshot | undefined> {
  const concurrency = options.concurrency ?? 4;
  const stop = options.stop ?? (() => false);
  return explained(async () => {
    const units = new Map(progress.units.map((u) => [u.id, u]));
    while (progress.pending.length > 0 && !stop()) {
      const level = [...progress.pending];
      const listed = new Set<string>();
      await forEachUntil(level, concurrency, stop, async (parentId) => {
        const parent = units.get(parentId)!;
        const children: OrgUnit[] = [];
        const accounts: OrgAccount[] = [];
        let calls = 0;
        for await (const page of paginateListOrganizationalUnitsForParent({ client, pageSize: 20 }, { ParentId: parent.id })) {
          calls++;
          for (const ou of page.OrganizationalUnits ?? []) {
            children.push({ id: ou.Id!, name: ou.Name ?? ou.Id!, parentId: parent.id, depth: parent.depth + 1 });
          }
        }
        for await (const page of paginateListAccountsForParent({ client, pageSize: 20 }, { ParentId: parent.id })) {
          calls++;
          for (const a of page.Accounts ?? []) accounts.push(toAccount(a, parent.id));
        }
        // The parent's listing, whole: its children wait for the next level.
        progress.calls += calls;
        for (const child of children) {
          units.set(child.id, child);
          progress.units.push(child);
          progress.pending.push(child.id);
        }
        for (const a of accounts) progress.accounts.push(a);
        listed.add(parentId);
      });
      progress.pending = progress.pending.filter((id) => !listed.has(id));
      options.onProgress?.(`discovered ${progress.units.length - progress.rootIds.length} OUs and ${progress.accounts.length} accounts (depth ${depthOf(progress)})`);
    }
    if (progress.pending.length > 0) return undefined;

    progress.tagsPending ??= [...(options.tagsFor?.(snapshotOf(progress)) ?? [])];
    if (progress.tagsPending.length > 0) {
      const byId = new Map(progress.accounts.map((a, i) => [a.id, i]));
      const read = new Set<string>();
      await forEachUntil(progress.tagsPending, concurrency, stop, async (accountId) => {
        const tags: Record<string, string> = {};
        let calls = 0;
        for await (const page of paginateListTagsForResource({ client }, { ResourceId: accountId })) {
          calls++;
          for (const tag of page.Tags ?? []) tags[tag.Key!] = tag.Value ?? '';
        }
        progress.calls += calls;
        const i = byId.get(accountId)!;
        progress.accounts[i] = { ...progress.accounts[i], tags };
        read.add(accountId);
      });
      progress.tagsPending = progress.tagsPending.filter((id) => !read.has(id));
      options.onProgress?.(`read the tags of ${progress.accounts.filter((a) => a.tags).length} accounts`);
      if (progress.tagsPending.length > 0) return undefined;
    }
    return snapshotOf(progress);
  });
}

const depthOf = (progress: DiscoveryProgress) => progress.units.reduce((deepest, u) => Math.max(deepest, u.depth), 0);

/** The organization as discovered so far (complete once nothing is pending). */
export function snapshotOf(progress: DiscoveryProgress): OrganizationSnapshot {
  return {
    organization: progress.organization,
    units: new Map(progress.units.map((u) => [u.id, u])),
    rootIds: progress.rootIds,
    accounts: [...progress.accounts].sort((a, b) => a.id.localeCompare(b.id)),
    depth: depthOf(progress),
    calls: progress.calls,
  };
}

function toAccount(a: Account, parentId: string): OrgAccount {
  // `State` supersedes the deprecated `Status` (same values for the ones we act on).
  const status = (a as Account & { State?: string }).State ?? a.Status ?? 'UNKNOWN';
  return {
    id: a.Id!,
    name: a.Name ?? a.Id!,
    email: a.Email,
    status,
    joinedMethod: a.JoinedMethod,
    parentId,
  };
}

/**
 * Where each of these accounts is now, asked one by one (DescribeAccount, ListParents): an account
 * a walk did not list may have left, or may have moved between two OUs while the walk listed them
 * (from one not listed yet into one listed already). `undefined`: Organizations says it is not a
 * member any more. Absence from a walk is never taken for a departure without this.
 */
export async function locateAccounts(
  client: OrganizationsClient,
  accountIds: readonly string[],
  options: { readonly withTags?: boolean; readonly concurrency?: number } = {},
): Promise<{ accounts: Map<string, OrgAccount | undefined>; calls: number }> {
  const accounts = new Map<string, OrgAccount | undefined>();
  let calls = 0;
  const gone = (error: unknown) => ['AccountNotFoundException', 'ChildNotFoundException', 'TargetNotFoundException'].includes((error as { name?: string }).name ?? '');
  await forEachUntil(accountIds, options.concurrency ?? 4, () => false, async (id) => {
    try {
      calls += 2;
      const [{ Account: account }, { Parents: parents }] = await explained(() => Promise.all([
        client.send(new DescribeAccountCommand({ AccountId: id })),
        client.send(new ListParentsCommand({ ChildId: id })),
      ]));
      let found = toAccount(account!, parents?.[0]?.Id ?? '');
      if (options.withTags) {
        const tags: Record<string, string> = {};
        for await (const page of paginateListTagsForResource({ client }, { ResourceId: id })) {
          calls++;
          for (const tag of page.Tags ?? []) tags[tag.Key!] = tag.Value ?? '';
        }
        found = { ...found, tags };
      }
      accounts.set(id, found);
    } catch (error) {
      if (!gone(error) && !gone((error as { cause?: unknown }).cause)) throw error;
      accounts.set(id, undefined);
    }
  });
  return { accounts, calls };
}

/** The chain of units from a root down to (and including) `unitId`. */
export function ancestry(snapshot: OrganizationSnapshot, unitId: string): OrgUnit[] {
  const chain: OrgUnit[] = [];
  let current = snapshot.units.get(unitId);
  while (current) {
    chain.unshift(current);
    current = current.parentId ? snapshot.units.get(current.parentId) : undefined;
  }
  return chain;
}
