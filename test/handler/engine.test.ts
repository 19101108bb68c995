import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ConnectionFailurePolicy, ScanMode } from '../../src/core/spec';
import { organizationGroupName } from '../../src/handler/engine';
import { ProwlerClient } from '../../src/handler/prowler-api';
import { renderSummary, reportJson } from '../../src/handler/report';
import { activeAccounts, harness, HARNESS_API_KEY, type Harness } from '../../testing/harness';
import { awsError, generateOrganization } from '../../testing/organization';

const active = activeAccounts;

describe('onboard', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('registers every selected account: provider, role secret with the tenant as External ID, organization group, test, daily scan', async () => {
    h = await harness();
    const report = await h.run();
    const selected = active(h.org);
    expect(report.outcome).toBe('succeeded');
    expect(report.selectionSummary).toBe(`${selected.length} of 20 accounts selected`);
    expect(report.counts).toEqual({
      discovered: 20, selected: 18, created: 18, linked: 0, updated: 0, unchanged: 0, blocked: 0, connected: 18, failed: 0, scheduled: 18,
    });
    expect(report.externalId).toBe(h.double.tenantId);
    for (const a of selected) {
      expect(h.double.secretOf(a.id)?.secret).toEqual({ role_arn: `arn:aws:iam::${a.id}:role/ProwlerScan`, external_id: h.double.tenantId });
      expect(h.double.schedules.has(h.double.providerByUid(a.id)!.id)).toBe(true);
    }
    const group = h.double.groupNamed(organizationGroupName(h.org.id));
    expect(group.providerIds.size).toBe(18);
    // Suspended and closed accounts are reported, never touched.
    for (const a of h.org.accounts.filter((x) => x.status !== 'ACTIVE')) expect(h.double.providerByUid(a.id)).toBeUndefined();
  });

  test('a re-run changes nothing: no duplicate, no rewritten secret, no re-test, schedules already there', async () => {
    h = await harness();
    await h.run();
    const before = h.double.requests.length;
    const report = await h.run();
    const writes = h.double.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(report.counts).toMatchObject({ created: 0, linked: 0, updated: 0, unchanged: 18, connected: 18, scheduled: 18 });
    // The record says what was written and scheduled: nothing is sent again, not even a schedule.
    expect(writes).toEqual([]);
    expect(h.double.requests.length - before).toBeLessThanOrEqual(6);
    expect(report.accounts.filter((a) => a.selected).every((a) => a.scan === 'already-scheduled' && a.connection?.tested === false)).toBe(true);
    expect(h.double.providers.size).toBe(18);
    expect(h.double.secrets.size).toBe(18);
  });

  test('an account already in Prowler is linked: same provider, its alias, its working secret and its history kept', async () => {
    h = await harness();
    const [, account] = active(h.org);
    const mine = h.double.seedProvider(account.id, { alias: 'My production', connected: true, secret: { role_arn: 'arn:aws:iam::1:role/Custom', external_id: 'mine' } });
    const report = await h.run();
    const result = report.accounts.find((a) => a.accountId === account.id)!;
    expect(result).toMatchObject({ action: 'link', providerId: mine.id, alias: 'My production', secret: 'kept' });
    expect(h.double.providerByUid(account.id)).toMatchObject({ id: mine.id, alias: 'My production' });
    expect(h.double.secretOf(account.id)?.secret).toEqual({ role_arn: 'arn:aws:iam::1:role/Custom', external_id: 'mine' });
    expect(h.double.groupNamed(organizationGroupName(h.org.id)).providerIds.has(mine.id)).toBe(true);
    expect(h.double.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(report.counts.linked).toBe(1);
  });

  test('a linked provider that does not connect gets the role secret; an explicit alias is applied', async () => {
    h = await harness();
    const [, account] = active(h.org);
    h.double.seedProvider(account.id, { alias: 'old name' });
    const report = await h.run({ selection: { aliases: { [account.id]: 'Payments prod' } } });
    expect(report.accounts.find((a) => a.accountId === account.id)).toMatchObject({ action: 'link', secret: 'created', alias: 'Payments prod' });
    expect(h.double.providerByUid(account.id)?.alias).toBe('Payments prod');
    expect(h.double.secretOf(account.id)?.secret.role_arn).toBe(`arn:aws:iam::${account.id}:role/ProwlerScan`);
  });

  test('an account linked to another organization is blocked and never modified', async () => {
    h = await harness();
    const [, account] = active(h.org);
    const other = h.double.seedProvider(account.id, { alias: 'elsewhere', groupName: organizationGroupName('o-other00000') });
    const report = await h.run();
    expect(report.accounts.find((a) => a.accountId === account.id)).toMatchObject({
      action: 'blocked', blockedBy: expect.stringMatching(/^linked_to_other_organization: .*o-other00000/),
    });
    expect(report.counts.blocked).toBe(1);
    const touching = h.double.requests.filter((r) => r.method !== 'GET' && (r.path.includes(other.id) || JSON.stringify(r.body ?? {}).includes(other.id)));
    expect(touching).toEqual([]);
    expect(h.double.connectionAttempts.has(account.id)).toBe(false);
  });

  test('smart retry: only failed accounts are re-tested, after the delay; the rest go on (skip policy)', async () => {
    const accounts = generateOrganization({ accounts: 20, ous: 6, depth: 3, suspended: 1, closed: 1, seed: 11 });
    const [, late, missing] = active(accounts);
    h = await harness({
      org: accounts,
      connectionRule: (provider, _secret, attempt) => {
        if (provider.uid === late.id && attempt < 3) return { connected: false, error: 'AWSAssumeRoleError[1012]: An error occurred (AccessDenied) when calling the AssumeRole operation' };
        if (provider.uid === missing.id) return { connected: false, error: 'AWSAssumeRoleError[1012]: An error occurred (AccessDenied) when calling the AssumeRole operation' };
        return { connected: true };
      },
    });
    const report = await h.run({ connection: { retryRounds: 3, retryDelaySeconds: 45 } });
    expect(report.outcome).toBe('succeeded');
    expect(report.accounts.find((a) => a.accountId === late.id)!.connection).toEqual({ connected: true, attempts: 3, tested: true });
    expect(report.accounts.find((a) => a.accountId === missing.id)!.connection).toMatchObject({
      connected: false, attempts: 4, hint: expect.stringMatching(/check the External ID and the trusted account\/principal/),
    });
    // Connected accounts were tested exactly once.
    const others = active(accounts).filter((a) => a.id !== late.id && a.id !== missing.id);
    expect(others.every((a) => h.double.connectionAttempts.get(a.id) === 1)).toBe(true);
    expect(h.clock.slept.filter((ms) => ms === 45_000)).toHaveLength(3);
    // Scans only for the accounts that connected.
    expect(report.accounts.find((a) => a.accountId === missing.id)!.scan).toBe('not-connected');
    expect(h.double.schedules.size).toBe(17);
    expect(report.counts).toMatchObject({ connected: 17, failed: 1, scheduled: 17 });
  });

  test('when no account connects, it fails with the wizard\'s message and launches nothing', async () => {
    h = await harness({ connectionRule: () => ({ connected: false, error: 'An error occurred (InvalidClientTokenId) when calling the AssumeRole operation: The security token included in the request is invalid.' }) });
    const report = await h.run({ connection: { retryRounds: 1, retryDelaySeconds: 1 } });
    expect(report.outcome).toBe('failed');
    expect(report.failure).toMatch(/^No accounts connected successfully\. Fix the connection errors and retry before launching scans\. 18 failed: .*Prowler's own AWS credentials are missing or invalid/);
    expect(h.double.schedules.size).toBe(0);
    expect(h.double.scans).toHaveLength(0);
  });

  test('the fail policy stops on any failure, before any scan', async () => {
    const org = generateOrganization({ accounts: 6, ous: 2, depth: 1, seed: 5 });
    h = await harness({ org, connectionRule: (p) => (p.uid === org.accounts[3].id ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    const report = await h.run({ connection: { failurePolicy: ConnectionFailurePolicy.FAIL, retryRounds: 0 } });
    expect(report.outcome).toBe('failed');
    expect(report.failure).toMatch(/^There was a problem connecting to some accounts: 1 failed: /);
    expect(h.double.schedules.size).toBe(0);
  });

  test('scan modes: once starts a scan, none only registers and tests', async () => {
    h = await harness();
    const once = await h.run({ scanMode: ScanMode.ONCE });
    expect(once.accounts.filter((a) => a.selected).every((a) => a.scan === 'started')).toBe(true);
    expect(h.double.scans).toHaveLength(18);
    expect(h.double.schedules.size).toBe(0);
    await h.stop();
    h = await harness();
    const none = await h.run({ scanMode: ScanMode.NONE });
    expect(none.counts.scheduled).toBe(0);
    expect(h.double.scans).toHaveLength(0);
  });

  test('scan mode once: one scan per account, not one per run; a later switch to daily still schedules', async () => {
    h = await harness();
    await h.run({ scanMode: ScanMode.ONCE });
    expect(h.double.scans).toHaveLength(18);
    const again = await h.run({ scanMode: ScanMode.ONCE });
    expect(h.double.scans).toHaveLength(18); // the sync re-runs every 6 hours: a scan each time would be four a day
    expect(again.accounts.filter((a) => a.selected).every((a) => a.scan === 'already-started')).toBe(true);
    const daily = await h.run({ scanMode: ScanMode.DAILY });
    expect(daily.accounts.filter((a) => a.selected).every((a) => a.scan === 'scheduled')).toBe(true);
    expect(h.double.schedules.size).toBe(18);
  });

  test('a given External ID that differs from the tenant is reported', async () => {
    h = await harness();
    const report = await h.run({ externalId: 'not-the-tenant' });
    expect(report.externalIdSource).toBe('given');
    expect(report.warnings[0]).toMatch(/externalId 'not-the-tenant' differs from the API key's Prowler tenant/);
    expect(h.double.secretOf(active(h.org)[1].id)?.secret.external_id).toBe('not-the-tenant');
  });

  test('fails before any change when the credentials see another organization', async () => {
    h = await harness();
    await expect(h.run({ organizationId: 'o-someotherorg' })).rejects.toThrow(/organizationId is 'o-someotherorg' but these credentials see organization 'o-/);
    expect(h.double.requests).toHaveLength(0);
  });

  test('a dry run reads and plans, and changes nothing', async () => {
    h = await harness();
    const [, linked] = active(h.org);
    h.double.seedProvider(linked.id);
    const report = await h.run({ dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.counts).toMatchObject({ selected: 18, created: 17, linked: 1 });
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('the summary shows the tree with a mark per account; neither report nor logs carry the API key', async () => {
    h = await harness();
    const report = await h.run();
    const summary = renderSummary(report);
    expect(summary).toMatch(/^Organization o-[a-z0-9]+ \(management account \d{12}\): 6 OUs, depth 3/);
    expect(summary).toContain('18 of 20 accounts selected');
    expect(summary).toMatch(/├─ ✓ \d{12} .* — created, connected, daily scan scheduled/);
    expect(summary).toMatch(/· \d{12} .* — not selected: status SUSPENDED/);
    expect(summary).toMatch(/18 created · 0 linked · 0 updated · 0 unchanged · 0 blocked · 18 connected · 0 failed · 18 scans launched/);
    const everything = JSON.stringify(reportJson(report)) + summary + h.logs.join('\n');
    expect(everything).not.toContain('ENGINE-SECRET-KEY');
    expect(h.logs.some((l) => l.startsWith('registered 18 of 18 accounts'))).toBe(true);
  });

  test('the local pre-check assumes each role with the External ID first; a refusal fails the account before Prowler tests it', async () => {
    h = await harness();
    const [, refused] = active(h.org);
    const sts = mockClient(STSClient);
    sts.on(AssumeRoleCommand).callsFake(async (input) => {
      if (input.RoleArn === `arn:aws:iam::${refused.id}:role/ProwlerScan`) throw awsError('AccessDenied', `not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`);
      return { Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date() } };
    });
    try {
      const report = await h.run({ localPrecheck: true, externalId: h.double.tenantId, connection: { retryRounds: 0 } }, { sts: new STSClient({ region: 'us-east-1' }) });
      expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(18);
      expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ ExternalId: h.double.tenantId, RoleSessionName: 'prowler-org-onboarding-precheck' });
      expect(report.accounts.find((a) => a.accountId === refused.id)!.connection).toMatchObject({
        connected: false, error: expect.stringMatching(/^local sts:AssumeRole pre-check failed: AccessDenied/), hint: expect.stringMatching(/does not trust this Prowler/),
      });
      expect(h.double.connectionAttempts.has(refused.id)).toBe(false);
      expect(report.counts.connected).toBe(17);
    } finally {
      sts.restore();
    }
  });

  test('connection tests in flight are their own limit; their requests still count toward concurrency', async () => {
    h = await harness({ org: generateOrganization({ accounts: 16, ous: 2, depth: 1, seed: 5 }) });
    let inFlight = 0;
    let maxRequests = 0;
    const testing = new Set<string>();
    let maxTests = 0;
    const counting: typeof fetch = async (input, init) => {
      inFlight++;
      maxRequests = Math.max(maxRequests, inFlight);
      try {
        const res = await fetch(input, init);
        const path = new URL(String(input)).pathname;
        const body: any = await res.clone().json().catch(() => undefined);
        if (path.endsWith('/connection')) testing.add(body.data.id);
        if (/\/tasks\//.test(path) && body?.data?.attributes?.state === 'completed') testing.delete(body.data.id);
        maxTests = Math.max(maxTests, testing.size);
        return res;
      } finally {
        inFlight--;
      }
    };
    const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 30))) };
    const prowler = new ProwlerClient({ baseUrl: h.double.url, auth: { apiKey: HARNESS_API_KEY }, clock, fetch: counting });
    const report = await h.run({ concurrency: 2, connection: { concurrentTests: 8 } }, { prowler, clock });
    expect(report.counts.connected).toBe(16);
    expect(maxRequests).toBeLessThanOrEqual(2);
    expect(maxTests).toBeGreaterThan(2);
    expect(maxTests).toBeLessThanOrEqual(8);
  });

  test('an account is tested as soon as it is registered, while the others register: one limit of requests in flight for both', async () => {
    h = await harness({ org: generateOrganization({ accounts: 24, ous: 2, depth: 1, seed: 6 }) });
    const order: string[] = [];
    let inFlight = 0;
    let maxRequests = 0;
    const counting: typeof fetch = async (input, init) => {
      inFlight++;
      maxRequests = Math.max(maxRequests, inFlight);
      const path = new URL(String(input)).pathname;
      if (init?.method === 'POST' && /\/providers$/.test(path)) order.push('create');
      if (init?.method === 'POST' && /\/connection$/.test(path)) order.push('test');
      try {
        return await fetch(input, init);
      } finally {
        inFlight--;
      }
    };
    const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 30))) };
    const prowler = new ProwlerClient({ baseUrl: h.double.url, auth: { apiKey: HARNESS_API_KEY }, clock, fetch: counting });
    const report = await h.run({ concurrency: 3 }, { prowler, clock });
    const selected = report.counts.selected;
    expect(selected).toBeGreaterThan(20);
    expect(report.counts).toMatchObject({ created: selected, connected: selected, scheduled: selected });
    // Registration used to finish before the first test: 1,000 accounts took the sum of both.
    expect(order.indexOf('test')).toBeGreaterThan(-1);
    expect(order.indexOf('test')).toBeLessThan(order.lastIndexOf('create'));
    expect(maxRequests).toBeLessThanOrEqual(3);
    expect(order.filter((o) => o === 'test')).toHaveLength(selected); // each account tested once
  });

  test('a user\'s own group named "AWS Organization …" blocks nothing: only an organization id in the exact name does', async () => {
    h = await harness();
    const [, a, b] = active(h.org);
    const mine = h.double.seedProvider(a.id, { groupName: 'AWS Organization prod-accounts' });
    h.double.seedProvider(b.id, { groupName: 'AWS Organization o-zzzzzzzzzz' });
    const report = await h.run();
    expect(report.accounts.find((r) => r.accountId === a.id)).toMatchObject({ action: 'link', providerId: mine.id });
    expect(report.accounts.find((r) => r.accountId === b.id)).toMatchObject({ action: 'blocked', blockedBy: expect.stringMatching(/o-zzzzzzzzzz/) });
  });

  test('with failurePolicy fail and every connection failing, the message is the wizard\'s', async () => {
    h = await harness({ connectionRule: () => ({ connected: false, error: 'AccessDenied' }) });
    const report = await h.run({ connection: { failurePolicy: ConnectionFailurePolicy.FAIL, retryRounds: 0 } });
    expect(report.failure).toMatch(/^No accounts connected successfully\. Fix the connection errors and retry before launching scans\./);
  });

  test('a selection naming an OU the organization does not have fails before anything is written (a typo must not onboard the OU meant)', async () => {
    h = await harness();
    const ou = h.org.ous[0].id;
    const typo = `${ou.slice(0, -1)}${ou.endsWith('x') ? 'y' : 'x'}`;
    await expect(h.run({ selection: { excludeOus: [typo] } })).rejects.toThrow(
      new RegExp(`names an id the organization does not have, so nothing was changed:\\n  - selection.excludeOus\\[0\\]: '${typo}' is not an OU of ${h.org.id} \\(did you mean '${ou}'\\?\\)`),
    );
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('a selection of no account fails, saying why, unless allowEmptySelection says it is intended', async () => {
    h = await harness();
    const nothing = { targets: [h.org.ous[0].id], includeManagementAccount: false, includeTags: [{ key: 'no-such-tag' }] };
    await expect(h.run({ selection: nothing })).rejects.toThrow(/^The selection matches no account \(0 of 20 accounts selected; .*no includeTags match \(no-such-tag\).*\), so nothing was done: correct the selection, or set allowEmptySelection/);
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect((await h.run({ selection: nothing, allowEmptySelection: true })).outcome).toBe('succeeded');
  });

  test('three runs at once (as concurrent CLI applies, which have no lease) all succeed: no duplicate, every selected account grouped', async () => {
    h = await harness();
    const reports = await Promise.all([h.run({}, { record: undefined }), h.run({}, { record: undefined }), h.run({}, { record: undefined })]);
    expect(reports.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const selected = active(h.org);
    expect(h.double.providers.size).toBe(selected.length);
    expect(new Set([...h.double.providers.values()].map((p) => p.uid)).size).toBe(selected.length);
    expect(h.double.secrets.size).toBe(selected.length);
    expect([...h.double.groups.values()].filter((g) => g.name === organizationGroupName(h.org.id))).toHaveLength(1);
    expect(h.double.groupNamed(organizationGroupName(h.org.id)).providerIds.size).toBe(selected.length);
    expect(h.double.schedules.size).toBe(selected.length);
  });

  test('a key whose role sees only some providers fails the run before anything is written, naming the permission', async () => {
    h = await harness();
    h.double.options = { ...h.double.options, roles: { [HARNESS_API_KEY]: { unlimitedVisibility: false, providerGroups: [] } } };
    await expect(h.run()).rejects.toThrow(/The Prowler API key's role lacks Unlimited visibility .*nothing was changed/);
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(h.double.providers.size).toBe(0);
  });

  test('without a record (the CLI), a re-run asks Prowler: Prowler has no way to read schedules, so a 409 answers "already scheduled"', async () => {
    h = await harness();
    h.record = undefined;
    await h.run();
    const before = h.double.requests.length;
    await h.run();
    const writes = h.double.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(writes.map((w) => `${w.method} ${w.path} ${w.status}`)).toEqual(Array(18).fill('POST /api/v1/schedules/daily 409'));
  });

  test('when the desired secret changes (a new External ID), every secret this onboarding wrote is rewritten and re-tested', async () => {
    h = await harness();
    await h.run();
    const before = h.double.requests.length;
    const report = await h.run({ externalId: 'a-new-external-id' });
    expect(report.counts).toMatchObject({ updated: 18, connected: 18 });
    const patched = h.double.requests.slice(before).filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/v1/providers/secrets/'));
    expect(patched).toHaveLength(18);
    for (const a of active(h.org)) expect(h.double.secretOf(a.id)?.secret).toMatchObject({ external_id: 'a-new-external-id' });
    expect(report.accounts.filter((a) => a.selected).every((a) => a.connection?.tested === true)).toBe(true);
  });

  test('a schedule that fails is that account\'s failure, in the server\'s words; the run succeeds for the others', async () => {
    h = await harness();
    const [victim] = active(h.org);
    const first = await h.run({ scanMode: ScanMode.NONE }); // registered, no schedule yet
    expect(first.outcome).toBe('succeeded');
    h.double.seedPeriodicTask(h.double.providerByUid(victim.id)!.id, 12); // a schedule of that name at another interval
    const report = await h.run();
    expect(report.outcome).toBe('succeeded');
    const account = report.accounts.find((a) => a.accountId === victim.id)!;
    expect(account.error).toMatch(/^scan launch failed: Prowler API POST \/api\/v1\/schedules\/daily: 500 A server error occurred/);
    expect(report.counts).toMatchObject({ failed: 1, scheduled: 17 });
    expect(report.warnings).toContainEqual(expect.stringMatching(/^1 account failed \(the next sync retries\): \d{12} scan launch failed/));
  });

  test('a connection task that fails (not a failed connection) is reported with Celery\'s exception', async () => {
    const org = generateOrganization({ accounts: 3, ous: 1, depth: 1, seed: 9 });
    const broken = org.accounts[1].id;
    h = await harness({ org, connectionRule: (p) => (p.uid === broken ? { connected: false, taskFailure: { type: 'EndpointConnectionError', message: 'Could not connect to the endpoint URL: "https://sts.amazonaws.com/"' } } : { connected: true }) });
    const report = await h.run({ connection: { retryRounds: 0 } });
    expect(report.accounts.find((a) => a.accountId === broken)!.connection).toMatchObject({
      connected: false, error: 'connection task failed: EndpointConnectionError: Could not connect to the endpoint URL: "https://sts.amazonaws.com/"',
    });
    expect(report.counts.connected).toBe(2);
  });

  test('connection tests wait for the member StackSet to be CURRENT, then go on; the management account is not waited for', async () => {
    const org = generateOrganization({ accounts: 4, ous: 1, depth: 1, seed: 9 });
    const [management, , , later] = org.accounts;
    h = await harness({ org });
    let checks = 0;
    const stackInstances = async () => {
      checks++;
      return new Map(org.accounts.filter((a) => a !== management).map((a) => [a.id, a === later && checks < 3 ? 'OUTDATED (RUNNING)' : 'CURRENT']));
    };
    const report = await h.run({}, { stackInstances });
    // One read before registering (the accounts already CURRENT are tested as they register), then
    // one per poll until the last instance is CURRENT.
    expect(checks).toBe(3);
    expect(h.clock.slept.filter((ms) => ms === 30_000)).toHaveLength(1);
    expect(report.counts.connected).toBe(4);
    const tested = [...h.double.connectionAttempts.keys()];
    expect(tested).toHaveLength(4);
    expect(tested.at(-1)).toBe(later.id); // tested once its instance is CURRENT, after the others
    expect(h.logs.some((l) => l.startsWith(`waiting for the member StackSet in 1 accounts (e.g. ${later.id}: OUTDATED (RUNNING))`))).toBe(true);
  });

  test('connection.stackSetWaitSeconds bounds the wait (here 90 s: three 30-second polls)', async () => {
    const org = generateOrganization({ accounts: 4, ous: 1, depth: 1, seed: 9 });
    h = await harness({ org });
    const stackInstances = async () => new Map(org.accounts.map((a) => [a.id, 'OUTDATED (RUNNING)']));
    await h.run({ connection: { retryRounds: 0, stackSetWaitSeconds: 90 } }, { stackInstances });
    expect(h.clock.slept.filter((ms) => ms === 30_000)).toHaveLength(3);
    expect(h.logs.some((l) => l.startsWith('testing connections although 3 StackSet instances are not CURRENT after 90 s'))).toBe(true);
  });

  test('accounts outside the StackSet\'s targets are tested at once, never waited for; a failure says they are outside', async () => {
    const org = generateOrganization({ accounts: 20, ous: 6, depth: 3, seed: 11 });
    const target = org.ous.find((ou) => ou.name.startsWith('Workloads'))!;
    const parents = new Map(org.ous.map((ou) => [ou.id, ou.parentId]));
    const isBelow = (id: string | undefined): boolean => id !== undefined && (id === target.id || isBelow(parents.get(id)));
    const inside = org.accounts.filter((a) => isBelow(a.parentId));
    const outside = org.accounts.filter((a) => !isBelow(a.parentId) && a.id !== org.managementAccountId);
    h = await harness({ org, connectionRule: (p) => (inside.some((a) => a.id === p.uid) || p.uid === org.managementAccountId ? { connected: true } : { connected: false, error: 'AccessDenied' }) });
    const stackInstances = async () => new Map(inside.map((a) => [a.id, 'CURRENT']));
    const report = await h.run({ connection: { retryRounds: 0 } }, { stackInstances, stackSetTargets: { organizationalUnitIds: [target.id] } });

    expect(h.clock.slept.filter((ms) => ms === 30_000)).toEqual([]); // before: 20 polls, the whole 10-minute wait
    expect(report.counts.connected).toBe(inside.length + 1);
    const stranger = report.accounts.find((a) => a.accountId === outside[0].id)!;
    expect(stranger.connection?.hint)
      .toBe('the account is outside the member StackSet\'s targets, so it has no ProwlerScan role from it: add its OU to the StackSet\'s targets, or leave it out of the selection');
  });

  test('a StackSet that cannot be read (a delegated administrator not registered) does not fail the run: tests go on, a warning says what to fix', async () => {
    const org = generateOrganization({ accounts: 4, ous: 1, depth: 1, seed: 9 });
    h = await harness({ org });
    let reads = 0;
    const stackInstances = async () => {
      reads++;
      throw Object.assign(new Error('Account used is not a delegated administrator'), { name: 'ValidationError' });
    };
    const report = await h.run({ connection: { retryRounds: 0 } }, { stackInstances });
    expect(report.outcome).toBe('succeeded'); // before: the run threw, after every provider was registered
    expect(report.counts.connected).toBe(4);
    expect(reads).toBe(1);
    expect(h.clock.slept.filter((ms) => ms === 30_000)).toEqual([]);
    expect(report.warnings).toEqual([expect.stringMatching(
      /^the member StackSet's instances could not be read \(ValidationError: Account used is not a delegated administrator\): .*register-delegated-administrator --service-principal member\.org\.stacksets\.cloudformation\.amazonaws\.com.*organizations:ListDelegatedAdministrators/,
    )]);
  });

  test('an instance that failed because ProwlerScan already exists (Prowler\'s own template) says so, and where the adoption path is', async () => {
    const org = generateOrganization({ accounts: 4, ous: 1, depth: 1, seed: 9 });
    const taken = org.accounts[2].id;
    h = await harness({ org, connectionRule: (p) => (p.uid === taken ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    const reason = 'INOPERABLE (FAILED: ResourceLogicalId:ProwlerScan, ResourceType:AWS::IAM::Role, ResourceStatusReason:ProwlerScan already exists.)';
    const stackInstances = async () => new Map([[taken, reason]]);
    const report = await h.run({ connection: { retryRounds: 0, stackSetWaitSeconds: 30 } }, { stackInstances });
    expect(report.accounts.find((a) => a.accountId === taken)!.connection?.hint).toMatch(
      /^the StackSet could not create the role because one of that name already exists there .*prowler-scan-role\.yml: onboard on top of the existing roles.*"Organizations that already have ProwlerScan"/,
    );
  });

  test('after the bounded wait, tests go on and a failure names the StackSet instance status', async () => {
    const org = generateOrganization({ accounts: 4, ous: 1, depth: 1, seed: 9 });
    const lagging = org.accounts[2].id;
    h = await harness({ org, connectionRule: (p) => (p.uid === lagging ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    const stackInstances = async () => new Map([[lagging, 'INOPERABLE (FAILED: Account is suspended)']]);
    const report = await h.run({ connection: { retryRounds: 0, stackSetWaitSeconds: 60 } }, { stackInstances });
    expect(report.accounts.find((a) => a.accountId === lagging)!.connection?.hint)
      .toBe('the ProwlerScan role may not be deployed there (StackSet instance INOPERABLE (FAILED: Account is suspended)): wait for the StackSet, or add the account\'s OU to its targets');
    expect(report.counts.connected).toBe(3);
  });
});
