/**
 * Discovery: the organization, its roots, the whole OU tree and every account with its status,
 * walked breadth-first with bounded concurrency, through the SDK's paginators and its adaptive
 * retry (Organizations throttles with TooManyRequestsException).
 */
import {
  DescribeOrganizationCommand,
  OrganizationsClient,
  paginateListAccountsForParent,
  paginateListOrganizationalUnitsForParent,
  paginateListRoots,
  paginateListTagsForResource,
  type Account,
} from '@aws-sdk/client-organizations';
import pLimit from 'p-limit';
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

/** Discovers the organization the client's credentials belong to. */
export async function discoverOrganization(client: OrganizationsClient, options: DiscoveryOptions = {}): Promise<OrganizationSnapshot> {
  const limit = pLimit(options.concurrency ?? 4);
  let calls = 0;
  const counted = <T>(p: Promise<T>) => { calls++; return p; };
  try {
    const { Organization: org } = await counted(client.send(new DescribeOrganizationCommand({})));
    if (!org?.Id || !org.MasterAccountId) throw new DiscoveryError('DescribeOrganization returned no organization id');

    const units = new Map<string, OrgUnit>();
    const accounts: OrgAccount[] = [];
    const rootIds: string[] = [];
    for await (const page of paginateListRoots({ client, pageSize: 20 }, {})) {
      calls++;
      for (const root of page.Roots ?? []) {
        rootIds.push(root.Id!);
        units.set(root.Id!, { id: root.Id!, name: root.Name ?? 'Root', depth: 0 });
      }
    }

    // Breadth-first: each level's parents are listed concurrently (bounded).
    let level: OrgUnit[] = rootIds.map((id) => units.get(id)!);
    let depth = 0;
    while (level.length > 0) {
      const next: OrgUnit[][] = await Promise.all(level.map((parent) => limit(async () => {
        const children: OrgUnit[] = [];
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
        return children;
      })));
      level = next.flat();
      for (const ou of level) units.set(ou.id, ou);
      if (level.length > 0) depth = level[0].depth;
      options.onProgress?.(`discovered ${units.size - rootIds.length} OUs and ${accounts.length} accounts (depth ${depth})`);
    }

    let withTags = accounts;
    if (options.withTags) {
      withTags = await Promise.all(accounts.map((account) => limit(async () => {
        const tags: Record<string, string> = {};
        for await (const page of paginateListTagsForResource({ client }, { ResourceId: account.id })) {
          calls++;
          for (const tag of page.Tags ?? []) tags[tag.Key!] = tag.Value ?? '';
        }
        return { ...account, tags };
      })));
    }
    accounts.sort((a, b) => a.id.localeCompare(b.id));
    return {
      organization: { id: org.Id, arn: org.Arn ?? '', managementAccountId: org.MasterAccountId },
      units,
      rootIds,
      accounts: withTags.sort((a, b) => a.id.localeCompare(b.id)),
      depth,
      calls,
    };
  } catch (error) {
    throw explain(error);
  }
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
