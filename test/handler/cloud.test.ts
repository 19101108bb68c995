/**
 * Prowler Cloud's dialect against the double's Cloud mode (FACTS §3b): onboarding through a
 * Prowler organization as its wizard does, Prowler's verdicts, schedules with its scheduler, and
 * removal that never cascades. Every harness run also asserts, when it stops, that no request
 * deleting an organization or a node was sent.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { onboardingReportSchema } from '../../src/core/report-schema';
import { ProwlerEdition, RemovalBehaviour, ScanMode, ScheduleFrequency, parseOnboardingSpec } from '../../src/core/spec';
import { continueRun, offboard, startRun, toReport, type EngineDependencies, type OnboardingRequest } from '../../src/handler/engine';
import { renderSummary, reportDocument } from '../../src/handler/report';
import { activeAccounts, harness, type Harness } from '../../testing/harness';
import { CLOUD_AUTHENTICATION_FAILURE } from '../../testing/prowler-api-double';

const writesSince = (h: Harness, from: number) => h.double.requests.slice(from).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path.replace('/api/v1', '')}`);
const applyBodies = (h: Harness, from = 0) => h.double.requests.slice(from)
  .filter((r) => r.method === 'POST' && /\/discoveries\/[^/]+\/apply$/.test(r.path))
  .map((r) => r.body.data.attributes as { accounts: Array<{ id: string; alias?: string }>; organizational_units: Array<{ id: string }> });

describe('Prowler Cloud: onboarding through its organizations', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('first onboarding: the organization, its credential, Prowler\'s discovery, the apply with every OU ancestor, tests and schedules', async () => {
    h = await harness({ cloud: true });
    const report = await h.run();
    const selected = activeAccounts(h.org);
    expect(report.outcome).toBe('succeeded');
    expect(report.edition).toBe('cloud');
    const [organization] = h.double.cloud.organizations();
    expect(organization).toMatchObject({ externalId: h.org.id });
    expect(report.cloud).toMatchObject({ organizationId: organization.id, organization: 'create', credential: 'create', credentialWritten: true, applied: true });
    // The credential: the management account's ProwlerScan role, with the tenant as External ID.
    expect(h.double.cloud.credential(organization.id)?.secret).toEqual({
      role_arn: `arn:aws:iam::${h.org.managementAccountId}:role/ProwlerScan`, external_id: h.double.tenantId,
    });
    // One apply: the selected accounts, and every OU above one of them (never a root).
    const [apply] = applyBodies(h);
    expect(apply.accounts.map((a) => a.id).sort()).toEqual(selected.map((a) => a.id).sort());
    expect(apply.accounts.every((a) => a.alias === undefined)).toBe(true); // Prowler names them; the spec gave no alias
    const parents = new Map(h.org.ous.map((u) => [u.id, u.parentId]));
    const ancestors = new Set<string>();
    for (const a of selected) for (let u: string | undefined = a.parentId; u && parents.has(u); u = parents.get(u)) ancestors.add(u);
    expect(apply.organizational_units.map((u) => u.id).sort()).toEqual([...ancestors].sort());
    expect(h.double.requests.some((r) => r.method === 'POST' && /\/apply$/.test(r.path) && 'include' in r.query)).toBe(false);
    // Every provider linked to the organization, under its OU's node.
    const linked = h.double.cloud.providersOf(organization.id);
    expect(linked.map((p) => p.uid).sort()).toEqual(selected.map((a) => a.id).sort());
    expect(new Set(h.double.cloud.nodes(organization.id).map((n) => n.externalId))).toEqual(ancestors);
    // Tested through Prowler, scheduled with Prowler Cloud's scheduler (the default: daily at 00:00 UTC).
    const n = selected.length;
    expect(report.counts).toMatchObject({ selected: n, created: n, connected: n, scheduled: n });
    for (const p of linked) {
      expect(h.double.cloud.schedules().get(p.id)).toEqual({
        scan_enabled: true, scan_frequency: 'DAILY', scan_hour: 0, scan_timezone: 'UTC', scan_interval_hours: null, scan_day_of_week: null, scan_day_of_month: null,
      });
    }
    // Nothing of the self-hosted dialect.
    expect(h.double.requests.filter((r) => /provider-groups|schedules\/daily|\/providers\/secrets/.test(r.path))).toEqual([]);
    expect(Object.keys(h.record!.created).length).toBe(selected.length);
    expect(h.record!.cloud).toMatchObject({ organizationId: organization.id });
    expect(renderSummary(report)).toContain(`Prowler Cloud: organization ${organization.id}`);
    expect(onboardingReportSchema.safeParse(reportDocument(report)).success).toBe(true);
  });

  test('a re-run with no change writes nothing: no credential PATCH, no discovery, no re-apply, no schedule', async () => {
    h = await harness({ cloud: true });
    await h.run();
    const before = h.double.requests.length;
    const report = await h.run();
    expect(writesSince(h, before)).toEqual([]);
    expect(report.counts).toMatchObject({ created: 0, linked: 0, updated: 0, unchanged: activeAccounts(h.org).length });
    expect(report.accounts.filter((a) => a.selected).every((a) => (a.writes ?? []).length === 0 && a.scan === 'already-scheduled')).toBe(true);
    expect(h.double.cloud.credentialPatches()).toBe(0);
  });

  test('without a record (the CLI without stateBucket), a re-run reads the schedules Prowler Cloud lists and writes nothing', async () => {
    h = await harness({ cloud: true });
    h.record = undefined;
    await h.run();
    const before = h.double.requests.length;
    const plan = await h.run({ dryRun: true });
    expect(plan.accounts.filter((a) => a.selected).map((a) => a.writes)).toEqual(activeAccounts(h.org).map(() => []));
    const report = await h.run();
    expect(writesSince(h, before)).toEqual([]);
    expect(report.accounts.filter((a) => a.selected).every((a) => a.scan === 'already-scheduled')).toBe(true);
    // One list of schedules per run (100 a page), not a request per account.
    expect(h.double.requests.slice(before).filter((r) => r.path === '/api/v1/schedules')).toHaveLength(2);
  });

  test('a new account: Prowler\'s discovery runs again, and only it is applied', async () => {
    h = await harness({ cloud: true });
    await h.run();
    const ou = h.org.ous[h.org.ous.length - 1];
    h.org.accounts.push({ id: '999999999999', name: 'newcomer', email: 'new@example.com', status: 'ACTIVE', joinedMethod: 'CREATED', parentId: ou.id, tags: {} });
    const before = h.double.requests.length;
    const report = await h.run();
    const [apply] = applyBodies(h, before);
    expect(apply.accounts).toEqual([{ id: '999999999999' }]);
    expect(report.accounts.find((a) => a.accountId === '999999999999')).toMatchObject({ action: 'create', connection: { connected: true } });
    expect(report.counts).toMatchObject({ created: 1, unchanged: activeAccounts(h.org).length - 1 });
    expect(h.double.cloud.credentialPatches()).toBe(0);
  });

  test('a moved account: its node changes in Prowler (move-node), its provider and history stay', async () => {
    h = await harness({ cloud: true });
    await h.run();
    const account = activeAccounts(h.org).find((a) => h.org.ous.some((u) => u.id === a.parentId))!;
    const to = h.org.ous.find((u) => u.id !== account.parentId)!;
    const providerBefore = h.double.providerByUid(account.id)!.id;
    account.parentId = to.id;
    const plan = await h.run({ dryRun: true });
    expect(plan.accounts.find((a) => a.accountId === account.id)).toMatchObject({ action: 'update', writes: ['move-node'] });
    const before = h.double.requests.length;
    await h.run();
    const [apply] = applyBodies(h, before);
    expect(apply.accounts).toEqual([{ id: account.id }]);
    expect(apply.organizational_units.map((u) => u.id)).toContain(to.id);
    const provider = h.double.providerByUid(account.id)!;
    expect(provider.id).toBe(providerBefore);
    const node = h.double.cloud.nodes().find((n) => n.id === provider.organizationNodeId);
    expect(node?.externalId).toBe(to.id);
  });

  test('Prowler\'s verdicts: an account under another Prowler organization is blocked with its reason and never touched; one Prowler blocks for its own reason too', async () => {
    h = await harness({ cloud: { blockedReasons: (account) => (account.name === activeAccounts(h.org)[3].name ? ['provider_type_conflict'] : []) } });
    const [, elsewhere] = activeAccounts(h.org);
    const other = h.double.cloud.seedOrganization('o-otherorg000');
    const theirs = h.double.seedProvider(elsewhere.id, { alias: 'Theirs', connected: true, secret: { role_arn: 'arn:aws:iam::1:role/X', external_id: 'x' } });
    h.double.cloud.linkProvider(theirs.id, other.id);
    const plan = await h.run({ dryRun: true });
    expect(plan.accounts.find((a) => a.accountId === elsewhere.id)).toMatchObject({ action: 'blocked', blockedBy: expect.stringMatching(/^organization_conflict: already connected under a different Prowler organization/) });
    const report = await h.run();
    expect(report.accounts.find((a) => a.accountId === elsewhere.id)).toMatchObject({ action: 'blocked', blockedBy: expect.stringMatching(/^organization_conflict/) });
    expect(report.accounts.find((a) => a.accountId === activeAccounts(h.org)[3].id)).toMatchObject({ action: 'blocked', blockedBy: expect.stringMatching(/^provider_type_conflict/) });
    expect(applyBodies(h).flatMap((b) => b.accounts.map((a) => a.id))).not.toContain(elsewhere.id);
    expect(h.double.providerByUid(elsewhere.id)).toMatchObject({ id: theirs.id, alias: 'Theirs', organizationId: other.id });
    expect(report.outcome).toBe('succeeded');
  });

  test('a provider with credentials of its own keeps them by default (reported), and gets the organization\'s with replaceCredentials', async () => {
    h = await harness({ cloud: true });
    const [, own] = activeAccounts(h.org);
    const mine = h.double.seedProvider(own.id, { alias: 'Mine', connected: true, secret: { role_arn: 'arn:aws:iam::1:role/Custom', external_id: 'mine' } });
    const plan = await h.run({ dryRun: true });
    expect(plan.accounts.find((a) => a.accountId === own.id)).toMatchObject({ action: 'keep-credentials', writes: [] });
    const kept = await h.run();
    expect(kept.accounts.find((a) => a.accountId === own.id)).toMatchObject({ action: 'keep-credentials', blockedBy: expect.stringMatching(/^will_replace/) });
    expect(renderSummary(kept)).toMatch(/keeps its own credentials/);
    expect(h.double.secretOf(own.id)?.secret).toEqual({ role_arn: 'arn:aws:iam::1:role/Custom', external_id: 'mine' });
    expect(applyBodies(h).flatMap((b) => b.accounts.map((a) => a.id))).not.toContain(own.id);

    const replacePlan = await h.run({ dryRun: true, replaceCredentials: true });
    expect(replacePlan.accounts.find((a) => a.accountId === own.id)).toMatchObject({ action: 'link', writes: ['link-organization', 'replace-credentials', 'test-connection', 'schedule-scans'] });
    const replaced = await h.run({ replaceCredentials: true });
    expect(replaced.accounts.find((a) => a.accountId === own.id)).toMatchObject({ action: 'link', providerId: mine.id, connection: { connected: true } });
    expect(h.double.secretOf(own.id)?.secret).toMatchObject({ role_arn: `arn:aws:iam::${own.id}:role/ProwlerScan` });
    expect(h.double.providerByUid(own.id)).toMatchObject({ id: mine.id, alias: 'Mine' });
    expect(h.record!.linked[mine.id]).toBe(own.id); // linked, never created: destroy never deletes it
  });

  test('providers this onboarding registered on Prowler Cloud before it told the two apart (the Prowler App path) are linked; their secrets were never the user\'s', async () => {
    h = await harness({ cloud: true });
    await h.run({ prowlerEdition: ProwlerEdition.APP }); // as the version before did, against Prowler Cloud
    const before = new Map([...h.double.providers.values()].map((p) => [p.uid, p.id]));
    const report = await h.run();
    const [organization] = h.double.cloud.organizations();
    expect(report.accounts.filter((a) => a.selected).every((a) => a.action === 'link' && a.writes?.includes('replace-credentials'))).toBe(true);
    expect(h.double.cloud.providersOf(organization.id).map((p) => [p.uid, p.id]).sort()).toEqual([...before].sort());
    expect(report.counts).toMatchObject({ linked: activeAccounts(h.org).length, connected: activeAccounts(h.org).length });
  });

  test.each([
    ['hierarchy_depth_exceeded', { error: 'hierarchy_depth_exceeded', error_message: 'The organization hierarchy is deeper than supported.' }, /hierarchy_depth_exceeded.*deeper than Prowler Cloud takes/],
    ['a bad role', CLOUD_AUTHENTICATION_FAILURE, /Authentication failed\. Please verify the StackSet deployment and Role ARN/],
  ])('a discovery that fails (%s) fails the run with Prowler\'s words and applies nothing', async (_name, failure, message) => {
    h = await harness({ cloud: { discoveryFailure: () => failure } });
    const report = await h.run();
    expect(report.outcome).toBe('failed');
    expect(report.failure).toMatch(message);
    expect(applyBodies(h)).toEqual([]);
    expect(h.double.providers.size).toBe(0);
  });

  test('a discovery that outlasts the invocation is continued by the next from its saved id (one discovery started)', async () => {
    h = await harness({ cloud: { discoveryMs: 20_000 } });
    const request: OnboardingRequest = { selection: {} };
    const deps: EngineDependencies = {
      organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
      prowler: h.prowler,
      clock: h.clock,
      record: h.record,
    };
    const state = await startRun(request, deps);
    await continueRun(state, request, deps, { deadline: h.clock.now() + 5_000 });
    expect(state.phase).toBe('prowler-discovery');
    const saved = JSON.parse(JSON.stringify(state));
    expect(saved.cloud.discoveryId).toEqual(expect.any(String));
    const next = await continueRun(saved, request, deps, { deadline: h.clock.now() + 600_000 });
    expect(next.phase).toBe('done');
    expect(toReport(next, h.clock.now()).outcome).toBe('succeeded');
    expect(h.double.requests.filter((r) => r.method === 'POST' && /\/discover$/.test(r.path))).toHaveLength(1);
  });

  test.each([
    [{ frequency: ScheduleFrequency.DAILY, hour: 6, timeZone: 'Europe/Madrid' }, { scan_frequency: 'DAILY', scan_hour: 6, scan_timezone: 'Europe/Madrid', scan_interval_hours: null, scan_day_of_week: null, scan_day_of_month: null }],
    [{ frequency: ScheduleFrequency.INTERVAL, intervalHours: 48 }, { scan_frequency: 'INTERVAL', scan_hour: 0, scan_timezone: 'UTC', scan_interval_hours: 48, scan_day_of_week: null, scan_day_of_month: null }],
    [{ frequency: ScheduleFrequency.WEEKLY, dayOfWeek: 1, hour: 3, timeZone: 'America/New_York' }, { scan_frequency: 'WEEKLY', scan_hour: 3, scan_timezone: 'America/New_York', scan_interval_hours: null, scan_day_of_week: 1, scan_day_of_month: null }],
    [{ frequency: ScheduleFrequency.MONTHLY, dayOfMonth: 28 }, { scan_frequency: 'MONTHLY', scan_hour: 0, scan_timezone: 'UTC', scan_interval_hours: null, scan_day_of_week: null, scan_day_of_month: 28 }],
  ])('schedule %j is Prowler Cloud\'s %j on every account that connected, in bulk; a changed one is sent again', async (schedule, attributes) => {
    h = await harness({ cloud: true, connectionRule: (p) => ({ connected: p.uid !== activeAccounts(h.org)[2].id, error: 'AccessDenied' }) });
    const report = await h.run({ schedule });
    const failing = activeAccounts(h.org)[2].id;
    for (const a of report.accounts.filter((x) => x.selected)) {
      const stored = h.double.cloud.schedules().get(a.providerId!);
      if (a.accountId === failing) expect(stored).toBeUndefined();
      else expect(stored).toEqual({ scan_enabled: true, ...attributes });
    }
    const bulks = h.double.requests.filter((r) => r.path.endsWith('/schedules/bulk'));
    expect(bulks).toHaveLength(1);
    expect(bulks[0].body.data.attributes.provider_ids).not.toContain(report.accounts.find((a) => a.accountId === failing)!.providerId);
    expect(h.double.requests.some((r) => /\/scans(\/bulk)?$/.test(r.path) && r.method === 'POST')).toBe(false);
    const again = await h.run({ schedule: { ...schedule, hour: 23 } });
    expect(again.accounts.filter((a) => a.selected && a.accountId !== failing).every((a) => a.writes?.includes('schedule-scans'))).toBe(true);
    expect([...h.double.cloud.schedules().values()].every((s) => s.scan_hour === 23)).toBe(true);
  });

  test('a schedule\'s per-provider failure is that account\'s failure, in Prowler\'s words', async () => {
    h = await harness({ cloud: { scheduleFailure: (p) => (p.uid === activeAccounts(h.org)[1].id ? 'The provider is not allowed to be scheduled.' : undefined) } });
    const report = await h.run();
    expect(report.outcome).toBe('succeeded');
    expect(report.accounts.find((a) => a.accountId === activeAccounts(h.org)[1].id)).toMatchObject({
      failedAt: 'launch', error: expect.stringContaining('The provider is not allowed to be scheduled.'),
    });
    expect(report.counts.scheduled).toBe(activeAccounts(h.org).length - 1);
  });

  test('scanMode once scans exactly the selected accounts, one by one (never the organization\'s bulk scan)', async () => {
    h = await harness({ cloud: true });
    const report = await h.run({ scanMode: ScanMode.ONCE });
    const scans = h.double.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/scans');
    expect(scans).toHaveLength(report.counts.connected);
    // The accounts of the Prowler organization, and only they.
    const [organization] = h.double.cloud.organizations();
    const linked = new Set(h.double.cloud.providersOf(organization.id).map((p) => p.id));
    expect(scans.map((r) => r.body.data.relationships.provider.data.id).every((id) => linked.has(id))).toBe(true);
    expect(linked.size).toBe(activeAccounts(h.org).length);
    expect(h.double.requests.some((r) => r.path.endsWith('/scans/bulk'))).toBe(false);
    expect(h.double.cloud.schedules().size).toBe(0);
  });

  test('a changed role name rotates the credential once (PATCH), and every linked account is tested again', async () => {
    h = await harness({ cloud: true, connectionRule: () => ({ connected: true }) });
    await h.run();
    const plan = await h.run({ dryRun: true, roleName: 'ProwlerScan2' });
    expect(plan.cloud).toMatchObject({ credential: 'rotate' });
    expect(plan.accounts.filter((a) => a.selected).every((a) => a.writes?.includes('test-connection'))).toBe(true);
    await h.run({ roleName: 'ProwlerScan2' });
    expect(h.double.cloud.credentialPatches()).toBe(1);
    const before = h.double.requests.length;
    await h.run({ roleName: 'ProwlerScan2' });
    expect(writesSince(h, before)).toEqual([]);
  });

  test('an existing organization and credential made in Prowler\'s UI are used, and the credential is kept (its values cannot be read)', async () => {
    h = await harness({ cloud: true });
    const organization = h.double.cloud.seedOrganization(h.org.id, {
      credential: { role_arn: `arn:aws:iam::${h.org.managementAccountId}:role/ProwlerScan`, external_id: h.double.tenantId },
    });
    const report = await h.run();
    expect(report.cloud).toMatchObject({ organizationId: organization.id, organization: 'exists', credential: 'keep', credentialKnown: false });
    expect(h.double.cloud.organizations()).toHaveLength(1);
    expect(h.double.cloud.credentialPatches()).toBe(0);
    expect(h.double.requests.some((r) => r.path === '/api/v1/organization-secrets' && r.method === 'POST')).toBe(false);
  });

  test('a credential made by hand that Prowler cannot authenticate with is rewritten once, and the discovery starts again', async () => {
    h = await harness({ cloud: true });
    const organization = h.double.cloud.seedOrganization(h.org.id, { credential: { role_arn: 'arn:aws:iam::999999999999:role/Wrong', external_id: h.double.tenantId } });
    const report = await h.run();
    expect(report.outcome).toBe('succeeded');
    expect(report.warnings.join('\n')).toMatch(/Authentication failed.*rewritten with the management account's role and the discovery started again/s);
    expect(h.double.cloud.credentialPatches()).toBe(1);
    expect(h.double.cloud.credential(organization.id)?.secret).toEqual({ role_arn: `arn:aws:iam::${h.org.managementAccountId}:role/ProwlerScan`, external_id: h.double.tenantId });
    expect(h.double.requests.filter((r) => r.method === 'POST' && /\/discover$/.test(r.path))).toHaveLength(2);
    // Now written by this onboarding: known, and kept.
    const before = h.double.requests.length;
    await h.run();
    expect(writesSince(h, before)).toEqual([]);
  });

  test('a credential write cut short is rewritten by the next run (the record said it was being written)', async () => {
    h = await harness({ cloud: true });
    await h.run();
    const [organization] = h.double.cloud.organizations();
    // As a run killed between its checkpoint and Prowler's answer leaves it.
    h.record = { ...h.record!, cloud: { ...h.record!.cloud, writing: 'a fingerprint whose write may not have happened' } };
    const plan = await h.run({ dryRun: true });
    expect(plan.cloud).toMatchObject({ credential: 'rotate' });
    await h.run();
    expect(h.double.cloud.credentialPatches(organization.id)).toBe(1);
    expect(h.record!.cloud).toEqual({ organizationId: organization.id, credential: expect.any(String) });
  });

  test('a credential creation cut short is adopted when found: it holds what was written, so nothing re-authenticates', async () => {
    h = await harness({ cloud: true });
    await h.run();
    const [organization] = h.double.cloud.organizations();
    const written = h.record!.cloud!.credential!;
    // As a run killed between POST /organization-secrets and its next save leaves the record.
    h.record = { ...h.record!, cloud: { organizationId: organization.id, writing: written, creatingCredential: true } };
    const plan = await h.run({ dryRun: true });
    expect(plan.cloud).toMatchObject({ credential: 'keep', credentialKnown: true });
    await h.run();
    expect(h.double.cloud.credentialPatches()).toBe(0);
    expect(h.record!.cloud).toEqual({ organizationId: organization.id, credential: written });
  });

  test('plan = apply on Prowler Cloud: what the plan lists is what the apply writes', async () => {
    h = await harness({ cloud: true });
    const [, own] = activeAccounts(h.org);
    h.double.seedProvider(own.id, { alias: 'Mine', connected: true, secret: { role_arn: 'arn:aws:iam::1:role/Custom', external_id: 'mine' } });
    const plan = await h.run({ dryRun: true, replaceCredentials: true });
    expect(plan.cloud).toMatchObject({ organization: 'create', credential: 'create' });
    const report = await h.run({ replaceCredentials: true });
    const planned = Object.fromEntries(plan.accounts.filter((a) => a.selected).map((a) => [a.accountId, [a.action, a.writes]]));
    const done = Object.fromEntries(report.accounts.filter((a) => a.selected).map((a) => [a.accountId, [a.action, a.writes]]));
    expect(done).toEqual(planned);
    expect(plan.cloud!.nodes).toEqual(report.cloud!.nodes);
  });
});

describe('Prowler Cloud: removal never cascades', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('destroy deletes only the providers this onboarding created, one by one; a linked user\'s provider stays; never DELETE /organizations or /organization-nodes', async () => {
    h = await harness({ cloud: true });
    const [, own] = activeAccounts(h.org);
    const mine = h.double.seedProvider(own.id, { alias: 'Mine', connected: false });
    await h.run({ removal: RemovalBehaviour.DESTROY });
    const created = Object.keys(h.record!.created);
    expect(h.record!.linked[mine.id]).toBe(own.id);
    const report = await offboard(h.org.id, RemovalBehaviour.DESTROY, h.prowler, undefined, h.record);
    expect(report.outcome).toBe('succeeded');
    const deletes = h.double.requests.filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => r.path).sort()).toEqual(created.map((id) => `/api/v1/providers/${id}`).sort());
    expect(h.double.providerByUid(own.id)?.id).toBe(mine.id);
    expect(h.double.cloud.organizations()).toHaveLength(1); // the organization stays, with what it still has
    expect(h.double.cloud.deletions()).toEqual([]);
  });

  test('retain (the default) leaves everything: an account leaving the selection keeps its provider, link and history', async () => {
    h = await harness({ cloud: true });
    await h.run();
    const [leaving] = activeAccounts(h.org);
    const report = await h.run({ selection: { excludeAccounts: [leaving.id] } });
    expect(report.departures).toEqual([expect.objectContaining({ accountId: leaving.id, outcome: 'retained' })]);
    const gone = await offboard(h.org.id, RemovalBehaviour.RETAIN, h.prowler, undefined, h.record);
    expect(gone.outcome).toBe('succeeded');
    expect(h.double.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(h.double.providers.size).toBe(activeAccounts(h.org).length);
  });

  test('destroy during a run: a created provider whose account left the selection is deleted by itself', async () => {
    h = await harness({ cloud: true });
    await h.run({ removal: RemovalBehaviour.DESTROY });
    const [leaving] = activeAccounts(h.org);
    const id = h.double.providerByUid(leaving.id)!.id;
    const report = await h.run({ removal: RemovalBehaviour.DESTROY, selection: { excludeAccounts: [leaving.id] } });
    expect(report.departures).toEqual([expect.objectContaining({ accountId: leaving.id, outcome: 'destroyed', origin: 'created' })]);
    expect(h.double.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/api/v1/providers/${id}`]);
  });

  test('unlink is refused on Prowler Cloud before anything is written, saying what to do instead', async () => {
    h = await harness({ cloud: true });
    await expect(h.run({ removal: RemovalBehaviour.UNLINK })).rejects.toThrow(/removal: 'unlink' is not available on Prowler Cloud.*Use 'retain'.*'destroy'/s);
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('which Prowler', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('a Prowler App server (404 on /organizations) takes the provider-group path, and the report says so', async () => {
    h = await harness();
    const report = await h.run();
    expect(report.edition).toBe('app');
    expect(report.outcome).toBe('succeeded');
    expect(h.double.requests.some((r) => r.path.endsWith('/provider-groups'))).toBe(true);
    expect(h.double.requests.filter((r) => /organization/.test(r.path)).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/v1/organizations']);
  });

  test('prowlerEdition cloud against a Prowler App fails before anything is written; app skips the question', async () => {
    h = await harness();
    await expect(h.run({ prowlerEdition: ProwlerEdition.CLOUD })).rejects.toThrow(/prowlerEdition is 'cloud', but this Prowler answers 404 on \/organizations: it is a self-hosted Prowler App/);
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const before = h.double.requests.length;
    await h.run({ prowlerEdition: ProwlerEdition.APP });
    expect(h.double.requests.slice(before).some((r) => /organizations/.test(r.path))).toBe(false);
  });

  test('on Prowler App, a schedule other than the daily default fails before anything is written', async () => {
    h = await harness();
    await expect(h.run({ schedule: { frequency: ScheduleFrequency.WEEKLY, dayOfWeek: 1 } })).rejects.toThrow(/schedule: frequency 'weekly' needs Prowler Cloud's scheduler; this Prowler is a self-hosted Prowler App/);
    expect(h.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('prowlerEdition app against Prowler Cloud keeps today\'s path (providers in a group)', async () => {
    h = await harness({ cloud: true });
    const report = await h.run({ prowlerEdition: ProwlerEdition.APP });
    expect(report.edition).toBe('app');
    expect(h.double.cloud.organizations()).toEqual([]);
  });
});

describe('the schedule option', () => {
  test.each([
    [{ frequency: 'weekly' }, 'schedule.dayOfWeek: is required with frequency \'weekly\''],
    [{ frequency: 'interval', intervalHours: 12 }, 'schedule.intervalHours: must be 24–8760 hours'],
    [{ frequency: 'monthly', dayOfMonth: 31 }, 'schedule.dayOfMonth: must be a day of the month, 1–28'],
    [{ hour: 24 }, 'schedule.hour: must be an hour of the day, 0–23'],
    [{ timeZone: 'Mars/Olympus' }, 'schedule.timeZone: must be an IANA time zone such as \'UTC\', \'Europe/Madrid\' or \'America/New_York\', got \'Mars/Olympus\''],
    [{ dayOfWeek: 2 }, 'schedule.dayOfWeek: is only for frequency \'weekly\' (frequency is \'daily\')'],
    [{ frequency: 'hourly' }, 'schedule.frequency: must be one of'],
  ])('%j is refused naming the field', (schedule, message) => {
    expect(() => parseOnboardingSpec({ schedule })).toThrow(message);
  });
});
