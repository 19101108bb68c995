/**
 * The steps of one account (register, test, launch) and the StackSet gate before the tests.
 */
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { hintFor, messageOf } from './hints';
import { taskFailureReason, TransientError, type Provider, type RoleSecret } from './prowler-api';
import { abandonCreate, fingerprint, forget, note, noteSchedule, noteSecret, type OnboardingRecord } from './record';
import {
  OUTSIDE_STACKSET,
  type AccountResult,
  type EngineDependencies,
  type Logger,
  type OnboardingRequest,
  type RunState,
  type OrganizationTree,
} from './run-types';
import { SCAN_ROLE_NAME } from '../core/defaults';
import type { StackSetDeploymentTargets } from '../core/options';
import type { AccountWrite } from '../core/report-words';
import { DEFAULT_STACKSET_WAIT_SECONDS, ScanMode } from '../core/spec';

export const STACKSET_POLL_MS = 30_000;

/**
 * Whether the member StackSet has deployed the role to every selected member account (the
 * management account has its own role), or the wait is over. Records each account's status.
 */
export async function stackSetReady(state: RunState, request: OnboardingRequest, deps: EngineDependencies, log: Logger): Promise<boolean> {
  let statuses: Map<string, string>;
  try {
    statuses = await deps.stackInstances!();
  } catch (error) {
    // Unreadable (a permission, a delegated administrator not registered, a renamed StackSet): the
    // connection tests still say which accounts have a role; failing here would fail the whole
    // deployment after the providers were registered.
    const warning = stackSetUnreadable(error as Error);
    if (!state.warnings.includes(warning)) state.warnings.push(warning);
    log.warn(warning);
    return true;
  }
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

/** Why the member StackSet's instances could not be read, and what to check. */
export function stackSetUnreadable(error: Error): string {
  const message = error.message.slice(0, 300);
  const hint = /not a delegated administrator/i.test(message)
    ? ': with callAs DELEGATED_ADMIN, this account must be registered as a delegated administrator for CloudFormation StackSets '
      + '(aws organizations register-delegated-administrator --service-principal member.org.stacksets.cloudformation.amazonaws.com) '
      + 'and the function role needs organizations:ListDelegatedAdministrators (the construct grants it)'
    : /AccessDenied|not authorized/i.test(message)
      ? ': the function role needs cloudformation:ListStackInstances on the StackSet (the construct grants it for the StackSet it was given)'
      : '';
  return `the member StackSet's instances could not be read (${error.name}: ${message})${hint}; connection tests ran without waiting for them`;
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

/** Provider (created, or its alias updated) and role secret of one account. */
export async function register(r: AccountResult, state: RunState, request: OnboardingRequest, deps: EngineDependencies): Promise<void> {
  let createdNow: string | undefined;
  try {
    let provider: Provider;
    if (!r.providerId) {
      // Absent when planned: created by this run (even if its answer was lost and a re-check found it).
      const { provider: made, created } = await deps.prowler.createAwsProvider(r.accountId, r.alias);
      provider = made;
      r.providerId = provider.id;
      if (created) createdNow = provider.id;
      r.hadSecret = Boolean(provider.relationships?.secret?.data?.id);
      // A create answered "exists" found someone else's provider: it is linked, never ours to delete,
      // unless the record says an earlier run of this onboarding had set out to create it (note).
      note(state.record, created ? 'created' : 'linked', provider.id, r.accountId);
    } else {
      provider = await deps.prowler.getProvider(r.providerId);
      note(state.record, 'linked', provider.id, r.accountId); // a user's provider, or one recorded before
      if (r.writes?.includes('update-alias') && provider.attributes.alias !== r.alias) await deps.prowler.updateProviderAlias(provider.id, r.alias);
    }
    const secret = desiredSecret(r.accountId, state.externalId, request);
    // The plan's decision, on the provider as it is now (one function for both).
    r.secret = secretDecision(provider, r.wasConnected, state.record?.secrets?.[provider.id], secret) === 'keep'
      ? 'kept'
      : await deps.prowler.putRoleSecret(provider, secret);
    if (r.secret !== 'kept') noteSecret(state.record, provider.id, secret);
    if (r.secret === 'updated' && r.action === 'unchanged') r.action = 'update';
  } catch (error) {
    r.error = `registration failed: ${messageOf(error)}`;
    r.failedAt = 'registration';
    // Refused outright (not a lost answer): the provider this run just made has no role secret.
    if (createdNow && !(error instanceof TransientError)) await undoCreate(r, createdNow, state, deps);
    // Refused before anything was created: nothing to remember (a lost answer may have created it).
    else if (!r.providerId && !(error instanceof TransientError)) abandonCreate(state.record, r.accountId);
  }
}

/** Deletes the provider a failed registration had just created: nothing is left half-registered. */
async function undoCreate(r: AccountResult, providerId: string, state: RunState, deps: EngineDependencies): Promise<void> {
  try {
    await deps.prowler.deleteProvider(providerId);
    forget(state.record, providerId);
    r.providerId = undefined;
    r.error += ' (the provider this run had just created for it was deleted again, so nothing is half-registered)';
  } catch (error) {
    r.error += `; the provider this run had just created for it (${providerId}) has no role secret and could not be deleted `
      + `(${messageOf(error)}): the next run gives it one`;
  }
}

export async function launch(
  r: AccountResult,
  request: OnboardingRequest,
  deps: EngineDependencies,
  record: OnboardingRecord | undefined,
): Promise<void> {
  const mode = request.scanMode ?? ScanMode.DAILY;
  const started = record?.schedules?.[r.providerId!];
  try {
    if (mode === ScanMode.DAILY && started === 'daily') {
      r.scan = 'already-scheduled'; // Prowler cannot list schedules: the record says this one exists
    } else if (mode === ScanMode.DAILY) {
      r.scan = (await deps.prowler.scheduleDaily(r.providerId!)) === 'exists' ? 'already-scheduled' : 'scheduled';
      noteSchedule(record, r.providerId!);
    } else if (mode === ScanMode.ONCE && started) {
      r.scan = 'already-started'; // once means once: the sync re-runs every few hours
    } else if (mode === ScanMode.ONCE) {
      await deps.prowler.startScan(r.providerId!);
      r.scan = 'started';
      noteSchedule(record, r.providerId!, 'once');
    } else {r.scan = 'none';}
  } catch (error) {
    r.error = `scan launch failed: ${messageOf(error)}`;
    r.failedAt = 'launch';
  }
}

/** The role secret an account's provider must have. */
export function desiredSecret(accountId: string, externalId: string, request: OnboardingRequest): RoleSecret {
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

/**
 * Whether a provider's role secret is written: what this onboarding wrote before is rewritten
 * only when the desired secret changed (its fingerprint, `written`); a provider it never wrote
 * keeps a secret that works (connected), and a missing or failing one gets ours. The plan and the
 * run both decide with this.
 */
export function secretDecision(provider: Provider, wasConnected: boolean | undefined, written: string | undefined, desired: RoleSecret): 'keep' | 'write' {
  const hasSecret = Boolean(provider.relationships?.secret?.data?.id);
  if (written !== undefined) return written === fingerprint(desired) && hasSecret ? 'keep' : 'write';
  return hasSecret && wasConnected ? 'keep' : 'write';
}

/** What apply sends to Prowler for one account (core's report vocabulary). */
export type { AccountWrite };

/**
 * The writes a selected account's run will make, from what Prowler has (`provider`, undefined
 * for one to create) and the record: the plan lists them, `plan` exits 2 when there is any, and
 * the run makes exactly these (register, the group step, the tests, launch).
 */
export function plannedWrites(
  r: AccountResult,
  provider: Provider | undefined,
  request: OnboardingRequest,
  externalId: string,
  record: OnboardingRecord | undefined,
): AccountWrite[] {
  const writes: AccountWrite[] = [];
  const desired = desiredSecret(r.accountId, externalId, request);
  const secretWritten = !provider || secretDecision(provider, r.wasConnected, record?.secrets?.[provider.id], desired) === 'write';
  if (!provider) writes.push('create-provider');
  else if ((provider.attributes.alias ?? undefined) !== r.alias) writes.push('update-alias');
  if (secretWritten) writes.push('write-secret');
  if (!r.grouped) writes.push('join-group');
  // A provider left as it was and connected is not tested again (the test phase's rule).
  if (secretWritten || !r.wasConnected) writes.push('test-connection');
  const mode = request.scanMode ?? ScanMode.DAILY;
  const launched = provider ? record?.schedules?.[provider.id] : undefined;
  // Without a record an existing provider's schedule cannot be known (Prowler App lists none):
  // apply asks for one, and Prowler answers that it exists.
  if (mode === ScanMode.DAILY && launched !== 'daily' && (!provider || record !== undefined)) writes.push('schedule-scans');
  if (mode === ScanMode.ONCE && launched === undefined) writes.push('start-scan');
  return writes;
}

export type TestOutcome = { connected: boolean; error?: string; hint?: string };

export async function testOne(
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

