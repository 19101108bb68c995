/**
 * The onboarding engine: discover → select → register → validate → launch, as the Prowler
 * Cloud organizations wizard does it (steps 4–7), as code. Independent of how it is invoked:
 * the CloudFormation and Terraform adapters, the scheduled sync and the CLI all call `onboard`.
 */
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import pLimit from 'p-limit';
import { discoverOrganization, type OrganizationSnapshot } from './organizations';
import { ProwlerApiError, type Clock, type Provider, type ProwlerClient, type RoleSecret } from './prowler-api';
import { needsTags, selectAccounts, type AccountDecision } from './selection';
import { SCAN_ROLE_NAME } from '../core/defaults';
import {
  ConnectionFailurePolicy,
  DEFAULT_RETRY_DELAY_SECONDS,
  DEFAULT_RETRY_ROUNDS,
  RemovalBehaviour,
  ScanMode,
  type AccountSelection,
  type ConnectionTestOptions,
} from '../core/spec';

/** Prefix of the provider group that records an organization's providers. */
export const ORGANIZATION_GROUP_PREFIX = 'AWS Organization ';
export const organizationGroupName = (organizationId: string) => `${ORGANIZATION_GROUP_PREFIX}${organizationId}`;

/** Static credentials Prowler uses to call sts:AssumeRole (self-hosted without ambient credentials). */
export interface AssumeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface OnboardingRequest {
  readonly selection: AccountSelection;
  /** Fails when the credentials see another organization. */
  readonly organizationId?: string;
  /** Default: the Prowler tenant of the API key. */
  readonly externalId?: string;
  readonly roleName?: string;
  readonly partition?: string;
  readonly scanMode?: ScanMode;
  readonly connection?: ConnectionTestOptions;
  readonly roleSessionName?: string;
  readonly sessionDurationSeconds?: number;
  readonly assumeCredentials?: AssumeCredentials;
  /** Prowler API requests (and connection tests) in flight at once. */
  readonly concurrency?: number;
  /** Plan only: read AWS and Prowler, change nothing. */
  readonly dryRun?: boolean;
  /** Also try sts:AssumeRole from here before Prowler's test (when the trust allows this caller). */
  readonly localPrecheck?: boolean;
  /** Give up polling one connection task after this long. */
  readonly connectionTaskTimeoutSeconds?: number;
  /** What happens to the providers of accounts that left the selection. Default: retain. */
  readonly removal?: RemovalBehaviour;
}

/** A provider of the organization whose account is no longer selected (or no longer in it). */
export interface Departure {
  readonly accountId: string;
  readonly providerId: string;
  readonly alias?: string;
  /** Why it left: not selected any more (with the rule), or gone from the organization. */
  readonly reason: string;
  outcome: 'retained' | 'unlinked' | 'destroyed' | 'failed';
  error?: string;
}

export interface Logger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {} };

export interface EngineDependencies {
  readonly organizations: OrganizationsClient;
  readonly prowler: ProwlerClient;
  readonly clock: Clock;
  readonly log?: Logger;
  readonly sts?: STSClient;
  /** Why the role may be missing in an account (e.g. its StackSet instance status), for hints. */
  readonly roleStatus?: (accountId: string) => string | undefined;
}

export type RegistrationAction = 'create' | 'link' | 'update' | 'unchanged' | 'blocked' | 'not-selected';

export interface AccountResult {
  readonly accountId: string;
  readonly name: string;
  readonly status: string;
  readonly parentId: string;
  readonly selected: boolean;
  readonly reason: string;
  readonly alias: string;
  readonly isManagementAccount: boolean;
  action: RegistrationAction;
  providerId?: string;
  secret?: 'created' | 'updated' | 'kept';
  blockedBy?: string;
  connection?: { connected: boolean; error?: string; hint?: string; attempts: number; tested: boolean };
  scan?: 'scheduled' | 'already-scheduled' | 'started' | 'none' | 'not-connected';
  error?: string;
}

export interface OnboardingCounts {
  discovered: number;
  selected: number;
  created: number;
  linked: number;
  updated: number;
  unchanged: number;
  blocked: number;
  connected: number;
  failed: number;
  scheduled: number;
}

