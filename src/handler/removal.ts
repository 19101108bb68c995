/**
 * Removal in Prowler: departing providers during a run, and all of them when the onboarding is
 * deleted, each as far as the record allows.
 */
import { messageOf } from './hints';
import { type ProwlerClient } from './prowler-api';
import { forget, originOf, removalFor, type OnboardingRecord } from './record';
import { organizationGroupName, silentLogger, type Departure, type Logger } from './run-types';
import { RemovalBehaviour } from '../core/spec';

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

export const plannedOutcome = (action: 'retain' | 'unlink' | 'destroy'): Departure['outcome'] =>
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

