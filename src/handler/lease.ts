/**
 * One run at a time per onboarding: a lease object in the state bucket, taken and renewed with
 * conditional writes, so a deployment (custom resource or Terraform), the syncs and the CLI never
 * write to Prowler together. Its holder renews it while it works (a heartbeat): a holder that died
 * stops renewing, and its lease is free within `LEASE_TTL_MS`.
 */
import type { JsonStore } from './store';
import { STATE_KEYS } from '../core/onboarding';

/** Who holds the lease, since when, and until when (epoch ms). */
export interface Lease {
  readonly owner: string;
  /** A deployment, a scheduled or event sync, or a `prowler-org apply` with a stateBucket. */
  readonly kind: 'deploy' | 'sync' | 'cli';
  /** When this owner took it (kept across renewals). */
  readonly since?: number;
  /** When its owner last renewed it. */
  readonly heartbeatAt?: number;
  readonly expiresAt: number;
}

export type LeaseAnswer = { readonly acquired: true } | { readonly acquired: false; readonly holder: Lease };

/**
 * How long a lease lasts without renewal. A holder renews it every `HEARTBEAT_MS` while it runs,
 * and a deployment at each of its polls (every 30 s), so a dead holder is taken over within 2
 * minutes.
 */
export const LEASE_TTL_MS = 2 * 60_000;
export const HEARTBEAT_MS = 30_000;

/**
 * Takes the lease for `owner`, or renews it when `owner` holds it already. Another holder's
 * unexpired lease is respected: the answer names it.
 */
export async function acquireLease(store: JsonStore, owner: string, kind: Lease['kind'], now: number, ttlMs = LEASE_TTL_MS): Promise<LeaseAnswer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await store.loadVersioned<Lease>(STATE_KEYS.lease);
    const held = current && current.value.expiresAt > now;
    if (held && current.value.owner !== owner) return { acquired: false, holder: current.value };
    const since = held && current.value.owner === owner ? current.value.since ?? now : now;
    const lease: Lease = { owner, kind, since, heartbeatAt: now, expiresAt: now + ttlMs };
    if (await store.saveIf(STATE_KEYS.lease, lease, current?.version)) return { acquired: true };
    // Another writer moved first: look again.
  }
  const holder = await store.load<Lease>(STATE_KEYS.lease);
  return { acquired: false, holder: holder ?? { owner: 'unknown', kind: 'sync', expiresAt: now } };
}

/** Gives the lease up, if `owner` still holds it (never another's). */
export async function releaseLease(store: JsonStore, owner: string): Promise<void> {
  const current = await store.loadVersioned<Lease>(STATE_KEYS.lease);
  if (!current || current.value.owner !== owner) return;
  await store.saveIf(STATE_KEYS.lease, { ...current.value, expiresAt: 0 }, current.version);
}

/** Who holds a lease, since when and until when: for every "waiting for" and "still in progress" message. */
export function describeHolder(holder: Lease): string {
  const at = (ms: number) => new Date(ms).toISOString();
  const since = holder.since !== undefined ? ` since ${at(holder.since)}` : '';
  const beat = holder.heartbeatAt !== undefined ? `, last renewed ${at(holder.heartbeatAt)}` : '';
  return `a ${holder.kind} run of this onboarding (${holder.owner}) holds its lease${since}${beat}, until ${at(holder.expiresAt)} unless it renews it`;
}

/** A lease being held: renewed every `HEARTBEAT_MS` until `release`; `lost` once another took it. */
export interface HeldLease {
  /** True once a renewal found the lease in another's hands: start no new work. */
  readonly lost: () => boolean;
  /** Renews it now (at a step boundary). */
  renew(): Promise<void>;
  /** Stops renewing and keeps it as it is (a deployment between two polls); the next poll renews it. */
  keep(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Keeps a lease that `owner` has just acquired: renews it on a timer while the process lives (a
 * Lambda invocation, the CLI), so that it expires soon after its holder dies, and never outlives it.
 */
export function holdLease(store: JsonStore, owner: string, kind: Lease['kind'], now: () => number, heartbeatMs = HEARTBEAT_MS): HeldLease {
  let lost = false;
  let released = false;
  let inFlight: Promise<void> = Promise.resolve();
  const renew = () => {
    if (released || lost) return inFlight;
    inFlight = inFlight.catch(() => undefined).then(async () => {
      if (released || lost) return;
      if (!(await acquireLease(store, owner, kind, now())).acquired) lost = true;
    });
    return inFlight;
  };
  const timer = setInterval(() => void renew().catch(() => undefined), heartbeatMs);
  timer.unref();
  return {
    lost: () => lost,
    renew,
    keep: async () => {
      await renew().catch(() => undefined);
      released = true;
      clearInterval(timer);
      await inFlight.catch(() => undefined);
    },
    release: async () => {
      released = true;
      clearInterval(timer);
      await inFlight.catch(() => undefined); // a renewal under way lands before the release
      await releaseLease(store, owner);
    },
  };
}
