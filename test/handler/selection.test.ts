import type { OrganizationSnapshot } from '../../src/handler/organizations';
import { accountsNeedingTags, aliasFor, needsTags, selectAccounts, unknownSelectionIds } from '../../src/handler/selection';

/** A small organization by hand: root → Security, Workloads → Prod (nested), Sandbox. */
function snapshot(): OrganizationSnapshot {
  const units = new Map([
    ['r-root', { id: 'r-root', name: 'Root', depth: 0 }],
    ['ou-root-security', { id: 'ou-root-security', name: 'Security', parentId: 'r-root', depth: 1 }],
    ['ou-root-workload', { id: 'ou-root-workload', name: 'Workloads', parentId: 'r-root', depth: 1 }],
    ['ou-root-prodprod', { id: 'ou-root-prodprod', name: 'Prod', parentId: 'ou-root-workload', depth: 2 }],
    ['ou-root-sandboxx', { id: 'ou-root-sandboxx', name: 'Sandbox', parentId: 'r-root', depth: 1 }],
  ]);
  const account = (id: string, name: string, parentId: string, status = 'ACTIVE', tags: Record<string, string> = {}) => ({ id, name, parentId, status, tags });
  return {
    organization: { id: 'o-abc123def4', arn: '', managementAccountId: '100000000000' },
    units,
    rootIds: ['r-root'],
    accounts: [
      account('100000000000', 'management', 'r-root'),
      account('200000000000', 'security-tooling', 'ou-root-security'),
      account('300000000000', 'workload-dev', 'ou-root-workload', 'ACTIVE', { environment: 'dev' }),
      account('400000000000', 'payments-prod', 'ou-root-prodprod', 'ACTIVE', { environment: 'prod' }),
      account('500000000000', 'sandbox-1', 'ou-root-sandboxx', 'ACTIVE', { 'prowler-scan': 'false' }),
      account('600000000000', 'old', 'ou-root-workload', 'SUSPENDED'),
      account('700000000000', 'closing', 'ou-root-prodprod', 'PENDING_CLOSURE'),
    ],
    depth: 2,
    calls: 0,
  };
}

const decisions = (selection: Parameters<typeof selectAccounts>[1]) =>
  Object.fromEntries(selectAccounts(snapshot(), selection).decisions.map((d) => [d.account.name, `${d.selected ? '+' : '-'} ${d.reason}`]));

