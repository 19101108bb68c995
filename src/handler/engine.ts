/**
 * The onboarding engine: discover → select → register → validate → launch, as the Prowler
 * Cloud organizations wizard does it (steps 4–7), as code. Independent of how it is invoked:
 * the CloudFormation and Terraform adapters, the scheduled sync and the CLI all call `onboard`.
 */
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import pLimit from 'p-limit';
import { discoverOrganization, type OrganizationSnapshot, type OrgUnit } from './organizations';
import { ProwlerApiError, taskFailureReason, type Clock, type Provider, type ProwlerClient, type RoleSecret } from './prowler-api';
import { fingerprint, forget, note, noteSchedule, noteSecret, originOf, removalFor, type OnboardingRecord, type Origin } from './record';
import { needsTags, selectAccounts, unknownSelectionIds, type AccountDecision } from './selection';
import { SCAN_ROLE_NAME } from '../core/defaults';
import type { StackSetDeploymentTargets } from '../core/options';
import {
  ConnectionFailurePolicy,
  DEFAULT_RETRY_DELAY_SECONDS,
  DEFAULT_RETRY_ROUNDS,
  DEFAULT_STACKSET_WAIT_SECONDS,
  DEFAULT_CONCURRENT_TESTS,
  RemovalBehaviour,
  ScanMode,
  type AccountSelection,
  type ConnectionTestOptions,
  type OnboardingSpec,
} from '../core/spec';

/** Prefix of the provider group that records an organization's providers. */
export const ORGANIZATION_GROUP_PREFIX = 'AWS Organization ';

/**
 * Prowler API requests (and connection tests) in flight at once. 20 onboards 5,000 accounts in
 * about half an hour at 100 ms per request and 3 s per connection check (test/handler/budget.test.ts).
 */
export const DEFAULT_CONCURRENCY = 20;
export const organizationGroupName = (organizationId: string) => `${ORGANIZATION_GROUP_PREFIX}${organizationId}`;
/** The name of an organization's group, and nothing else: the organization id is group 1. */
const ORGANIZATION_GROUP_NAME = /^AWS Organization (o-[a-z0-9]{10,32})$/;

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
  /** A selection of no account succeeds (otherwise it is an error). */
  readonly allowEmptySelection?: boolean;
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
  /** How it came to this onboarding: only what it created can be destroyed, only what it recorded touched. */
  readonly origin: Origin;
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
  /**
   * The member StackSet's instance status per account ('CURRENT', or what it is instead):
   * connection tests wait for CURRENT (bounded), and failures name the status.
   */
  readonly stackInstances?: () => Promise<Map<string, string>>;
  /** Where the member StackSet deploys the role: connection tests never wait for accounts elsewhere. */
  readonly stackSetTargets?: StackSetDeploymentTargets;
  /** What this onboarding created and linked so far (record.ts); without one, nothing is ever deleted. */
  readonly record?: OnboardingRecord;
  /** Discovery from elsewhere than the Organizations API (a simulated organization, the CLI's --simulate). */
  readonly discover?: () => Promise<OrganizationSnapshot>;
}

export type RegistrationAction = 'create' | 'link' | 'update' | 'unchanged' | 'blocked' | 'not-selected';

