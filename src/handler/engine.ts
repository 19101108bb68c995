/**
 * The onboarding engine: discover → select → register → validate → launch, as the Prowler
 * Cloud organizations wizard does it (steps 4–7), as code. Independent of how it is invoked:
 * the CloudFormation and Terraform adapters, the scheduled sync and the CLI all call it.
 *
 * This module runs the phases (`continueRun`) and reports (`toReport`); the rest has a module
 * each: run-types.ts (what a run is made of), plan.ts (`startRun`: discovery, selection, the
 * plan), steps.ts (one account's steps and the StackSet gate), removal.ts (departures and
 * `offboard`), record.ts (what the onboarding created and linked), hints.ts (what to fix).
 */
import pLimit from 'p-limit';
import { forEachUntil } from './bounded';
import { applySelection, ensureOrganization, needsApply, runDiscovery, scheduleCloud } from './cloud';
import { describeFailures } from './hints';
import { discoverAndPlan, startRun } from './plan';
import { intendToCreate } from './record';
import { pendingRemoval, removeProviders } from './removal';
import {
  DEFAULT_CONCURRENCY,
  organizationGroupName,
  silentLogger,
  OUTSIDE_STACKSET,
  type AccountResult,
  type ContinueOptions,
  type EngineDependencies,
  type Logger,
  type OnboardingCounts,
  type OnboardingReport,
  type OnboardingRequest,
  type RunState,
} from './run-types';
import { coveredByStackSet, launch, register, STACKSET_POLL_MS, stackSetReady, stackSetUnreadable, testOne } from './steps';
import {
  ConnectionFailurePolicy,
  DEFAULT_RETRY_DELAY_SECONDS,
  DEFAULT_RETRY_ROUNDS,
  DEFAULT_CONCURRENT_TESTS,
  RemovalBehaviour,
  ScanMode,
  type OnboardingSpec,
  type ProwlerEdition,
  type ScanSchedule,
} from '../core/spec';

