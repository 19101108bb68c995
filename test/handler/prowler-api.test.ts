import { ProwlerApiError, ProwlerClient, retryAfter } from '../../src/handler/prowler-api';
import { fakeClock } from '../../testing/harness';
import { ProwlerApiDouble, type Fault } from '../../testing/prowler-api-double';

const KEY = 'pk_test.double-key';

describe('ProwlerClient against the API double', () => {
  let double: ProwlerApiDouble;
  let clock: ReturnType<typeof fakeClock>;
  const client = (options: Partial<ConstructorParameters<typeof ProwlerClient>[0]> = {}) =>
    new ProwlerClient({ baseUrl: double.url, auth: { apiKey: KEY }, clock, timeoutMs: 500, random: () => 0.5, ...options });

  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
    clock = fakeClock();
  });
  afterEach(() => double.stop());

  test('finds the tenant (the External ID) from the active membership', async () => {
    expect(await client().tenantId()).toBe(double.tenantId);
    expect(double.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/users/me', query: { include: 'memberships,roles' } });
  });

  test('reads the tenant from a JWT without calling the API', async () => {
    const token = ['e30', Buffer.from(JSON.stringify({ tenant_id: 'tenant-from-jwt' })).toString('base64url'), 'sig'].join('.');
    expect(await new ProwlerClient({ baseUrl: double.url, auth: { token } }).tenantId()).toBe('tenant-from-jwt');
    expect(double.requests).toHaveLength(0);
  });

  test('a rejected key says what to fix and never shows the key', async () => {
    const wrong = 'pk_wrong.SECRET-VALUE';
    const error: Error = await client({ auth: { apiKey: wrong } }).tenantId().catch((e) => e);
    expect(error).toBeInstanceOf(ProwlerApiError);
    expect(error.message).toMatch(/401 the API key was rejected: put a current Prowler API key/);
    expect(error.message).not.toContain('SECRET-VALUE');
  });

  test('looks providers up 100 uids at a time, following pagination', async () => {
    const uids = Array.from({ length: 230 }, (_, i) => String(100000000000 + i));
    for (const uid of uids.slice(0, 150)) double.seedProvider(uid);
    const found = await client().findAwsProviders(uids);
    expect(found.size).toBe(150);
    const lookups = double.requests.filter((r) => r.path === '/api/v1/providers');
    expect(lookups).toHaveLength(3);
    expect(lookups.every((r) => r.query['filter[uid__in]'].split(',').length <= 100 && r.query['page[size]'] === '100')).toBe(true);
  });

  test('creates a provider once; a 409 links the existing one', async () => {
    const first = await client().createAwsProvider('123456789012', 'prod');
    expect(first.created).toBe(true);
    const second = await client().createAwsProvider('123456789012', 'prod');
    expect(second).toEqual({ provider: expect.objectContaining({ id: first.provider.id }), created: false });
    expect(double.providers.size).toBe(1);
  });

  test('a create whose answer is lost is re-checked before any retry: no duplicate', async () => {
    // The double creates the provider, then the connection drops before the answer.
    let dropped = false;
    double.options = {
      ...double.options,
      fault: ({ method, path }) => (method === 'POST' && path === '/api/v1/providers' && !dropped && (dropped = true) ? 'reset' : undefined),
    };
    const result = await client().createAwsProvider('123456789012', 'prod');
    // The reset came before the create reached the store, so the re-check found nothing and the create was retried once.
    expect(result.created).toBe(true);
    expect(double.providers.size).toBe(1);
    expect(double.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /api/v1/providers 0',
      'GET /api/v1/providers 200',
      'POST /api/v1/providers 201',
    ]);
  });

  test('a create that happened but whose answer was lost is found by the re-check, not repeated', async () => {
    let dropped = false;
    double.options = {
      ...double.options,
      fault: ({ method, path }) => (method === 'POST' && path === '/api/v1/providers' && !dropped && (dropped = true) ? 'drop-answer' : undefined),
    };
    const result = await client().createAwsProvider('123456789012', 'prod');
    expect(result).toEqual({ provider: expect.objectContaining({ attributes: expect.objectContaining({ uid: '123456789012' }) }), created: false });
    expect(double.providers.size).toBe(1);
    expect(double.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['POST /api/v1/providers 0', 'GET /api/v1/providers 200']);
  });

  test('retries 429 honouring Retry-After, and 5xx with backoff', async () => {
    const faults: Fault[] = [{ status: 429, retryAfterSeconds: 7 }, { status: 503 }, { status: 500 }];
    double.options = { ...double.options, fault: () => faults.shift() };
    expect(await client().tenantId()).toBe(double.tenantId);
    expect(clock.slept).toEqual([7000, 375, 750]);
  });

  test('a request that never answers times out and is retried', async () => {
    let hung = false;
    double.options = { ...double.options, fault: () => (!hung && (hung = true) ? 'hang' : undefined) };
    expect(await client({ timeoutMs: 200 }).tenantId()).toBe(double.tenantId);
    expect(double.requests.map((r) => r.status)).toEqual([-1, 200]);
  });

  test('gives up after maxAttempts with a message naming the endpoint', async () => {
    double.options = { ...double.options, fault: () => ({ status: 502 }) };
    await expect(client({ maxAttempts: 3 }).findAwsProviders(['123456789012'])).rejects.toThrow('Prowler API GET /api/v1/providers: 502 injected 502');
    expect(double.requests).toHaveLength(3);
  });

  test('an answer that is not the API fails clearly', async () => {
    double.options = { ...double.options, fault: () => 'garbage' };
    await expect(client().tenantId()).rejects.toThrow(/answered 200 with a body that is not JSON: check prowlerApiUrl points at the API/);
  });

  test('an answer of an unexpected shape fails clearly', async () => {
    const fetchShape = (async () => new Response(JSON.stringify({ data: [{ id: 1 }] }), { status: 200 })) as unknown as typeof fetch;
    await expect(client({ fetch: fetchShape }).findAwsProviders(['123456789012'])).rejects.toThrow(/GET \/providers answered something unexpected \(data.0.id: expected string, got 1\): is this a Prowler API of version 1.x\?/);
    // A value outside an enumeration names the values it may take.
    const badType = (async () => new Response(JSON.stringify({ data: [{ id: 'p1', type: 'users', attributes: { provider: 'aws', uid: '123456789012' } }] }), { status: 200 })) as unknown as typeof fetch;
    await expect(client({ fetch: badType }).findAwsProviders(['123456789012'])).rejects.toThrow(/\(data.0.type: expected 'providers', got 'users'\)/);
  });

  test('a wrong base URL gets a hint', async () => {
    await expect(new ProwlerClient({ baseUrl: double.url.replace('/api/v1', ''), auth: { apiKey: KEY } }).tenantId())
      .rejects.toThrow(/404 not found: check that prowlerApiUrl is the API's base URL/);
    expect(() => new ProwlerClient({ baseUrl: 'api.prowler.com', auth: { apiKey: KEY } })).toThrow(/prowlerApiUrl must be an http\(s\) URL/);
  });

  test('the double rejects unknown filters with 400, as Prowler does', async () => {
    const res = await fetch(`${double.url}/providers?filter[account]=1`, { headers: { Authorization: `Api-Key ${KEY}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: [expect.objectContaining({ detail: 'invalid filter: account', source: { pointer: '/filter[account]' } })] });
  });

  test('secrets: created once, then replaced with PATCH', async () => {
    const c = client();
    const { provider } = await c.createAwsProvider('123456789012', 'prod');
    const secret = { role_arn: 'arn:aws:iam::123456789012:role/ProwlerScan', external_id: 'tenant' };
    expect(await c.putRoleSecret(provider, secret)).toBe('created');
    expect(await c.putRoleSecret(await c.getProvider(provider.id), { ...secret, external_id: 'other' })).toBe('updated');
    expect(double.secrets.size).toBe(1);
    expect(double.secretOf('123456789012')?.secret).toEqual({ ...secret, external_id: 'other' });
  });

  test('a daily schedule that exists is reported, not an error', async () => {
    const c = client();
    const { provider } = await c.createAwsProvider('123456789012', 'prod');
    expect(await c.scheduleDaily(provider.id)).toBe('scheduled');
    expect(await c.scheduleDaily(provider.id)).toBe('exists');
  });

  test('Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfter('3', 0)).toBe(3000);
    expect(retryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfter(null, 0)).toBeUndefined();
  });
});

describe('ProwlerClient: provider groups and access, as Prowler\'s server has them', () => {
  let double: ProwlerApiDouble;
  const clock = fakeClock();
  const client = () => new ProwlerClient({ baseUrl: double.url, auth: { apiKey: KEY }, clock, timeoutMs: 500, random: () => 0.5 });
  beforeEach(async () => {
    double = await new ProwlerApiDouble({
      apiKeys: [KEY, 'pk_test.limited', 'pk_test.reader'],
      roles: {
        'pk_test.limited': { manageProviders: true, manageScans: true, unlimitedVisibility: false },
        'pk_test.reader': { manageProviders: false, manageScans: false, unlimitedVisibility: true },
      },
    }).start();
  });
  afterEach(() => double.stop());
  const ids = async (n: number) => Promise.all(Array.from({ length: n }, async (_, i) => (await client().createAwsProvider(`11111111111${i}`, `account ${i}`)).provider.id));
  const membershipWrites = () => double.requests.filter((r) => r.path.endsWith('/relationships/providers'));

  test('adds providers with linkage; when another writer added some first, only the rest is added', async () => {
    const [a, b, c] = await ids(3);
    const group = await client().findOrCreateProviderGroup('AWS Organization o-abc123def4');
    double.groups.get(group.id)!.providerIds.add(b); // a concurrent run got there first
    await client().addToProviderGroup(group.id, [a, b, c]);
    expect([...double.groups.get(group.id)!.providerIds].sort()).toEqual([a, b, c].sort());
    expect(membershipWrites().map((r) => [r.method, r.status, r.body.data.map((d: any) => d.id).sort()])).toEqual([
      ['POST', 400, [a, b, c].sort()], ['POST', 204, [a, c].sort()],
    ]);
    expect(membershipWrites()[1].body).toEqual({ data: expect.arrayContaining([{ type: 'providers', id: a }]) });
  });

  test('a 400 that is not "already a member" is an error, never taken for success', async () => {
    const group = await client().findOrCreateProviderGroup('G');
    await expect(client().addToProviderGroup(group.id, ['00000000-0000-4000-8000-000000000000']))
      .rejects.toThrow(/400 .*Prowler said: One or more providers do not exist or are not accessible/);
  });

  test('removing keeps every other member (the relationship\'s DELETE would clear them all)', async () => {
    const [a, b, c] = await ids(3);
    const group = await client().findOrCreateProviderGroup('G');
    await client().addToProviderGroup(group.id, [a, b, c]);
    await client().removeFromProviderGroup(group.id, [b]);
    expect([...double.groups.get(group.id)!.providerIds].sort()).toEqual([a, c].sort());
    expect(double.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });

  test('two runs writing the same new provider\'s secret at once: one creates it, the other finds it and updates it; no error', async () => {
    const [id] = await ids(1);
    const provider = await client().getProvider(id);
    const secret = { role_arn: 'arn:aws:iam::111111111110:role/ProwlerScan', external_id: double.tenantId };
    const outcomes = await Promise.all([client().putRoleSecret(provider, secret), client().putRoleSecret(provider, secret)]);
    expect(outcomes.sort()).toEqual(['created', 'updated']);
    expect(double.secrets.size).toBe(1);
    expect(double.requests.filter((r) => r.path.startsWith('/api/v1/providers/secrets')).map((r) => `${r.method} ${r.status}`).sort())
      .toEqual(['PATCH 200', 'POST 201', 'POST 400']);
  });

  test('two runs creating the organization\'s group at once get the same one (the taken name is a 400, re-read)', async () => {
    const [one, two] = await Promise.all([client().findOrCreateProviderGroup('AWS Organization o-abc123def4'), client().findOrCreateProviderGroup('AWS Organization o-abc123def4')]);
    expect(one.id).toBe(two.id);
    expect(double.groups.size).toBe(1);
    expect(double.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/provider-groups')).map((r) => r.status).sort()).toEqual([201, 400]);
  });

  test('a key whose role lacks unlimited visibility is refused before anything is written, saying which permission it needs', async () => {
    const limited = new ProwlerClient({ baseUrl: double.url, auth: { apiKey: 'pk_test.limited' }, clock });
    await expect(limited.verifyAccess({ writes: true, scans: true })).rejects.toThrow(
      /^The Prowler API key's role lacks Unlimited visibility \(without it the key sees only its provider groups' providers: lists come back short and creates answer 409\)\. In Prowler, give the key's user a role/,
    );
    const reader = new ProwlerClient({ baseUrl: double.url, auth: { apiKey: 'pk_test.reader' }, clock });
    await expect(reader.verifyAccess({ writes: true, scans: true })).rejects.toThrow(/lacks Manage Providers .*; Manage Scans/);
    await expect(reader.verifyAccess({ writes: false, scans: true })).resolves.toBeUndefined(); // a plan only reads
    await expect(client().verifyAccess({ writes: true, scans: true })).resolves.toBeUndefined();
    expect(double.requests.every((r) => r.method === 'GET')).toBe(true);
  });
});