export interface AccountResult {
  readonly accountId: string;
  readonly name: string;
  readonly status: string;
  readonly parentId: string;
  readonly selected: boolean;
  readonly reason: string;
  alias: string;
  readonly isManagementAccount: boolean;
  action: RegistrationAction;
  providerId?: string;
  /** The provider existed with a secret and was connected when planned. */
  wasConnected?: boolean;
  /** The provider had a secret when planned. */
  hadSecret?: boolean;
  secret?: 'created' | 'updated' | 'kept';
  /** In the organization's provider group. */
  grouped?: boolean;
  /** The member StackSet's instance status in this account, when known and not CURRENT. */
  stackInstance?: string;
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

/** The OU tree, as data (for the summary). */
export interface OrganizationTree {
  readonly rootIds: string[];
  readonly units: OrgUnit[];
}

export type RunPhase = 'depart' | 'register' | 'group' | 'test' | 'launch' | 'done';

/**
 * Everything a run knows, as plain JSON: a run can stop at any point between two steps (a
 * deadline, a Lambda invocation ending) and continue from a saved state.
 */
export interface RunState {
  readonly version: 1;
  readonly startedAt: number;
  phase: RunPhase;
  readonly organization: { id: string; managementAccountId: string; roots: number; ous: number; depth: number };
  readonly tree: OrganizationTree;
  readonly externalId: string;
  readonly externalIdSource: 'given' | 'prowler';
  /** The Prowler tenant of the API key. */
  readonly tenantId: string;
  readonly warnings: string[];
  readonly selectionSummary: string;
  readonly accounts: AccountResult[];
  readonly departures: Departure[];
  groupId?: string;
  /** Connection-test round (1 = first test). */
  round: number;
  /** Not before this time (epoch ms) does the next re-test round start. */
  nextRoundAt?: number;
  /** When connection tests started waiting for StackSet instances. */
  stackSetWaitSince?: number;
  outcome?: 'succeeded' | 'failed';
  failure?: string;
  calls: { organizations: number; prowler: number };
  invocations: number;
  /** What this onboarding created and linked: the adapter keeps it (record.ts). */
  record?: OnboardingRecord;
}

export interface OnboardingReport {
  readonly organization: RunState['organization'];
  readonly tree: OrganizationTree;
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
  /** What the onboarding has created and linked after this run (when it keeps a record). */
  readonly record?: OnboardingRecord;
}

/** The engine's request for a parsed spec (custom resource, Terraform invocation, spec file), plus what the caller adds. */
export function requestFromSpec(spec: OnboardingSpec, extra: Partial<OnboardingRequest> = {}): OnboardingRequest {
  return {
    selection: spec.selection,
    organizationId: spec.organizationId,
    externalId: spec.externalId,
    roleName: spec.roleName,
    scanMode: spec.scanMode as ScanMode | undefined,
    connection: spec.connection && { ...spec.connection, failurePolicy: spec.connection.failurePolicy as ConnectionFailurePolicy | undefined },
    removal: spec.removal as RemovalBehaviour | undefined,
    concurrency: spec.concurrency,
    roleSessionName: spec.roleSessionName,
    sessionDurationSeconds: spec.sessionDurationSeconds,
    localPrecheck: spec.localPrecheck,
    allowEmptySelection: spec.allowEmptySelection,
    ...extra,
  };
}

/** Runs a whole onboarding. Never throws for per-account problems: they are in the report. */
export async function onboard(request: OnboardingRequest, deps: EngineDependencies): Promise<OnboardingReport> {
  const state = await startRun(request, deps);
  if (!request.dryRun) await continueRun(state, request, deps);
  return toReport(state, deps.clock.now(), request.dryRun ?? false);
}

/** The report of a run (finished, or so far). */
export function toReport(state: RunState, now: number, dryRun = false): OnboardingReport {
  return {
    organization: state.organization,
    tree: state.tree,
    externalId: state.externalId,
    externalIdSource: state.externalIdSource,
    warnings: state.warnings,
    selectionSummary: state.selectionSummary,
    counts: count(state.accounts),
    accounts: state.accounts,
    departures: state.departures,
    outcome: state.outcome ?? (state.phase === 'done' || dryRun ? 'succeeded' : 'failed'),
    failure: state.failure,
    dryRun,
    durationMs: now - state.startedAt,
    calls: state.calls,
    ...(state.record ? { record: state.record } : {}),
  };
}

/**
 * Starts a run: discovers the organization, selects, and reads Prowler's side to plan every
 * account (create, link, update, unchanged, blocked) and every departure. Writes nothing.
 */
export async function startRun(request: OnboardingRequest, deps: EngineDependencies): Promise<RunState> {
  const log = deps.log ?? silentLogger;
  const started = deps.clock.now();
  const prowlerRequestsBefore = deps.prowler.requests;
  const warnings: string[] = [];

  const snapshot = deps.discover ? await deps.discover() : await discoverOrganization(deps.organizations, {
    withTags: needsTags(request.selection),
    onProgress: (m) => log.info(m),
  });
  if (request.organizationId && snapshot.organization.id !== request.organizationId) {
    throw new ProwlerOnboardingError(
      `organizationId is '${request.organizationId}' but these credentials see organization '${snapshot.organization.id}': deploy in that organization's management account (or delegated administrator), or correct organizationId`,
    );
  }

  const unknown = unknownSelectionIds(snapshot, request.selection);
  if (unknown.length > 0) {
    throw new ProwlerOnboardingError(`The selection names ${unknown.length === 1 ? 'an id' : `${unknown.length} ids`} the organization does not have, so nothing was changed:\n  - ${unknown.join('\n  - ')}`);
  }
  const selection = selectAccounts(snapshot, request.selection);
  log.info(selection.summary, { organizationId: snapshot.organization.id });
  if (selection.selected.length === 0 && !request.allowEmptySelection) {
    const why = [...new Set(selection.decisions.map((d) => d.reason))].slice(0, 5).join('; ');
    throw new ProwlerOnboardingError(`The selection matches no account (${selection.summary}; ${why || 'the organization has no account'}), so nothing was done: `
      + 'correct the selection, or set allowEmptySelection if that is intended');
  }
  const results = selection.decisions.map(toResult);
  const chosen = results.filter((r) => r.selected);

  // Prowler's side: tenant (External ID), the organization's group, existing providers.
  const tenant = await deps.prowler.tenantId();
  // Before anything is read for planning or written: a key that sees only some providers misleads every later step.
  await deps.prowler.verifyAccess({ writes: !request.dryRun, scans: (request.scanMode ?? ScanMode.DAILY) !== ScanMode.NONE });
  const externalId = request.externalId ?? tenant;
  if (request.externalId && request.externalId !== tenant) {
    warnings.push(`externalId '${request.externalId}' differs from the API key's Prowler tenant '${tenant}': Prowler presents its tenant id when it assumes the role, so connection tests will fail with AccessDenied unless your Prowler is set up otherwise`);
  }
  const groups = await deps.prowler.listProviderGroups();
  const groupName = organizationGroupName(snapshot.organization.id);
  // Another organization's group has exactly this package's name for it; a user's own group that
  // merely starts the same way ("AWS Organization prod") blocks nothing.
  const otherOrganizations = new Map(groups
    .map((g) => [g.id, g.attributes.name.match(ORGANIZATION_GROUP_NAME)?.[1]] as const)
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined && entry[1] !== snapshot.organization.id));
  const ourGroup = groups.find((g) => g.attributes.name === groupName);
  const existing = await deps.prowler.findAwsProviders(chosen.map((r) => r.accountId));

