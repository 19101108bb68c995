import { RemovalBehaviour } from '../../src/core/spec';
import { offboard, organizationGroupName } from '../../src/handler/engine';
import { renderSummary } from '../../src/handler/report';
import { activeAccounts, harness, type Harness } from '../../testing/harness';

describe('accounts that leave the selection', () => {
  let h: Harness;
  afterEach(() => h.stop());

  async function onboardedThenNarrowed(removal?: RemovalBehaviour) {
    h = await harness();
    await h.run();
    const [, leaving1, leaving2] = activeAccounts(h.org);
    const before = h.double.requests.length;
    const report = await h.run({ selection: { excludeAccounts: [leaving1.id, leaving2.id] }, removal });
    return { report, leaving: [leaving1, leaving2], requests: h.double.requests.slice(before) };
  }

  test('retain (default): providers, credentials and history stay untouched, and are reported', async () => {
    const { report, leaving, requests } = await onboardedThenNarrowed();
    expect(report.departures.map((d) => [d.accountId, d.outcome, d.reason]).sort()).toEqual(leaving.map((a) => [a.id, 'retained', 'not selected: excludeAccounts']).sort());
    for (const a of leaving) {
      expect(h.double.providerByUid(a.id)).toBeDefined();
      expect(h.double.secretOf(a.id)).toBeDefined();
    }
    expect(requests.filter((r) => r.method === 'DELETE' || r.method === 'PATCH')).toEqual([]);
    expect(renderSummary(report)).toContain(`Left the selection:\n  ${leaving.map((a) => a.id).sort()[0]}`);
  });

  test('unlink: providers stay, with their history, outside the organization\'s group', async () => {
    const { report, leaving, requests } = await onboardedThenNarrowed(RemovalBehaviour.UNLINK);
    expect(report.departures.every((d) => d.outcome === 'unlinked')).toBe(true);
    const group = h.double.groupNamed(organizationGroupName(h.org.id));
    for (const a of leaving) {
      expect(h.double.providerByUid(a.id)).toBeDefined();
      expect(group.providerIds.has(h.double.providerByUid(a.id)!.id)).toBe(false);
    }
    expect(group.providerIds.size).toBe(16);
    expect(requests.some((r) => r.method === 'DELETE')).toBe(false);
  });

  test('destroy: only the departing providers are deleted', async () => {
    const { report, leaving } = await onboardedThenNarrowed(RemovalBehaviour.DESTROY);
    expect(report.departures.every((d) => d.outcome === 'destroyed')).toBe(true);
    for (const a of leaving) expect(h.double.providerByUid(a.id)).toBeUndefined();
    expect(h.double.providers.size).toBe(16);
  });

  test('an account gone from the organization is a departure too', async () => {
    h = await harness();
    await h.run();
    const gone = h.org.accounts.splice(3, 1)[0];
    const report = await h.run({ removal: RemovalBehaviour.UNLINK });
    expect(report.departures).toEqual([expect.objectContaining({ accountId: gone.id, reason: 'no longer in the organization', outcome: 'unlinked' })]);
  });

  test('a dry run reports what would happen, and does nothing', async () => {
    h = await harness();
    await h.run();
    const before = h.double.requests.length;
    const report = await h.run({ selection: { excludeAccounts: [activeAccounts(h.org)[1].id] }, removal: RemovalBehaviour.DESTROY, dryRun: true });
    expect(report.departures.map((d) => d.outcome)).toEqual(['destroyed']);
    expect(h.double.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(h.double.providers.size).toBe(18);
  });
});

describe('offboard (the onboarding is deleted)', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('retain (default) changes nothing in Prowler', async () => {
    h = await harness();
    await h.run();
    const before = h.double.requests.length;
    const report = await offboard(h.org.id, RemovalBehaviour.RETAIN, h.prowler, undefined, h.record);
    expect(report).toMatchObject({ outcome: 'succeeded', removal: 'retain' });
    expect(report.providers).toHaveLength(18);
    expect(h.double.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(h.double.providers.size).toBe(18);
  });

  test('unlink empties and removes the organization\'s group; providers and history stay', async () => {
    h = await harness();
    await h.run();
    const report = await offboard(h.org.id, RemovalBehaviour.UNLINK, h.prowler, undefined, h.record);
    expect(report.providers.every((p) => p.outcome === 'unlinked')).toBe(true);
    expect([...h.double.groups.values()].some((g) => g.name === organizationGroupName(h.org.id))).toBe(false);
    expect(h.double.providers.size).toBe(18);
    expect(h.double.secrets.size).toBe(18);
  });

  test('destroy deletes the organization\'s providers, and only them', async () => {
    h = await harness();
    const stranger = h.double.seedProvider('999999999999', { alias: 'not in this organization' });
    await h.run();
    const report = await offboard(h.org.id, RemovalBehaviour.DESTROY, h.prowler, undefined, h.record);
    expect(report.providers.every((p) => p.outcome === 'destroyed')).toBe(true);
    expect([...h.double.providers.values()]).toEqual([stranger]);
  });

  test('tolerates everything being gone already (a second delete, a provider deleted by hand)', async () => {
    h = await harness();
    await h.run();
    const [, first] = activeAccounts(h.org);
    h.double.providers.delete(h.double.providerByUid(first.id)!.id);
    expect((await offboard(h.org.id, RemovalBehaviour.DESTROY, h.prowler, undefined, h.record)).outcome).toBe('succeeded');
    expect(await offboard(h.org.id, RemovalBehaviour.DESTROY, h.prowler, undefined, h.record)).toMatchObject({ outcome: 'succeeded', providers: [] });
    expect(await offboard('o-neveronboarded', RemovalBehaviour.UNLINK, h.prowler)).toMatchObject({ outcome: 'succeeded', providers: [] });
  });
});

describe('nothing a user had is lost: removal goes no further than what the onboarding did', () => {
  let h: Harness;
  afterEach(() => h.stop());

  test('destroy deletes what the onboarding created; a user\'s provider it linked is only unlinked, with its history; one added by hand is left alone', async () => {
    h = await harness();
    const [, mine] = activeAccounts(h.org);
    const users = h.double.seedProvider(mine.id, { alias: 'My production', connected: true, secret: { role_arn: `arn:aws:iam::${mine.id}:role/ProwlerScan`, external_id: h.double.tenantId } });
    h.double.scans.push(users.id); // its scan history
    await h.run();
    expect(h.record?.linked).toEqual({ [users.id]: mine.id });
    expect(Object.keys(h.record!.created)).toHaveLength(17);
    const byHand = h.double.seedProvider('999999999998', { alias: 'added by hand', groupName: organizationGroupName(h.org.id) });

    const report = await offboard(h.org.id, RemovalBehaviour.DESTROY, h.prowler, undefined, h.record);
    const outcome = (id: string) => report.providers.find((p) => p.providerId === id)!.outcome;
    expect([outcome(users.id), outcome(byHand.id)]).toEqual(['unlinked', 'retained']);
    expect(report.providers.filter((p) => p.outcome === 'destroyed')).toHaveLength(17);
    expect([...h.double.providers.values()].map((p) => p.id).sort()).toEqual([users.id, byHand.id].sort());
    expect(h.double.secretOf(mine.id)).toBeDefined();
    // The group stays while a member the onboarding never recorded is in it.
    expect(h.double.groupNamed(organizationGroupName(h.org.id)).providerIds).toEqual(new Set([byHand.id]));
    expect(h.record).toMatchObject({ created: {}, linked: {}, secrets: {}, schedules: {} });
  });

  test('a sync never touches a provider added to the group by hand', async () => {
    h = await harness();
    await h.run();
    const byHand = h.double.seedProvider('999999999997', { alias: 'added by hand', groupName: organizationGroupName(h.org.id) });
    const report = await h.run({ removal: RemovalBehaviour.DESTROY });
    expect(report.departures).toEqual([expect.objectContaining({ providerId: byHand.id, origin: 'unrecorded', outcome: 'retained' })]);
    expect(h.double.providers.get(byHand.id)).toBeDefined();
    expect(h.double.requests.some((r) => r.method === 'DELETE' || r.method === 'PATCH')).toBe(false);
  });

  test('without a record (the CLI), destroy never deletes: it unlinks', async () => {
    h = await harness();
    h.record = undefined;
    await h.run();
    const [, leaving] = activeAccounts(h.org);
    const report = await h.run({ selection: { excludeAccounts: [leaving.id] }, removal: RemovalBehaviour.DESTROY });
    expect(report.departures).toEqual([expect.objectContaining({ accountId: leaving.id, origin: 'linked', outcome: 'unlinked' })]);
    expect(h.double.providerByUid(leaving.id)).toBeDefined();
  });
});
