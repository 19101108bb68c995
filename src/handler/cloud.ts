/**
 * Prowler Cloud's dialect (FACTS §3b): onboarding through a Prowler organization, as its wizard
 * does. The Prowler organization is found by the AWS organization id or created; its credential
 * (the management account's ProwlerScan role) is written only when what would be written
 * changed; Prowler's own discovery runs with it and says, per account, what applying it would do
 * (`registration`); the accounts this package's selection chooses are applied with their OU
 * ancestors, then tested, and scheduled with Prowler Cloud's scheduler.
 *
 * Nothing here ever deletes an organization or an organization node: both delete every provider
 * under them with its history. Removal deletes only providers this onboarding created, one by one.
 */
import { messageOf } from './hints';
import type { CloudSchedule, Discovery, OrganizationNode, Provider, Registration, RoleSecret } from './prowler-api';
import { fingerprint, intendToCreate, note, noteSchedule, type OnboardingRecord, type ScheduleNote } from './record';
import {
  ProwlerOnboardingError,
  type AccountResult,
  type CloudRun,
  type EngineDependencies,
  type OnboardingRequest,
  type RunState,
} from './run-types';
import { SCAN_ROLE_NAME } from '../core/defaults';
import type { AccountWrite } from '../core/report-words';
import { ProwlerEdition, RemovalBehaviour, ScanMode, ScheduleFrequency, type ScanSchedule } from '../core/spec';

/** How often Prowler's discovery is polled (as its UI does). */
export const DISCOVERY_POLL_MS = 3_000;
/** A discovery not finished after this long (across invocations) fails the run, saying so. */
export const DISCOVERY_LIMIT_MS = 15 * 60_000;

/** Prowler's words for why an account cannot be applied, as people read them. */
const BLOCKED_REASONS: Record<string, string> = {
  organization_conflict: 'already connected under a different Prowler organization',
  organization_node_conflict: 'grouped under another organization node in Prowler',
  provider_type_conflict: 'Prowler has a provider of another type with this id',
};

/** What a discovery failure means, and what to do. */
const DISCOVERY_ERRORS: Record<string, string> = {
  hierarchy_depth_exceeded: 'the OU tree is deeper than Prowler Cloud takes: move accounts to shallower OUs',
  organization_discovery_failed: 'Authentication failed. Please verify the StackSet deployment and Role ARN: the management account\'s role must exist, '
    + 'trust Prowler with the External ID, and have the Organizations discovery permissions',
};

export type Edition = 'cloud' | 'app';

/**
 * Which Prowler this is, after the key check: Prowler Cloud serves `/organizations`, a
 * self-hosted Prowler App answers 404. Also finds the Prowler organization of `organizationId`.
 */
export async function detectEdition(
  request: OnboardingRequest,
  deps: EngineDependencies,
  organizationId: string,
): Promise<{ edition: Edition; organization?: { id: string } }> {
  const wanted = request.prowlerEdition ?? ProwlerEdition.AUTO;
  if (wanted === ProwlerEdition.APP) return { edition: 'app' };
  const found = await deps.prowler.findOrganization(organizationId);
  if (!found.served) {
    if (wanted === ProwlerEdition.CLOUD) {
      throw new ProwlerOnboardingError('prowlerEdition is \'cloud\', but this Prowler answers 404 on /organizations: it is a self-hosted Prowler App. '
        + 'Set prowlerEdition to \'app\' (or leave it out), or point prowlerApiUrl at Prowler Cloud; nothing was changed');
    }
    return { edition: 'app' };
  }
  return { edition: 'cloud', organization: found.organization };
}

/**
 * What Prowler App cannot do, refused before anything is written: a schedule other than daily
 * (it has only daily schedules, started when made). On Prowler Cloud: `removal: unlink` (Cloud
 * has no public way to detach a provider from its organization).
 */