  for (const r of chosen) {
    const provider = existing.get(r.accountId);
    if (!provider) {
      r.action = 'create';
      continue;
    }
    r.providerId = provider.id;
    r.hadSecret = Boolean(provider.relationships?.secret?.data?.id);
    r.wasConnected = provider.attributes.connection?.connected === true;
    const memberOf = provider.relationships?.provider_groups?.data.map((g) => g.id) ?? [];
    const other = memberOf.map((id) => otherOrganizations.get(id)).find((o) => o !== undefined);
    if (other) {
      r.action = 'blocked';
      r.blockedBy = `linked_to_other_organization: the provider belongs to organization ${other} in Prowler`;
      continue;
    }
    r.grouped = ourGroup !== undefined && memberOf.includes(ourGroup.id);
    const explicitAlias = request.selection.aliases?.[r.accountId];
    const currentAlias = provider.attributes.alias ?? undefined;
    if (!r.grouped) {
      r.action = 'link';
      if (explicitAlias === undefined) r.alias = currentAlias ?? r.alias; // keep the user's alias
    } else {
      const wanted = explicitAlias ?? r.alias;
      r.action = wanted !== currentAlias ? 'update' : 'unchanged';
      // Written by this onboarding as it must be, and working: nothing to send for it.
      const written = deps.record?.secrets?.[provider.id];
      if (r.action === 'unchanged' && r.wasConnected && r.hadSecret && written === fingerprint(desiredSecret(r.accountId, externalId, request))) r.secret = 'kept';
    }
  }

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
        origin: originOf(deps.record, p.id),
        outcome: 'retained' as const,
      }))
    : [];
  if (request.dryRun) for (const d of departures) d.outcome = plannedOutcome(removalFor(removal, d.origin));

  return {
    version: 1,
    startedAt: started,
    phase: 'depart',
    organization: {
      id: snapshot.organization.id,
      managementAccountId: snapshot.organization.managementAccountId,
      roots: snapshot.rootIds.length,
      ous: snapshot.units.size - snapshot.rootIds.length,
      depth: snapshot.depth,
    },
    tree: { rootIds: [...snapshot.rootIds], units: [...snapshot.units.values()] },
    externalId,
    externalIdSource: request.externalId ? 'given' : 'prowler',
    tenantId: tenant,
    warnings,
    selectionSummary: selection.summary,
    accounts: results,
    departures,
    groupId: ourGroup?.id,
    round: 1,
    ...(deps.record ? { record: structuredClone(deps.record) } : {}),
    calls: { organizations: snapshot.calls, prowler: deps.prowler.requests - prowlerRequestsBefore },
    invocations: 1,
  };
}

