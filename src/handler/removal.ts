/**
 * Removal in Prowler: departing providers during a run, and all of them when the onboarding is
 * deleted, each as far as the record allows.
 */
import { forEachUntil } from './bounded';
import { messageOf } from './hints';
import { type ProwlerClient } from './prowler-api';
import { forget, originOf, removalFor, type OnboardingRecord } from './record';
import { DEFAULT_CONCURRENCY, organizationGroupName, silentLogger, type Departure, type Logger } from './run-types';
import { RemovalBehaviour } from '../core/spec';

export interface RemovalOptions {
  /** Start no new deletion once this says so: those not reached stay `retained`, for the next call. */
  readonly stop?: () => boolean;
  /** Deletions in flight at once (default: the engine's request concurrency). */
  readonly concurrency?: number;
}

/**
 * Applies removal to departing providers, each as far as its origin allows: deletes those this
 * onboarding created (destroy), unlinks the rest, and forgets them in the record.
 */
export async function removeProviders(
  prowler: ProwlerClient,
  groupId: string,
  departures: Departure[],
  removal: RemovalBehaviour,
  record: OnboardingRecord | undefined,
  options: RemovalOptions = {},
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
  const destroying = departures.filter((x) => removalFor(removal, x.origin) === 'destroy');
  await forEachUntil(destroying, options.concurrency ?? DEFAULT_CONCURRENCY, options.stop ?? (() => false), async (d) => {
    try {
      await prowler.deleteProvider(d.providerId); // tolerates "already gone"
      d.outcome = 'destroyed';
      forget(record, d.providerId);
    } catch (error) {
      Object.assign(d, { outcome: 'failed', error: messageOf(error) });
    }
  });
}

/** Departures removal applies to that are still where they were: not reached yet. */
export const pendingRemoval = (departures: readonly Departure[], removal: RemovalBehaviour) =>
  departures.filter((d) => d.outcome === 'retained' && removalFor(removal, d.origin) !== 'retain');

export const plannedOutcome = (action: 'retain' | 'unlink' | 'destroy'): Departure['outcome'] =>
  (action === 'retain' ? 'retained' : action === 'unlink' ? 'unlinked' : 'destroyed');

export interface OffboardingReport {
  readonly organizationId: string;
  readonly removal: RemovalBehaviour;
  readonly providers: Departure[];
  /** `incomplete`: `stop` came first; calling again goes on with the providers still there. */
  readonly outcome: 'succeeded' | 'failed' | 'incomplete';
  readonly failure?: string;
  /** Providers still to remove (when incomplete). */
  readonly remaining: number;
}

/**
 * Ends the onboarding of an organization (its custom resource is deleted): by default retains
 * every provider, its credentials and scan history; `unlink` empties and removes the
 * organization's provider group; `destroy` deletes the providers. Tolerates everything being gone,
 * so a call stopped part-way (`options.stop`) is continued by calling again.
 */
export async function offboard(
  organizationId: string,
  removal: RemovalBehaviour,
  prowler: ProwlerClient,
  log: Logger = silentLogger,
  record?: OnboardingRecord,
  options: RemovalOptions = {},
): Promise<OffboardingReport> {
  const group = (await prowler.listProviderGroups()).find((g) => g.attributes.name === organizationGroupName(organizationId));
  const members = group ? await prowler.providersInGroup(group.id) : [];
  const providers: Departure[] = members.map((p) => ({
    accountId: p.attributes.uid,
    providerId: p.id,
    alias: p.attributes.alias ?? undefined,
    reason: 'the onboarding was deleted',
    origin: originOf(record, p.id, p.attributes.uid),
    outcome: 'retained' as const,
  }));
  if (removal === RemovalBehaviour.DESTROY) providers.push(...await createdOutsideGroup(prowler, record, new Set(members.map((p) => p.id))));
  if (providers.length > 0 && removal !== RemovalBehaviour.RETAIN) {
    await removeProviders(prowler, group?.id ?? '', providers.filter((p) => removalFor(removal, p.origin) !== 'retain'), removal, record, options);
    // The group goes only with its last member: what this onboarding never recorded stays in it.
    if (group && providers.every((p) => p.outcome === 'unlinked' || p.outcome === 'destroyed')) await prowler.deleteProviderGroup(group.id);
  }
  const failed = providers.filter((p) => p.outcome === 'failed');
  const remaining = removal === RemovalBehaviour.RETAIN ? 0 : pendingRemoval(providers, removal).length;
  const withOutcome = (outcome: Departure['outcome']) => providers.filter((p) => p.outcome === outcome).length;
  log.info(`offboarded organization ${organizationId}: ${withOutcome('destroyed')} providers destroyed, ${withOutcome('unlinked')} unlinked, `
    + `${withOutcome('retained') - remaining} retained${remaining ? `, ${remaining} still to remove` : ''}`);
  return {
    organizationId,
    removal,
    providers,
    outcome: failed.length ? 'failed' : remaining ? 'incomplete' : 'succeeded',
    failure: failed.length ? `${failed.length} providers could not be ${removal === RemovalBehaviour.UNLINK ? 'unlinked' : 'deleted'}: ${failed[0].error}` : undefined,
    remaining,
  };
}


/**
 * Providers this onboarding created that are not in its group: a run cut short (or failed) between
 * creating them and grouping them. The record names them, or names the accounts it was creating.
 */
async function createdOutsideGroup(prowler: ProwlerClient, record: OnboardingRecord | undefined, grouped: ReadonlySet<string>): Promise<Departure[]> {
  if (!record) return [];
  const found = new Map(Object.entries(record.created).filter(([id]) => !grouped.has(id)));
  const intended = Object.keys(record.creating ?? {});
  if (intended.length > 0) {
    for (const [accountId, provider] of await prowler.findAwsProviders(intended)) {
      if (!grouped.has(provider.id) && !(provider.id in record.linked)) found.set(provider.id, accountId);
    }
  }
  return [...found].map(([providerId, accountId]) => ({
    accountId, providerId, reason: 'the onboarding was deleted', origin: 'created' as const, outcome: 'retained' as const,
  }));
}
