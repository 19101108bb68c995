/**
 * `stateBucket` in a spec file: the CLI keeps the onboarding's record there and takes the same
 * lease as the construct's functions, so two applies (or an apply and a sync) never write to
 * Prowler together. Prowler's membership endpoint can only replace a group's members whole
 * (its DELETE clears them all), so a removal is read-then-write: two runs at once could drop
 * each other's additions; one at a time they cannot.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main';
import { STATE_KEYS } from '../../src/core/onboarding';
import { organizationGroupName } from '../../src/handler/engine';
import type { Lease } from '../../src/handler/lease';
import type { OnboardingRecord } from '../../src/handler/record';
import { MemoryJsonStore } from '../../src/handler/store';
import { generateOrganization } from '../../testing/organization';
import { ProwlerApiDouble } from '../../testing/prowler-api-double';

const KEY = 'pk_StateCLI.the-key';
const ORG = generateOrganization({ accounts: 12, ous: 3, depth: 2, seed: 41 });
const ACTIVE = ORG.accounts.filter((a) => a.status === 'ACTIVE');
const dir = mkdtempSync(join(tmpdir(), 'prowler-org-state-'));
const FIXTURE = join(dir, 'organization.json');
writeFileSync(FIXTURE, JSON.stringify(ORG));

let n = 0;
async function cli(command: 'plan' | 'apply', spec: object, store: MemoryJsonStore) {
  const path = join(dir, `spec-${n++}.yaml`);
  writeFileSync(path, stringify(spec));
  let err = '';
  const code = await main([command, path, '--simulate', FIXTURE, ...(command === 'apply' ? ['--yes'] : [])], {
    out: () => {}, err: (t) => (err += t), env: { PROWLER_API_KEY: KEY }, isTty: false, store: () => store,
  });
  return { code, err };
}

describe('prowler-org with a stateBucket', () => {
  let double: ProwlerApiDouble;
  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY], latencyMs: 5 }).start();
  });
  afterEach(() => double.stop());
  const spec = (extra: object = {}) => ({ prowlerApiUrl: double.url, stateBucket: 'prowler-onboarding-state', connection: { retryRounds: 0 }, ...extra });

  test('two applies at once: one waits for the other, both succeed, every account once and grouped', async () => {
    const store = new MemoryJsonStore();
    const [a, b] = await Promise.all([cli('apply', spec({ removal: 'unlink' }), store), cli('apply', spec({ removal: 'unlink' }), store)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([a.err, b.err].filter((e) => /waiting: a cli run of this onboarding \(cli:[^)]*\) holds its lease since /.test(e))).toHaveLength(1);
    expect([...double.providers.values()].map((p) => p.uid).sort()).toEqual(ACTIVE.map((x) => x.id).sort());
    const group = double.groupNamed(organizationGroupName(ORG.id));
    expect(group.providerIds.size).toBe(ACTIVE.length);
    // The lease is given back.
    expect((await store.load<Lease>(STATE_KEYS.lease))?.expiresAt).toBe(0);
  }, 60_000);

  test('a lease held by the construct\'s sync makes an apply wait; a plan does not wait and writes nothing', async () => {
    const store = new MemoryJsonStore();
    await store.save(STATE_KEYS.lease, { owner: 'sync:abc', kind: 'sync', expiresAt: Date.now() + 2_500 } satisfies Lease);
    const planned = await cli('plan', spec(), store);
    expect(planned.code).toBe(2); // changes to make, planned at once
    expect(planned.err).not.toMatch(/waiting/);
    expect(double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const applied = await cli('apply', spec(), store);
    expect(applied.code).toBe(0);
    expect(applied.err).toMatch(/waiting: a sync run of this onboarding \(sync:abc\) holds its lease, until /);
  }, 60_000);

  test('an apply that waited for the lease reads the record after it: what a sync created meanwhile stays created (issue 25, finding 6)', async () => {
    const store = new MemoryJsonStore();
    await store.save(STATE_KEYS.lease, { owner: 'sync:abc', kind: 'sync', expiresAt: Date.now() + 60_000 } satisfies Lease);
    const applying = cli('apply', spec({ removal: 'destroy' }), store);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the apply is waiting for the lease
    // Meanwhile the sync creates three providers, records them and gives the lease back.
    const bySync = ACTIVE.slice(1, 4).map((a) => double.seedProvider(a.id, { connected: true, groupName: organizationGroupName(ORG.id) }));
    await store.save(STATE_KEYS.record, { created: Object.fromEntries(bySync.map((p) => [p.id, p.uid])), linked: {} } satisfies OnboardingRecord);
    await store.save(STATE_KEYS.lease, { owner: 'sync:abc', kind: 'sync', expiresAt: 0 } satisfies Lease);
    expect((await applying).code).toBe(0);
    const record = (await store.load<OnboardingRecord>(STATE_KEYS.record))!;
    expect(bySync.map((p) => record.created[p.id])).toEqual(bySync.map((p) => p.uid));
    expect(bySync.filter((p) => p.id in record.linked)).toEqual([]);
  }, 60_000);

  test('the record is kept: scanMode once starts one scan per account however often it is applied, and destroy removes only what was created', async () => {
    const store = new MemoryJsonStore();
    const theirs = double.seedProvider(ACTIVE[0].id); // the user's own, from before
    expect((await cli('apply', spec({ scanMode: 'once' }), store)).code).toBe(0);
    expect((await cli('apply', spec({ scanMode: 'once' }), store)).code).toBe(0);
    expect(double.scans).toHaveLength(ACTIVE.length);
    const record = (await store.load<OnboardingRecord>(STATE_KEYS.record))!;
    expect(Object.keys(record.linked)).toEqual([theirs.id]);
    expect(Object.keys(record.created)).toHaveLength(ACTIVE.length - 1);

    const leaving = ACTIVE.slice(0, 3).map((x) => x.id);
    expect((await cli('apply', spec({ scanMode: 'once', removal: 'destroy', selection: { excludeAccounts: leaving } }), store)).code).toBe(0);
    expect(double.providerByUid(ACTIVE[0].id)?.id).toBe(theirs.id); // linked, so only unlinked
    expect(leaving.slice(1).map((id) => double.providerByUid(id))).toEqual([undefined, undefined]);
  }, 60_000);

  test('an apply that fails after creating providers still records them, as created (what a later destroy may remove), and gives the lease back', async () => {
    await double.stop();
    // The provider group cannot be created (a key without "Manage Providers" on groups, say): the
    // run fails after every provider was registered.
    double = await new ProwlerApiDouble({
      apiKeys: [KEY],
      latencyMs: 5,
      fault: ({ method, path }) => (method === 'POST' && /\/provider-groups$/.test(path) ? { status: 403 } : undefined),
    }).start();
    const store = new MemoryJsonStore();
    const failed = await cli('apply', spec(), store);
    expect(failed.code).toBe(1);
    expect(double.providers.size).toBe(ACTIVE.length);
    const record = await store.load<OnboardingRecord>(STATE_KEYS.record);
    expect(Object.keys(record?.created ?? {}).sort()).toEqual([...double.providers.keys()].sort()); // before: no record at all
    expect((await store.load<Lease>(STATE_KEYS.lease))?.expiresAt).toBe(0);
  }, 60_000);
});

describe('prowler-org without a stateBucket', () => {
  test('removal: destroy is refused before anything is read, saying why; a plan says once what it cannot know', async () => {
    const double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
    try {
      const path = join(dir, `spec-${n++}.yaml`);
      writeFileSync(path, stringify({ prowlerApiUrl: double.url, removal: 'destroy' }));
      let err = '';
      const io = { out: () => {}, err: (t: string) => (err += t), env: { PROWLER_API_KEY: KEY }, isTty: false };
      for (const command of ['validate', 'plan', 'apply']) {
        err = '';
        expect(await main([command, path, '--simulate', FIXTURE, '--yes'], io)).toBe(1);
        expect(err).toMatch(/removal: 'destroy' needs stateBucket: without the onboarding's record in a bucket, nothing shows which providers this onboarding created/);
      }
      expect(double.requests).toEqual([]);
      writeFileSync(path, stringify({ prowlerApiUrl: double.url, removal: 'unlink' }));
      err = '';
      expect(await main(['plan', path, '--simulate', FIXTURE], io)).toBe(2);
      expect(err.match(/note: without stateBucket, no record of this onboarding is kept/g)).toHaveLength(1);
    } finally {
      await double.stop();
    }
  }, 60_000);
});