export interface OnboardingReport {
  readonly organization: { id: string; managementAccountId: string; roots: number; ous: number; depth: number };
  readonly externalId: string;
  readonly externalIdSource: 'given' | 'prowler';
  readonly warnings: string[];
  readonly selectionSummary: string;
  readonly counts: OnboardingCounts;
  readonly accounts: AccountResult[];
  /** Providers of the organization whose accounts left the selection, and what was done. */
  readonly departures: Departure[];
  readonly outcome: 'succeeded' | 'failed';
  readonly failure?: string;
  readonly dryRun: boolean;
  readonly durationMs: number;
  readonly calls: { organizations: number; prowler: number };
  /** The snapshot, for rendering the tree (not serialised). */
  readonly snapshot: OrganizationSnapshot;
}

/** Runs a whole onboarding. Never throws for per-account problems: they are in the report. */
export async function onboard(request: OnboardingRequest, deps: EngineDependencies): Promise<OnboardingReport> {
  const log = deps.log ?? silentLogger;
  const started = deps.clock.now();
  const prowlerRequestsBefore = deps.prowler.requests;
  const warnings: string[] = [];

  // 1. Discover.
  const snapshot = await discoverOrganization(deps.organizations, {
    withTags: needsTags(request.selection),
    onProgress: (m) => log.info(m),
  });
  if (request.organizationId && snapshot.organization.id !== request.organizationId) {
    throw new ProwlerOnboardingError(
      `organizationId is '${request.organizationId}' but these credentials see organization '${snapshot.organization.id}': deploy in that organization's management account (or delegated administrator), or correct organizationId`,
    );
  }

  // 2. Select.
  const selection = selectAccounts(snapshot, request.selection);
  log.info(selection.summary, { organizationId: snapshot.organization.id });
  const results = selection.decisions.map(toResult);
  const chosen = results.filter((r) => r.selected);

  // 3. Prowler's side: tenant (External ID), the organization's group, existing providers.
  const tenant = await deps.prowler.tenantId();
  const externalId = request.externalId ?? tenant;
  if (request.externalId && request.externalId !== tenant) {
    warnings.push(`externalId '${request.externalId}' differs from the API key's Prowler tenant '${tenant}': Prowler presents its tenant id when it assumes the role, so connection tests will fail with AccessDenied unless your Prowler is set up otherwise`);
  }
  const groups = await deps.prowler.listProviderGroups();
  const groupName = organizationGroupName(snapshot.organization.id);
  const otherOrganizations = new Map(groups
    .filter((g) => g.attributes.name.startsWith(ORGANIZATION_GROUP_PREFIX) && g.attributes.name !== groupName)
    .map((g) => [g.id, g.attributes.name.slice(ORGANIZATION_GROUP_PREFIX.length)]));
  let ourGroup = groups.find((g) => g.attributes.name === groupName);
  const existing = await deps.prowler.findAwsProviders(chosen.map((r) => r.accountId));

  // Providers recorded for this organization whose account is no longer selected.
  const removal = request.removal ?? RemovalBehaviour.RETAIN;
  const chosenIds = new Set(chosen.map((r) => r.accountId));
  const decisionOf = new Map(results.map((r) => [r.accountId, r]));
  const departures: Departure[] = ourGroup
    ? (await deps.prowler.providersInGroup(ourGroup.id))
      .filter((p) => !chosenIds.has(p.attributes.uid))
      .map((p) => ({
        accountId: p.attributes.uid,
        providerId: p.id,
        alias: p.attributes.alias ?? undefined,
        reason: decisionOf.get(p.attributes.uid) ? `not selected: ${decisionOf.get(p.attributes.uid)!.reason}` : 'no longer in the organization',
        outcome: 'retained' as const,
      }))
    : [];

  // 4. Plan each selected account.
  for (const r of chosen) {
    const provider = existing.get(r.accountId);
    if (!provider) {
      r.action = 'create';
      continue;
    }
    r.providerId = provider.id;
    const memberOf = provider.relationships?.provider_groups?.data.map((g) => g.id) ?? [];
    const other = memberOf.map((id) => otherOrganizations.get(id)).find((o) => o !== undefined);
    if (other) {
      r.action = 'blocked';
      r.blockedBy = `linked_to_other_organization: the provider belongs to organization ${other} in Prowler`;
      continue;
    }
    const ours = ourGroup !== undefined && memberOf.includes(ourGroup.id);
    const explicitAlias = request.selection.aliases?.[r.accountId];
    const wantedAlias = ours ? r.alias : explicitAlias;
    const currentAlias = provider.attributes.alias ?? undefined;
    if (!ours) {
      r.action = 'link';
      if (wantedAlias === undefined) (r as { alias: string }).alias = currentAlias ?? r.alias; // keep the user's alias
    } else {
      r.action = wantedAlias !== undefined && wantedAlias !== currentAlias ? 'update' : 'unchanged';
    }
  }

  const report = (outcome: 'succeeded' | 'failed', failure?: string): OnboardingReport => ({
    organization: {
      id: snapshot.organization.id,
      managementAccountId: snapshot.organization.managementAccountId,
      roots: snapshot.rootIds.length,
      ous: snapshot.units.size - snapshot.rootIds.length,
      depth: snapshot.depth,
    },
    externalId,
    externalIdSource: request.externalId ? 'given' : 'prowler',
    warnings,
    selectionSummary: selection.summary,
    counts: count(results),
    accounts: results,
    departures,
    outcome,
    failure,
    dryRun: request.dryRun ?? false,
    durationMs: deps.clock.now() - started,
    calls: { organizations: snapshot.calls, prowler: deps.prowler.requests - prowlerRequestsBefore },
    snapshot,
  });

  if (request.dryRun) {
    for (const d of departures) d.outcome = removal === RemovalBehaviour.RETAIN ? 'retained' : removal === RemovalBehaviour.UNLINK ? 'unlinked' : 'destroyed';
    return report('succeeded');
  }

  // Accounts that left: retained (default), unlinked from the group, or destroyed if asked.
  if (departures.length > 0 && removal !== RemovalBehaviour.RETAIN) {
    await removeProviders(deps.prowler, ourGroup!.id, departures, removal);
    log.info(`${departures.length} providers left the selection: ${removal}`, { accounts: departures.map((d) => d.accountId) });
  }

  // 5. Register (bounded concurrency): provider, alias, role secret, organization group.
  const limit = pLimit(request.concurrency ?? 10);
  const registrable = chosen.filter((r) => r.action !== 'blocked');
  const roleName = request.roleName ?? SCAN_ROLE_NAME;
  const partition = request.partition ?? 'aws';
  let done = 0;
  const providers = new Map<string, Provider>();
  await Promise.all(registrable.map((r) => limit(async () => {
    try {
      let provider = existing.get(r.accountId);
      if (!provider) {
        // Absent when planned: created by this run (even if its answer was lost and a re-check found it).
        provider = (await deps.prowler.createAwsProvider(r.accountId, r.alias)).provider;
      } else if (r.action === 'update' || (r.action === 'link' && request.selection.aliases?.[r.accountId] && provider.attributes.alias !== r.alias)) {
        await deps.prowler.updateProviderAlias(provider.id, r.alias);
      }
      r.providerId = provider.id;
      providers.set(r.accountId, provider);
      r.secret = await putSecret(deps.prowler, provider, {
        role_arn: `arn:${partition}:iam::${r.accountId}:role/${roleName}`,
        external_id: externalId,
        ...(request.roleSessionName ? { role_session_name: request.roleSessionName } : {}),
        ...(request.sessionDurationSeconds ? { session_duration: request.sessionDurationSeconds } : {}),
        ...(request.assumeCredentials ? {
          aws_access_key_id: request.assumeCredentials.accessKeyId,
          aws_secret_access_key: request.assumeCredentials.secretAccessKey,
          ...(request.assumeCredentials.sessionToken ? { aws_session_token: request.assumeCredentials.sessionToken } : {}),
        } : {}),
      });
      if (r.secret === 'updated' && r.action === 'unchanged') r.action = 'update';
    } catch (error) {
      r.error = `registration failed: ${messageOf(error)}`;
    }
    done++;
    if (done % 100 === 0 || done === registrable.length) log.info(`registered ${done} of ${registrable.length} accounts`);
  })));

  // Record the organization's providers in its group (batched; members already in it are skipped).
  const registered = registrable.filter((r) => r.providerId && !r.error);
  const inOurGroup = (r: AccountResult) => ourGroup !== undefined
    && (existing.get(r.accountId)?.relationships?.provider_groups?.data ?? []).some((g) => g.id === ourGroup!.id);
  const joining = registered.filter((r) => !inOurGroup(r));
  if (joining.length > 0) {
    ourGroup ??= await deps.prowler.findOrCreateProviderGroup(groupName);
    for (let i = 0; i < joining.length; i += 100) {
      await deps.prowler.addToProviderGroup(ourGroup.id, joining.slice(i, i + 100).map((r) => r.providerId!));
    }
  }

  const registrationFailures = registrable.filter((r) => r.error);
  if (registrationFailures.length > 0 && registered.length === 0) {
    return report('failed', `No account could be registered with Prowler: ${registrationFailures[0].error}`);
  }

  // 6. Test connections, re-testing only the failures (smart retry).
  await testConnections(registered, providers, request, deps, log);
  const connected = registered.filter((r) => r.connection?.connected);
  const failed = registered.filter((r) => !r.connection?.connected);
  const policy = request.connection?.failurePolicy ?? ConnectionFailurePolicy.SKIP;
  let failure: string | undefined;
  if (failed.length > 0 && policy === ConnectionFailurePolicy.FAIL) {
    failure = `There was a problem connecting to some accounts: ${describeFailures(failed)}`;
  } else if (registered.length > 0 && connected.length === 0) {
    failure = `No accounts connected successfully. Fix the connection errors and retry before launching scans. ${describeFailures(failed)}`;
  }
  if (failure) {
    for (const r of registered) r.scan = 'none';
    return report('failed', failure);
  }

  // 7. Launch scans for the selected accounts that connected.
  const mode = request.scanMode ?? ScanMode.DAILY;
  await Promise.all(registered.map((r) => limit(async () => {
    if (!r.connection?.connected) {
      r.scan = 'not-connected';
      return;
    }
    try {
      if (mode === ScanMode.DAILY) {r.scan = (await deps.prowler.scheduleDaily(r.providerId!)) === 'exists' ? 'already-scheduled' : 'scheduled';} else if (mode === ScanMode.ONCE) {
        await deps.prowler.startScan(r.providerId!);
        r.scan = 'started';
      } else {r.scan = 'none';}
    } catch (error) {
      r.error = `scan launch failed: ${messageOf(error)}`;
    }
  })));
  const scanFailures = registered.filter((r) => r.error?.startsWith('scan launch'));
  if (scanFailures.length > 0) {
    return report('failed', `Scans could not be launched for ${scanFailures.length} accounts: ${scanFailures[0].error}`);
  }
  if (registrationFailures.length > 0) {
    return report('failed', `${registrationFailures.length} accounts could not be registered (the others were onboarded): ${registrationFailures.slice(0, 3).map((r) => `${r.accountId} ${r.error}`).join('; ')}`);
  }
  log.info(`onboarded ${connected.length} of ${chosen.length} selected accounts`, { failed: failed.length });
  return report('succeeded');
}