export interface ContinueOptions {
  /** Stop starting new work at this time (epoch ms, the deps clock); work in flight finishes. */
  readonly deadline?: number;
  /**
   * Between re-test rounds: `sleep` (the default) waits in-process; `return` hands the state
   * back so the caller can come back later (a Lambda invocation should not sleep).
   */
  readonly whileWaiting?: 'sleep' | 'return';
}

/**
 * Advances a run through its phases until it is done, its deadline comes, or (with
 * `whileWaiting: 'return'`) it has to wait for the next re-test round. Mutates and returns the
 * state; `state.phase === 'done'` when finished.
 */
export async function continueRun(
  state: RunState,
  request: OnboardingRequest,
  deps: EngineDependencies,
  options: ContinueOptions = {},
): Promise<RunState> {
  const log = deps.log ?? silentLogger;
  const prowlerRequestsBefore = deps.prowler.requests;
  const concurrency = request.concurrency ?? DEFAULT_CONCURRENCY;
  const outOfTime = () => options.deadline !== undefined && deps.clock.now() >= options.deadline;
  const registrable = () => state.accounts.filter((r) => r.selected && r.action !== 'blocked');
  const finish = (outcome: 'succeeded' | 'failed', failure?: string) => {
    state.phase = 'done';
    state.outcome = outcome;
    state.failure = failure;
  };

  try {
    while (state.phase !== 'done' && !outOfTime()) {
      switch (state.phase) {
        case 'depart': {
          const removal = request.removal ?? RemovalBehaviour.RETAIN;
          const pending = state.departures.filter((d) => d.outcome === 'retained' && removalFor(removal, d.origin) !== 'retain');
          if (pending.length > 0 && state.groupId) {
            await removeProviders(deps.prowler, state.groupId, pending, removal, state.record);
            log.info(`${pending.length} providers left the selection: ${removal}`, { accounts: pending.map((d) => d.accountId) });
          }
          state.phase = 'register';
          break;
        }
        case 'register': {
          const all = registrable();
          const pending = all.filter((r) => r.secret === undefined && r.error === undefined);
          await forEachUntil(pending, concurrency, outOfTime, (r) => register(r, state, request, deps));
          const done = all.filter((r) => r.secret !== undefined || r.error !== undefined).length;
          log.info(`registered ${done} of ${all.length} accounts`);
          if (all.some((r) => r.secret === undefined && r.error === undefined)) break; // out of time
          const failures = all.filter((r) => r.error);
          if (all.length > 0 && failures.length === all.length) {
            finish('failed', `No account could be registered with Prowler: ${failures[0].error}`);
            break;
          }
          state.phase = 'group';
          break;
        }
        case 'group': {
          const joining = registrable().filter((r) => r.providerId && !r.error && !r.grouped);
          if (joining.length > 0) {
            const group = state.groupId
              ? { id: state.groupId }
              : await deps.prowler.findOrCreateProviderGroup(organizationGroupName(state.organization.id));
            state.groupId = group.id;
            for (let i = 0; i < joining.length; i += 100) {
              const batch = joining.slice(i, i + 100);
              await deps.prowler.addToProviderGroup(group.id, batch.map((r) => r.providerId!));
              for (const r of batch) r.grouped = true;
            }
          }
          state.phase = 'test';
          break;
        }
        case 'test': {
          if (state.round === 1 && deps.stackInstances && !(await stackSetReady(state, request, deps, log))) {
            if (options.whileWaiting === 'return') return state;
            await deps.clock.sleep(STACKSET_POLL_MS);
            break;
          }
          if (state.nextRoundAt !== undefined && deps.clock.now() < state.nextRoundAt) {
            if (options.whileWaiting === 'return') return state;
            await deps.clock.sleep(state.nextRoundAt - deps.clock.now());
          }
          const registered = registrable().filter((r) => r.providerId && !r.error);
          for (const r of registered) {
            // Already connected and left as it was: no need to test again.
            if (!r.connection && r.secret === 'kept' && r.wasConnected) r.connection = { connected: true, attempts: 0, tested: false };
          }
          const pending = registered.filter((r) => !r.connection?.connected && (r.connection?.attempts ?? 0) < state.round);
          if (state.round > 1 && pending.length > 0) log.info(`re-testing ${pending.length} failed ${pending.length === 1 ? 'account' : 'accounts'} (round ${state.round})`);
          // Tests in flight are their own limit (Prowler's workers); their requests share `concurrency`.
          const requests = pLimit(concurrency);
          const pipelineLaunch = (request.connection?.failurePolicy ?? ConnectionFailurePolicy.SKIP) === ConnectionFailurePolicy.SKIP;
          await forEachUntil(pending, request.connection?.concurrentTests ?? DEFAULT_CONCURRENT_TESTS, outOfTime, async (r) => {
            const outcome = await testOne(r, request, state.externalId, deps, requests);
            r.connection = { ...outcome, attempts: (r.connection?.attempts ?? 0) + 1, tested: true };
            // With the skip policy a connected account is launched whatever the others do: at once,
            // while the remaining tests run (with `fail`, launching waits for every test).
            if (outcome.connected && pipelineLaunch && r.scan === undefined) await requests(() => launch(r, request, deps, state.record));
          });
          if (pending.some((r) => (r.connection?.attempts ?? 0) < state.round)) break; // out of time
          state.nextRoundAt = undefined;
          const failed = registered.filter((r) => !r.connection?.connected);
          log.info(`connection tests, round ${state.round}: ${registered.length - failed.length} of ${registered.length} connected`);
          const rounds = 1 + (request.connection?.retryRounds ?? DEFAULT_RETRY_ROUNDS);
          if (failed.length > 0 && state.round < rounds) {
            const delay = (request.connection?.retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS) * 1000;
            log.info(`re-testing ${failed.length} failed ${failed.length === 1 ? 'account' : 'accounts'} in ${delay / 1000} s (round ${state.round + 1} of ${rounds})`);
            state.round++;
            state.nextRoundAt = deps.clock.now() + delay;
            break;
          }
          const policy = request.connection?.failurePolicy ?? ConnectionFailurePolicy.SKIP;
          // Every connection failing is the wizard's "No accounts connected" whatever the policy.
          if (failed.length > 0 && failed.length < registered.length && policy === ConnectionFailurePolicy.FAIL) {
            for (const r of registered) r.scan = 'none';
            finish('failed', `There was a problem connecting to some accounts: ${describeFailures(failed)}`);
          } else if (registered.length > 0 && failed.length === registered.length) {
            for (const r of registered) r.scan = 'none';
            finish('failed', `No accounts connected successfully. Fix the connection errors and retry before launching scans. ${describeFailures(failed)}`);
          } else {
            state.phase = 'launch';
          }
          break;
        }
        case 'launch': {
          const registered = registrable().filter((r) => r.providerId && !r.error);
          for (const r of registered) if (!r.connection?.connected && r.scan === undefined) r.scan = 'not-connected';
          const pending = registered.filter((r) => r.connection?.connected && r.scan === undefined);
          await forEachUntil(pending, concurrency, outOfTime, (r) => launch(r, request, deps, state.record));
          if (pending.some((r) => r.scan === undefined && !r.error)) break; // out of time
          const scanFailures = registered.filter((r) => r.error?.startsWith('scan launch'));
          const registrationFailures = registrable().filter((r) => r.error?.startsWith('registration'));
          // Some accounts failing is theirs to report, not the run's: the others are onboarded and
          // scanned, and failing a deployment now would roll back the roles their schedules use.
          // The next sync tries them again.
          const launching = registered.filter((r) => r.connection?.connected);
          if (launching.length > 0 && scanFailures.length === launching.length) {
            // None launched, none scheduled: systemic, and failing undoes nothing Prowler relies on.
            finish('failed', `Scans could not be launched for any account: ${scanFailures[0].error}`);
            break;
          }
          const accountFailures = [...registrationFailures, ...scanFailures];
          if (accountFailures.length > 0) {
            const shown = accountFailures.slice(0, 3).map((r) => `${r.accountId} ${r.error}`).join('; ');
            state.warnings.push(`${accountFailures.length} ${accountFailures.length === 1 ? 'account' : 'accounts'} failed (the next sync retries): ${shown}`);
            log.warn(`${accountFailures.length} accounts failed: ${shown}`);
          }
          const connected = registered.filter((r) => r.connection?.connected).length;
          log.info(`onboarded ${connected} of ${state.accounts.filter((r) => r.selected).length} selected accounts`);
          finish('succeeded');
          break;
        }
      }
    }
  } finally {
    state.calls.prowler += deps.prowler.requests - prowlerRequestsBefore;
  }
  return state;
}

