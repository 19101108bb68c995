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
import { handleIsComplete, handleOnEvent, IN_FLIGHT_MARGIN_MS, type IsCompleteResponse, type LambdaEnvironment } from '../../src/handler/lambda';
import { MemoryJsonStore } from '../../src/handler/store';
import { generateOrganization, mockOrganizations } from '../../testing/organization';
import { ProwlerApiDouble } from '../../testing/prowler-api-double';
import { inProcessFetch, VirtualClock, virtualRateLimit } from '../../testing/virtual-time';

const KEY = 'pk_sim.key';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler-AbCdEf';
const LAMBDA_TIMEOUT_MS = 10 * 60_000; // the construct's onEvent/isComplete timeout
const QUERY_INTERVAL_MS = 30_000; // the construct's Provider queryInterval
const TOTAL_TIMEOUT_MS = 55 * 60_000; // the construct's Provider totalTimeout

/** What a deployment looked like from the Provider framework: each Lambda invocation's duration. */
interface ProviderRun {
  readonly durations: number[];
  readonly total: number;
  readonly data?: Record<string, string>;
  readonly physicalId?: string;
}

/** A simulated 5,000-account organization, Prowler, and the custom resource's Lambda environment. */
function simulation() {
  const clock = new VirtualClock();
  const org = generateOrganization({ accounts: 5000, ous: 600, depth: 5, seed: 5000 });
  const limit = virtualRateLimit(clock, 10);
  const counts = { organizations: 0 };
  const orgMock = mockOrganizations(org, undefined, async () => {
    counts.organizations++;
    await limit();
    await clock.sleep(50);
  });
  const sm = mockClient(SecretsManagerClient);
  sm.on(GetSecretValueCommand).resolves({ SecretString: KEY });
  const double = new ProwlerApiDouble({ apiKeys: [KEY], connectionTaskMs: 3000, now: () => clock.now() });
  const env: LambdaEnvironment = {
    prowlerApiUrl: 'https://prowler.simulated/api/v1',
    apiKeySecretArn: SECRET_ARN,
    partition: 'aws',
    store: new MemoryJsonStore(),
    organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
    secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    clock,
    log: { info: () => {}, warn: () => {} },
    fetch: inProcessFetch(double, clock, 100),
  };
  const event = (requestType: 'Create' | 'Delete', spec: unknown, physicalId?: string) => ({
    RequestType: requestType,
    RequestId: `req-${requestType}`,
    LogicalResourceId: 'Onboarding',
    ResourceType: 'Custom::ProwlerOrganizationOnboarding',
    StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Prowler/1',
    ResponseURL: 'https://example',
    ServiceToken: 'arn',
    ResourceProperties: { ServiceToken: 'arn', Spec: JSON.stringify(spec) },
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
  }) as CloudFormationCustomResourceEvent;

  /** onEvent, then an isComplete poll every 30 s until complete, as the Provider framework does. */
  const throughProvider = async (request: CloudFormationCustomResourceEvent): Promise<ProviderRun> => {
    const durations: number[] = [];
    const timed = async <T>(work: () => Promise<T>) => {
      const start = clock.now();
      const result = await clock.run(work());
      durations.push(clock.now() - start);
      return result;
    };
    const started = clock.now();
    const first = await timed(() => handleOnEvent(request, env, LAMBDA_TIMEOUT_MS));
    const poll = { ...request, PhysicalResourceId: first.PhysicalResourceId } as CloudFormationCustomResourceEvent;
    let answer: IsCompleteResponse = { IsComplete: false };
    while (!answer.IsComplete) {
      await clock.run(clock.sleep(QUERY_INTERVAL_MS));
      answer = await timed(() => handleIsComplete(poll, LAMBDA_TIMEOUT_MS, env));
      expect(clock.now() - started).toBeLessThan(TOTAL_TIMEOUT_MS);
    }
    return { durations, total: clock.now() - started, data: answer.Data, physicalId: first.PhysicalResourceId };
  };
  const restore = () => {
    orgMock.restore();
    sm.restore();
  };
  return { clock, double, counts, event, throughProvider, restore };
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
const describeRun = (run: ProviderRun) => `${minutes(run.total)} of virtual time, ${run.durations.length} Lambda invocations `
  + `(onEvent ${minutes(run.durations[0])}, longest isComplete ${minutes(Math.max(0, ...run.durations.slice(1)))})`;

/** No invocation works past its deadline by more than the work in flight at it. */
const WITHIN_DEADLINE_MS = LAMBDA_TIMEOUT_MS - IN_FLIGHT_MARGIN_MS + 30_000;

async function onboardWithinTheHour(selection: Record<string, unknown>, selected: number): Promise<void> {
  const sim = simulation();
  try {
    const run = await sim.throughProvider(sim.event('Create', { selection, connection: { retryRounds: 0 } }));
    console.log(`5,000 accounts, selection ${JSON.stringify(selection)}: ${describeRun(run)}, `
      + `${sim.counts.organizations} Organizations calls, ${sim.double.requests.length} Prowler requests`);
    expect(run.data).toMatchObject({ Selected: String(selected), Connected: String(selected), Failed: '0' });
    expect(Math.max(...run.durations)).toBeLessThan(WITHIN_DEADLINE_MS);
    expect(run.total).toBeLessThan(TOTAL_TIMEOUT_MS);
    expect(sim.double.providers.size).toBe(selected);
    expect(sim.double.schedules.size).toBe(selected);
  } finally {
    sim.restore();
  }
}

test('5,000 accounts onboard within the hour in short Lambda invocations (virtual time)', async () => {
  await onboardWithinTheHour({}, 5000);
}, 300_000);

// With a tag rule every account's tags are read: 5,000 more Organizations calls than the tree walk,
// over ten minutes at the throttle, so discovery itself must span invocations.
test('5,000 accounts with a tag rule onboard within the hour, discovery spanning invocations (virtual time)', async () => {
  await onboardWithinTheHour({ excludeTags: [{ key: 'prowler-scan', value: 'false' }] }, 4001);
}, 300_000);

test('deleting with removal destroy removes 5,000 providers within the hour in short Lambda invocations (virtual time)', async () => {
  const sim = simulation();
  try {
    const spec = { selection: {}, removal: 'destroy', connection: { retryRounds: 0 }, scanMode: 'none' };
    const created = await sim.throughProvider(sim.event('Create', spec));
    expect(sim.double.providers.size).toBe(5000);
    const deletesBefore = sim.double.requests.length;
    const run = await sim.throughProvider(sim.event('Delete', spec, created.physicalId));
    console.log(`deleting 5,000 providers (removal: destroy): ${describeRun(run)}, ${sim.double.requests.length - deletesBefore} Prowler requests`);
    expect(sim.double.providers.size).toBe(0);
    expect(sim.double.groups.size).toBe(0);
    expect(Math.max(...run.durations)).toBeLessThan(WITHIN_DEADLINE_MS);
  } finally {
    sim.restore();
  }
}, 300_000);