export function refuseUnsupported(edition: Edition, request: OnboardingRequest): void {
  const schedule = request.schedule;
  if (edition === 'app' && schedule && (request.scanMode ?? ScanMode.DAILY) === ScanMode.DAILY) {
    const custom = [
      (schedule.frequency ?? ScheduleFrequency.DAILY) !== ScheduleFrequency.DAILY ? `frequency '${schedule.frequency}'` : undefined,
      schedule.hour !== undefined ? `hour ${schedule.hour}` : undefined,
      schedule.timeZone !== undefined ? `timeZone '${schedule.timeZone}'` : undefined,
    ].filter((x) => x !== undefined);
    if (custom.length > 0) {
      throw new ProwlerOnboardingError(`schedule: ${custom.join(', ')} needs Prowler Cloud's scheduler; this Prowler is a self-hosted Prowler App, `
        + 'whose only schedule is daily, from when it is made. Leave schedule out (or use scanMode \'once\'), or point prowlerApiUrl at Prowler Cloud; nothing was changed');
    }
  }
  if (edition === 'cloud' && request.removal === RemovalBehaviour.UNLINK) {
    throw new ProwlerOnboardingError('removal: \'unlink\' is not available on Prowler Cloud: it has no public way to detach a provider from its organization '
      + '(and deleting the organization or one of its nodes deletes every provider under it, with its history). Use \'retain\' (providers stay, '
      + 'linked), or \'destroy\' (deletes only the providers this onboarding created, one by one); nothing was changed');
  }
}

/** Prowler Cloud's schedule attributes for the spec's schedule (all seven, null for the unused). */
export function cloudSchedule(schedule: ScanSchedule | undefined): CloudSchedule {
  const frequency = schedule?.frequency ?? ScheduleFrequency.DAILY;
  return {
    scan_enabled: true,
    scan_frequency: frequency.toUpperCase() as CloudSchedule['scan_frequency'],
    scan_hour: schedule?.hour ?? 0,
    scan_timezone: schedule?.timeZone ?? 'UTC',
    scan_interval_hours: frequency === ScheduleFrequency.INTERVAL ? schedule!.intervalHours! : null,
    scan_day_of_week: frequency === ScheduleFrequency.WEEKLY ? schedule!.dayOfWeek! : null,
    scan_day_of_month: frequency === ScheduleFrequency.MONTHLY ? schedule!.dayOfMonth! : null,
  };
}

/** How the record notes a Cloud schedule: a change of any attribute is sent again. */
export const scheduleNote = (schedule: CloudSchedule): ScheduleNote => `schedule:${JSON.stringify(schedule)}`;

/** The organization credential: the management account's ProwlerScan role, with the External ID. */
export function organizationSecret(state: RunState, request: OnboardingRequest): RoleSecret {
  return {
    role_arn: `arn:${request.partition ?? 'aws'}:iam::${state.organization.managementAccountId}:role/${request.roleName ?? SCAN_ROLE_NAME}`,
    external_id: state.externalId,
    ...(request.roleSessionName ? { role_session_name: request.roleSessionName } : {}),
    ...(request.sessionDurationSeconds ? { session_duration: request.sessionDurationSeconds } : {}),
  };
}

/** The Prowler organization a provider is linked to, if any. */
export const organizationOf = (p: Provider): string | undefined => p.relationships?.organization?.data?.id;

/**
 * The Cloud side of the plan: the organization, its credential, and each selected account's
 * action and writes, from what Prowler has (providers, nodes) and the record. Prowler's own
 * discovery, when the run starts one, has the last word on accounts to apply (`judge`).
 */
