/**
 * The record is the truth: what an onboarding created, the spec it runs and who runs now are
 * kept with the work, so that runs cut short, raced against each other, or walking an
 * organization that changes under them neither lose nor destroy what they should not.
 * Each test here reproduces a finding of issue 25 and fails on the code before it.
 */
import { STATE_KEYS } from '../../src/core/onboarding';
import { onboardingReportSchema } from '../../src/core/report-schema';
import { parseOnboardingSpec } from '../../src/core/spec';
import { handleIsComplete, handleOnEvent, handleSync, handleTerraform } from '../../src/handler/lambda';
import { acquireLease, type Lease } from '../../src/handler/lease';
import type { OnboardingRecord } from '../../src/handler/record';
import { organizationsApi } from '../../testing/organization';
import { lambdaSetup, type LambdaSetup } from '../support/lambda-setup';

const KEY = 'pk_truth.RECORD-SECRET-KEY';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler-TrUtH1';

type Setup = LambdaSetup;
const setup = () => lambdaSetup(KEY, SECRET_ARN);

let requestNumber = 0;
function cfnEvent(requestType: 'Create' | 'Update' | 'Delete', spec: unknown, extra: Record<string, unknown> = {}) {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/',
    StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Prowler/1',
    RequestId: `req-${++requestNumber}`,
    LogicalResourceId: 'Onboarding',
    ResourceType: 'Custom::ProwlerOrganizationOnboarding',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider', Spec: JSON.stringify(spec) },
    ...extra,
  };
}

/** The Provider framework: onEvent, then isComplete every 30 s until complete. */
async function deploy(s: Setup, event: ReturnType<typeof cfnEvent>, between?: (poll: number) => Promise<void>) {
  const first = await handleOnEvent(event, s.env);
  const poll = { ...event, PhysicalResourceId: first.PhysicalResourceId };
  for (let n = 1; n <= 50; n++) {
    const answer = await handleIsComplete(poll, 5 * 60_000, s.env);
    if (answer.IsComplete) return { physicalId: first.PhysicalResourceId!, data: answer.Data! };
    await between?.(n);
    await s.env.clock.sleep(30_000);
  }
  throw new Error('never completed');
}

const ACTIVE = (s: Setup) => s.org.accounts.filter((a) => a.status === 'ACTIVE');
const organizationEvent = (eventName: string, at?: number) => ({
  'source': 'aws.organizations',
  'detail-type': 'AWS API Call via CloudTrail',
  'detail': { eventName },
  ...(at !== undefined ? { time: new Date(at).toISOString() } : {}),
});

