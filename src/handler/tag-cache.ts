/**
 * Account tags kept with the organization (the state bucket's `onboarding/tags.json`): tag rules
 * need one ListTagsForResource per account, which at 5,000 accounts costs more than the rest of
 * the walk five times over. A sync reads the tags of accounts it has none for, of accounts an
 * Organizations event named (TagResource, UntagResource, MoveAccount), and of accounts whose tags
 * are more than a day old, oldest first and only as many as a share of the walk's own calls: a
 * sync with nothing changed costs at most that share more than one without a tag rule, and a full
 * refresh is spread over the syncs that follow.
 */
import type { OrganizationSnapshot } from './organizations';

export interface TagCacheEntry {
  readonly tags: Readonly<Record<string, string>>;
  /** When they were read (epoch ms). */
  readonly readAt: number;
}

/** Account id → its tags and when they were read. */
export interface TagCache {
  accounts: Record<string, TagCacheEntry>;
}

export const emptyTagCache = (): TagCache => ({ accounts: {} });

/** Tags younger than this are used as they are. */
export const TAG_MAX_AGE_MS = 24 * 3_600_000;
/** Older tags are read again within this share of the walk's own calls per run (at least 10). */
export const TAG_REFRESH_SHARE = 0.15;

/** What a run knew of the tags it used (the plan says how old they were). */
export interface TagUse {
  /** Accounts whose tags were read in this run. */
  readonly read: number;
  /** Accounts whose tags came from the cache. */
  readonly cached: number;
  /** How old the oldest tags used were when the run used them (ms), if any came from the cache. */
  readonly oldestAgeMs?: number;
}

/**
 * The accounts among `needed` whose tags a run reads: those the cache lacks, then those older
 * than a day, oldest first, at most `TAG_REFRESH_SHARE` of `walkCalls` (at least 10).
 */
export function tagsToRead(needed: readonly string[], cache: TagCache, now: number, walkCalls: number): string[] {
  const missing = needed.filter((id) => cache.accounts[id] === undefined);
  const due = needed
    .filter((id) => cache.accounts[id] !== undefined && now - cache.accounts[id].readAt >= TAG_MAX_AGE_MS)
    .sort((a, b) => cache.accounts[a].readAt - cache.accounts[b].readAt);
  const budget = Math.max(10, Math.ceil(walkCalls * TAG_REFRESH_SHARE));
  return [...missing, ...due.slice(0, budget)];
}

/**
 * The snapshot with the tags of every account in `needed`: those read in this run (already on the
 * snapshot), the others from the cache. The cache takes what was read, and forgets the accounts
 * no longer in the organization.
 */
export function withCachedTags(
  snapshot: OrganizationSnapshot,
  needed: readonly string[],
  cache: TagCache,
  now: number,
): { snapshot: OrganizationSnapshot; use: TagUse } {
  const wanted = new Set(needed);
  let read = 0;
  let cached = 0;
  let oldestReadAt: number | undefined;
  const accounts = snapshot.accounts.map((account) => {
    if (account.tags !== undefined) {
      cache.accounts[account.id] = { tags: account.tags, readAt: now };
      read++;
      return account;
    }
    const entry = cache.accounts[account.id];
    if (!wanted.has(account.id) || entry === undefined) return account;
    cached++;
    oldestReadAt = Math.min(oldestReadAt ?? entry.readAt, entry.readAt);
    return { ...account, tags: entry.tags };
  });
  const members = new Set(snapshot.accounts.map((a) => a.id));
  for (const id of Object.keys(cache.accounts)) if (!members.has(id)) delete cache.accounts[id];
  return { snapshot: { ...snapshot, accounts }, use: { read, cached, ...(oldestReadAt !== undefined ? { oldestAgeMs: now - oldestReadAt } : {}) } };
}

/** An event named these accounts: their tags are read again by the next run. */
export function forgetTags(cache: TagCache | undefined, accountIds: readonly string[]): void {
  if (!cache) return;
  for (const id of accountIds) delete cache.accounts[id];
}

/** "4,980 from the cache (read at most 5 h ago), 20 read now": how old the tags a plan used are. */
export function describeTagUse(use: TagUse): string {
  const age = use.oldestAgeMs === undefined ? '' : ` (the oldest read ${ago(use.oldestAgeMs)} before)`;
  return `tags: ${use.cached} from the cache${age}, ${use.read} read now`;
}

function ago(ms: number): string {
  if (ms < 90_000) return `${Math.max(0, Math.round(ms / 1000))} s`;
  if (ms < 90 * 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
