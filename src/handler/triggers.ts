/**
 * Triggers that arrive while another run holds the lease (an Organizations event during a
 * deployment, a sync during the first Create, an event while a dead sync's lease is still alive)
 * are recorded, never dropped: the run that holds the lease serves them before it finishes, and
 * otherwise the next run does. A trigger is served by a run whose discovery started after it.
 */
import type { JsonStore } from './store';
import { STATE_KEYS } from '../core/onboarding';

export interface Trigger {
  /** What asked for a sync ("Organizations event MoveAccount", "schedule"). */
  readonly what: string;
  /** When the change it reports happened (epoch ms): a discovery that started later sees it. */
  readonly at: number;
  /** The accounts whose tags it says changed (TagResource, UntagResource, MoveAccount): read again. */
  readonly accounts?: readonly string[];
}

interface Triggers {
  readonly pending: Trigger[];
}

/** At most this many are kept (a burst of events needs one run, not one each). */
const KEPT = 50;

/** Records a trigger (a conditional write: none is lost to a concurrent one). */
export async function recordTrigger(store: JsonStore, trigger: Trigger): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await store.loadVersioned<Triggers>(STATE_KEYS.triggers);
    const known = current?.value.pending ?? [];
    if (known.some((t) => t.at === trigger.at && t.what === trigger.what)) return; // the same event, delivered twice
    const pending = [...known, trigger].sort((a, b) => a.at - b.at).slice(-KEPT);
    if (await store.saveIf(STATE_KEYS.triggers, { pending }, current?.version)) return;
    // Another writer got there first: again, after a random pause so that a burst spreads out.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
  }
  throw new Error(`the trigger (${trigger.what}) could not be recorded in ${STATE_KEYS.triggers}: too many concurrent writers`);
}

/** The recorded triggers a run whose discovery started at `startedAt` did not see. */
export async function unservedTriggers(store: JsonStore, startedAt: number): Promise<Trigger[]> {
  const current = await store.load<Triggers>(STATE_KEYS.triggers);
  return (current?.pending ?? []).filter((t) => t.at > startedAt);
}

/** Forgets the triggers a run whose discovery started at `startedAt` served. */
export async function servedTriggers(store: JsonStore, startedAt: number): Promise<void> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await store.loadVersioned<Triggers>(STATE_KEYS.triggers);
    if (!current || current.value.pending.every((t) => t.at > startedAt)) return;
    if (await store.saveIf(STATE_KEYS.triggers, { pending: current.value.pending.filter((t) => t.at > startedAt) }, current.version)) return;
  }
}
