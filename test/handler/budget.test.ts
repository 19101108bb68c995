/**
 * The one-hour budget: an organization of 5,000 accounts onboards through the Provider framework
 * (onEvent, then an isComplete poll every 30 s) within CloudFormation's hour, no invocation near
 * its Lambda timeout. Simulated on a virtual clock: Organizations at 50 ms per call and 10 calls/s,
 * Prowler at 100 ms per request and 3 s per connection check.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handleIsComplete, handleOnEvent, type LambdaEnvironment } from '../../src/handler/lambda';
import { MemoryJsonStore } from '../../src/handler/store';
import { generateOrganization, mockOrganizations } from '../../testing/organization';
import { ProwlerApiDouble } from '../../testing/prowler-api-double';
import { inProcessFetch, VirtualClock, virtualRateLimit } from '../../testing/virtual-time';

const KEY = 'pk_sim.key';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler-AbCdEf';
const LAMBDA_TIMEOUT_MS = 10 * 60_000; // the construct's onEvent/isComplete timeout
const QUERY_INTERVAL_MS = 30_000; // the construct's Provider queryInterval
const TOTAL_TIMEOUT_MS = 55 * 60_000; // the construct's Provider totalTimeout

interface BudgetCase {
  readonly selection: Record<string, unknown>;
  readonly selected: number;
}

async function onboardWithinTheHour({ selection, selected }: BudgetCase): Promise<void> {
  const clock = new VirtualClock();
  const org = generateOrganization({ accounts: 5000, ous: 600, depth: 5, seed: 5000 });
  const limit = virtualRateLimit(clock, 10);
  let orgCalls = 0;
  const orgMock = mockOrganizations(org, undefined, async () => {
    orgCalls++;
    await limit();
    await clock.sleep(50);
  });
  const sm = mockClient(SecretsManagerClient);
  sm.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  const double = new ProwlerApiDouble({ apiKeys: [KEY], connectionTaskMs: 3000, now: () => clock.now() });
  const fetchImpl = inProcessFetch(double, clock, 100);
  const env: LambdaEnvironment = {
    prowlerApiUrl: 'https://prowler.simulated/api/v1',
    apiKeySecretArn: SECRET_ARN,
    partition: 'aws',
    store: new MemoryJsonStore(),
    organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
    secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    clock,
    log: { info: () => {}, warn: () => {} },
    fetch: fetchImpl,
  };
  const event = {
    RequestType: 'Create',
    RequestId: 'req-5000',
    LogicalResourceId: 'Onboarding',
    ResourceType: 'Custom::ProwlerOrganizationOnboarding',
    StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Prowler/1',
    ResponseURL: 'https://example',
    ServiceToken: 'arn',
    ResourceProperties: { ServiceToken: 'arn', Spec: JSON.stringify({ selection, connection: { retryRounds: 0 } }) },
  } as CloudFormationCustomResourceEvent;

  try {
    const durations: number[] = [];
    const timed = async <T>(work: () => Promise<T>) => {
      const start = clock.now();
      const result = await clock.run(work());
      durations.push(clock.now() - start);
      return result;
    };
    const started = clock.now();
    const first = await timed(() => handleOnEvent(event, env));
    const poll = { ...event, PhysicalResourceId: first.PhysicalResourceId } as CloudFormationCustomResourceEvent;
    let complete = false;
    let data: Record<string, string> | undefined;
    while (!complete) {
      await clock.run(clock.sleep(QUERY_INTERVAL_MS));
      const answer = await timed(() => handleIsComplete(poll, LAMBDA_TIMEOUT_MS, env));
      complete = answer.IsComplete;
      data = answer.Data;
      expect(clock.now() - started).toBeLessThan(TOTAL_TIMEOUT_MS);
    }
    const total = clock.now() - started;
    const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
    console.log(`5,000 accounts, selection ${JSON.stringify(selection)}: ${minutes(total)} of virtual time, ${durations.length} Lambda invocations `
      + `(onEvent ${minutes(durations[0])}, longest isComplete ${minutes(Math.max(...durations.slice(1)))}), `
      + `${orgCalls} Organizations calls, ${double.requests.length} Prowler requests`);
    expect(data).toMatchObject({ Selected: String(selected), Connected: String(selected), Failed: '0' });
    expect(Math.max(...durations)).toBeLessThan(LAMBDA_TIMEOUT_MS);
    expect(total).toBeLessThan(TOTAL_TIMEOUT_MS);
    expect(double.providers.size).toBe(selected);
    expect(double.schedules.size).toBe(selected);
  } finally {
    orgMock.restore();
    sm.restore();
  }
}

test('5,000 accounts onboard within the hour in short Lambda invocations (virtual time)', async () => {
  await onboardWithinTheHour({ selection: {}, selected: 5000 });
}, 300_000);

// With a tag rule every account's tags are read: 6,000 more Organizations calls than the tree walk,
// over ten minutes at the throttle, so discovery itself must span invocations.
test('5,000 accounts with a tag rule onboard within the hour, discovery spanning invocations (virtual time)', async () => {
  await onboardWithinTheHour({ selection: { excludeTags: [{ key: 'prowler-scan', value: 'false' }] }, selected: 4001 });
}, 300_000);