async function removeProviders(prowler: ProwlerClient, groupId: string, departures: Departure[], removal: RemovalBehaviour): Promise<void> {
  if (removal === RemovalBehaviour.UNLINK) {
    try {
      await prowler.removeFromProviderGroup(groupId, departures.map((d) => d.providerId));
      for (const d of departures) d.outcome = 'unlinked';
    } catch (error) {
      for (const d of departures) Object.assign(d, { outcome: 'failed', error: messageOf(error) });
    }
    return;
  }
  for (const d of departures) {
    try {
      await prowler.deleteProvider(d.providerId); // tolerates "already gone"
      d.outcome = 'destroyed';
    } catch (error) {
      Object.assign(d, { outcome: 'failed', error: messageOf(error) });
    }
  }
}

export interface OffboardingReport {
  readonly organizationId: string;
  readonly removal: RemovalBehaviour;
  readonly providers: Departure[];
  readonly outcome: 'succeeded' | 'failed';
  readonly failure?: string;
}

/**
 * Ends the onboarding of an organization (its custom resource is deleted): by default retains
 * every provider, its credentials and scan history; `unlink` empties and removes the
 * organization's provider group; `destroy` deletes the providers. Tolerates everything being gone.
 */
export async function offboard(
  organizationId: string,
  removal: RemovalBehaviour,
  prowler: ProwlerClient,
  log: Logger = silentLogger,
): Promise<OffboardingReport> {
  const group = (await prowler.listProviderGroups()).find((g) => g.attributes.name === organizationGroupName(organizationId));
  const providers: Departure[] = group
    ? (await prowler.providersInGroup(group.id)).map((p) => ({
      accountId: p.attributes.uid, providerId: p.id, alias: p.attributes.alias ?? undefined, reason: 'the onboarding was deleted', outcome: 'retained' as const,
    }))
    : [];
  if (group && removal !== RemovalBehaviour.RETAIN) {
    await removeProviders(prowler, group.id, providers, removal);
    if (providers.every((p) => p.outcome !== 'failed')) await prowler.deleteProviderGroup(group.id);
  }
  const failed = providers.filter((p) => p.outcome === 'failed');
  log.info(`offboarded organization ${organizationId}: ${providers.length} providers ${removal === RemovalBehaviour.RETAIN ? 'retained' : removal === RemovalBehaviour.UNLINK ? 'unlinked' : 'destroyed'}`);
  return {
    organizationId,
    removal,
    providers,
    outcome: failed.length ? 'failed' : 'succeeded',
    failure: failed.length ? `${failed.length} providers could not be ${removal === RemovalBehaviour.UNLINK ? 'unlinked' : 'deleted'}: ${failed[0].error}` : undefined,
  };
}

