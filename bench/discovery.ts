// Discovery benchmark: 5,000 accounts, 600 OUs, depth 5, 50 ms per Organizations call,
// throttled at 10 requests/s (TooManyRequestsException beyond). Prints the wall time, its
// ratio to the throttle bound (calls ÷ 10/s) and the peak RSS. Targets: ≤ 1.15×, ≤ 200 MB.
//
// Then the same walk as a sync does it with a tag rule (excludeTags), through the engine's tag
// cache (src/handler/tag-cache.ts): cold (every account's tags read), warm with nothing changed
// (target: ≤ 1.2× the Organizations calls of the walk without a tag rule), and a day later (the
// tags are due: a share of them is read again per sync, so the refresh is spread over syncs).
// The tag runs count calls (no latency: time follows calls at the throttle). TAGS=0 skips them.
import { beginDiscovery, continueDiscovery, discoverOrganization, type OrganizationSnapshot } from '../src/handler/organizations';
import { accountsNeedingTags } from '../src/handler/selection';
import { emptyTagCache, TAG_MAX_AGE_MS, tagsToRead, withCachedTags, type TagCache } from '../src/handler/tag-cache';
import { generateOrganization, simulatedOrganizationsClient, type SimOrganization } from '../testing/organization';

const RATE = 10;
const SELECTION = { excludeTags: [{ key: 'prowler-scan', value: 'false' }] };

/** One sync's discovery with the tag rule, through the cache (as src/handler/plan.ts does it). */
async function syncWithTags(org: SimOrganization, cache: TagCache, now: number): Promise<{ calls: number; read: number; cached: number }> {
  // Calls, not time, are what the target holds (time follows them at the throttle): no latency here.
  const { client, stats } = simulatedOrganizationsClient(org, {});
  const progress = await beginDiscovery(client);
  const snapshot = (await continueDiscovery(client, progress, {
    tagsFor: (tree) => tagsToRead(accountsNeedingTags(tree, SELECTION), cache, now, progress.calls),
  })) as OrganizationSnapshot;
  const { use } = withCachedTags(snapshot, accountsNeedingTags(snapshot, SELECTION), cache, now);
  return { calls: stats.served, read: use.read, cached: use.cached };
}

async function main() {
  const org = generateOrganization({ accounts: 5000, ous: 600, depth: 5, seed: 5000 });
  const concurrency = Number(process.env.CONCURRENCY ?? 4); // the engine's default
  const { client, stats } = simulatedOrganizationsClient(org, { latencyMs: 50, ratePerSecond: RATE });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = Date.now();
  const snapshot = await discoverOrganization(client, { concurrency });
  const wall = (Date.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  const bound = stats.served / RATE;
  console.log(`discovery: ${snapshot.accounts.length} accounts, ${snapshot.units.size - snapshot.rootIds.length} OUs, depth ${snapshot.depth}`);
  console.log(`  concurrency          ${concurrency}`);
  console.log(`  Organizations calls  ${stats.served} served, ${stats.throttled} throttled (TooManyRequestsException)`);
  console.log(`  wall time            ${wall.toFixed(1)} s`);
  console.log(`  throttle bound       ${bound.toFixed(1)} s (calls ÷ ${RATE}/s)`);
  console.log(`  ratio                ${(wall / bound).toFixed(3)}× (target ≤ 1.15×)`);
  console.log(`  peak RSS             ${(peakRss / 1024 / 1024).toFixed(0)} MB (target ≤ 200 MB)`);
  if (process.env.TAGS === '0') return;

  const cache = emptyTagCache();
  const t0 = Date.parse('2026-12-07T00:00:00Z');
  console.log('\nwith a tag rule (excludeTags), through the tag cache:');
  const line = (what: string, r: { calls: number; read: number; cached: number }, target = '') =>
    console.log(`  ${what.padEnd(28)} ${String(r.calls).padStart(5)} Organizations calls, ${(r.calls / stats.served).toFixed(2)}× the walk without a tag rule${target}; `
      + `${r.read} tags read, ${r.cached} from the cache (at ${RATE}/s: ${(r.calls / RATE).toFixed(0)} s)`);
  line('first sync (cold cache)', await syncWithTags(org, cache, t0));
  line('next sync, nothing changed', await syncWithTags(org, cache, t0 + 6 * 3_600_000), '; target ≤ 1.2×');
  line('a day later (tags due)', await syncWithTags(org, cache, t0 + TAG_MAX_AGE_MS + 6 * 3_600_000), '; target ≤ 1.2×');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
