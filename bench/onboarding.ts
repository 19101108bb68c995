// Registration + connection + schedule benchmark: 1,000 accounts against the Prowler API double
// at 20 ms per request and 1 s per connection task. Prints the wall time and its ratio to the
// bound for the chosen concurrency: every account's own work (its requests at 20 ms each, and
// its 1 s connection task) spread over `concurrency` lanes. Target: ≤ 1.3×.
import { onboard } from '../src/handler/engine';
import { ProwlerClient, realClock } from '../src/handler/prowler-api';
import { generateOrganization, simulatedOrganizationsClient } from '../testing/organization';
import { ProwlerApiDouble } from '../testing/prowler-api-double';

const KEY = 'pk_bench.key';
const REQUEST_MS = 20;
const TASK_MS = 1000;

async function main() {
  const accounts = Number(process.env.ACCOUNTS ?? 1000);
  const concurrency = Number(process.env.CONCURRENCY ?? 50);
  const org = generateOrganization({ accounts, ous: 60, depth: 4, seed: 1000 });
  const double = await new ProwlerApiDouble({ apiKeys: [KEY], latencyMs: REQUEST_MS, connectionTaskMs: TASK_MS }).start();
  const prowler = new ProwlerClient({ baseUrl: double.url, auth: { apiKey: KEY } });
  const organizations = simulatedOrganizationsClient(org).client;

  const started = Date.now();
  const report = await onboard({ selection: {}, concurrency }, { organizations, prowler, clock: realClock });
  const wall = (Date.now() - started) / 1000;
  await double.stop();

  const selected = report.counts.selected;
  const perAccount = new Map<string, number>();
  for (const r of double.requests) perAccount.set(`${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':id')}`, (perAccount.get(`${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':id')}`) ?? 0) + 1);
  // The bound: each selected account needs create + secret + test + one task read + schedule
  // (5 requests) and its task's 1 s; shared requests (look-ups, groups) are added as they are.
  const ownRequests = 5 * selected;
  const sharedRequests = double.requests.length - [...perAccount.entries()]
    .filter(([k]) => /^(POST \/api\/v1\/providers|POST \/api\/v1\/providers\/secrets|POST \/api\/v1\/providers\/:id\/connection|GET \/api\/v1\/tasks\/:id|POST \/api\/v1\/schedules\/daily)$/.test(k))
    .reduce((n, [, c]) => n + c, 0);
  const bound = (selected * (5 * REQUEST_MS + TASK_MS)) / concurrency / 1000 + (sharedRequests * REQUEST_MS) / 1000;
  console.log(`onboarding: ${selected} accounts registered, tested and scheduled (${report.outcome})`);
  console.log(`  concurrency         ${concurrency}`);
  console.log(`  Prowler requests    ${double.requests.length} (${ownRequests} per-account minimum, ${sharedRequests} shared look-ups, the rest task polls)`);
  console.log(`  wall time           ${wall.toFixed(1)} s (discovery included)`);
  console.log(`  bound               ${bound.toFixed(1)} s (${selected} × (5 × ${REQUEST_MS} ms + ${TASK_MS} ms) ÷ ${concurrency} + shared requests)`);
  console.log(`  ratio               ${(wall / bound).toFixed(3)}× (target ≤ 1.3×)`);
  console.log(`  counts              ${JSON.stringify(report.counts)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