/** A failure of the whole run, with what to fix. */
export class ProwlerOnboardingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProwlerOnboardingError';
  }
}

function toResult(d: AccountDecision): AccountResult {
  return {
    accountId: d.account.id,
    name: d.account.name,
    status: d.account.status,
    parentId: d.account.parentId,
    selected: d.selected,
    reason: d.reason,
    alias: d.alias,
    isManagementAccount: d.isManagementAccount,
    action: 'not-selected',
  };
}

/** A connected provider keeps the secret it has; a missing or failing one gets ours. */
async function putSecret(prowler: ProwlerClient, provider: Provider, secret: RoleSecret): Promise<'created' | 'updated' | 'kept'> {
  const hasSecret = Boolean(provider.relationships?.secret?.data?.id);
  if (hasSecret && provider.attributes.connection?.connected === true) return 'kept';
  return prowler.putRoleSecret(provider, secret);
}

async function testConnections(
  accounts: AccountResult[],
  providers: Map<string, Provider>,
  request: OnboardingRequest,
  deps: EngineDependencies,
  log: Logger,
): Promise<void> {
  const limit = pLimit(request.concurrency ?? 10);
  // Already connected and unchanged: no need to test again.
  let pending = accounts.filter((r) => {
    const provider = providers.get(r.accountId);
    const known = r.secret === 'kept' && provider?.attributes.connection?.connected === true;
    if (known) r.connection = { connected: true, attempts: 0, tested: false };
    return !known;
  });
  const rounds = 1 + (request.connection?.retryRounds ?? DEFAULT_RETRY_ROUNDS);
  for (let round = 1; round <= rounds && pending.length > 0; round++) {
    if (round > 1) {
      const delay = (request.connection?.retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS) * 1000;
      log.info(`re-testing ${pending.length} failed ${pending.length === 1 ? 'account' : 'accounts'} in ${delay / 1000} s (round ${round} of ${rounds})`);
      await deps.clock.sleep(delay);
    }
    await Promise.all(pending.map((r) => limit(async () => {
      const attempts = (r.connection?.attempts ?? 0) + 1;
      const outcome = await testOne(r, request, deps);
      r.connection = { ...outcome, attempts, tested: true };
    })));
    pending = pending.filter((r) => !r.connection?.connected);
    log.info(`connection tests, round ${round}: ${accounts.length - pending.length} of ${accounts.length} connected`);
  }
}

