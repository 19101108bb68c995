/**
 * The API double's Prowler Cloud mode follows what Prowler Cloud's UI client sends and reads
 * (FACTS §3b): the organizations wizard, step by step, over raw HTTP; and without the option the
 * double stays Prowler App, which has no organizations at all.
 */
import { generateOrganization } from '../testing/organization';
import { cloudOrganizationFromSimulation, ProwlerApiDouble, type CloudOrganizationView } from '../testing/prowler-api-double';

const KEY = 'pk_test.CLOUD-DOUBLE';
const READER = 'pk_test.READ-ONLY';
const TENANT = '6b0c2b52-3f0e-4f4e-9a51-0d2d7b1f0c11';
const ORG = 'o-abc123def4';
const MANAGEMENT = '111111111111';
const ROOT = 'r-ab12';
const PROD = 'ou-ab12-prod0001';
const TEAM = 'ou-ab12-team0002'; // under PROD
const SANDBOX = 'ou-ab12-sand0003';
const ROLE = `arn:aws:iam::${MANAGEMENT}:role/ProwlerScan`;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

const VIEW: CloudOrganizationView = {
  organizationId: ORG,
  managementAccountId: MANAGEMENT,
  roots: [{ id: ROOT, name: 'Root' }],
  units: [
    { id: PROD, name: 'Production', parentId: ROOT },
    { id: TEAM, name: 'Team', parentId: PROD },
    { id: SANDBOX, name: 'Sandbox', parentId: ROOT },
  ],
  accounts: [
    { id: MANAGEMENT, name: 'management', email: 'm@example.com', status: 'ACTIVE', parentId: ROOT, joinedMethod: 'CREATED', joinedTimestamp: '2024-01-01T00:00:00.000Z' },
    { id: '222222222222', name: 'prod-web', email: 'w@example.com', status: 'ACTIVE', parentId: PROD },
    { id: '333333333333', name: 'team-api', email: 't@example.com', status: 'ACTIVE', parentId: TEAM },
    { id: '444444444444', name: 'sandbox-own', email: 'o@example.com', status: 'ACTIVE', parentId: SANDBOX },
    { id: '555555555555', name: 'sandbox-other', email: 'x@example.com', status: 'ACTIVE', parentId: SANDBOX },
    { id: '666666666666', name: 'sandbox-two', email: 's@example.com', status: 'SUSPENDED', parentId: SANDBOX },
  ],
};

const DAILY = {
  scan_enabled: true, scan_frequency: 'DAILY', scan_hour: 3, scan_timezone: 'Europe/Madrid', scan_interval_hours: null, scan_day_of_week: null, scan_day_of_month: null,
};

let double: ProwlerApiDouble;
let clock = 0;