export async function planCloud(
  state: RunState,
  chosen: AccountResult[],
  existing: ReadonlyMap<string, Provider>,
  request: OnboardingRequest,
  deps: EngineDependencies,
  found: { id: string } | undefined,
): Promise<CloudRun> {
  const record = deps.record;
  const organizationId = found?.id;
  const secretId = organizationId ? (await deps.prowler.findOrganizationSecret(organizationId))?.id : undefined;
  const ours = organizationId !== undefined && record?.cloud?.organizationId === organizationId;
  const written = ours ? record!.cloud!.credential : undefined;
  const desired = fingerprint(organizationSecret(state, request));
  // A write whose outcome is unknown (its run was cut short): a rewrite (PATCH) is sent again; a
  // create (POST) of these values that is found now went through, and is adopted as it is.
  const writing = ours ? record!.cloud!.writing : undefined;
  const adopted = writing !== undefined && record!.cloud!.creatingCredential === true && secretId !== undefined && writing === desired;
  const unsure = writing !== undefined && !adopted;
  // Prowler never returns the credential's values: one this onboarding did not write is kept as it is.
  const credential = !secretId ? 'create' : unsure || (!adopted && written !== undefined && written !== desired) ? 'rotate' : 'keep';
  const nodes = organizationId ? await deps.prowler.organizationNodes(organizationId) : [];
  const nodeOu = new Map(nodes.map((n: OrganizationNode) => [n.id, n.attributes.external_id ?? undefined]));
  const roots = new Set(state.tree.rootIds);
  const schedule = scheduleNote(cloudSchedule(request.schedule));
  const mode = request.scanMode ?? ScanMode.DAILY;
  // Prowler Cloud lists its schedules: what the record does not say is read (one request per 100).
  const unnoted = mode === ScanMode.DAILY && chosen.some((r) => {
    const p = existing.get(r.accountId);
    return p !== undefined && organizationId !== undefined && organizationOf(p) === organizationId && record?.schedules?.[p.id] !== schedule;
  });
  const current = unnoted ? await deps.prowler.listSchedules() : undefined;
  const listed = (providerId: string) => (current?.has(providerId) ? scheduleNote(current.get(providerId)!) : undefined);
  const scheduled = (providerId: string) => record?.schedules?.[providerId] ?? listed(providerId);

  for (const r of chosen) {
    const provider = existing.get(r.accountId);
    r.providerId = provider?.id;
    r.hadSecret = provider ? Boolean(provider.relationships?.secret?.data?.id) : undefined;
    r.wasConnected = provider ? provider.attributes.connection?.connected === true : undefined;
    const linkedTo = provider && organizationOf(provider);
    if (provider && linkedTo !== undefined && linkedTo !== organizationId) {
      r.action = 'blocked';
      r.blockedBy = `organization_conflict: ${BLOCKED_REASONS.organization_conflict}`;
      continue;
    }
    const linked = provider !== undefined && organizationId !== undefined && linkedTo === organizationId;
    // An apply that went through before its run was cut short: the provider of an account it had
    // set out to create is one this onboarding created.
    if (linked && state.record?.creating?.[r.accountId] !== undefined) note(state.record, 'created', provider.id, r.accountId);
    const explicitAlias = request.selection.aliases?.[r.accountId];
    const currentAlias = provider?.attributes.alias ?? undefined;
    if (provider && explicitAlias === undefined) r.alias = currentAlias ?? r.alias;
    const writes: AccountWrite[] = [];
    if (!provider) {
      writes.push('create-provider');
    } else if (!linked) {
      if (r.hadSecret && !replaceable(provider.id, request, record)) {
        keepOwnCredentials(r);
        continue;
      }
      writes.push('link-organization');
      if (r.hadSecret) writes.push('replace-credentials');
    } else {
      // The node it is under in Prowler, against its parent OU now (none for an account under a root).
      const node = provider.relationships?.organization_node?.data?.id;
      const nodeNow = node ? nodeOu.get(node) : undefined;
      const parentNow = roots.has(r.parentId) ? undefined : r.parentId;
      if (nodeNow !== parentNow) writes.push('move-node');
    }
    if (provider && explicitAlias !== undefined && explicitAlias !== currentAlias) writes.push('update-alias');
    const touched = !linked || credential !== 'keep';
    if (touched || !r.wasConnected) writes.push('test-connection');
    if (mode === ScanMode.DAILY && (!provider || scheduled(provider.id) !== schedule)) writes.push('schedule-scans');
    const launched = provider ? record?.schedules?.[provider.id] : undefined;
    if (mode === ScanMode.ONCE && launched === undefined) writes.push('start-scan');
    r.writes = writes;
    r.grouped = linked;
    r.action = !provider ? 'create' : !linked ? 'link' : writes.some((w) => w === 'move-node' || w === 'update-alias') || credential !== 'keep' ? 'update' : 'unchanged';
    if (!touched) r.secret = 'kept';
  }
  return {
    ...(organizationId ? { organizationId } : {}),
    organization: organizationId ? 'exists' : 'create',
    ...(secretId ? { credentialId: secretId } : {}),
    credential,
    credentialKnown: adopted || (written === desired && !unsure),
    nodes: ancestorsToApply(state, chosen.filter(needsApply)),
    schedule,
  };
}