type TestOutcome = { connected: boolean; error?: string; hint?: string };

async function testOne(r: AccountResult, request: OnboardingRequest, deps: EngineDependencies): Promise<TestOutcome> {
  const fail = (error: string) => ({ connected: false, error, hint: hintFor(error, deps.roleStatus?.(r.accountId)) });
  if (request.localPrecheck && deps.sts) {
    try {
      const roleArn = `arn:${request.partition ?? 'aws'}:iam::${r.accountId}:role/${request.roleName ?? SCAN_ROLE_NAME}`;
      await deps.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, ExternalId: request.externalId, RoleSessionName: 'prowler-org-onboarding-precheck', DurationSeconds: 900 }));
    } catch (error) {
      return fail(`local sts:AssumeRole pre-check failed: ${(error as { name?: string }).name ?? ''} ${messageOf(error)}`.trim());
    }
  }
  try {
    const taskId = await deps.prowler.testConnection(r.providerId!);
    const timeoutMs = (request.connectionTaskTimeoutSeconds ?? 300) * 1000;
    const deadline = deps.clock.now() + timeoutMs;
    // A connection check takes at least a second (an STS call from Prowler's worker): look then,
    // and back off after.
    let wait = 1000;
    for (;;) {
      await deps.clock.sleep(wait);
      wait = Math.min(wait * 1.5, 5000);
      const task = await deps.prowler.getTask(taskId);
      const state = task.attributes.state;
      if (state === 'completed' || state === 'failed' || state === 'cancelled') {
        const result = (task.attributes.result ?? {}) as { connected?: boolean; error?: unknown };
        if (state === 'completed' && result.connected === true) return { connected: true };
        const error = typeof result.error === 'string' && result.error ? result.error : `connection task ${state}`;
        return fail(error);
      }
      if (deps.clock.now() >= deadline) return fail(`connection test still ${state} after ${timeoutMs / 1000} s`);
    }
  } catch (error) {
    return fail(messageOf(error));
  }
}

