/**
 * The plan of a run: discovery, selection, what Prowler has, and what to do for every account and
 * every departure. Writes nothing.
 */
import { discoverOrganization } from './organizations';
import { fingerprint, originOf, removalFor } from './record';
import { plannedOutcome } from './removal';
import {
  ORGANIZATION_GROUP_NAME,
  organizationGroupName,
  ProwlerOnboardingError,
  silentLogger,
  type AccountResult,
  type Departure,
  type EngineDependencies,
  type OnboardingRequest,
  type RunState,
} from './run-types';
import { needsTags, selectAccounts, unknownSelectionIds, type AccountDecision } from './selection';
import { desiredSecret } from './steps';
import { RemovalBehaviour, ScanMode } from '../core/spec';

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

