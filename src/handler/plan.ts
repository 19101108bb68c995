/**
 * The plan of a run: discovery, selection, what Prowler has, and what to do for every account and
 * every departure. Writes nothing.
 */
import { detectEdition, organizationOf, planCloud, refuseUnsupported } from './cloud';
import { beginDiscovery, continueDiscovery, locateAccounts, type OrganizationSnapshot, type OrgAccount } from './organizations';
import type { Provider } from './prowler-api';
import { originOf, removalFor } from './record';
import { plannedOutcome } from './removal';
import {
  ORGANIZATION_GROUP_NAME,
  organizationGroupName,
  ProwlerOnboardingError,
  silentLogger,
  type AccountResult,
  type CloudRun,
  type Departure,
  type EngineDependencies,
  type OnboardingRequest,
  type RunState,
} from './run-types';
import { accountsNeedingTags, needsTags, selectAccounts, unknownSelectionIds, type AccountDecision } from './selection';
import { desiredSecret, plannedWrites, secretDecision } from './steps';
import { describeTagUse, tagsToRead, withCachedTags } from './tag-cache';
import { RemovalBehaviour, ScanMode } from '../core/spec';

/**
 * Starts a run: checks the Prowler API key, then discovers the organization, selects, and reads
 * Prowler's side to plan every account (create, link, update, unchanged, blocked) and every
 * departure. Writes nothing. A large organization's discovery may not fit before `deadline`: the
 * run is then in its `discover` phase and `continueRun` goes on with it.
 */
export async function startRun(request: OnboardingRequest, deps: EngineDependencies, options: { deadline?: number } = {}): Promise<RunState> {
  const started = deps.clock.now();
  const prowlerRequestsBefore = deps.prowler.requests;
  const warnings: string[] = [];

  const discovered = deps.discover ? await deps.discover() : undefined;
  const progress = discovered ? undefined : await beginDiscovery(deps.organizations);
  const organization = discovered?.organization ?? progress!.organization;
  if (request.organizationId && organization.id !== request.organizationId) {
    throw new ProwlerOnboardingError(
      `organizationId is '${request.organizationId}' but these credentials see organization '${organization.id}': deploy in that organization's management account (or delegated administrator), or correct organizationId`,
    );
  }
  // Prowler's side before the walk: a key that cannot do the work fails in seconds, not after it.
  const tenant = await deps.prowler.tenantId();
  // A key that sees only some providers misleads every later step.
  await deps.prowler.verifyAccess({ writes: !request.dryRun, scans: (request.scanMode ?? ScanMode.DAILY) !== ScanMode.NONE });
  // Which Prowler: Prowler Cloud onboards through its organizations (cloud.ts), Prowler App through a group.
  const { edition, organization: prowlerOrganization } = await detectEdition(request, deps, organization.id);
  refuseUnsupported(edition, request);
  const externalId = request.externalId ?? tenant;
  if (request.externalId && request.externalId !== tenant) {
    warnings.push(`externalId '${request.externalId}' differs from the API key's Prowler tenant '${tenant}': Prowler presents its tenant id when it assumes the role, so connection tests will fail with AccessDenied unless your Prowler is set up otherwise`);
  }
  const rootIds = discovered?.rootIds ?? progress!.rootIds;
  const state: RunState = {
    version: 1,
    startedAt: started,
    phase: 'discover',
    ...(progress ? { discovery: progress } : {}),
    organization: { id: organization.id, managementAccountId: organization.managementAccountId, roots: rootIds.length, ous: 0, depth: 0 },
    tree: { rootIds: [...rootIds], units: [] },
    externalId,
    externalIdSource: request.externalId ? 'given' : 'prowler',
    tenantId: tenant,
    warnings,
    selectionSummary: 'discovering the organization',
    accounts: [],
    departures: [],
    round: 1,
    ...(deps.record ? { record: structuredClone(deps.record) } : {}),
    calls: { organizations: progress?.calls ?? discovered!.calls, prowler: 0 },
    invocations: 1,
    edition,
    ...(edition === 'cloud' ? {
      cloud: {
        ...(prowlerOrganization ? { organizationId: prowlerOrganization.id } : {}),
        organization: prowlerOrganization ? 'exists' : 'create',
        credential: 'keep',
        credentialKnown: false,
        nodes: [],
      } satisfies CloudRun,
    } : {}),
  };
  const stop = () => options.deadline !== undefined && deps.clock.now() >= options.deadline;
  if (discovered) await plan(state, discovered, request, deps);
  else await discoverAndPlan(state, request, deps, stop);
  state.calls.prowler = deps.prowler.requests - prowlerRequestsBefore;
  return state;
}

/**
 * The `discover` phase: walks the organization as far as `stop` allows; once it is complete,
 * selects and plans (the run moves on to `depart`).
 */