/**
 * Whether a provider's own credentials may be replaced by the organization's: when asked to, or
 * when they are the role secret this onboarding wrote (its Prowler App dialect, run against
 * Prowler Cloud before this one told them apart): those were never the user's.
 */
function replaceable(providerId: string | undefined, request: OnboardingRequest, record: OnboardingRecord | undefined): boolean {
  return request.replaceCredentials === true || (providerId !== undefined && record?.secrets?.[providerId] !== undefined);
}

/** Whether the account goes into Prowler's apply: a provider to create or link, a node or alias to change. */
export const needsApply = (r: AccountResult) =>
  (r.writes ?? []).some((w) => w === 'create-provider' || w === 'link-organization' || w === 'move-node' || w === 'update-alias');

/** Every OU above the accounts (roots never): what the apply sends so that Prowler builds their nodes. */
function ancestorsToApply(state: RunState, accounts: readonly AccountResult[]): string[] {
  const parents = new Map(state.tree.units.map((u) => [u.id, u.parentId]));
  const roots = new Set(state.tree.rootIds);
  const out = new Set<string>();
  for (const r of accounts) {
    for (let unit: string | undefined = r.parentId; unit !== undefined && !roots.has(unit); unit = parents.get(unit)) out.add(unit);
  }
  return [...out].sort();
}

/** The `organization` phase: the Prowler organization and its credential, each written only when needed. */
export async function ensureOrganization(
  state: RunState,
  request: OnboardingRequest,
  deps: EngineDependencies,
  checkpoint: () => Promise<void>,
): Promise<void> {
  const cloud = state.cloud!;
  if (!cloud.organizationId) {
    const organization = await deps.prowler.createOrganization(state.organization.id, `AWS Organization ${state.organization.id}`);
    cloud.organizationId = organization.id;
  }
  const secret = organizationSecret(state, request);
  const record = state.record;
  const previous = record?.cloud?.organizationId === cloud.organizationId ? record.cloud : undefined;
  const written = fingerprint(secret);
  // Resumed from a state saved before the write (a poll cut short after it): the record says it is done.
  const done = previous?.credential === written && previous.writing === undefined;
  if (done) cloud.credentialKnown = true;
  if (cloud.credential !== 'keep' && !cloud.credentialWritten && !done) {
    // A lost answer, or another writer, may have made one since the plan: found again here.
    const existing = cloud.credentialId ?? (await deps.prowler.findOrganizationSecret(cloud.organizationId))?.id;
    // A creation of these very values cut short (its answer lost) that is found now went through.
    const adopted = existing !== undefined && previous?.creatingCredential === true && previous.writing === written;
    if (!adopted) {
      // Written ahead: a run cut short between the write and the next save knows what it was doing.
      if (record) {
        const kept = previous?.credential ? { credential: previous.credential } : {};
        const creating = existing === undefined ? { creatingCredential: true } : {};
        record.cloud = { organizationId: cloud.organizationId, ...kept, writing: written, ...creating };
        await checkpoint();
      }
      await deps.prowler.putOrganizationSecret(cloud.organizationId, existing, secret);
    }
    cloud.credentialKnown = true;
    cloud.credentialWritten = true; // a later invocation of this run does not write it again
  }
  if (record) {
    record.cloud = {
      organizationId: cloud.organizationId,
      ...(cloud.credentialKnown ? { credential: fingerprint(secret) } : previous?.credential ? { credential: previous.credential } : {}),
    };
  }
}

export type DiscoveryOutcome = 'done' | 'waiting' | 'failed';

/**
 * The `prowler-discovery` phase: starts Prowler's discovery (once per run: its id is kept, so a
 * discovery that outlasts an invocation is continued by the next) and polls it while `canWait`
 * allows. Once it succeeded, Prowler's verdicts are taken for the accounts to apply.
 */
