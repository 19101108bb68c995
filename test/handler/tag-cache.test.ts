/**
 * Tags kept with the organization: a sync with a tag rule and nothing changed reads no tags; the
 * accounts an event names, and those whose tags are over a day old (a share per run), are read
 * again; the report says how old the tags it used were.
 */
import { describeTagUse, emptyTagCache, forgetTags, TAG_MAX_AGE_MS, tagsToRead, type TagCache } from '../../src/handler/tag-cache';
import { activeAccounts, harness, type Harness } from '../../testing/harness';
import { generateOrganization } from '../../testing/organization';

const TAG_RULE = { excludeTags: [{ key: 'prowler-scan', value: 'false' }] };
const reads = (h: Harness, from: number) => h.organizationsCalls.slice(from).filter((op) => op === 'ListTagsForResource').length;

describe('the tag cache', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('a second run with a tag rule reads no tags, and costs at most 1.2× the Organizations calls of a run without one', async () => {
    h = await harness({ org: generateOrganization({ accounts: 200, ous: 20, depth: 3, seed: 7 }) });
    const tags: TagCache = emptyTagCache();
    const first = await h.run({ selection: TAG_RULE }, { tags });
    expect(first.tags).toEqual({ read: activeAccounts(h.org).length, cached: 0 });
    const untagged = h.organizationsCalls.length;
    await h.run({ selection: {} });
    const withoutRule = h.organizationsCalls.length - untagged;
    const before = h.organizationsCalls.length;
    await h.clock.sleep(6 * 3_600_000); // the next scheduled sync
    const second = await h.run({ selection: TAG_RULE }, { tags });
    const withRule = h.organizationsCalls.length - before;
    expect(reads(h, before)).toBe(0);
    expect(second.tags).toEqual({ read: 0, cached: activeAccounts(h.org).length, oldestAgeMs: expect.any(Number) });
    expect(second.tags!.oldestAgeMs).toBeGreaterThanOrEqual(6 * 3_600_000);
    expect(withRule / withoutRule).toBeLessThanOrEqual(1.2);
    expect(second.accounts.map((a) => [a.accountId, a.selected])).toEqual(first.accounts.map((a) => [a.accountId, a.selected]));
  });

  test('an account an event names is read again; the others come from the cache', async () => {
    h = await harness();
    const tags = emptyTagCache();
    await h.run({ selection: TAG_RULE }, { tags });
    const [tagged] = activeAccounts(h.org);
    tagged.tags = { 'prowler-scan': 'false' };
    forgetTags(tags, [tagged.id]); // what a TagResource event does
    const before = h.organizationsCalls.length;
    const report = await h.run({ selection: TAG_RULE }, { tags });
    expect(reads(h, before)).toBe(1);
    expect(report.accounts.find((a) => a.accountId === tagged.id)).toMatchObject({ selected: false, reason: 'excludeTags prowler-scan=false' });
  });

  test('tags over a day old are read again, oldest first, a share per run: a full refresh is spread over several syncs', () => {
    const cache: TagCache = { accounts: {} };
    const ids = Array.from({ length: 1000 }, (_, i) => String(100000000000 + i));
    ids.forEach((id, i) => (cache.accounts[id] = { tags: {}, readAt: i }));
    const now = TAG_MAX_AGE_MS + 500; // the first 500 are over a day old
    const due = tagsToRead(ids, cache, now, 200); // a walk of 200 calls: 30 may be refreshed
    expect(due).toEqual(ids.slice(0, 30));
    expect(tagsToRead([...ids, '999999999999'], cache, 0, 200)).toEqual(['999999999999']); // missing: always
  });

  test('the summary says how old the tags were', async () => {
    expect(describeTagUse({ read: 20, cached: 4980, oldestAgeMs: 5 * 3_600_000 })).toBe('tags: 4980 from the cache (the oldest read 5.0 h before), 20 read now');
  });
});