export async function discoverAndPlan(state: RunState, request: OnboardingRequest, deps: EngineDependencies, stop: () => boolean): Promise<void> {
  const log = deps.log ?? silentLogger;
  const progress = state.discovery!;
  const callsBefore = progress.calls;
  const cache = deps.tags;
  try {
    const snapshot = await continueDiscovery(deps.organizations, progress, {
      // With the tag cache: only what it lacks, what an event named, and a share of what is due.
      tagsFor: (tree) => {
        const needed = accountsNeedingTags(tree, request.selection);
        return cache ? tagsToRead(needed, cache, deps.clock.now(), progress.calls) : needed;
      },
      stop,
      onProgress: (m) => log.info(m),
    });
    if (!snapshot) return;
    delete state.discovery;
    let complete = snapshot;
    if (cache && needsTags(request.selection)) {
      const { snapshot: tagged, use } = withCachedTags(snapshot, accountsNeedingTags(snapshot, request.selection), cache, deps.clock.now());
      complete = tagged;
      state.tags = use;
      log.info(describeTagUse(use));
    }
    await plan(state, complete, request, deps);
  } finally {
    state.calls.organizations += progress.calls - callsBefore;
  }
}

/** Selection and the plan, once the organization is discovered: the run moves on to `depart`. */
async function plan(state: RunState, walked: OrganizationSnapshot, request: OnboardingRequest, deps: EngineDependencies): Promise<void> {
  const log = deps.log ?? silentLogger;
  const cloud = state.edition === 'cloud';
  // Prowler's side: on Prowler App, the organization's group and its members (what may depart); on
  // Prowler Cloud, the providers linked to the Prowler organization, and the recorded ones of
  // accounts the walk did not list.
  const groups = cloud ? [] : await deps.prowler.listProviderGroups();
  const groupName = organizationGroupName(walked.organization.id);
  const ourGroup = groups.find((g) => g.attributes.name === groupName);
  const everyProvider = cloud ? await deps.prowler.findAwsProviders(walked.accounts.map((a) => a.id)) : undefined;
  const members = cloud ? await cloudMembers(state, walked, everyProvider!, deps) : ourGroup ? await deps.prowler.providersInGroup(ourGroup.id) : [];
  const { snapshot, unplaced } = await placeMissingMembers(state, walked, members.map((p) => p.attributes.uid), request, deps);
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
  const externalId = state.externalId;

  // Another organization's group has exactly this package's name for it; a user's own group that
  // merely starts the same way ("AWS Organization prod") blocks nothing.
  const otherOrganizations = new Map(groups
    .map((g) => [g.id, g.attributes.name.match(ORGANIZATION_GROUP_NAME)?.[1]] as const)
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined && entry[1] !== snapshot.organization.id));
  const existing = everyProvider ?? await deps.prowler.findAwsProviders(chosen.map((r) => r.accountId));

  if (cloud) {
    state.tree = { rootIds: [...snapshot.rootIds], units: [...snapshot.units.values()] };
    const found = state.cloud?.organizationId ? { id: state.cloud.organizationId } : undefined;
    state.cloud = await planCloud(state, chosen, existing, request, deps, found);
  }
  for (const r of cloud ? [] : chosen) {
    const provider = existing.get(r.accountId);
    planAccount(r, provider);
    if (r.action !== 'blocked') r.writes = plannedWrites(r, provider, request, externalId, deps.record);
  }

  /** The account's action (create, link, update, unchanged, blocked) from what Prowler has. */
  function planAccount(r: AccountResult, provider: Provider | undefined): void {
    if (!provider) {
      r.action = 'create';
      return;
    }
    r.providerId = provider.id;
    r.hadSecret = Boolean(provider.relationships?.secret?.data?.id);
    r.wasConnected = provider.attributes.connection?.connected === true;
    const memberOf = provider.relationships?.provider_groups?.data.map((g) => g.id) ?? [];
    const other = memberOf.map((id) => otherOrganizations.get(id)).find((o) => o !== undefined);
    if (other) {
      r.action = 'blocked';
      r.blockedBy = `linked_to_other_organization: the provider belongs to organization ${other} in Prowler`;
      return;
    }
    r.grouped = ourGroup !== undefined && memberOf.includes(ourGroup.id);
    if (!r.grouped && deps.record?.creating?.[r.accountId] !== undefined) {
      // An earlier run of this onboarding created it and was cut short: its creation goes on.
      r.action = 'create';
      return;
    }
    const explicitAlias = request.selection.aliases?.[r.accountId];
    const currentAlias = provider.attributes.alias ?? undefined;
    // A provider this onboarding did not create keeps its alias, unless the spec names one for it.
    const created = originOf(deps.record, provider.id, r.accountId) === 'created' && deps.record !== undefined;
    const wanted = explicitAlias ?? (created ? r.alias : currentAlias ?? r.alias);
    r.alias = wanted;
    const secretWrite = secretDecision(provider, r.wasConnected, deps.record?.secrets?.[provider.id], desiredSecret(r.accountId, externalId, request)) === 'write';
    if (!r.grouped) {
      r.action = 'link';
    } else {
      r.action = wanted !== currentAlias || secretWrite ? 'update' : 'unchanged';
      // As it must be, and working: nothing to send for it.
      if (r.action === 'unchanged') r.secret = 'kept';
    }
  }

  // Providers recorded for this organization whose account is no longer selected.
  const removal = request.removal ?? RemovalBehaviour.RETAIN;
  const chosenIds = new Set(chosen.map((r) => r.accountId));
  const decisionOf = new Map(results.map((r) => [r.accountId, r]));
  const departures: Departure[] = members
    .filter((p) => !chosenIds.has(p.attributes.uid) && !unplaced.has(p.attributes.uid))
    .map((p) => ({
      accountId: p.attributes.uid,
      providerId: p.id,
      alias: p.attributes.alias ?? undefined,
      reason: decisionOf.get(p.attributes.uid) ? `not selected: ${decisionOf.get(p.attributes.uid)!.reason}` : 'no longer in the organization',
      origin: originOf(deps.record, p.id, p.attributes.uid),
      outcome: 'retained' as const,
    }));
  if (request.dryRun) for (const d of departures) d.outcome = plannedOutcome(removalFor(removal, d.origin));

  Object.assign(state, {
    phase: 'depart',
    organization: {
      id: snapshot.organization.id,
      managementAccountId: snapshot.organization.managementAccountId,
      roots: snapshot.rootIds.length,
      ous: snapshot.units.size - snapshot.rootIds.length,
      depth: snapshot.depth,
    },
    tree: { rootIds: [...snapshot.rootIds], units: [...snapshot.units.values()] },
    selectionSummary: selection.summary,
    accounts: results,
    departures,
    groupId: ourGroup?.id,
  } satisfies Partial<RunState>);
}

