/**
 * The Prowler API double follows Prowler's server (api/v1/views.py, serializers.py and DJA's
 * JSONParser, Prowler 5.40.0 / API 1.41.0), not only its OpenAPI spec: these are the behaviours the
 * client depends on, asserted over HTTP with raw requests.
 */
import { ProwlerApiDouble } from '../testing/prowler-api-double';

const KEY = 'pk_test.DOUBLE-FACTS';
const LIMITED = 'pk_test.LIMITED-ROLE';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnRfaWQiOiJ0In0.sig';

describe('the API double behaves as Prowler\'s server', () => {
  let double: ProwlerApiDouble;
  let clock = 0;
  beforeEach(async () => {
    clock = 0;
    double = await new ProwlerApiDouble({
      apiKeys: [KEY, LIMITED],
      tokens: [JWT],
      roles: { [LIMITED]: { name: 'auditors', manageProviders: false, manageScans: false, unlimitedVisibility: false, providerGroups: ['Team A'] } },
      connectionTaskMs: 2000,
      now: () => clock,
    }).start();
  });
  afterEach(() => double.stop());

  const call = async (method: string, path: string, body?: unknown, credential = `Api-Key ${KEY}`) => {
    const res = await fetch(`${double.url}${path}`, {
      method,
      headers: { Authorization: credential, Accept: 'application/vnd.api+json', ...(body ? { 'Content-Type': 'application/vnd.api+json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const provider = async (uid: string) => (await call('POST', '/providers', { data: { type: 'providers', attributes: { provider: 'aws', uid, alias: `acct ${uid}` } } })).json.data.id as string;
  const group = async (name: string) => (await call('POST', '/provider-groups', { data: { type: 'provider-groups', attributes: { name } } })).json.data.id as string;
  const members = (groupId: string) => [...double.groups.get(groupId)!.providerIds].sort();

  test('membership takes resource identifier linkage only: the bodies the client sent before are 400s', async () => {
    const [a, g] = [await provider('111111111111'), await group('AWS Organization o-abc123def4')];
    const path = `/provider-groups/${g}/relationships/providers`;
    const oldPost = await call('POST', path, { data: { type: 'provider_groups-provider', attributes: { providers: [{ type: 'providers', id: a }] } } });
    expect(oldPost).toEqual({ status: 400, json: { errors: [expect.objectContaining({ detail: 'Received data is not a valid JSON:API Resource Identifier Object', status: '400' })] } });
    const oldPatch = await call('PATCH', path, { data: { type: 'provider_groups-provider', id: g, attributes: { providers: [{ type: 'providers', id: a }] } } });
    expect(oldPatch).toEqual({ status: 400, json: { errors: [expect.objectContaining({ detail: 'Expected a list of items but got type "dict".' })] } });
    expect(members(g)).toEqual([]);
    expect(await call('POST', path, { data: [{ type: 'provider', id: a }] })).toEqual({ status: 204, json: undefined });
    expect(members(g)).toEqual([a]);
  });

  test('a POST with any provider already a member is refused whole, its error an object; PATCH replaces; DELETE clears all', async () => {
    const [a, b, c] = [await provider('111111111111'), await provider('222222222222'), await provider('333333333333')];
    const g = await group('G');
    const path = `/provider-groups/${g}/relationships/providers`;
    await call('POST', path, { data: [{ type: 'providers', id: a }] });
    expect(await call('POST', path, { data: [{ type: 'providers', id: a }, { type: 'providers', id: b }] }))
      .toEqual({ status: 400, json: { errors: { detail: 'One or more providers are already associated with the provider_group.' } } });
    expect(members(g)).toEqual([a]);
    expect((await call('PATCH', path, { data: [{ type: 'providers', id: b }, { type: 'providers', id: c }] })).status).toBe(204);
    expect(members(g)).toEqual([b, c].sort());
    expect((await call('POST', path, { data: [{ type: 'providers', id: '00000000-0000-4000-8000-000000000000' }] })).json.errors[0].detail)
      .toBe('One or more providers do not exist or are not accessible.');
    expect((await call('POST', path, { data: [{ type: 'providers', id: 'not-a-uuid' }] })).json.errors[0].detail).toBe('"not-a-uuid" is not a valid UUID.');
    expect((await call('DELETE', path, { data: [{ type: 'providers', id: b }] })).status).toBe(204);
    expect(members(g)).toEqual([]); // every member, not only the one named
  });

  test('a group name that is taken is a 400 on the name, not a 409', async () => {
    await group('AWS Organization o-abc123def4');
    expect(await call('POST', '/provider-groups', { data: { type: 'provider-groups', attributes: { name: 'AWS Organization o-abc123def4' } } })).toEqual({
      status: 400, json: { errors: [expect.objectContaining({ detail: 'A provider group with this name already exists.', source: { pointer: '/data/attributes/name' } })] },
    });
  });

  test('POST /providers answers alias, provider, uid and the id only', async () => {
    const res = await call('POST', '/providers', { data: { type: 'providers', attributes: { provider: 'aws', uid: '111111111111', alias: 'prod' } } });
    expect(res).toEqual({ status: 201, json: { data: { type: 'providers', id: expect.any(String), attributes: { alias: 'prod', provider: 'aws', uid: '111111111111' } } } });
    expect((await call('POST', '/providers', { data: { type: 'providers', attributes: { provider: 'aws', uid: '111111111111' } } })).status).toBe(409);
  });

  test('a connection task is available, then executing, then completed; connection.connected changes only then, not when the secret is replaced', async () => {
    const id = await provider('111111111111');
    const secret = { secret_type: 'role', secret: { role_arn: 'arn:aws:iam::111111111111:role/ProwlerScan', external_id: 't' } };
    const created = await call('POST', '/providers/secrets', { data: { type: 'provider-secrets', attributes: secret, relationships: { provider: { data: { type: 'providers', id } } } } });
    expect(created.status).toBe(201);
    expect((await call('POST', '/providers/secrets', { data: { type: 'provider-secrets', attributes: secret, relationships: { provider: { data: { type: 'providers', id } } } } })).status).toBe(400);
    const task = (await call('POST', `/providers/${id}/connection`)).json.data.id;
    const state = async () => (await call('GET', `/tasks/${task}`)).json.data.attributes;
    expect(await state()).toMatchObject({ state: 'available', result: {} });
    clock = 1500;
    expect(await state()).toMatchObject({ state: 'executing', result: {} });
    expect((await call('GET', `/providers/${id}`)).json.data.attributes.connection.connected).toBeNull();
    clock = 2000;
    expect(await state()).toMatchObject({ state: 'completed', result: { connected: true, error: null } });
    expect((await call('GET', `/providers/${id}`)).json.data.attributes.connection.connected).toBe(true);
    // Replacing the secret leaves the last result in place until the next test.
    await call('PATCH', `/providers/secrets/${created.json.data.id}`, { data: { type: 'provider-secrets', id: created.json.data.id, attributes: { ...secret, secret: { ...secret.secret, external_id: 'other' } } } });
    expect((await call('GET', `/providers/${id}`)).json.data.attributes.connection.connected).toBe(true);
  });

  test('a failed task carries the exception; the provider\'s state is left as it was', async () => {
    double.options = { ...double.options, connectionRule: () => ({ connected: false, taskFailure: { type: 'ClientError', message: 'An error occurred (ExpiredToken)' } }) };
    const id = await provider('111111111111');
    await call('POST', '/providers/secrets', { data: { type: 'provider-secrets', attributes: { secret_type: 'role', secret: { role_arn: 'arn:aws:iam::111111111111:role/ProwlerScan', external_id: 't' } }, relationships: { provider: { data: { type: 'providers', id } } } } });
    const task = (await call('POST', `/providers/${id}/connection`)).json.data.id;
    clock = 5000;
    expect((await call('GET', `/tasks/${task}`)).json.data.attributes).toMatchObject({
      state: 'failed', result: { exc_type: 'ClientError', exc_message: ['An error occurred (ExpiredToken)'] },
    });
    expect(double.providers.get(id)!.connected).toBeNull();
  });

  test('a Bearer JWT is accepted like an API key; anything else is a 401', async () => {
    expect((await call('GET', '/providers', undefined, `Bearer ${JWT}`)).status).toBe(200);
    expect((await call('GET', '/providers', undefined, 'Bearer not-issued')).status).toBe(401);
    expect((await call('GET', '/providers', undefined, `Token ${KEY}`)).status).toBe(401);
  });

  test('a role without unlimited visibility sees its groups\' providers only; its writes are 403; /users/me says which permissions it has', async () => {
    const [a, b] = [await provider('111111111111'), await provider('222222222222')];
    double.groupNamed('Team A').providerIds.add(a);
    const limited = `Api-Key ${LIMITED}`;
    expect((await call('GET', '/providers', undefined, limited)).json.data.map((p: any) => p.id)).toEqual([a]);
    expect((await call('GET', `/providers/${b}`, undefined, limited)).status).toBe(404);
    expect((await call('POST', '/providers', { data: { type: 'providers', attributes: { provider: 'aws', uid: '333333333333' } } }, limited)).status).toBe(403);
    const me = (await call('GET', '/users/me?include=memberships,roles', undefined, limited)).json;
    expect(me.included.find((i: any) => i.type === 'roles').attributes).toMatchObject({ manage_providers: false, manage_scans: false, unlimited_visibility: false });
  });

  test('a daily schedule is 202, then 409; a periodic task of that name with another interval is a 500', async () => {
    const [a, b] = [await provider('111111111111'), await provider('222222222222')];
    const schedule = (id: string) => call('POST', '/schedules/daily', { data: { type: 'daily-schedules', attributes: { provider_id: id } } });
    expect((await schedule(a)).status).toBe(202);
    expect((await schedule(a)).status).toBe(409);
    double.seedPeriodicTask(b, 12);
    expect((await schedule(b)).status).toBe(500);
  });
});