const STACKSET_POLL_MS = 30_000;
/** The instance status of an account the StackSet never deploys to. */
const OUTSIDE_STACKSET = 'outside the StackSet\'s targets';

/**
 * Whether the member StackSet has deployed the role to every selected member account (the
 * management account has its own role), or the wait is over. Records each account's status.
 */
async function stackSetReady(state: RunState, request: OnboardingRequest, deps: EngineDependencies, log: Logger): Promise<boolean> {
  const statuses = await deps.stackInstances!();
  const members = state.accounts.filter((r) => r.selected && r.action !== 'blocked' && !r.isManagementAccount && r.providerId && !r.error);
  const targets = deps.stackSetTargets;
  const covered = (r: AccountResult) => !targets || coveredByStackSet(r, state.tree, targets);
  for (const r of members) {
    const status = statuses.get(r.accountId) ?? (covered(r) ? 'no stack instance yet' : OUTSIDE_STACKSET);
    r.stackInstance = status === 'CURRENT' ? undefined : status;
  }
  // An account outside the StackSet's targets never gets an instance: its test runs without waiting.
  const waiting = members.filter((r) => r.stackInstance && covered(r));
  if (waiting.length === 0) return true;
  state.stackSetWaitSince ??= deps.clock.now();
  const limit = (request.connection?.stackSetWaitSeconds ?? DEFAULT_STACKSET_WAIT_SECONDS) * 1000;
  if (deps.clock.now() - state.stackSetWaitSince >= limit) {
    log.warn(`testing connections although ${waiting.length} StackSet instances are not CURRENT after ${limit / 1000} s`);
    return true;
  }
  log.info(`waiting for the member StackSet in ${waiting.length} accounts (e.g. ${waiting[0].accountId}: ${waiting[0].stackInstance})`);
  return false;
}