const call = async (method: string, path: string, body?: unknown, credential: string | null = `Api-Key ${KEY}`) => {
  const res = await fetch(`${double.url}${path}`, {
    method,
    headers: {
      Accept: 'application/vnd.api+json',
      ...(credential ? { Authorization: credential } : {}),
      ...(body ? { 'Content-Type': 'application/vnd.api+json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = res.headers.get('content-type') === 'application/vnd.api+json' && text ? JSON.parse(text) : undefined;
  return { status: res.status, json, text, contentType: res.headers.get('content-type') };
};
const pointer = (answer: { json: any }) => answer.json.errors[0].source?.pointer;
const createOrganization = (externalId = ORG) => call('POST', '/organizations', { data: { type: 'organizations', attributes: { name: 'Acme', org_type: 'aws', external_id: externalId } } });
const postCredential = (organizationId: string, roleArn = ROLE, externalId = TENANT) => call('POST', '/organization-secrets', {
  data: {
    type: 'organization-secrets',
    attributes: { secret_type: 'role', secret: { role_arn: roleArn, external_id: externalId } },
    relationships: { organization: { data: { type: 'organizations', id: organizationId } } },
  },
});
const discovery = (organizationId: string, id: string) => call('GET', `/organizations/${organizationId}/discoveries/${id}`);
const apply = (organizationId: string, discoveryId: string, accounts: Array<{ id: string; alias?: string }>, units: string[], suffix = '') =>
  call('POST', `/organizations/${organizationId}/discoveries/${discoveryId}/apply${suffix}`, {
    data: { type: 'organization-discoveries', attributes: { accounts, organizational_units: units.map((id) => ({ id })) } },
  });
const bulkSchedule = (schedule: unknown, providerIds: string[]) =>
  call('POST', '/schedules/bulk', { data: { type: 'schedules-bulk', attributes: { schedule, provider_ids: providerIds } } });

/** Steps 1–3 of the wizard: the organization, its credential, a finished discovery. */
async function discovered() {
  const organizationId = (await createOrganization()).json.data.id as string;
  expect((await postCredential(organizationId)).status).toBe(201);
  const started = await call('POST', `/organizations/${organizationId}/discover`);
  clock += 2000;
  const done = await discovery(organizationId, started.json.data.id);
  expect(done.json.data.attributes.status).toBe('succeeded');
  const accounts = new Map<string, any>(done.json.data.attributes.result.accounts.map((a: any) => [a.id, a]));
  return { organizationId, discoveryId: started.json.data.id as string, result: done.json.data.attributes.result, accounts };
}

/** Steps 1–5: 111, 222 (aliased), 333 and 444 applied under Production, Team and Sandbox. */
async function applied() {
  const d = await discovered();
  const answer = await apply(d.organizationId, d.discoveryId, [{ id: MANAGEMENT }, { id: '222222222222', alias: 'Prod Web' }, { id: '333333333333' }, { id: '444444444444' }], [PROD, TEAM, SANDBOX]);
  expect(answer.status).toBe(200);
  const id = (uid: string) => double.providerByUid(uid)!.id;
  return { ...d, answer, id };
}

describe('without the cloud option the double is Prowler App', () => {
  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
  });
  afterEach(() => double.stop());

  test('Cloud\'s organization paths are Django\'s HTML 404, before authentication; /schedules/bulk and /scans/bulk are the 405 of a view without that method', async () => {
    for (const [method, path] of [['GET', '/organizations'], ['POST', '/organization-secrets'], ['GET', '/organization-nodes'], ['DELETE', `/organizations/${UNKNOWN}`]]) {
      const answer = await call(method, path, undefined, null);
      expect(answer).toMatchObject({ status: 404, contentType: 'text/html; charset=utf-8' });
      expect(answer.text).toContain('<h1>Not Found</h1>');
    }
    // Prowler App's ScheduleViewSet allows POST only (its `daily` action); ScanViewSet has no POST on a detail route.
    expect((await call('POST', '/schedules/bulk', { data: { type: 'schedules-bulk', attributes: {} } })).status).toBe(405);
    expect((await call('GET', `/schedules/${UNKNOWN}`)).status).toBe(405);
    expect((await call('POST', '/scans/bulk', { data: { type: 'scans-bulk' } })).status).toBe(405);
    expect(double.requests.filter((r) => r.path === '/api/v1/organizations').map((r) => r.status)).toEqual([404]);
  });
});

describe('the double in Prowler Cloud mode', () => {
  beforeEach(async () => {
    clock = 0;
    double = await new ProwlerApiDouble({
      apiKeys: [KEY, READER],
      roles: { [READER]: { name: 'reader', manageProviders: false, manageScans: false } },
      tenantId: TENANT,
      now: () => clock,
      cloud: { organization: () => VIEW, discoveryMs: 2000 },
    }).start();
  });
  afterEach(() => double.stop());

  test('an organization is found by external ID and type, created once; a duplicate is a 400 on external_id; only its name changes', async () => {
    const find = () => call('GET', `/organizations?filter[external_id]=${ORG}&filter[org_type]=aws`);
    expect((await find()).json.data).toEqual([]);
    const created = await createOrganization();
    expect(created.status).toBe(201);
    expect(created.json.data.attributes).toMatchObject({ name: 'Acme', org_type: 'aws', external_id: ORG, root_external_id: null });
    expect((await find()).json.data.map((o: any) => o.id)).toEqual([created.json.data.id]);
    expect((await call('GET', '/organizations?filter[external_id]=o-abc123def')).json.data).toEqual([]); // exact match

    const duplicate = await createOrganization();
    expect(duplicate.status).toBe(400);
    expect(pointer(duplicate)).toBe('/data/attributes/external_id');
    expect(pointer(await createOrganization('O-123'))).toBe('/data/attributes/external_id');
    expect(pointer(await call('POST', '/organizations', { data: { type: 'organizations', attributes: { name: 'A', org_type: 'gcp', external_id: ORG } } })))
      .toBe('/data/attributes/org_type');
    expect((await call('GET', '/organizations?filter[id__in]=x')).status).toBe(400);
    expect((await call('POST', '/organizations', { data: { type: 'organizations', attributes: { name: 'B', org_type: 'aws', external_id: 'o-zzzzzzzzzz' } } }, `Api-Key ${READER}`)).status).toBe(403);

    const id = created.json.data.id;
    const patch = (attributes: object) => call('PATCH', `/organizations/${id}`, { data: { type: 'organizations', id, attributes } });
    expect((await patch({ name: 'Acme Corp' })).json.data.attributes.name).toBe('Acme Corp');
    const moved = await patch({ external_id: 'o-zzzzzzzzzz' });
    expect(moved.status).toBe(400);
    expect(pointer(moved)).toBe('/data/attributes/external_id');
    expect(pointer(await patch({ org_type: 'azure' }))).toBe('/data/attributes/org_type');
    expect(double.cloud.organizations()[0]).toMatchObject({ name: 'Acme Corp', externalId: ORG });
  });

  test('the organization credential: 201 without its values, a second POST 409, listed by organization, never shown', async () => {
    const organizationId = (await createOrganization()).json.data.id;
    const created = await postCredential(organizationId);
    expect(created.status).toBe(201);
    expect(Object.keys(created.json.data.attributes).sort()).toEqual(['inserted_at', 'secret_type', 'updated_at']);
    expect((await postCredential(organizationId)).status).toBe(409);
    const listed = await call('GET', `/organization-secrets?filter[organization_id]=${organizationId}`);
    expect(listed.json.data.map((s: any) => s.id)).toEqual([created.json.data.id]);
    for (const answer of [created, listed, await call('GET', `/organization-secrets/${created.json.data.id}`)]) {
      expect(answer.text).not.toContain(ROLE);
      expect(answer.text).not.toContain(TENANT);
    }
    const other = (await createOrganization('o-zzzzzzzzzz')).json.data.id;
    expect(pointer(await postCredential(other, 'arn:aws:iam::1:role/X'))).toBe('/data/attributes/secret/role_arn');
    expect((await call('GET', '/organization-secrets?filter[organization]=x')).status).toBe(400);
    expect(double.cloud.credential(organizationId)!.secret).toEqual({ role_arn: ROLE, external_id: TENANT });
  });

  test('a discovery is pending, then running, then succeeded, with the hierarchy and each account\'s registration', async () => {
    const own = double.seedProvider('444444444444', { alias: 'sandbox own', secret: { role_arn: 'arn:aws:iam::444444444444:role/Custom', external_id: 'mine' } });
    const other = double.cloud.seedOrganization('o-zzzzzzzzzz', { name: 'Other' });
    const otherNode = double.cloud.seedNode(other.id, 'ou-zz99-other001');
    double.cloud.linkProvider(double.seedProvider('555555555555').id, other.id, otherNode.id);

    const organizationId = (await createOrganization()).json.data.id;
    await postCredential(organizationId);
    const started = await call('POST', `/organizations/${organizationId}/discover`);
    expect(started.status).toBe(202);
    expect(started.json.data).toMatchObject({ type: 'organization-discoveries', attributes: { status: 'pending', result: {}, error: null } });
    const id = started.json.data.id;
    clock = 999;
    expect((await discovery(organizationId, id)).json.data.attributes.status).toBe('pending');
    clock = 1000;
    expect((await discovery(organizationId, id)).json.data.attributes).toMatchObject({ status: 'running', result: {} });
    clock = 2000;
    const done = (await discovery(organizationId, id)).json.data.attributes;
    expect(done.status).toBe('succeeded');
    expect(done.result.roots).toEqual([{ id: ROOT, name: 'Root', arn: `arn:aws:organizations::${MANAGEMENT}:root/${ORG}/${ROOT}`, policy_types: [] }]);
    expect(done.result.organizational_units).toContainEqual({ id: TEAM, name: 'Team', parent_id: PROD, arn: `arn:aws:organizations::${MANAGEMENT}:ou/${ORG}/${TEAM}` });
    const accounts = new Map<string, any>(done.result.accounts.map((a: any) => [a.id, a]));
    expect(accounts.get(MANAGEMENT)).toMatchObject({
      arn: `arn:aws:organizations::${MANAGEMENT}:account/${ORG}/${MANAGEMENT}`, status: 'ACTIVE', joined_method: 'CREATED', joined_timestamp: '2024-01-01T00:00:00.000Z', parent_id: ROOT,
    });
    expect(accounts.get('222222222222').registration).toEqual({
      provider_exists: false,
      provider_id: null,
      organization_relation: 'link_required',
      organization_node_relation: 'link_required',
      provider_secret_state: 'will_create',
      apply_status: 'ready',
      blocked_reasons: [],
    });
    expect(accounts.get(MANAGEMENT).registration.organization_node_relation).toBe('not_applicable');
    expect(accounts.get('444444444444').registration).toMatchObject({
      provider_exists: true, provider_id: own.id, organization_relation: 'link_required', provider_secret_state: 'will_replace', apply_status: 'ready',
    });
    expect(accounts.get('555555555555').registration).toMatchObject({
      organization_relation: 'linked_to_other_organization',
      organization_node_relation: 'linked_to_other_node',
      apply_status: 'blocked',
      blocked_reasons: ['organization_conflict', 'organization_node_conflict'],
    });
    // AWS status does not block by itself (the UI does not filter on it either).
    expect(accounts.get('666666666666')).toMatchObject({ status: 'SUSPENDED', registration: { apply_status: 'ready' } });
    expect((await call('GET', `/organizations/${organizationId}`)).json.data.attributes.root_external_id).toBe(ROOT);
  });

  test('a discovery fails with the authentication message without a credential, or with a role outside the management account; discoveryFailure decides otherwise', async () => {
    const organizationId = (await createOrganization()).json.data.id;
    const run = async () => {
      const started = await call('POST', `/organizations/${organizationId}/discover`);
      clock += 2000;
      return (await discovery(organizationId, started.json.data.id)).json.data.attributes;
    };
    const authentication = { status: 'failed', result: {}, error: 'organization_discovery_failed', error_message: expect.stringContaining('Authentication failed') };
    expect(await run()).toMatchObject(authentication);
    await postCredential(organizationId, 'arn:aws:iam::222222222222:role/ProwlerScan');
    expect(await run()).toMatchObject(authentication);

    double.options = {
      ...double.options,
      cloud: { ...double.options.cloud!, discoveryFailure: () => ({ error: 'hierarchy_depth_exceeded', error_message: 'The OU hierarchy is too deep.' }) },
    };
    expect(await run()).toMatchObject({ status: 'failed', error: 'hierarchy_depth_exceeded', error_message: 'The OU hierarchy is too deep.' });
    expect((await call('GET', `/organizations/${organizationId}/discoveries/${UNKNOWN}`)).status).toBe(404);
  });

  test('apply refuses include, a blocked account, an account not discovered, an OU list missing an ancestor, a pending discovery; and writes nothing', async () => {
    double.cloud.linkProvider(double.seedProvider('555555555555').id, double.cloud.seedOrganization('o-zzzzzzzzzz').id);
    const d = await discovered();
    const before = double.providers.size;
    const included = await apply(d.organizationId, d.discoveryId, [{ id: '222222222222' }], [PROD], '?include=providers');
    expect(included.status).toBe(400);
    const blocked = await apply(d.organizationId, d.discoveryId, [{ id: '555555555555' }], [SANDBOX]);
    expect(blocked).toMatchObject({ status: 400, json: { errors: [{ source: { pointer: '/data/attributes/accounts/0/id' }, detail: expect.stringContaining('organization_conflict') }] } });
    expect(pointer(await apply(d.organizationId, d.discoveryId, [{ id: '222222222222' }, { id: '999999999999' }], [PROD]))).toBe('/data/attributes/accounts/1/id');
    const ancestor = await apply(d.organizationId, d.discoveryId, [{ id: '333333333333' }], [TEAM]);
    expect(ancestor).toMatchObject({ status: 400, json: { errors: [{ detail: expect.stringContaining(PROD), source: { pointer: '/data/attributes/organizational_units' } }] } });
    expect(pointer(await apply(d.organizationId, d.discoveryId, [{ id: MANAGEMENT }], [ROOT]))).toBe('/data/attributes/organizational_units/0/id');
    expect(pointer(await apply(d.organizationId, d.discoveryId, [{ id: '222222222222', alias: 'x' }], [PROD]))).toBe('/data/attributes/accounts/0/alias');
    const pending = (await call('POST', `/organizations/${d.organizationId}/discover`)).json.data.id;
    expect((await apply(d.organizationId, pending, [{ id: '222222222222' }], [PROD])).status).toBe(400);
    expect((await call('POST', `/organizations/${d.organizationId}/discoveries/${d.discoveryId}/apply`, { data: { type: 'organizations', attributes: {} } })).status).toBe(409);
    expect(double.providers.size).toBe(before);
    expect(double.cloud.nodes()).toEqual([]);
  });

  test('apply creates missing providers, links existing ones (same id), groups them under OU nodes and gives each the org credential\'s role in its own account', async () => {
    const own = double.seedProvider('444444444444', { alias: 'sandbox own', connected: true, secret: { role_arn: 'arn:aws:iam::444444444444:role/Custom', external_id: 'mine' } });
    const ownSecretId = own.secretId;
    const { answer, organizationId, id } = await applied();
    expect(answer.json.data).toMatchObject({
      type: 'organization-discovery-apply-results',
      attributes: { providers_created_count: 3, providers_linked_count: 1, providers_applied_count: 4, organization_nodes_created_count: 3 },
    });
    const ids: string[] = answer.json.data.relationships.providers.data.map((p: any) => p.id);
    expect(ids).toContain(own.id);
    const listed = await call('GET', `/providers?filter[id__in]=${ids.join(',')}&page[size]=100`);
    expect(listed.json.data.map((p: any) => p.attributes.uid).sort()).toEqual([MANAGEMENT, '222222222222', '333333333333', '444444444444']);
    expect(double.providers.size).toBe(4);

    const nodes = (await call('GET', '/organization-nodes?page[size]=100')).json.data;
    const node = (ou: string) => nodes.find((n: any) => n.attributes.external_id === ou);
    expect(node(PROD)).toMatchObject({ attributes: { kind: 'organizational-unit', name: 'Production' }, relationships: { parent: { data: null }, organization: { data: { id: organizationId } } } });
    expect(node(TEAM).relationships.parent.data).toEqual({ type: 'organization-nodes', id: node(PROD).id });
    const provider = async (uid: string) => (await call('GET', `/providers/${id(uid)}`)).json.data;
    expect((await provider('333333333333')).relationships).toMatchObject({
      organization: { data: { type: 'organizations', id: organizationId } }, organization_node: { data: { type: 'organization-nodes', id: node(TEAM).id } },
    });
    expect((await provider(MANAGEMENT)).relationships.organization_node.data).toBeNull();
    expect((await provider('222222222222')).attributes.alias).toBe('Prod Web');
    expect((await provider('333333333333')).attributes.alias).toBe('team-api');
    expect((await provider('444444444444')).attributes).toMatchObject({ alias: 'sandbox own', connection: { connected: true } });

    expect(double.secretOf('333333333333')!.secret).toEqual({ role_arn: 'arn:aws:iam::333333333333:role/ProwlerScan', external_id: TENANT });
    expect(double.secretOf('444444444444')).toMatchObject({ id: ownSecretId, secret: { role_arn: 'arn:aws:iam::444444444444:role/ProwlerScan', external_id: TENANT } });
    // The App's connection flow works on them.
    const task = (await call('POST', `/providers/${id('333333333333')}/connection`)).json.data.id;
    expect((await call('GET', `/tasks/${task}`)).json.data.attributes).toMatchObject({ state: 'completed', result: { connected: true } });

    // Another discovery sees them linked, their secret the organization's.
    const again = (await call('POST', `/organizations/${organizationId}/discover`)).json.data.id;
    clock += 2000;
    const accounts = (await discovery(organizationId, again)).json.data.attributes.result.accounts;
    expect(accounts.find((a: any) => a.id === '444444444444').registration).toMatchObject({
      provider_exists: true, organization_relation: 'already_linked', organization_node_relation: 'already_linked', provider_secret_state: 'will_create', apply_status: 'ready',
    });
  });

  test('re-applying the same discovery with another selection reuses the nodes and never duplicates a provider', async () => {
    const { organizationId, discoveryId } = await applied();
    const nodes = double.cloud.nodes(organizationId).map((n) => n.id).sort();
    const second = await apply(organizationId, discoveryId, [{ id: '666666666666' }, { id: '444444444444', alias: 'Sandbox Own' }], [SANDBOX]);
    expect(second.json.data.attributes).toEqual({
      providers_created_count: 1, providers_linked_count: 1, providers_applied_count: 2, organization_nodes_created_count: 0,
    });
    expect(double.cloud.nodes(organizationId).map((n) => n.id).sort()).toEqual(nodes);
    expect(double.providers.size).toBe(5);
    expect(double.providerByUid('444444444444')!.alias).toBe('Sandbox Own');
    expect(double.cloud.providersOf(organizationId)).toHaveLength(5);
  });

  test('a credential PATCH re-authenticates every provider of the organization and discards a running discovery', async () => {
    const { organizationId, id } = await applied();
    for (const uid of [MANAGEMENT, '333333333333']) await call('POST', `/providers/${id(uid)}/connection`);
    expect(double.providerByUid('333333333333')!.connected).toBe(true);
    const running = (await call('POST', `/organizations/${organizationId}/discover`)).json.data.id;
    clock += 1000;
    expect((await discovery(organizationId, running)).json.data.attributes.status).toBe('running');
    expect(double.cloud.credentialPatches()).toBe(0);
    expect(double.requests.some((r) => r.method === 'PATCH' && r.path.startsWith('/api/v1/organization-secrets/'))).toBe(false);

    const secretId = (await call('GET', `/organization-secrets?filter[organization_id]=${organizationId}`)).json.data[0].id;
    const patched = await call('PATCH', `/organization-secrets/${secretId}`, {
      data: { type: 'organization-secrets', id: secretId, attributes: { secret_type: 'role', secret: { role_arn: `arn:aws:iam::${MANAGEMENT}:role/ProwlerScanV2`, external_id: TENANT } } },
    });
    expect(patched.status).toBe(200);
    expect(patched.text).not.toContain('ProwlerScanV2');
    expect(double.cloud.credentialPatches(organizationId)).toBe(1);
    expect(double.providerByUid('333333333333')!.connected).toBeNull();
    expect(double.secretOf('222222222222')!.secret.role_arn).toBe('arn:aws:iam::222222222222:role/ProwlerScanV2');
    clock += 5000;
    expect((await discovery(organizationId, running)).json.data.attributes).toMatchObject({ status: 'failed', error: 'discovery_discarded' });
  });

  test('schedules: bulk answers updated and failed ids; a schedule is read and upserted by provider id', async () => {
    const { id } = await applied();
    const [a, b, c] = [id('222222222222'), id('333333333333'), id('444444444444')];
    const bulk = await bulkSchedule(DAILY, [a, b, UNKNOWN]);
    expect(bulk).toMatchObject({ status: 200, json: { data: { updated: [a, b], failed: [{ id: UNKNOWN, error: expect.any(String) }] } } });
    expect(double.cloud.schedules().get(a)).toEqual(DAILY);
    expect(double.schedules.has(a)).toBe(true);
    expect((await call('GET', `/schedules/${a}?include=provider`)).json).toMatchObject({
      data: { type: 'schedules', id: a, attributes: DAILY, relationships: { provider: { data: { type: 'providers', id: a } } } },
      included: [{ type: 'providers', id: a }],
    });
    expect((await call('GET', `/schedules/${c}`)).status).toBe(404);
    const weekly = { ...DAILY, scan_frequency: 'WEEKLY', scan_day_of_week: 0 };
    expect((await call('PATCH', `/schedules/${c}`, { data: { type: 'schedules', id: c, attributes: weekly } })).status).toBe(200);
    expect((await call('PATCH', `/schedules/${a}`, { data: { type: 'schedules', id: a, attributes: { scan_hour: 22 } } })).json.data.attributes.scan_hour).toBe(22);
    expect((await call('GET', '/schedules?filter[configured]=true')).json.meta.pagination.count).toBe(3);
    expect((await call('GET', `/schedules?filter[provider_id__in]=${a}`)).status).toBe(400);

    double.options = { ...double.options, cloud: { ...double.options.cloud!, scheduleFailure: (p) => (p.id === b ? 'The provider\'s last connection failed.' : undefined) } };
    expect((await bulkSchedule(DAILY, [a, b])).json.data).toEqual({ updated: [a], failed: [{ id: b, error: 'The provider\'s last connection failed.' }] });
    expect((await call('POST', '/schedules/daily', { data: { type: 'daily-schedules', attributes: { provider_id: a } } })).status).toBe(404);
    expect((await call('POST', '/schedules/bulk', { data: { type: 'schedules-bulk', attributes: { schedule: DAILY, provider_ids: [a] } } }, `Api-Key ${READER}`)).status).toBe(403);
  });

  test.each([
    ['a missing key', Object.fromEntries(Object.entries(DAILY).filter(([key]) => key !== 'scan_day_of_month')), 'scan_day_of_month'],
    ['an unknown frequency', { ...DAILY, scan_frequency: 'HOURLY' }, 'scan_frequency'],
    ['hour 24', { ...DAILY, scan_hour: 24 }, 'scan_hour'],
    ['an unknown zone', { ...DAILY, scan_timezone: 'Mars/Olympus' }, 'scan_timezone'],
    ['an offset for a zone', { ...DAILY, scan_timezone: '+01:00' }, 'scan_timezone'],
    ['an interval under 24 hours', { ...DAILY, scan_frequency: 'INTERVAL', scan_interval_hours: 12 }, 'scan_interval_hours'],
    ['an interval on a DAILY schedule', { ...DAILY, scan_interval_hours: 48 }, 'scan_interval_hours'],
    ['weekday 7', { ...DAILY, scan_frequency: 'WEEKLY', scan_day_of_week: 7 }, 'scan_day_of_week'],
    ['a weekday on a DAILY schedule', { ...DAILY, scan_day_of_week: 1 }, 'scan_day_of_week'],
    ['day 29 of the month', { ...DAILY, scan_frequency: 'MONTHLY', scan_day_of_month: 29 }, 'scan_day_of_month'],
    ['a string for a boolean', { ...DAILY, scan_enabled: 'true' }, 'scan_enabled'],
  ])('a schedule with %s is a 400 naming that attribute, and changes nothing', async (_, schedule, key) => {
    const provider = double.seedProvider('222222222222');
    const answer = await bulkSchedule(schedule, [provider.id]);
    expect(answer.status).toBe(400);
    expect(pointer(answer)).toBe(`/data/attributes/schedule/${key}`);
    expect(double.cloud.schedules().size).toBe(0);
  });

  test('scans/bulk scans every provider of the organization and no other', async () => {
    const outsider = double.seedProvider('999999999999');
    const { organizationId } = await applied();
    const answer = await call('POST', '/scans/bulk', { data: { type: 'scans-bulk', relationships: { organization: { data: { type: 'organizations', id: organizationId } } } } });
    expect(answer.status).toBe(202);
    expect(answer.json.data.every((s: any) => s.type === 'scans' && typeof s.id === 'string')).toBe(true);
    expect([...double.scans].sort()).toEqual(double.cloud.providersOf(organizationId).map((p) => p.id).sort());
    expect(double.scans).not.toContain(outsider.id);
    expect((await call('POST', '/scans/bulk', { data: { type: 'scans-bulk', relationships: { organization: { data: { type: 'organizations', id: UNKNOWN } } } } })).status).toBe(400);
  });

  test('DELETE of a node deletes every provider under it and its children; DELETE of an organization every provider linked to it; others stay', async () => {
    const other = double.cloud.seedOrganization('o-zzzzzzzzzz');
    const outsider = double.cloud.linkProvider(double.seedProvider('555555555555').id, other.id);
    const unlinked = double.seedProvider('999999999999');
    const { organizationId, id } = await applied();
    const [prodWeb, teamApi, own] = [id('222222222222'), id('333333333333'), id('444444444444')];
    await bulkSchedule(DAILY, [prodWeb, teamApi, own]);
    const prod = double.cloud.nodes(organizationId).find((n) => n.externalId === PROD)!;

    expect((await call('DELETE', `/organization-nodes/${prod.id}`)).status).toBe(202);
    expect(double.providers.has(prodWeb) || double.providers.has(teamApi)).toBe(false);
    expect(double.secretOf('333333333333')).toBeUndefined();
    expect([...double.cloud.schedules().keys()]).toEqual([own]);
    expect(double.cloud.nodes(organizationId).map((n) => n.externalId)).toEqual([SANDBOX]);
    expect(double.providers.has(own)).toBe(true);

    expect((await call('DELETE', `/organizations/${organizationId}`)).status).toBe(202);
    expect((await call('GET', `/organizations/${organizationId}`)).status).toBe(404);
    expect(double.cloud.deletions().map((d) => [d.uid, d.cause.split('/')[1]])).toEqual([
      ['222222222222', 'organization-nodes'], ['333333333333', 'organization-nodes'], [MANAGEMENT, 'organizations'], ['444444444444', 'organizations'],
    ]);
    expect([...double.providers.keys()].sort()).toEqual([outsider.id, unlinked.id].sort());
    expect(double.cloud.nodes()).toEqual([]);
    expect(double.cloud.credential(organizationId)).toBeUndefined();
    expect(double.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/')[3])).toEqual(['organization-nodes', 'organizations']);
  });

  test('a simulated organization discovers as cloudOrganizationFromSimulation maps it', async () => {
    const sim = generateOrganization({ accounts: 6, ous: 3, depth: 2, seed: 7 });
    double.options = { ...double.options, cloud: { organization: () => cloudOrganizationFromSimulation(sim), discoveryMs: 0 } };
    const organizationId = (await createOrganization(sim.id)).json.data.id;
    await postCredential(organizationId, `arn:aws:iam::${sim.managementAccountId}:role/ProwlerScan`);
    const started = (await call('POST', `/organizations/${organizationId}/discover`)).json.data;
    expect(started.attributes.status).toBe('pending');
    const result = (await discovery(organizationId, started.id)).json.data.attributes.result;
    expect(result.accounts.map((a: any) => [a.id, a.parent_id, a.status])).toEqual(sim.accounts.map((a) => [a.id, a.parentId, a.status]));
    expect(result.organizational_units.map((u: any) => [u.id, u.parent_id])).toEqual(sim.ous.map((u) => [u.id, u.parentId]));
  });
});
