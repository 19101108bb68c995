/**
 * One run at a time per onboarding: a lease object in the state bucket, taken and renewed with
 * conditional writes, so a deployment (custom resource or Terraform) and the syncs never write to
 * Prowler together. A lease expires by itself, so a run that died frees it.
 */
import type { JsonStore } from './store';
import { STATE_KEYS } from '../core/onboarding';

/** Who holds the lease, and until when (epoch ms). */
export interface Lease {
  readonly owner: string;
  /** A deployment, a scheduled or event sync, or a `prowler-org apply` with a stateBucket. */
  readonly kind: 'deploy' | 'sync' | 'cli';
  readonly expiresAt: number;
}

export type LeaseAnswer = { readonly acquired: true } | { readonly acquired: false; readonly holder: Lease };

/**
 * Takes the lease for `owner`, or renews it when `owner` holds it already. Another holder's
 * unexpired lease is respected: the answer names it.
 */
export async function acquireLease(store: JsonStore, owner: string, kind: Lease['kind'], now: number, ttlMs: number): Promise<LeaseAnswer> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await store.loadVersioned<Lease>(STATE_KEYS.lease);
    if (current && current.value.owner !== owner && current.value.expiresAt > now) return { acquired: false, holder: current.value };
    const lease: Lease = { owner, kind, expiresAt: now + ttlMs };
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

/** How long a lease lasts without renewal: longer than any one invocation (15 minutes). */
export const LEASE_TTL_MS = 16 * 60_000;