/** Whether the StackSet deploys to the account: below one of its targets, and not filtered out. */
export function coveredByStackSet(
  account: { accountId: string; parentId: string },
  tree: OrganizationTree,
  targets: StackSetDeploymentTargets,
): boolean {
  const accounts = new Set(targets.accounts ?? []);
  if (targets.accountFilterType === 'DIFFERENCE' && accounts.has(account.accountId)) return false;
  if (targets.accountFilterType === 'INTERSECTION' && !accounts.has(account.accountId)) return false;
  const parents = new Map(tree.units.map((u) => [u.id, u.parentId]));
  const wanted = new Set(targets.organizationalUnitIds);
  for (let unit: string | undefined = account.parentId; unit !== undefined; unit = parents.get(unit)) {
    if (wanted.has(unit)) return true;
  }
  return false;
}

/** Runs `fn` over items with bounded concurrency, starting none once `stop()` says so. */
async function forEachUntil<T>(items: T[], concurrency: number, stop: () => boolean, fn: (item: T) => Promise<void>): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(items.map((item) => limit(async () => {
    if (!stop()) await fn(item);
  })));
}

/** Provider (created, or its alias updated) and role secret of one account. */
async function register(r: AccountResult, state: RunState, request: OnboardingRequest, deps: EngineDependencies): Promise<void> {
  try {
    let provider: Provider;
    if (!r.providerId) {
      // Absent when planned: created by this run (even if its answer was lost and a re-check found it).
      const { provider: made, created } = await deps.prowler.createAwsProvider(r.accountId, r.alias);
      provider = made;
      r.providerId = provider.id;
      r.hadSecret = Boolean(provider.relationships?.secret?.data?.id);
      // A create answered "exists" found someone else's provider: it is linked, never ours to delete.
      note(state.record, created ? 'created' : 'linked', provider.id, r.accountId);
    } else {
      provider = await deps.prowler.getProvider(r.providerId);
      note(state.record, 'linked', provider.id, r.accountId); // a user's provider, or one recorded before

      const explicitAlias = request.selection.aliases?.[r.accountId];
      if (r.action === 'update' || (r.action === 'link' && explicitAlias && provider.attributes.alias !== r.alias)) {
        await deps.prowler.updateProviderAlias(provider.id, r.alias);
      }
    }
    const secret = desiredSecret(r.accountId, state.externalId, request);
    const written = state.record?.secrets?.[provider.id];
    // What this onboarding wrote before is rewritten only when the desired secret changed; a
    // user's provider it never wrote keeps a secret that works.
    r.secret = written !== undefined
      ? (written === fingerprint(secret) && r.hadSecret !== false ? 'kept' : await deps.prowler.putRoleSecret(provider, secret))
      : await putSecret(deps.prowler, provider, r.wasConnected ?? false, secret);
    if (r.secret !== 'kept') noteSecret(state.record, provider.id, secret);
    if (r.secret === 'updated' && r.action === 'unchanged') r.action = 'update';
  } catch (error) {
    r.error = `registration failed: ${messageOf(error)}`;
  }
}

