// Registration + connection + schedule benchmark: 1,000 accounts against the Prowler API double
// at 20 ms per request and 1 s per connection task, with the default settings (20 requests and
// 100 connection tests in flight). Prints the wall time (target: ≤ 15 s) and its ratio to the
// bound that design sets itself: the slower of its requests spread over the request lanes and its
// connection tasks spread over the tests in flight.
import { DEFAULT_CONCURRENT_TESTS } from '../src/core/spec';
import { DEFAULT_CONCURRENCY, onboard } from '../src/handler/engine';
import { ProwlerClient, realClock } from '../src/handler/prowler-api';
import { generateOrganization, simulatedOrganizationsClient } from '../testing/organization';
import { ProwlerApiDouble } from '../testing/prowler-api-double';

const KEY = 'pk_bench.key';
const REQUEST_MS = 20;
const TASK_MS = 1000;

async function main() {
  const accounts = Number(process.env.ACCOUNTS ?? 1000);
  const concurrency = Number(process.env.CONCURRENCY ?? DEFAULT_CONCURRENCY);
  const tests = Number(process.env.TESTS ?? DEFAULT_CONCURRENT_TESTS);
  const org = generateOrganization({ accounts, ous: 60, depth: 4, seed: 1000 });
  const double = await new ProwlerApiDouble({ apiKeys: [KEY], latencyMs: REQUEST_MS, connectionTaskMs: TASK_MS }).start();
  const prowler = new ProwlerClient({ baseUrl: double.url, auth: { apiKey: KEY } });
  const organizations = simulatedOrganizationsClient(org).client;

  const started = Date.now();
  const report = await onboard({ selection: {}, concurrency, connection: { concurrentTests: tests } }, { organizations, prowler, clock: realClock });
  const wall = (Date.now() - started) / 1000;
  await double.stop();

  const selected = report.counts.selected;
  // The bound: every request at 20 ms over `concurrency` lanes, or every 1 s task over `tests`
  // in flight, whichever is longer (they overlap).
  const requestTime = (double.requests.length * REQUEST_MS) / concurrency / 1000;
  const taskTime = (selected * TASK_MS) / tests / 1000;
  const bound = Math.max(requestTime, taskTime);
  console.log(`onboarding: ${selected} accounts registered, tested and scheduled (${report.outcome})`);
  console.log(`  in flight           ${concurrency} requests, ${tests} connection tests`);
  console.log(`  Prowler requests    ${double.requests.length} (${(double.requests.length / selected).toFixed(2)} per account)`);
  console.log(`  wall time           ${wall.toFixed(1)} s (discovery included; target ≤ 15 s)`);
  console.log(`  bound               ${bound.toFixed(1)} s (requests ${requestTime.toFixed(1)} s: ${double.requests.length} × ${REQUEST_MS} ms ÷ ${concurrency}; tasks ${taskTime.toFixed(1)} s: ${selected} × ${TASK_MS} ms ÷ ${tests})`);
  console.log(`  ratio               ${(wall / bound).toFixed(3)}×`);
  console.log(`  counts              ${JSON.stringify(report.counts)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
