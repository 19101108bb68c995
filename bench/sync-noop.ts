// What a sync with nothing to change costs: an organization onboarded through the Lambda's sync
// (state and record in a store, as in the state bucket), then synced again with nothing new.
// Prints Prowler requests per 100 accounts, against the target of at most 3, and the same sync
// without the record (every daily schedule posted again and answered 409, every provider read).
import { STATE_KEYS } from '../src/core/onboarding';
import { CURRENT_SPEC_KEY, handleSync, type LambdaEnvironment } from '../src/handler/lambda';
import { MemoryJsonStore } from '../src/handler/store';
import { fakeClock } from '../testing/harness';
import { generateOrganization, simulatedOrganizationsClient } from '../testing/organization';
import { ProwlerApiDouble } from '../testing/prowler-api-double';

const KEY = 'pk_bench.noop';

async function main() {
  const accounts = Number(process.env.ACCOUNTS ?? 2000);
  const org = generateOrganization({ accounts, ous: 120, depth: 4, seed: 7 });
  const double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
  const store = new MemoryJsonStore();
  const env: LambdaEnvironment = {
    prowlerApiUrl: double.url,
    apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:bench-AbCdEf',
    partition: 'aws',
    store,
    organizations: simulatedOrganizationsClient(org).client,
    secrets: { send: async () => ({ SecretString: KEY }) } as never,
    clock: fakeClock(),
    log: { info: () => {}, warn: () => {} },
  };
  // Deployed: the spec the sync runs (as a completed deployment leaves it).
  await store.save(CURRENT_SPEC_KEY, { physicalId: `prowler-org-onboarding/${org.id}/${double.tenantId}`, spec: { selection: {}, concurrency: 50 } });
  const sync = async (at: number) => handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'time': new Date(at).toISOString() }, 900_000, env);

  // Onboarding takes several invocations (each stops at its deadline, the next trigger continues).
  let invocations = 0;
  do {
    await sync(env.clock.now());
    invocations++;
  } while (await store.load(`${STATE_KEYS.runsPrefix}sync.json`));
  const first = double.requests.length;
  await env.clock.sleep(6 * 3_600_000);
  await sync(env.clock.now());
  const noop = double.requests.length - first;
  const writes = double.requests.slice(first).filter((r) => r.method !== 'GET').length;
  const active = org.accounts.filter((a) => a.status === 'ACTIVE').length;
  // The same sync without the record (as before it existed): every schedule posted again, every provider read.
  await store.delete(STATE_KEYS.record);
  await env.clock.sleep(6 * 3_600_000);
  const beforeUnrecorded = double.requests.length;
  await sync(env.clock.now());
  const unrecorded = double.requests.length - beforeUnrecorded;
  await double.stop();

  console.log(`sync with nothing to change: ${active} onboarded accounts`);
  console.log(`  onboarding                ${first} Prowler requests in ${invocations} sync invocations`);
  console.log(`  no-op sync                ${noop} Prowler requests, ${writes} writes`);
  console.log(`  per 100 accounts          ${((noop / active) * 100).toFixed(2)} (target ≤ 3)`);
  console.log(`  without the record        ${unrecorded} Prowler requests, ${((unrecorded / active) * 100).toFixed(1)} per 100 accounts`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