async function launch(r: AccountResult, request: OnboardingRequest, deps: EngineDependencies, record: OnboardingRecord | undefined): Promise<void> {
  const mode = request.scanMode ?? ScanMode.DAILY;
  try {
    if (mode === ScanMode.DAILY && record?.schedules?.[r.providerId!]) {
      r.scan = 'already-scheduled'; // Prowler cannot list schedules: the record says this one exists
    } else if (mode === ScanMode.DAILY) {
      r.scan = (await deps.prowler.scheduleDaily(r.providerId!)) === 'exists' ? 'already-scheduled' : 'scheduled';
      noteSchedule(record, r.providerId!);
    } else if (mode === ScanMode.ONCE) {
      await deps.prowler.startScan(r.providerId!);
      r.scan = 'started';
    } else {r.scan = 'none';}
  } catch (error) {
    r.error = `scan launch failed: ${messageOf(error)}`;
  }
}

/**
 * Applies removal to departing providers, each as far as its origin allows: deletes those this
 * onboarding created (destroy), unlinks the rest, and forgets them in the record.
 */
async function removeProviders(
  prowler: ProwlerClient,
  groupId: string,
  departures: Departure[],
  removal: RemovalBehaviour,
  record: OnboardingRecord | undefined,
): Promise<void> {
  const unlinking = departures.filter((d) => removalFor(removal, d.origin) === 'unlink');
  if (unlinking.length > 0) {
    try {
      await prowler.removeFromProviderGroup(groupId, unlinking.map((d) => d.providerId));
      for (const d of unlinking) {
        d.outcome = 'unlinked';
        forget(record, d.providerId);
      }
    } catch (error) {
      for (const d of unlinking) Object.assign(d, { outcome: 'failed', error: messageOf(error) });
    }
  }
  for (const d of departures.filter((x) => removalFor(removal, x.origin) === 'destroy')) {
    try {
      await prowler.deleteProvider(d.providerId); // tolerates "already gone"
      d.outcome = 'destroyed';
      forget(record, d.providerId);
    } catch (error) {
      Object.assign(d, { outcome: 'failed', error: messageOf(error) });
    }
  }
}

