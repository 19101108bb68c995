import { checkFormat, checkList, show, validateMemberStackSet, validateScanRole } from '../../src/core/validate';

describe('validators', () => {
  test.each([
    ['organizationId', 'o-abc123def4', 'organizationId'],
    ['accountId', '123456789012', 'accountId'],
    ['roleArn', 'arn:aws:iam::123456789012:role/ProwlerScan', 'roleArn'],
    ['roleArn', 'arn:aws-us-gov:iam::123456789012:role/path/ProwlerScan', 'roleArn'],
    ['target', 'ou-ab12-abcdefgh', 'target'],
    ['target', 'r-ab12', 'target'],
    ['region', 'us-gov-west-1', 'region'],
    ['region', 'ap-southeast-5', 'region'],
    ['trustedPrincipal', 'user/prowler-app', 'trustedPrincipal'],
    ['trustedPrincipal', '*', 'trustedPrincipal'],
    ['externalId', '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', 'externalId'],
  ] as const)('accepts a valid %s: %s', (_name, value, format) => {
    expect(checkFormat('field', value, format)).toEqual([]);
  });

  test('an organization id message says "Must be a valid AWS Organization ID", names the field and shows the value', () => {
    expect(checkFormat('organizationId', 'O-123', 'organizationId')).toEqual([
      "organizationId: Must be a valid AWS Organization ID: expected 'o-' followed by 10–32 lowercase letters or digits, e.g. o-abc123def4, got 'O-123' (ids are lowercase)",
    ]);
  });

  test('a role ARN message says "Must be a valid IAM Role ARN"', () => {
    expect(checkFormat('roleArn', 'arn:aws:iam::123:user/x', 'roleArn')[0]).toContain('Must be a valid IAM Role ARN');
  });

  test('an OU name given for an OU id gets a hint to use the id', () => {
    expect(checkFormat('targets[0]', 'Production', 'target')[0]).toMatch(/looks like an OU name: use the OU id \(ou-…\)/);
  });

  test('an account id given as a target points to the account filters', () => {
    expect(checkFormat('targets[0]', '123456789012', 'target')[0]).toMatch(/onlyAccounts or excludeAccounts/);
  });

  test('an organization id given as a target points to the root', () => {
    expect(checkFormat('targets[0]', 'o-abc123def4', 'target')[0]).toMatch(/target its root/);
  });

  test('a principal given as an ARN is told to drop the account part', () => {
    expect(checkFormat('trustedPrincipal', 'arn:aws:iam::123456789012:role/prowler', 'trustedPrincipal')[0]).toMatch(/part after the account only/);
  });

  test('unresolved values are skipped', () => {
    const ctx = { isUnresolved: (v: unknown) => typeof v === 'string' && v.startsWith('${Token[') };
    expect(checkFormat('organizationId', '${Token[TOKEN.1]}', 'organizationId', ctx)).toEqual([]);
    expect(checkList('targets', ['${Token[TOKEN.2]}', 'bad'], 'target', ctx)).toHaveLength(1);
  });

  test('every problem is returned at once', () => {
    const problems = validateScanRole({ externalId: '', trustedAccountId: '12', roleName: 'has space', organizationId: 'o-1' });
    expect(problems).toHaveLength(5);
    expect(problems[4]).toBe('organizationId is only used with organizationDiscovery: true, got organizationDiscovery false');
  });

  test('lists are checked for length and duplicates', () => {
    const problems = validateMemberStackSet({ externalId: 'abc', targets: ['r-ab12', 'r-ab12'] });
    expect(problems).toEqual(["targets lists 'r-ab12' more than once"]);
    expect(validateMemberStackSet({ externalId: 'abc', targets: Array.from({ length: 51 }, (_, i) => `ou-ab12-${String(i).padStart(8, '0')}`) }))
      .toEqual(['targets must have 1–50 entries, got 51']);
  });

  test('values are shown quoted, with control characters visible and long values shortened', () => {
    expect(show(' x\n')).toBe("' x\\n'");
    expect(show('a'.repeat(100))).toHaveLength(82);
    expect(show(42)).toBe('42');
    expect(show(undefined)).toBe('nothing');
  });
});