describe('selection', () => {
  test('no targets: the whole organization, only ACTIVE accounts, with reasons', () => {
    const result = selectAccounts(snapshot(), {});
    expect(result.summary).toBe('5 of 7 accounts selected');
    expect(decisions({})).toEqual({
      'management': '+ management account',
      'security-tooling': '+ targets r-root (Root)',
      'workload-dev': '+ targets r-root (Root)',
      'payments-prod': '+ targets r-root (Root)',
      'sandbox-1': '+ targets r-root (Root)',
      'old': '- status SUSPENDED (only ACTIVE accounts can be scanned)',
      'closing': '- status PENDING_CLOSURE (only ACTIVE accounts can be scanned)',
    });
  });

  test('an OU target selects every account below it, at any depth; the management account stays in unless excluded', () => {
    expect(decisions({ targets: ['ou-root-workload'] })).toMatchObject({
      'management': '+ management account',
      'security-tooling': '- outside the targets',
      'workload-dev': '+ targets ou-root-workload (Workloads)',
      'payments-prod': '+ targets ou-root-workload (Workloads)',
    });
    expect(decisions({ targets: ['ou-root-workload'], includeManagementAccount: false }).management).toBe('- includeManagementAccount: false');
  });

  test('the nearest of excludeOus and targets decides, so a nested target inside an excluded OU is selected', () => {
    expect(decisions({ excludeOus: ['ou-root-workload'] })).toMatchObject({
      'workload-dev': '- excludeOus ou-root-workload (Workloads)',
      'payments-prod': '- excludeOus ou-root-workload (Workloads)',
    });
    expect(decisions({ excludeOus: ['ou-root-workload'], targets: ['r-root', 'ou-root-prodprod'] })['payments-prod']).toBe('+ targets ou-root-prodprod (Prod)');
  });

  test('individual accounts: excludeAccounts wins over everything, includeAccounts adds from anywhere', () => {
    expect(decisions({ targets: ['ou-root-security'], includeAccounts: ['500000000000'], excludeAccounts: ['200000000000'] })).toMatchObject({
      'security-tooling': '- excludeAccounts',
      'sandbox-1': '+ includeAccounts',
    });
  });

  test('onlyAccounts (a StackSet\'s INTERSECTION): only those member accounts, the other rules decide among them', () => {
    expect(decisions({ targets: ['ou-root-workload'], onlyAccounts: ['400000000000', '500000000000'] })).toEqual({
      'management': '+ management account',
      'security-tooling': '- not in onlyAccounts',
      'workload-dev': '- not in onlyAccounts',
      'payments-prod': '+ targets ou-root-workload (Workloads)',
      'sandbox-1': '- outside the targets', // in onlyAccounts, but not below the targets
      'old': '- status SUSPENDED (only ACTIVE accounts can be scanned)',
      'closing': '- status PENDING_CLOSURE (only ACTIVE accounts can be scanned)',
    });
    expect(decisions({ onlyAccounts: ['400000000000'], includeManagementAccount: false }).management).toBe('- includeManagementAccount: false');
  });

  test('tag rules: excludeTags leaves out, includeTags restricts', () => {
    expect(decisions({ excludeTags: [{ key: 'prowler-scan', value: 'false' }] })['sandbox-1']).toBe('- excludeTags prowler-scan=false');
    expect(decisions({ includeTags: [{ key: 'environment', value: 'prod' }], includeManagementAccount: false })).toMatchObject({
      'payments-prod': '+ targets r-root (Root)',
      'workload-dev': '- no includeTags match (environment=prod)',
      'security-tooling': '- no includeTags match (environment=prod)',
    });
    expect(decisions({ includeTags: [{ key: 'environment' }] })['workload-dev']).toBe('+ targets r-root (Root)');
    expect(needsTags({ excludeTags: [{ key: 'x' }] })).toBe(true);
    expect(needsTags({ targets: ['r-root'] })).toBe(false);
  });

  test('tag rules only leave out what the other rules select, so only those accounts\' tags are read', () => {
    const selection = { targets: ['ou-root-workload'], includeAccounts: ['200000000000'], excludeTags: [{ key: 'prowler-scan', value: 'false' }] };
    // The management account and the ACTIVE accounts below the target; not the included one, nor those outside.
    expect(accountsNeedingTags(snapshot(), selection)).toEqual(['100000000000', '300000000000', '400000000000']);
    expect(accountsNeedingTags(snapshot(), { targets: ['ou-root-workload'] })).toEqual([]);
    // Outside the targets is the reason, whatever the account's tags.
    expect(decisions(selection)['sandbox-1']).toBe('- outside the targets');
    // Unread tags where they decide are a bug, never a silent "selected".
    const whole = snapshot();
    const unread = { ...whole, accounts: whole.accounts.map((a) => (a.id === '300000000000' ? { ...a, tags: undefined } : a)) };
    expect(() => selectAccounts(unread, selection)).toThrow(/tags of account 300000000000 were not read/);
  });

  test('statuses other than ACTIVE are never selectable, even when included by id', () => {
    expect(decisions({ includeAccounts: ['600000000000'] }).old).toBe('- status SUSPENDED (only ACTIVE accounts can be scanned)');
  });

  test('aliases: given per account, or from the pattern', () => {
    const s = snapshot();
    const dev = s.accounts[2];
    expect(aliasFor(dev, 'Workloads', {})).toBe('workload-dev');
    expect(aliasFor(dev, 'Workloads', { aliasPattern: '{ou}/{name} ({id})' })).toBe('Workloads/workload-dev (300000000000)');
    expect(aliasFor(dev, 'Workloads', { aliases: { 300000000000: 'Dev' } })).toBe('Dev');
    expect(aliasFor({ ...dev, name: 'x' }, 'Workloads', {})).toBe('x (300000000000)');
    const decided = selectAccounts(s, { aliasPattern: '{ou}-{name}' }).decisions.find((d) => d.account.id === '400000000000')!;
    expect(decided.alias).toBe('Prod-payments-prod');
  });
});

describe('ids the organization does not have', () => {
  test('each is named with its field, and the closest real id when it looks like a typo', () => {
    expect(unknownSelectionIds(snapshot(), {
      targets: ['r-root'],
      excludeOus: ['ou-root-prodprd'],
      excludeAccounts: ['400000000001', '999999999999'],
      aliases: { 500000000000: 'sandbox', 123456789012: 'nobody' },
    })).toEqual([
      "selection.excludeOus[0]: 'ou-root-prodprd' is not an OU of o-abc123def4 (did you mean 'ou-root-prodprod'?)",
      "selection.excludeAccounts[0]: '400000000001' is not an account of o-abc123def4 (did you mean '400000000000'?)",
      "selection.excludeAccounts[1]: '999999999999' is not an account of o-abc123def4",
      "selection.aliases.123456789012: '123456789012' is not an account of o-abc123def4",
    ]);
    expect(unknownSelectionIds(snapshot(), { targets: ['ou-root-workload'], includeAccounts: ['500000000000'] })).toEqual([]);
  });
});
