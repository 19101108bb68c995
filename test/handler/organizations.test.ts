import { ListTagsForResourceCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  beginDiscovery, continueDiscovery, discoverOrganization, organizationsClient, organizationsRegion, type DiscoveryProgress,
} from '../../src/handler/organizations';
import { awsError, generateOrganization, mockOrganizations, simulatedOrganizationsClient } from '../../testing/organization';

const client = () => new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } });

describe('discovery', () => {
  const org = generateOrganization({ accounts: 80, ous: 30, depth: 4, suspended: 2, pendingClosure: 1, closed: 1, seed: 7 });
  let mock: ReturnType<typeof mockOrganizations>;
  afterEach(() => mock.restore());

  test('finds the organization, its roots, the whole OU tree and every account with its status and parent', async () => {
    mock = mockOrganizations(org);
    const snapshot = await discoverOrganization(client());
    expect(snapshot.organization).toEqual({ id: org.id, arn: expect.stringContaining(org.id), managementAccountId: org.managementAccountId });
    expect(snapshot.rootIds).toEqual([org.roots[0].id]);
    expect(snapshot.units.size).toBe(31);
    expect(snapshot.depth).toBe(4);
    expect(snapshot.accounts).toHaveLength(80);
    const statuses = snapshot.accounts.reduce<Record<string, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
    expect(statuses).toEqual({ ACTIVE: 76, SUSPENDED: 2, PENDING_CLOSURE: 1, CLOSED: 1 });
    for (const a of snapshot.accounts) {
      expect(a.parentId).toBe(org.accounts.find((x) => x.id === a.id)!.parentId);
    }
    for (const ou of org.ous) expect(snapshot.units.get(ou.id)?.parentId).toBe(ou.parentId);
  });

  test('reads tags only when asked (one call per account)', async () => {
    mock = mockOrganizations(org);
    const without = await discoverOrganization(client());
    expect(mock.commandCalls(ListTagsForResourceCommand)).toHaveLength(0);
    expect(without.accounts[0].tags).toBeUndefined();
    const withTags = await discoverOrganization(client(), { withTags: true });
    expect(mock.commandCalls(ListTagsForResourceCommand)).toHaveLength(80);
    expect(withTags.accounts.every((a) => typeof a.tags?.environment === 'string')).toBe(true);
  });

  test('stopped at any point, continues from its progress saved as JSON: the same organization, no call made twice', async () => {
    let calls = 0;
    mock = mockOrganizations(org, undefined, async () => { calls++; });
    const whole = await discoverOrganization(client(), { withTags: true });
    const wholeCalls = calls;
    calls = 0;
    const everyAccount = (s: { accounts: readonly { id: string }[] }) => s.accounts.map((a) => a.id);
    let progress: DiscoveryProgress = await beginDiscovery(client());
    let snapshot: Awaited<ReturnType<typeof continueDiscovery>>;
    let steps = 0;
    do {
      const until = calls + 7;
      progress = JSON.parse(JSON.stringify(progress));
      snapshot = await continueDiscovery(client(), progress, { stop: () => calls >= until, tagsFor: everyAccount, concurrency: 2 });
      steps++;
    } while (!snapshot);
    expect(steps).toBeGreaterThan(10);
    expect(calls).toBe(wholeCalls);
    expect(snapshot.calls).toBe(wholeCalls);
    expect(snapshot.accounts).toEqual(whole.accounts);
    expect(snapshot.units).toEqual(whole.units);
    expect(snapshot.depth).toBe(whole.depth);
  });

  test('explains a denied discovery: management account or delegated administrator, with the actions', async () => {
    mock = mockOrganizations(org, (operation) => {
      if (operation === 'DescribeOrganization') throw awsError('AccessDeniedException', 'You don\'t have permissions to access this resource.');
      return undefined;
    });
    await expect(discoverOrganization(client())).rejects.toThrow(/run from the management account or a delegated administrator.*organizations:DescribeOrganization/);
  });

  test('explains an account outside any organization', async () => {
    mock = mockOrganizations(org, () => {
      throw awsError('AWSOrganizationsNotInUseException', 'Your account is not a member of an organization.');
    });
    await expect(discoverOrganization(client())).rejects.toThrow(/not in an AWS Organization/);
  });

  test('uses the partition\'s Organizations endpoint region', () => {
    expect(organizationsRegion('aws')).toBe('us-east-1');
    expect(organizationsRegion('aws-us-gov')).toBe('us-gov-west-1');
    expect(organizationsRegion('aws-cn')).toBe('cn-northwest-1');
  });

  test('configures adaptive retry', async () => {
    const c = organizationsClient('aws-cn');
    expect(await c.config.region()).toBe('cn-northwest-1');
    expect(await c.config.retryStrategy()).toHaveProperty('mode', 'adaptive');
  });
});

describe('discovery against a throttling Organizations endpoint (real SDK, fake transport)', () => {
  test('completes through TooManyRequestsException with the SDK\'s adaptive retry', async () => {
    const org = generateOrganization({ accounts: 120, ous: 40, depth: 3, seed: 3 });
    const { client: throttled, stats } = simulatedOrganizationsClient(org, { latencyMs: 5, ratePerSecond: 40 });
    const snapshot = await discoverOrganization(throttled, { concurrency: 16 });
    expect(snapshot.accounts).toHaveLength(120);
    expect(snapshot.units.size).toBe(41);
    expect(stats.throttled).toBeGreaterThan(0);
    expect(stats.served).toBe(snapshot.calls);
  }, 30_000);
});
