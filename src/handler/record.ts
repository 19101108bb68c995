/**
 * What one onboarding created and what it linked in Prowler, kept durably (the state bucket, for
 * the custom resource, the Terraform invocation and their syncs), so that removal never goes
 * further than what the onboarding did: it deletes only providers it created, at most unlinks the
 * ones it linked (a user's, with their scan history), and leaves alone what it never recorded
 * (added to the group by hand, or by another onboarding).
 */
import { createHash } from 'node:crypto';
import { RemovalBehaviour } from '../core/spec';

/** Provider id → account id, by how the provider came to this onboarding; and what it wrote. */
export interface OnboardingRecord {
  readonly created: Record<string, string>;
  readonly linked: Record<string, string>;
  /**
   * Provider id → fingerprint of the role secret this onboarding last wrote (Prowler never
   * returns secret values): equal, nothing to write; different, the desired secret changed.
   */
  secrets?: Record<string, string>;
  /**
   * How this onboarding started scans per provider: `daily`, the schedule it made (or found),
   * not posted again; `once`, the one scan it started (scan mode once), not started again.
   */
  schedules?: Record<string, ScheduleNote>;
  /**
   * Account id → when (epoch ms) a run set out to create its provider: written (and saved) before
   * the create is sent, so a run killed between Prowler's answer and the next save still knows
   * the provider it finds for that account is one it created. Cleared once the creation is recorded.
   */
  creating?: Record<string, number>;
  /**
   * Prowler Cloud: the Prowler organization this onboarding works through, and the fingerprint of
   * the organization credential it last wrote (a rewrite re-authenticates every provider).
   */
  cloud?: {
    organizationId?: string;
    credential?: string;
    /** The fingerprint of a credential write under way (saved before it is sent). */
    writing?: string;
    /** That write is the credential's creation (a POST): found afterwards, it is the one written. */
    creatingCredential?: boolean;
  };
}

/**
 * How scans were started for a provider: `daily` (Prowler App's daily schedule), `once`, or on
 * Prowler Cloud `schedule:` and the schedule's attributes as JSON (a change is re-sent).
 */
export type ScheduleNote = 'daily' | 'once' | `schedule:${string}`;

export const emptyRecord = (): OnboardingRecord => ({ created: {}, linked: {} });

/** How a provider came to this onboarding. */
export type Origin = 'created' | 'linked' | 'unrecorded';

/**
 * Without a record (the CLI), nothing proves a provider was created here: it counts as linked. A
 * provider of an account this onboarding set out to create (and never recorded otherwise) is one
 * it created.
 */
export function originOf(record: OnboardingRecord | undefined, providerId: string, accountId?: string): Origin {
  if (!record) return 'linked';
  if (providerId in record.created) return 'created';
  if (providerId in record.linked) return 'linked';
  if (accountId !== undefined && record.creating?.[accountId] !== undefined) return 'created';
  return 'unrecorded';
}

/** Records, before anything is sent, that this run is about to create these accounts' providers. */
export function intendToCreate(record: OnboardingRecord | undefined, accountIds: readonly string[], now: number): void {
  if (!record || accountIds.length === 0) return;
  record.creating ??= {};
  for (const id of accountIds) record.creating[id] ??= now;
}

/** A creation that was refused outright: nothing was created for the account. */
export function abandonCreate(record: OnboardingRecord | undefined, accountId: string): void {
  if (record?.creating) delete record.creating[accountId];
}

/** What `removal` may do to a provider of this origin. */
export function removalFor(removal: RemovalBehaviour, origin: Origin): 'retain' | 'unlink' | 'destroy' {
  if (removal === RemovalBehaviour.RETAIN || origin === 'unrecorded') return 'retain';
  if (removal === RemovalBehaviour.DESTROY && origin === 'created') return 'destroy';
  return 'unlink';
}

/**
 * Records a provider this onboarding created, or one it took in (never downgrading a creation). A
 * provider found for an account this onboarding had set out to create is one it created: its
 * create went through before the run that sent it was cut short.
 */
export function note(record: OnboardingRecord | undefined, origin: 'created' | 'linked', providerId: string, accountId: string): void {
  if (!record) return;
  const intended = record.creating?.[accountId] !== undefined;
  if (record.creating) delete record.creating[accountId];
  if (providerId in record.created) return;
  if (origin === 'created' || intended) {
    delete record.linked[providerId];
    record.created[providerId] = accountId;
  } else {
    record.linked[providerId] = accountId;
  }
}

/** The provider is not this onboarding's any more (deleted or unlinked). */
export function forget(record: OnboardingRecord | undefined, providerId: string): void {
  if (!record) return;
  delete record.created[providerId];
  delete record.linked[providerId];
  if (record.secrets) delete record.secrets[providerId];
  if (record.schedules) delete record.schedules[providerId];
}

/**
 * A secret's fingerprint: SHA-256 of its canonical JSON. Never the secret: the static
 * credentials in it are random, so the digest cannot be turned back into them.
 */
export function fingerprint(secret: object): string {
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(secret).sort(([a], [b]) => a.localeCompare(b))));
  return createHash('sha256').update(canonical).digest('hex');
}

/** Records what was written to a provider. */
export function noteSecret(record: OnboardingRecord | undefined, providerId: string, secret: object): void {
  if (record) (record.secrets ??= {})[providerId] = fingerprint(secret);
}

export function noteSchedule(record: OnboardingRecord | undefined, providerId: string, how: ScheduleNote = 'daily'): void {
  if (record) (record.schedules ??= {})[providerId] = how;
}