describe('the record is the truth (issue 25)', () => {
  let s: Setup;
  afterEach(() => s.stop());

  test('1. an account moved during the walk, from an OU not listed yet into one listed already, is not departed: its provider and history stay', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {}, removal: 'destroy', connection: { retryRounds: 0 } }));
    const moving = ACTIVE(s).find((a) => a.parentId !== s.org.roots[0].id)!;
    const provider = s.double.providerByUid(moving.id)!;
    const destination = s.org.ous.find((u) => u.id !== moving.parentId)!;
    // MoveAccount during the walk: the listing of its old OU comes after the move, the listing of
    // its new one came before it. It is in neither.
    const api = organizationsApi(s.org);
    s.intercept((operation, input) => {
      if (operation !== 'ListAccountsForParent') return undefined;
      const page = api(operation, input);
      return { ...page, Accounts: page.Accounts.filter((a: { Id: string }) => a.Id !== moving.id) };
    });
    moving.parentId = destination.id;
    await handleSync(organizationEvent('MoveAccount'), 600_000, s.env);
    expect(s.double.providerByUid(moving.id)?.id).toBe(provider.id);
    expect(s.double.requests.some((r) => r.method === 'DELETE')).toBe(false);
    const report = await s.store.load<any>(STATE_KEYS.latestReport);
    expect(onboardingReportSchema.safeParse(report).success).toBe(true); // the functions' report has the CLI's shape
    expect(report.departures).toEqual([]);
    expect(report.accounts.find((a: { accountId: string }) => a.accountId === moving.id)).toMatchObject({ selected: true, parentId: destination.id });
    expect(s.logs.some((l) => l.startsWith(`1 account the walk did not list moved while it ran, and stay: ${moving.id}`))).toBe(true);
  });

  test('1b. an account missing from the walk that Organizations confirms gone departs (destroy deletes what this onboarding created)', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {}, removal: 'destroy', connection: { retryRounds: 0 } }));
    const leaving = ACTIVE(s)[3];
    s.org.accounts.splice(s.org.accounts.indexOf(leaving), 1);
    await handleSync(organizationEvent('RemoveAccountFromOrganization'), 600_000, s.env);
    expect(s.double.providerByUid(leaving.id)).toBeUndefined();
    expect((await s.store.load<any>(STATE_KEYS.latestReport)).departures).toEqual([
      expect.objectContaining({ accountId: leaving.id, reason: 'no longer in the organization', outcome: 'destroyed' }),
    ]);
  });

  test('2. a Create that fails after registering (POST /provider-groups answers 503): its rollback Delete with destroy removes every provider it created, and no other', async () => {
    s = await setup();
    const [, users] = ACTIVE(s);
    const mine = s.double.seedProvider(users.id, { alias: 'My account', connected: true });
    s.fault(({ method, path }) => (method === 'POST' && /\/provider-groups$/.test(path) ? { status: 503 } : undefined));
    const create = cfnEvent('Create', { selection: {}, removal: 'destroy', connection: { retryRounds: 0 } });
    const { PhysicalResourceId } = await handleOnEvent(create, s.env);
    await expect(handleIsComplete({ ...create, PhysicalResourceId }, 300_000, s.env)).rejects.toThrow(/503/);
    expect(s.double.providers.size).toBe(ACTIVE(s).length);
    s.fault(undefined);
    const deleted = { ...create, RequestType: 'Delete', PhysicalResourceId, RequestId: 'rollback' };
    await handleOnEvent(deleted, s.env);
    for (let poll = 0; poll < 5 && !(await handleIsComplete(deleted, 300_000, s.env)).IsComplete; poll++);
    expect([...s.double.providers.values()]).toEqual([expect.objectContaining({ id: mine.id, alias: 'My account' })]);
  });

  test('2b. killed after creating providers, before anything else was saved: the retried poll records them as created, and Delete with destroy removes them all', async () => {
    s = await setup();
    const mine = s.double.seedProvider(ACTIVE(s)[2].id, { alias: 'hand-made', connected: true });
    const create = cfnEvent('Create', { selection: {}, removal: 'destroy', connection: { retryRounds: 0 } });
    const first = await handleOnEvent(create, s.env);
    const poll = { ...create, PhysicalResourceId: first.PhysicalResourceId };
    // The process dies after the third provider's creation: S3 keeps what was saved by then, and
    // nothing after it reaches Prowler.
    let saved: Map<string, string> | undefined;
    s.fault(({ method, path }) => {
      if (saved) return { status: 503 };
      if (method === 'POST' && path === '/api/v1/providers' && s.double.providers.size === 3) {
        saved = new Map(s.store.objects);
        return { status: 503 };
      }
      return undefined;
    });
    await handleIsComplete(poll, 300_000, s.env).catch(() => undefined);
    expect(saved).toBeDefined();
    s.store.objects.clear();
    for (const [k, v] of saved!) await s.store.save(k, JSON.parse(v));
    s.fault(undefined);
    const lease = (await s.store.load<Lease>(STATE_KEYS.lease))!;
    await s.store.save(STATE_KEYS.lease, { ...lease, expiresAt: 0 }); // same request id: its own lease in any case
    for (let n = 0; n < 20 && !(await handleIsComplete(poll, 300_000, s.env)).IsComplete; n++) await s.env.clock.sleep(30_000);
    const record = (await s.store.load<OnboardingRecord>(STATE_KEYS.record))!;
    expect(Object.keys(record.created)).toHaveLength(ACTIVE(s).length - 1);
    expect(Object.keys(record.linked)).toEqual([mine.id]);
    const deleted = { ...poll, RequestType: 'Delete', RequestId: 'delete' };
    await handleOnEvent(deleted, s.env);
    expect([...s.double.providers.values()]).toEqual([expect.objectContaining({ id: mine.id, alias: 'hand-made' })]);
  });

  test('3. a sync whose spec read is slow runs the spec current under its lease, never the one an Update replaced meanwhile', async () => {
    s = await setup();
    const first = ACTIVE(s).slice(0, 5).map((a) => a.id);
    const later = ACTIVE(s).slice(0, 8).map((a) => a.id);
    const created = await deploy(s, cfnEvent('Create', { selection: { onlyAccounts: first }, removal: 'destroy', connection: { retryRounds: 0 } }));
    // The sync's read of the deployed spec takes long (a slow S3 answer).
    let release!: () => void;
    const slow = new Promise<void>((resolve) => { release = resolve; });
    let blocked!: () => void;
    const isBlocked = new Promise<void>((resolve) => { blocked = resolve; });
    const load = s.store.load.bind(s.store);
    let slowed = false;
    s.store.load = (async (key: string) => {
      if (key === STATE_KEYS.currentSpec && !slowed) {
        slowed = true;
        const read = await load(key); // what S3 had when the request reached it
        blocked();
        await slow;
        return read;
      }
      return load(key);
    }) as typeof s.store.load;
    const sync = handleSync(organizationEvent('TagResource'), 600_000, s.env);
    await isBlocked;
    const update = cfnEvent('Update', { selection: { onlyAccounts: later }, removal: 'destroy', connection: { retryRounds: 0 } }, { PhysicalResourceId: created.physicalId });
    await deploy(s, update, async (n) => { if (n === 2) release(); });
    release();
    await sync;
    expect(later.map((id) => s.double.providerByUid(id) !== undefined)).toEqual(later.map(() => true));
    expect(parseOnboardingSpec((await s.store.load<any>(STATE_KEYS.currentSpec)).spec).selection.onlyAccounts).toEqual(later);
  });

  test('3b. after a Delete no sync runs: a sync that held the lease finishes first, and the Delete stops the next one', async () => {
    s = await setup();
    const created = await deploy(s, cfnEvent('Create', { selection: {}, connection: { retryRounds: 0 } }));
    await acquireLease(s.store, 'sync:running', 'sync', s.env.clock.now());
    const deleted = cfnEvent('Delete', { selection: {} }, { PhysicalResourceId: created.physicalId });
    await handleOnEvent(deleted, s.env);
    expect(await handleIsComplete(deleted, 300_000, s.env)).toEqual({ IsComplete: false }); // waits for the sync
    expect(await s.store.load(STATE_KEYS.currentSpec)).toBeDefined();
    await s.store.save(STATE_KEYS.lease, { owner: 'sync:running', kind: 'sync', expiresAt: 0 });
    expect(await handleIsComplete(deleted, 300_000, s.env)).toEqual({ IsComplete: true });
    s.org.accounts.push({ ...s.org.accounts[1], id: '999999999990', name: 'after-delete', email: 'a@example.com' });
    await handleSync(organizationEvent('CreateAccountResult'), 600_000, s.env);
    expect(s.double.providerByUid('999999999990')).toBeUndefined();
  });

  test('4. a sync never sleeps past its invocation: a re-test round after its deadline is left for the next trigger, with its run and the record saved and the lease given back', async () => {
    s = await setup();
    const failing = ACTIVE(s)[4].id;
    await deploy(s, cfnEvent('Create', { selection: {}, connection: { retryRounds: 0 } }));
    s.org.accounts.push({ ...s.org.accounts[1], id: '999999999994', name: 'no-role-yet', email: 'n@example.com' });
    await s.store.save(STATE_KEYS.currentSpec, {
      ...(await s.store.load<object>(STATE_KEYS.currentSpec)),
      spec: { selection: {}, connection: { retryRounds: 1, retryDelaySeconds: 900 } },
    });
    (s.double as unknown as { options: { connectionRule: unknown } }).options.connectionRule = (p: { uid: string }) =>
      (p.uid === '999999999994' || p.uid === failing ? { connected: false, error: 'AccessDenied' } : { connected: true });
    const start = s.env.clock.now();
    await handleSync(organizationEvent('CreateAccountResult'), 600_000, s.env);
    expect(s.env.clock.now() - start).toBeLessThan(600_000);
    expect(await s.store.load<any>(`${STATE_KEYS.runsPrefix}sync.json`)).toMatchObject({ phase: 'test', round: 2 });
    expect(Object.values((await s.store.load<OnboardingRecord>(STATE_KEYS.record))!.created)).toContain('999999999994');
    expect((await s.store.load<Lease>(STATE_KEYS.lease))!.expiresAt).toBe(0);
  });

  test('5. an account that joins during a Create (its event finds the lease held) is onboarded by that deployment before it completes', async () => {
    s = await setup();
    const create = cfnEvent('Create', { selection: {}, connection: { retryRounds: 0 } });
    const { PhysicalResourceId } = await handleOnEvent(create, s.env); // planned: the organization as it was
    await s.env.clock.sleep(1_000);
    s.org.accounts.push({ ...s.org.accounts[1], id: '999999999995', name: 'joined-during-create', email: 'j@example.com' });
    await handleSync(organizationEvent('CreateAccountResult', s.env.clock.now()), 600_000, s.env);
    expect(s.double.providerByUid('999999999995')).toBeUndefined(); // the deployment holds the lease: recorded
    let answer;
    for (let poll = 0; poll < 10 && !(answer = await handleIsComplete({ ...create, PhysicalResourceId }, 300_000, s.env)).IsComplete; poll++);
    expect(answer).toMatchObject({ IsComplete: true, Data: { Selected: String(ACTIVE(s).length) } });
    expect(s.double.providerByUid('999999999995')).toBeDefined();
  });

  test('5c. an account that joins during a Terraform apply (its event finds the lease held) is onboarded by that apply', async () => {
    s = await setup();
    let joined = false;
    s.fault(({ method, path }) => {
      // Between the apply's registrations: the account joins, and its event arrives.
      if (!joined && method === 'POST' && path === '/api/v1/providers/secrets') {
        joined = true;
        s.org.accounts.push({ ...s.org.accounts[1], id: '999999999997', name: 'joined-during-apply', email: 'j@example.com' });
        void s.env.clock.sleep(1_000).then(() => handleSync(organizationEvent('CreateAccountResult', s.env.clock.now()), 600_000, s.env));
      }
      return undefined;
    });
    const result = await handleTerraform({ Spec: JSON.stringify({ selection: {}, connection: { retryRounds: 0 } }), tf: { action: 'create', prev_input: null } }, 900_000, s.env);
    expect(result).toMatchObject({ status: 'complete' });
    expect(s.double.providerByUid('999999999997')).toBeDefined();
  });

  test('5b. an event while a dead sync\'s lease is still alive waits it out (it stopped renewing) and runs', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {}, connection: { retryRounds: 0 } }));
    s.org.accounts.push({ ...s.org.accounts[1], id: '999999999996', name: 'joined', email: 'j@example.com' });
    const now = s.env.clock.now();
    await s.store.save(STATE_KEYS.lease, { owner: 'sync:dead', kind: 'sync', since: now - 200_000, heartbeatAt: now - 90_000, expiresAt: now + 30_000 } satisfies Lease);
    await handleSync(organizationEvent('CreateAccountResult', now), 600_000, s.env);
    expect(s.double.providerByUid('999999999996')).toBeDefined();
    expect(s.env.clock.now() - now).toBeLessThanOrEqual(2 * 60_000);
  });

  test('7. a dead holder\'s lease is taken over within 2 minutes; the message says who holds it, since when and until when', async () => {
    s = await setup();
    const now = s.env.clock.now();
    // A run that died right after it renewed its lease.
    await acquireLease(s.store, 'sync:died', 'sync', now);
    const result = await handleTerraform({ Spec: JSON.stringify({ selection: {}, connection: { retryRounds: 0 } }), tf: { action: 'create', prev_input: null } }, 900_000, s.env);
    expect(result).toMatchObject({ status: 'complete' });
    expect(s.env.clock.now() - now).toBeLessThanOrEqual(2 * 60_000 + 15_000);
    expect(s.logs.some((l) => l.startsWith('waiting: a sync run of this onboarding (sync:died) holds its lease since 1970-01-01T00:00:00.000Z, last renewed 1970-01-01T00:00:00.000Z, until 1970-01-01T00:02:00.000Z'))).toBe(true);
  });

  test.each([
    ['RequestType missing', { RequestType: undefined }, /RequestType: must be one of 'Create', 'Update', 'Delete'/],
    ['RequestType Replace', { RequestType: 'Replace' }, /RequestType: must be one of 'Create', 'Update', 'Delete'/],
    ['RequestType create (lower case)', { RequestType: 'create' }, /RequestType: must be one of/],
    ['Update without PhysicalResourceId', { RequestType: 'Update' }, /PhysicalResourceId: is required for Update/],
    ['Delete without PhysicalResourceId', { RequestType: 'Delete' }, /PhysicalResourceId: is required for Delete/],
    ['ResourceProperties null', { ResourceProperties: null }, /ResourceProperties: /],
    ['RequestId null', { RequestId: null }, /RequestId: /],
  ])('9. a malformed CloudFormation event (%s) fails naming the field, and reaches nobody', async (_case, change, message) => {
    s = await setup();
    const event = { ...cfnEvent('Create', { selection: {} }), ...change };
    await expect(handleOnEvent(event, s.env)).rejects.toThrow(message);
    await expect(handleIsComplete(event, 300_000, s.env)).rejects.toThrow(message);
    expect(s.double.requests).toEqual([]);
  });

  test.each([
    ['null', null, /expected a JSON object, got null/],
    ['Spec null', { Spec: null, tf: { action: 'create', prev_input: null } }, /Spec: /],
    ['tf null', { Spec: '{}', tf: null }, /tf: /],
    ['prev_input a string', { tf: { action: 'delete', prev_input: 'x' } }, /tf.prev_input: /],
    ['create without a Spec', { tf: { action: 'create', prev_input: null } }, /Spec: is required for create/],
  ])('9. a malformed Terraform input (%s) fails naming the field', async (_case, payload, message) => {
    s = await setup();
    await expect(handleTerraform(payload, 900_000, s.env)).rejects.toThrow(message);
    expect(s.double.requests).toEqual([]);
  });

  test.each([
    ['a NUL', 'acct-\u0000-{id}'],
    ['a right-to-left override', 'acct-\u202e{name}'],
  ])('9. an aliasPattern with %s is refused, naming the field', (_case, aliasPattern) => {
    expect(() => parseOnboardingSpec({ selection: { aliasPattern } })).toThrow(/selection\.aliasPattern: must not contain control or bidirectional-override characters/);
    expect(() => parseOnboardingSpec({ selection: { aliases: { 111111111111: aliasPattern.replace(/\{\w+\}/, 'x') } } }))
      .toThrow(/selection\.aliases\.111111111111: must not contain control or bidirectional-override characters/);
  });
});