/**
 * The organization as the plan sees it: the walk, plus the members of the organization's group
 * that the walk did not list but Organizations says are still in it. A walk is not a snapshot:
 * an account moved from an OU not listed yet into one listed already is in neither listing, and
 * must not be taken for one that left. Each is asked where it is (locateAccounts); one that
 * moved into a unit the walk never saw (made during the walk) is left as it is until the next run.
 */
async function placeMissingMembers(
  state: RunState,
  walked: OrganizationSnapshot,
  memberAccounts: readonly string[],
  request: OnboardingRequest,
  deps: EngineDependencies,
): Promise<{ snapshot: OrganizationSnapshot; unplaced: Set<string> }> {
  const unplaced = new Set<string>();
  const listed = new Set(walked.accounts.map((a) => a.id));
  const missing = [...new Set(memberAccounts)].filter((id) => !listed.has(id));
  // A simulated organization (--simulate) is a snapshot: what it lacks is not there.
  if (missing.length === 0 || deps.discover) return { snapshot: walked, unplaced };
  const { accounts, calls } = await locateAccounts(deps.organizations, missing, { withTags: needsTags(request.selection) });
  state.calls.organizations += calls;
  const placed: OrgAccount[] = [];
  for (const [id, account] of accounts) {
    if (!account) continue; // confirmed gone: it departs
    if (walked.units.has(account.parentId)) placed.push(account);
    else unplaced.add(id);
  }
  const log = deps.log ?? silentLogger;
  if (placed.length > 0) log.info(`${placed.length} ${placed.length === 1 ? 'account' : 'accounts'} the walk did not list moved while it ran, and stay: ${placed.map((a) => a.id).join(', ')}`);
  if (unplaced.size > 0) {
    const warning = `${unplaced.size} ${unplaced.size === 1 ? 'account' : 'accounts'} moved during discovery into an OU it had not seen (${[...unplaced].join(', ')}): left as they are until the next sync`;
    state.warnings.push(warning);
    log.warn(warning);
  }
  if (placed.length === 0) return { snapshot: walked, unplaced };
  return { snapshot: { ...walked, accounts: [...walked.accounts, ...placed].sort((a, b) => a.id.localeCompare(b.id)) }, unplaced };
}

/**
 * Prowler Cloud's providers of this onboarding: those linked to the Prowler organization, and
 * those the record has for accounts the walk did not list (gone, or moved while it ran).
 */
async function cloudMembers(
  state: RunState,
  walked: OrganizationSnapshot,
  providers: ReadonlyMap<string, Provider>,
  deps: EngineDependencies,
): Promise<Provider[]> {
  const organizationId = state.cloud?.organizationId;
  const members = organizationId ? [...providers.values()].filter((p) => organizationOf(p) === organizationId) : [];
  const listed = new Set(walked.accounts.map((a) => a.id));
  const record = deps.record;
  const ours = record ? Object.entries({ ...record.linked, ...record.created }) : [];
  const recorded = ours.filter(([, account]) => !listed.has(account)).map(([id]) => id);
  if (recorded.length > 0) members.push(...await deps.prowler.providersById(recorded));
  return members;
}

export function toResult(d: AccountDecision): AccountResult {
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

