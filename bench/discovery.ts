// Discovery benchmark: 5,000 accounts, 600 OUs, depth 5, 50 ms per Organizations call,
// throttled at 10 requests/s (TooManyRequestsException beyond). Prints the wall time, its
// ratio to the throttle bound (calls ÷ 10/s) and the peak RSS. Targets: ≤ 1.15×, ≤ 200 MB.
import { discoverOrganization } from '../src/handler/organizations';
import { generateOrganization, simulatedOrganizationsClient } from '../testing/organization';

const RATE = 10;

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
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