const plannedOutcome = (action: 'retain' | 'unlink' | 'destroy'): Departure['outcome'] =>
  (action === 'retain' ? 'retained' : action === 'unlink' ? 'unlinked' : 'destroyed');

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
  record?: OnboardingRecord,
): Promise<OffboardingReport> {
  const group = (await prowler.listProviderGroups()).find((g) => g.attributes.name === organizationGroupName(organizationId));
  const members = group ? await prowler.providersInGroup(group.id) : [];
  const providers: Departure[] = members.map((p) => ({
    accountId: p.attributes.uid,
    providerId: p.id,
    alias: p.attributes.alias ?? undefined,
    reason: 'the onboarding was deleted',
    origin: originOf(record, p.id),
    outcome: 'retained' as const,
  }));
  if (group && removal !== RemovalBehaviour.RETAIN) {
    await removeProviders(prowler, group.id, providers.filter((p) => removalFor(removal, p.origin) !== 'retain'), removal, record);
    // The group goes only with its last member: what this onboarding never recorded stays in it.
    if (providers.every((p) => p.outcome === 'unlinked' || p.outcome === 'destroyed')) await prowler.deleteProviderGroup(group.id);
  }
  const failed = providers.filter((p) => p.outcome === 'failed');
  const withOutcome = (outcome: Departure['outcome']) => providers.filter((p) => p.outcome === outcome).length;
  log.info(`offboarded organization ${organizationId}: ${withOutcome('destroyed')} providers destroyed, ${withOutcome('unlinked')} unlinked, ${withOutcome('retained')} retained`);
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
/** The role secret an account's provider must have. */
function desiredSecret(accountId: string, externalId: string, request: OnboardingRequest): RoleSecret {
  return {
    role_arn: `arn:${request.partition ?? 'aws'}:iam::${accountId}:role/${request.roleName ?? SCAN_ROLE_NAME}`,
    external_id: externalId,
    ...(request.roleSessionName ? { role_session_name: request.roleSessionName } : {}),
    ...(request.sessionDurationSeconds ? { session_duration: request.sessionDurationSeconds } : {}),
    ...(request.assumeCredentials ? {
      aws_access_key_id: request.assumeCredentials.accessKeyId,
      aws_secret_access_key: request.assumeCredentials.secretAccessKey,
      ...(request.assumeCredentials.sessionToken ? { aws_session_token: request.assumeCredentials.sessionToken } : {}),
    } : {}),
  };
}

async function putSecret(prowler: ProwlerClient, provider: Provider, wasConnected: boolean, secret: RoleSecret): Promise<'created' | 'updated' | 'kept'> {
  const hasSecret = Boolean(provider.relationships?.secret?.data?.id);
  if (hasSecret && wasConnected) return 'kept';
  return prowler.putRoleSecret(provider, secret);
}

type TestOutcome = { connected: boolean; error?: string; hint?: string };

async function testOne(
  r: AccountResult,
  request: OnboardingRequest,
  externalId: string,
  deps: EngineDependencies,
  requests: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<TestOutcome> {
  const fail = (error: string) => ({ connected: false, error, hint: hintFor(error, r.stackInstance) });
  if (request.localPrecheck && deps.sts) {
    try {
      const roleArn = `arn:${request.partition ?? 'aws'}:iam::${r.accountId}:role/${request.roleName ?? SCAN_ROLE_NAME}`;
      await deps.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, ExternalId: externalId, RoleSessionName: 'prowler-org-onboarding-precheck', DurationSeconds: 900 }));
    } catch (error) {
      return fail(`local sts:AssumeRole pre-check failed: ${(error as { name?: string }).name ?? ''} ${messageOf(error)}`.trim());
    }
  }
  try {
    const taskId = await requests(() => deps.prowler.testConnection(r.providerId!));
    const timeoutMs = (request.connectionTaskTimeoutSeconds ?? 300) * 1000;
    const deadline = deps.clock.now() + timeoutMs;
    // A connection check takes at least a second (an STS call from Prowler's worker): look then,
    // and back off after.
    let wait = 1000;
    for (;;) {
      await deps.clock.sleep(wait);
      wait = Math.min(wait * 1.5, 5000);
      const task = await requests(() => deps.prowler.getTask(taskId));
      const state = task.attributes.state;
      if (state === 'completed' || state === 'failed' || state === 'cancelled') {
        const result = (task.attributes.result ?? {}) as { connected?: boolean; error?: unknown };
        if (state === 'completed' && result.connected === true) return { connected: true };
        const failure = state === 'failed' ? taskFailureReason(task.attributes.result) : undefined;
        const error = typeof result.error === 'string' && result.error ? result.error : failure ? `connection task failed: ${failure}` : `connection task ${state}`;
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
  if (roleStatus === OUTSIDE_STACKSET) {
    return 'the account is outside the member StackSet\'s targets, so it has no ProwlerScan role from it: add its OU to the StackSet\'s targets, or leave it out of the selection';
  }
  if (roleStatus) return `the ProwlerScan role may not be deployed there (StackSet instance ${roleStatus}): wait for the StackSet, or add the account's OU to its targets`;
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