export async function runDiscovery(
  state: RunState,
  request: OnboardingRequest,
  deps: EngineDependencies,
  canWait: (until: number) => boolean,
): Promise<{ outcome: DiscoveryOutcome; failure?: string }> {
  const cloud = state.cloud!;
  if (!state.accounts.some((r) => r.selected && needsApply(r))) return { outcome: 'done' };
  if (!cloud.discoveryId) {
    cloud.discoveryId = await deps.prowler.startDiscovery(cloud.organizationId!);
    cloud.discoveryStartedAt = deps.clock.now();
  }
  for (;;) {
    const discovery = await deps.prowler.getDiscovery(cloud.organizationId!, cloud.discoveryId);
    cloud.discoveryStatus = discovery.attributes.status;
    if (discovery.attributes.status === 'succeeded') {
      judge(state, discovery, request);
      return { outcome: 'done' };
    }
    if (discovery.attributes.status === 'failed') {
      const code = discovery.attributes.error ?? 'failed';
      const said = discovery.attributes.error_message ?? '';
      const meaning = DISCOVERY_ERRORS[code];
      return { outcome: 'failed', failure: `Prowler's discovery of the organization failed (${code}${said ? `: ${said}` : ''})${meaning ? `: ${meaning}` : ''}` };
    }
    if (deps.clock.now() - (cloud.discoveryStartedAt ?? deps.clock.now()) >= DISCOVERY_LIMIT_MS) {
      return { outcome: 'failed', failure: `Prowler's discovery of the organization is still ${discovery.attributes.status} after ${DISCOVERY_LIMIT_MS / 60_000} minutes (discovery ${cloud.discoveryId}): the next sync starts another` };
    }
    const until = deps.clock.now() + DISCOVERY_POLL_MS;
    if (!canWait(until)) return { outcome: 'waiting' };
    await deps.clock.sleep(DISCOVERY_POLL_MS);
  }
}

/**
 * Prowler's verdicts, not ours: an account its discovery does not show, or shows as blocked, is
 * reported with Prowler's reasons and left alone; one whose provider's own credentials the
 * organization's would replace is left out unless `replaceCredentials`.
 */
function judge(state: RunState, discovery: Discovery, request: OnboardingRequest): void {
  const seen = new Map((discovery.attributes.result?.accounts ?? []).map((a) => [a.id, a.registration ?? undefined]));
  for (const r of state.accounts.filter((x) => x.selected && needsApply(x))) {
    if (!seen.has(r.accountId)) {
      block(r, 'not-discovered: Prowler\'s discovery of the organization does not list this account (it may have joined since, or the management account\'s role cannot see it); the next sync tries again');
      continue;
    }
    const registration: Registration | undefined = seen.get(r.accountId);
    if (registration?.apply_status === 'blocked') {
      const reasons = registration.blocked_reasons ?? [];
      block(r, reasons.length ? reasons.map((code) => `${code}: ${BLOCKED_REASONS[code] ?? 'Prowler blocks it'}`).join('; ') : 'Prowler blocks it (no reason given)');
      continue;
    }
    if (registration?.provider_secret_state === 'will_replace') {
      if (!replaceable(r.providerId, request, state.record)) {
        keepOwnCredentials(r);
      } else if (!r.writes!.includes('replace-credentials')) {
        r.writes!.splice(r.writes!.indexOf('link-organization') + 1, 0, 'replace-credentials');
      }
    }
    if (registration && registration.provider_exists === false && !r.writes!.includes('create-provider')) {
      // Gone from Prowler since the plan: the apply creates it.
      r.writes = ['create-provider', ...r.writes!.filter((w) => w !== 'link-organization' && w !== 'move-node' && w !== 'update-alias' && w !== 'replace-credentials')];
      r.providerId = undefined;
      r.action = 'create';
    }
  }
  state.cloud!.nodes = ancestorsToApply(state, state.accounts.filter((r) => r.selected && needsApply(r)));
}

/** Left out: the organization's credential would replace the provider's own (Prowler's `will_replace`). */
function keepOwnCredentials(r: AccountResult): void {
  r.action = 'keep-credentials';
  r.blockedBy = 'will_replace: the provider has credentials of its own, which the organization\'s would replace (set replaceCredentials to replace them)';
  r.writes = [];
}

