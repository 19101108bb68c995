import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { RemovalBehaviour } from '../../src/core/spec';
import { continueRun, startRun, toReport, type RunState } from '../../src/handler/engine';
import { ProwlerClient } from '../../src/handler/prowler-api';
import { activeAccounts, harness, HARNESS_API_KEY, type Harness } from '../../testing/harness';
import { generateOrganization } from '../../testing/organization';

/** The engine's dependencies over a harness. */
const depsOf = (h: Harness) => ({
  organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
  prowler: h.prowler,
  clock: h.clock,
});

/** A JSON round trip, as between two Lambda invocations. */
const persisted = (state: RunState): RunState => JSON.parse(JSON.stringify(state));

describe('a run in steps (resumable)', () => {
  let h: Harness;
  afterEach(() => h.stop());

  const deps = () => depsOf(h);

  test('cut by deadlines into many steps, with its state saved as JSON between them, ends as a one-shot run does', async () => {
    const org = generateOrganization({ accounts: 20, ous: 6, depth: 3, suspended: 1, closed: 1, seed: 11 });
    const [, late] = activeAccounts(org);
    h = await harness({ org, connectionRule: (p, _s, attempt) => (p.uid === late.id && attempt < 2 ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    const request = { selection: {}, concurrency: 3, connection: { retryRounds: 2, retryDelaySeconds: 60, concurrentTests: 3 } };
    let state = persisted(await startRun(request, deps()));
    let steps = 0;
    while (state.phase !== 'done') {
      // Each step may only start work for 1.5 s of the (fake) clock: the test task polls use it up.
      state = persisted(await continueRun(state, request, deps(), { deadline: h.clock.now() + 1500, whileWaiting: 'return' }));
      if (state.nextRoundAt !== undefined && h.clock.now() < state.nextRoundAt) await h.clock.sleep(state.nextRoundAt - h.clock.now());
      steps++;
      expect(steps).toBeLessThan(100);
    }
    const report = toReport(state, h.clock.now());
    expect(steps).toBeGreaterThan(5);
    expect(report.outcome).toBe('succeeded');
    expect(report.counts).toMatchObject({ selected: 18, created: 18, connected: 18, scheduled: 18 });
    expect(report.accounts.find((a) => a.accountId === late.id)!.connection).toEqual({ connected: true, attempts: 2, tested: true });
    // Nothing was done twice.
    expect(h.double.providers.size).toBe(18);
    expect(h.double.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/providers')).toHaveLength(18);
    expect(h.double.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/schedules/daily')).toHaveLength(18);
    expect([...h.double.connectionAttempts.values()].reduce((a, b) => a + b, 0)).toBe(19);
  });

  test('waiting for a re-test round hands the state back instead of sleeping', async () => {
    h = await harness({ connectionRule: (p) => (p.uid === activeAccounts(h.org)[1].id ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    const request = { selection: {}, connection: { retryRounds: 1, retryDelaySeconds: 120 } };
    const state = await startRun(request, deps());
    await continueRun(state, request, deps(), { whileWaiting: 'return' });
    expect(state.phase).toBe('test');
    expect(state.round).toBe(2);
    expect(state.nextRoundAt).toBe(h.clock.now() + 120_000);
    expect(h.clock.slept.some((ms) => ms === 120_000)).toBe(false);
    // Too early: still waiting, nothing re-tested.
    const attempts = h.double.connectionAttempts.get(activeAccounts(h.org)[1].id);
    await continueRun(state, request, deps(), { whileWaiting: 'return' });
    expect(h.double.connectionAttempts.get(activeAccounts(h.org)[1].id)).toBe(attempts);
    await h.clock.sleep(120_000);
    await continueRun(state, request, deps(), { whileWaiting: 'return' });
    expect(state.phase).toBe('done');
    expect(state.outcome).toBe('succeeded');
    expect(h.double.connectionAttempts.get(activeAccounts(h.org)[1].id)).toBe(2);
  });
});

describe('discovery in steps (a large organization)', () => {
  let h: Harness;
  afterEach(() => h.stop());

  const deps = () => depsOf(h);

  test('continues across deadlines from its saved state, and reads tags only for accounts the other rules select', async () => {
    const org = generateOrganization({ accounts: 60, ous: 12, depth: 3, seed: 5 });
    h = await harness({ org, organizationsLatencyMs: 100 });
    // One first-level OU and everything below it.
    const target = org.ous.find((ou) => ou.parentId === org.roots[0].id && org.ous.some((child) => child.parentId === ou.id))!;
    const subtree = new Set([target.id]);
    for (let grew = true; grew;) {
      grew = false;
      for (const ou of org.ous) if (subtree.has(ou.parentId) && !subtree.has(ou.id)) grew = subtree.add(ou.id) !== undefined;
    }
    const candidates = org.accounts.filter((a) => a.status === 'ACTIVE' && (subtree.has(a.parentId) || a.id === org.managementAccountId));
    const expected = candidates.filter((a) => a.tags['prowler-scan'] !== 'false').map((a) => a.id).sort();
    expect(candidates.length).toBeLessThan(org.accounts.length / 2);
    expect(expected.length).toBeLessThan(candidates.length);

    const request = { selection: { targets: [target.id], excludeTags: [{ key: 'prowler-scan', value: 'false' }] } };
    // 0.5 s of clock per step: five Organizations calls.
    let state = persisted(await startRun(request, deps(), { deadline: h.clock.now() + 500 }));
    expect(state.phase).toBe('discover');
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    let discoverySteps = 0;
    while (state.phase !== 'done') {
      if (state.phase === 'discover') discoverySteps++;
      state = persisted(await continueRun(state, request, deps(), { deadline: h.clock.now() + 500, whileWaiting: 'return' }));
      expect(discoverySteps).toBeLessThan(100);
    }
    const report = toReport(state, h.clock.now());
    expect(report.outcome).toBe('succeeded');
    expect(discoverySteps).toBeGreaterThan(5);
    expect(report.accounts.filter((a) => a.selected).map((a) => a.accountId).sort()).toEqual(expected);
    expect(report.organization).toMatchObject({ id: org.id, ous: 12, depth: 3 });
    expect([...h.double.providers.values()].map((p) => p.uid).sort()).toEqual(expected);
    // Every parent listed once, and tags read for the candidates only.
    const calls = (operation: string) => h.organizationsCalls.filter((o) => o === operation).length;
    expect(calls('ListTagsForResource')).toBe(candidates.length);
    expect(calls('DescribeOrganization')).toBe(1);
    expect(report.calls.organizations).toBe(h.organizationsCalls.length);
    expect(calls('ListOrganizationalUnitsForParent')).toBe(13); // the root and 12 OUs, one page each
    expect(calls('ListAccountsForParent')).toBe(13);
  });
});

describe('departures in steps', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('destroying departed providers stops at the deadline and the next step goes on, none deleted twice', async () => {
    h = await harness();
    await h.run();
    const leaving = activeAccounts(h.org).slice(1, 7).map((a) => a.id);
    // Each deletion takes 10 s of the clock.
    const prowler = new ProwlerClient({
      baseUrl: h.double.url,
      auth: { apiKey: HARNESS_API_KEY },
      clock: h.clock,
      fetch: async (input, init) => {
        if (init?.method === 'DELETE') await h.clock.sleep(10_000);
        return fetch(input, init);
      },
    });
    const deps = {
      organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
      prowler,
      clock: h.clock,
      record: h.record,
    };
    const request = { selection: { excludeAccounts: leaving }, removal: RemovalBehaviour.DESTROY, concurrency: 2 };
    let state = persisted(await startRun(request, deps));
    const left: number[] = [];
    while (state.phase === 'depart' || state.phase === 'discover') {
      state = persisted(await continueRun(state, request, deps, { deadline: h.clock.now() + 15_000, whileWaiting: 'return' }));
      left.push(leaving.filter((id) => h.double.providerByUid(id)).length);
    }
    // Two deletions in flight, 20 s of clock per pair: one pair per 15-s step.
    expect(left).toEqual([4, 2, 0]);
    while (state.phase !== 'done') state = persisted(await continueRun(state, request, deps, { whileWaiting: 'sleep' }));
    const report = toReport(state, h.clock.now());
    expect(report.outcome).toBe('succeeded');
    expect(report.departures.map((d) => d.outcome)).toEqual(Array(6).fill('destroyed'));
    expect(h.double.requests.filter((r) => r.method === 'DELETE')).toHaveLength(6);
  });
});