/** What to fix, from Prowler's (or STS's) error text. */
export function hintFor(error: string, roleStatus?: string): string {
  if (roleStatus) return `the ProwlerScan role is not deployed there yet (StackSet instance ${roleStatus}): wait for the StackSet, or add the account's OU to its targets`;
  if (/InvalidClientTokenId|security token included in the request is invalid/i.test(error)) {
    return "Prowler's own AWS credentials are missing or invalid (self-hosted: give the API and worker containers credentials, or an assume-credentials secret)";
  }
  if (/AccessDenied|not authorized to perform: sts:AssumeRole/i.test(error)) {
    return 'the role does not trust this Prowler: check the External ID and the trusted account/principal (self-hosted: trustedAccountId/trustedPrincipal), or the ProwlerScan role is missing in this account';
  }
  if (/NoSuchEntity|cannot be found|does not exist/i.test(error)) return 'the ProwlerScan role does not exist in this account: deploy the member StackSet to its OU';
  return "see Prowler's error";
}

function describeFailures(failed: AccountResult[]): string {
  const shown = failed.slice(0, 5).map((r) => `${r.accountId} (${r.connection?.error ?? r.error}; ${r.connection?.hint ?? ''})`);
  return `${failed.length} failed: ${shown.join('; ')}${failed.length > 5 ? `; and ${failed.length - 5} more` : ''}`;
}

function count(results: AccountResult[]): OnboardingCounts {
  const n = (p: (r: AccountResult) => boolean) => results.filter(p).length;
  return {
    discovered: results.length,
    selected: n((r) => r.selected),
    created: n((r) => r.action === 'create' && !r.error?.startsWith('registration')),
    linked: n((r) => r.action === 'link' && !r.error?.startsWith('registration')),
    updated: n((r) => r.action === 'update'),
    unchanged: n((r) => r.action === 'unchanged'),
    blocked: n((r) => r.action === 'blocked'),
    connected: n((r) => r.connection?.connected === true),
    failed: n((r) => (r.connection !== undefined && !r.connection.connected) || r.error !== undefined),
    scheduled: n((r) => r.scan === 'scheduled' || r.scan === 'already-scheduled' || r.scan === 'started'),
  };
}

function messageOf(error: unknown): string {
  if (error instanceof ProwlerApiError) return error.message;
  return (error as Error)?.message ?? String(error);
}