function block(r: AccountResult, why: string): void {
  r.action = 'blocked';
  r.blockedBy = why;
  r.writes = [];
}

/**
 * The `apply` phase: the selected accounts to create, link or move, with their OU ancestors,
 * applied to Prowler's discovery; the providers Prowler answers are mapped back to accounts. What
 * it is about to create is recorded first.
 */
export async function applySelection(
  state: RunState,
  request: OnboardingRequest,
  deps: EngineDependencies,
  checkpoint: () => Promise<void>,
): Promise<void> {
  const cloud = state.cloud!;
  const applying = state.accounts.filter((r) => r.selected && needsApply(r) && !r.error);
  if (applying.length === 0 || cloud.applied) {
    cloud.applied = true;
    return;
  }
  intendToCreate(state.record, applying.filter((r) => r.writes!.includes('create-provider')).map((r) => r.accountId), deps.clock.now());
  await checkpoint();
  // An alias only where the spec gives one: named for the account, or a pattern for a provider it creates.
  const explicitPattern = request.selection.aliasPattern !== undefined;
  const aliasOf = (r: AccountResult) => request.selection.aliases?.[r.accountId]
    ?? (explicitPattern && r.writes!.includes('create-provider') ? r.alias : undefined);
  try {
    const accounts = applying.map((r) => ({ id: r.accountId, alias: aliasOf(r) }));
    const ids = await deps.prowler.applyDiscovery(cloud.organizationId!, cloud.discoveryId!, accounts, cloud.nodes);
    const providers = new Map((await deps.prowler.providersById(ids)).map((p) => [p.attributes.uid, p]));
    for (const r of applying) {
      const provider = providers.get(r.accountId);
      if (!provider) {
        r.error = 'registration failed: Prowler\'s apply did not return a provider for this account';
        r.failedAt = 'registration';
        continue;
      }
      const created = r.writes!.includes('create-provider');
      r.providerId = provider.id;
      note(state.record, created ? 'created' : 'linked', provider.id, r.accountId);
      // The organization's credential is theirs now; one only moved or renamed keeps what it had.
      if (created || r.writes!.includes('link-organization')) r.secret = created || !r.hadSecret ? 'created' : 'updated';
      r.grouped = true;
      r.alias = provider.attributes.alias ?? r.alias;
    }
  } catch (error) {
    for (const r of applying) {
      r.error = `registration failed: Failed to apply discovery: ${messageOf(error)}`;
      r.failedAt = 'registration';
    }
  }
  cloud.applied = true;
}

/**
 * Scheduled scans on Prowler Cloud: one bulk request per 100 connected accounts; Prowler's
 * per-provider failures are those accounts' failures, in its words.
 */
export async function scheduleCloud(
  accounts: AccountResult[],
  request: OnboardingRequest,
  deps: EngineDependencies,
  record: OnboardingRecord | undefined,
): Promise<void> {
  const schedule = cloudSchedule(request.schedule);
  const noted = scheduleNote(schedule);
  const pending: AccountResult[] = [];
  for (const r of accounts) {
    // As planned: a schedule the record or Prowler's list showed as it must be is not sent again.
    if (r.writes?.includes('schedule-scans')) {pending.push(r);} else {
      r.scan = 'already-scheduled';
      noteSchedule(record, r.providerId!, noted);
    }
  }
  for (let i = 0; i < pending.length; i += 100) {
    const batch = pending.slice(i, i + 100);
    try {
      const { failed } = await deps.prowler.scheduleBulk(schedule, batch.map((r) => r.providerId!));
      const failures = new Map(failed.map((f) => [f.id, f.error]));
      for (const r of batch) {
        const error = failures.get(r.providerId!);
        if (error !== undefined) {
          r.error = `scan schedule failed: ${error}`;
          r.failedAt = 'launch';
        } else {
          r.scan = 'scheduled';
          noteSchedule(record, r.providerId!, noted);
        }
      }
    } catch (error) {
      for (const r of batch) {
        r.error = `scan schedule failed: ${messageOf(error)}`;
        r.failedAt = 'launch';
      }
    }
  }
}