export * from './run-types';
export { startRun } from './plan';
export { offboard, type OffboardingReport } from './removal';
export { hintFor } from './hints';
export { coveredByStackSet } from './steps';

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
    schedule: spec.schedule as ScanSchedule | undefined,
    prowlerEdition: spec.prowlerEdition as ProwlerEdition | undefined,
    replaceCredentials: spec.replaceCredentials,
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
    ...(state.edition ? { edition: state.edition } : {}),
    ...(state.cloud ? { cloud: state.cloud } : {}),
    ...(state.tags ? { tags: state.tags } : {}),
  };
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
  const outOfTime = () => (options.deadline !== undefined && deps.clock.now() >= options.deadline) || (options.stop?.() ?? false);
  /** A wait that would end after the deadline is not started: the run is handed back, to be continued. */
  const cannotWait = (until: number) => options.whileWaiting === 'return' || (options.deadline !== undefined && until >= options.deadline) || outOfTime();
  const registrable = () => state.accounts.filter((r) => r.selected && r.action !== 'blocked' && r.action !== 'keep-credentials');
  const cloud = state.edition === 'cloud';
  // Prowler Cloud schedules in bulk once the tests are done; Prowler App per account as each connects.
  const bulkSchedules = cloud && (request.scanMode ?? ScanMode.DAILY) === ScanMode.DAILY;
  /** The record, saved: before providers are created, and after every step. */
  const checkpoint = async () => {
    if (state.record && deps.checkpoint) await deps.checkpoint(state.record);
  };
  const finish = (outcome: 'succeeded' | 'failed', failure?: string) => {
    state.phase = 'done';
    state.outcome = outcome;
    state.failure = failure;
  };

  /** One account's connection test; with the skip policy, a connected account is launched at once. */
  const testAndLaunch = async (r: AccountResult, requests: <T>(fn: () => Promise<T>) => Promise<T>) => {
    const outcome = await testOne(r, request, state.externalId, deps, requests);
    r.connection = { ...outcome, attempts: (r.connection?.attempts ?? 0) + 1, tested: true };
    // Whatever the others do, while the remaining tests run (with `fail`, launching waits for every test).
    const pipelineLaunch = (request.connection?.failurePolicy ?? ConnectionFailurePolicy.SKIP) === ConnectionFailurePolicy.SKIP && !bulkSchedules;
    if (outcome.connected && pipelineLaunch && r.scan === undefined) await requests(() => launch(r, request, deps, state.record));
  };

  try {
    while (state.phase !== 'done' && !outOfTime()) {
      switch (state.phase) {
        case 'discover': {
          await discoverAndPlan(state, request, deps, outOfTime);
          break;
        }
        case 'depart': {
          const removal = request.removal ?? RemovalBehaviour.RETAIN;
          const pending = pendingRemoval(state.departures, removal);
          if (pending.length > 0 && (state.groupId || cloud)) {
            await removeProviders(deps.prowler, state.groupId ?? '', pending, removal, state.record, { stop: outOfTime, concurrency });
            const done = pending.filter((d) => d.outcome !== 'retained');
            log.info(`${done.length} providers left the selection: ${removal}`, { accounts: done.map((d) => d.accountId) });
            if (done.length < pending.length) break; // out of time
          }
          state.phase = cloud ? 'organization' : 'register';
          break;
        }
        case 'organization': {
          // The organization is made only for accounts to apply; a credential change is written for
          // the accounts already linked too (it re-authenticates them: they are tested again).
          const applying = registrable().some(needsApply);
          const c = state.cloud!;
          const had = { organization: c.organizationId, credential: c.credentialWritten };
          if (applying || c.organization === 'exists') await ensureOrganization(state, request, deps, checkpoint);
          if (!had.organization && c.organizationId) log.info(`created the Prowler organization ${c.organizationId} for ${state.organization.id}`);
          if (!had.credential && c.credentialWritten) log.info(`${c.credential === 'rotate' ? 'rotated' : 'created'} the organization credential (the management account's role)`);
          state.phase = 'prowler-discovery';
          break;
        }
        case 'prowler-discovery': {
          const { outcome, failure } = await runDiscovery(state, request, deps, (until) => !cannotWait(until));
          if (outcome === 'waiting') {
            log.info(`Prowler's discovery ${state.cloud!.discoveryId} is ${state.cloud!.discoveryStatus}: the next invocation goes on with it`);
            return state;
          }
          const c = state.cloud!;
          if (outcome === 'failed' && !c.credentialKnown && !c.credentialWritten && !c.credentialRetried && /organization_discovery_failed/.test(failure ?? '')) {
            // A credential this onboarding did not write (the wizard's, by hand) that Prowler cannot
            // authenticate with: it gets the management account's role, once, and discovery starts again.
            const warning = `${failure}; the organization credential was not written by this onboarding, so it was rewritten with the management account's role and the discovery started again`;
            state.warnings.push(warning);
            log.warn(warning);
            Object.assign(c, { credential: 'rotate', credentialRetried: true, discoveryId: undefined, discoveryStatus: undefined });
            state.phase = 'organization';
            break;
          }
          if (outcome === 'failed') {
            for (const r of registrable()) r.scan = 'none';
            finish('failed', failure ?? 'Prowler\'s discovery of the organization failed');
            break;
          }
          state.phase = 'apply';
          break;
        }
        case 'apply': {
          const toApply = registrable().filter(needsApply).length;
          await applySelection(state, request, deps, checkpoint);
          if (toApply > 0) log.info(`applied ${toApply} ${toApply === 1 ? 'account' : 'accounts'} and ${state.cloud!.nodes.length} OUs to Prowler's discovery ${state.cloud!.discoveryId}`);
          const applied = registrable().filter((r) => r.failedAt === 'registration');
          if (applied.length > 0 && applied.length === registrable().length) {
            finish('failed', `No account could be registered with Prowler: ${applied[0].error}`);
            break;
          }
          state.phase = 'test';
          break;
        }
        case 'register': {
          const all = registrable();
          const pending = all.filter((r) => r.secret === undefined && r.error === undefined);
          // One limit of requests in flight: an account's registration holds a lane, a test's
          // requests take one each. An account whose role is in place is tested (and, with the
          // skip policy, launched) as soon as it is registered, while the others register.
          const requests = pLimit(concurrency);
          // Written ahead: what this run is about to create is saved before the first create is sent.
          const creating = pending.filter((r) => !r.providerId || r.action === 'create').map((r) => r.accountId);
          if (state.record && creating.length > 0) {
            intendToCreate(state.record, creating, deps.clock.now());
            await checkpoint();
          }
          const early = state.round === 1 && pending.length > 0 ? await earlyTests(state, deps, log) : undefined;
          const tests = pLimit(request.connection?.concurrentTests ?? DEFAULT_CONCURRENT_TESTS);
          const testing: Array<Promise<void>> = [];
          // At most `concurrency` registrations queue for a lane at a time, so a test's requests
          // wait behind those few and not behind every registration still to come.
          await forEachUntil(pending, concurrency, outOfTime, (r) => requests(async () => {
            await register(r, state, request, deps);
            if (early?.(r)) testing.push(tests(() => (outOfTime() ? Promise.resolve() : testAndLaunch(r, requests))));
          }));
          await Promise.all(testing);
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
          const registered = registrable().filter((r) => r.providerId && !r.error);
          for (const r of registered) {
            // Already connected and left as it was: no need to test again.
            if (!r.connection && r.secret === 'kept' && r.wasConnected) r.connection = { connected: true, attempts: 0, tested: false };
          }
          const pending = registered.filter((r) => !r.connection?.connected && (r.connection?.attempts ?? 0) < state.round);
          // Round 1 waits for the member StackSet, unless every account was tested as it registered.
          if (state.round === 1 && pending.length > 0 && deps.stackInstances && !(await stackSetReady(state, request, deps, log))) {
            if (cannotWait(deps.clock.now() + STACKSET_POLL_MS)) return state;
            await deps.clock.sleep(STACKSET_POLL_MS);
            break;
          }
          if (state.nextRoundAt !== undefined && deps.clock.now() < state.nextRoundAt) {
            if (cannotWait(state.nextRoundAt)) return state;
            await deps.clock.sleep(state.nextRoundAt - deps.clock.now());
          }
          if (state.round > 1 && pending.length > 0) log.info(`re-testing ${pending.length} failed ${pending.length === 1 ? 'account' : 'accounts'} (round ${state.round})`);
          // Tests in flight are their own limit (Prowler's workers); their requests share `concurrency`.
          const requests = pLimit(concurrency);
          await forEachUntil(pending, request.connection?.concurrentTests ?? DEFAULT_CONCURRENT_TESTS, outOfTime, (r) => testAndLaunch(r, requests));
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
          if (bulkSchedules) await scheduleCloud(pending, request, deps, state.record);
          else await forEachUntil(pending, concurrency, outOfTime, (r) => launch(r, request, deps, state.record));
          if (pending.some((r) => r.scan === undefined && !r.error)) break; // out of time
          const scanFailures = registered.filter((r) => r.failedAt === 'launch');
          const registrationFailures = registrable().filter((r) => r.failedAt === 'registration');
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
      await checkpoint();
    }
  } catch (error) {
    // The run's own error is the one to show; what it created is saved all the same, if it can be.
    await checkpoint().catch((e: Error) => log.warn(`the onboarding's record could not be saved: ${e.message}`));
    throw error;
  } finally {
    state.calls.prowler += deps.prowler.requests - prowlerRequestsBefore;
  }
  return state;
}

/**
 * Which accounts can be tested the moment they are registered: those that need a test and whose
 * ProwlerScan role is in place. With a member StackSet, that is an account whose instance is
 * CURRENT, the management account, or one the StackSet does not reach (its hint says so); the
 * others wait for the test phase, which waits for the StackSet. Instances that cannot be read
 * hold nobody back, as in the test phase, and the warning says what to fix.
 */
async function earlyTests(state: RunState, deps: EngineDependencies, log: Logger): Promise<(r: AccountResult) => boolean> {
  const needsTest = (r: AccountResult) => Boolean(r.providerId) && !r.error && !r.connection && !(r.secret === 'kept' && r.wasConnected);
  if (!deps.stackInstances) return needsTest;
  let statuses: Map<string, string>;
  try {
    statuses = await deps.stackInstances();
  } catch (error) {
    const warning = stackSetUnreadable(error as Error);
    if (!state.warnings.includes(warning)) state.warnings.push(warning);
    log.warn(warning);
    return needsTest;
  }
  const targets = deps.stackSetTargets;
  return (r) => {
    if (!needsTest(r)) return false;
    if (r.isManagementAccount || statuses.get(r.accountId) === 'CURRENT') return true;
    if (targets === undefined || coveredByStackSet(r, state.tree, targets)) return false;
    r.stackInstance = OUTSIDE_STACKSET; // never gets an instance: tested now, and a failure says why
    return true;
  };
}

function count(results: AccountResult[]): OnboardingCounts {
  const n = (p: (r: AccountResult) => boolean) => results.filter(p).length;
  return {
    discovered: results.length,
    selected: n((r) => r.selected),
    created: n((r) => r.action === 'create' && r.failedAt !== 'registration'),
    linked: n((r) => r.action === 'link' && r.failedAt !== 'registration'),
    updated: n((r) => r.action === 'update'),
    unchanged: n((r) => r.action === 'unchanged'),
    blocked: n((r) => r.action === 'blocked'),
    connected: n((r) => r.connection?.connected === true),
    failed: n((r) => (r.connection !== undefined && !r.connection.connected) || r.error !== undefined),
    scheduled: n((r) => r.scan === 'scheduled' || r.scan === 'already-scheduled' || r.scan === 'started' || r.scan === 'already-started'),
  };
}

