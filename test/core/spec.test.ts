import { apiUrlProblems, parseAccountSelection, parseOnboardingSpec, selectionWithinStackSet, specFileSchema, SpecError } from '../../src/core/spec';

function problems(input: unknown): string[] {
  try {
    parseAccountSelection(input);
    return [];
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

/** Bad selections: each must fail with the path of the problem and what is wrong. */
const BAD: Array<[string, unknown, RegExp]> = [
  ['not an object', 'everything', /^selection: must be an object, got string/],
  ['an unknown field', { target: ['r-ab12'] }, /^selection: unknown field 'target'/],
  ['targets not a list', { targets: 'r-ab12' }, /^selection.targets: must be an array, got string/],
  ['targets empty', { targets: [] }, /^selection.targets: must list at least one root or OU id/],
  ['a target is an OU name', { targets: ['Production'] }, /^selection.targets\[0\]: Must be an OU id or a root id.*got 'Production'.*looks like an OU name/],
  ['a target is an account id', { targets: ['123456789012'] }, /^selection.targets\[0\]: .*onlyAccounts or excludeAccounts/],
  ['a target is a number', { targets: [12] }, /^selection.targets\[0\]: must be a string, got 12$/],
  ['a target listed twice', { targets: ['r-ab12', 'r-ab12'] }, /^selection.targets: lists 'r-ab12' more than once/],
  ['an excluded OU is uppercase', { excludeOus: ['OU-AB12-ABCDEFGH'] }, /^selection.excludeOus\[0\]: .*\(ids are lowercase\)/],
  ['an excluded OU is also a target', { targets: ['ou-ab12-abcdefgh'], excludeOus: ['ou-ab12-abcdefgh'] }, /^selection.excludeOus: 'ou-ab12-abcdefgh' is also a target/],
  ['an included account has 11 digits', { includeAccounts: ['12345678901'] }, /^selection.includeAccounts\[0\]: Must be a valid AWS account ID.*leading zero/],
  ['an account id is a number (YAML reads it so)', { excludeAccounts: [123456789012] }, /^selection.excludeAccounts\[0\]: must be a string, got 123456789012: quote account ids \('012345678901'\), or a leading zero is lost$/],
  ['an account included and excluded', { includeAccounts: ['123456789012'], excludeAccounts: ['123456789012'] }, /^selection.includeAccounts: '123456789012' is also in excludeAccounts/],
  ['onlyAccounts empty', { onlyAccounts: [] }, /^selection.onlyAccounts: must list at least one account id/],
  ['an included account outside onlyAccounts', { onlyAccounts: ['123456789012'], includeAccounts: ['210987654321'] }, /^selection.includeAccounts: '210987654321' is not in onlyAccounts, so it can never be selected/],
  ['a tag rule without a key', { includeTags: [{ value: 'prod' }] }, /^selection.includeTags\[0\].key: is required/],
  ['a tag rule with an unknown field', { excludeTags: [{ key: 'env', values: ['x'] }] }, /^selection.excludeTags\[0\]: unknown field 'values'/],
  ['includeTags empty', { includeTags: [] }, /^selection.includeTags: must list at least one tag rule/],
  ['a tag key too long', { excludeTags: [{ key: 'k'.repeat(129) }] }, /^selection.excludeTags\[0\].key: must be a tag key of 1–128 characters/],
  ['includeManagementAccount as text', { includeManagementAccount: 'yes' }, /^selection.includeManagementAccount: must be a boolean, got string/],
  ['an alias too short', { aliases: { 123456789012: 'ab' } }, /^selection.aliases.123456789012: must be 3–100 characters/],
  ['an alias for a bad account id', { aliases: { 'prod-account': 'Production' } }, /^selection.aliases.prod-account: Must be a valid AWS account ID/],
  ['an alias pattern without a placeholder', { aliasPattern: 'AWS' }, /^selection.aliasPattern: must use \{name\}, \{id\} or \{ou\}/],
  ['an alias pattern with an unknown placeholder', { aliasPattern: '{name}-{env}' }, /^selection.aliasPattern: may only use the placeholders/],
];

describe('account selection spec', () => {
  test.each(BAD)('fails when %s', (_name, input, expected) => {
    const found = problems(input);
    expect(found.length).toBeGreaterThan(0);
    expect(found.some((p) => expected.test(p))).toBe(true);
  });

  test('lists every problem at once, each with its path', () => {
    const found = problems({ targets: ['Production', 'r-ab12'], excludeAccounts: ['1'], aliasPattern: 'x', unknown: true });
    expect(found).toHaveLength(4);
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['selection', 'selection.aliasPattern', 'selection.excludeAccounts[0]', 'selection.targets[0]']);
  });

  test('accepts a full selection and the empty one (the whole organization)', () => {
    expect(problems({})).toEqual([]);
    expect(problems({
      targets: ['r-ab12', 'ou-ab12-abcdefgh'],
      excludeOus: ['ou-ab12-ijklmnop'],
      includeAccounts: ['123456789012'],
      excludeAccounts: ['210987654321'],
      includeTags: [{ key: 'environment', value: 'prod' }],
      excludeTags: [{ key: 'prowler-scan', value: 'false' }],
      includeManagementAccount: false,
      aliases: { 123456789012: 'Payments prod' },
      aliasPattern: '{ou}/{name}',
    })).toEqual([]);
  });
});

describe('the one-liner\'s selection: the StackSet\'s reach, refined', () => {
  const stackSet = { targets: ['ou-ab12-workload'], excludeAccounts: ['111111111111'] };

  test('by default the StackSet\'s targets and account filter are the selection', () => {
    expect(selectionWithinStackSet(stackSet, undefined)).toEqual({
      selection: { targets: ['ou-ab12-workload'], excludeAccounts: ['111111111111'] }, problems: [], warnings: [],
    });
    expect(selectionWithinStackSet({ targets: ['r-ab12'], onlyAccounts: ['222222222222'] }, undefined).selection).toEqual({ targets: ['r-ab12'], onlyAccounts: ['222222222222'] });
  });

  test('a selection without targets refines the StackSet\'s; its exclusions add to the StackSet\'s', () => {
    const { selection, problems: found, warnings } = selectionWithinStackSet(stackSet, { excludeTags: [{ key: 'prowler', value: 'off' }], excludeAccounts: ['333333333333'] });
    expect(selection).toEqual({ targets: ['ou-ab12-workload'], excludeTags: [{ key: 'prowler', value: 'off' }], excludeAccounts: ['333333333333', '111111111111'] });
    expect([found, warnings]).toEqual([[], []]);
  });

  test('an account the StackSet leaves without a role is an error that names both lists', () => {
    expect(selectionWithinStackSet(stackSet, { includeAccounts: ['111111111111'] }).problems).toEqual([
      "selection.includeAccounts lists '111111111111', but the StackSet's excludeAccounts [111111111111] gives it no ProwlerScan role: remove it from one of them",
    ]);
    expect(selectionWithinStackSet({ targets: ['r-ab12'], onlyAccounts: ['222222222222'] }, { includeAccounts: ['444444444444'], onlyAccounts: ['444444444444'] }).problems).toEqual([
      "selection.includeAccounts lists '444444444444', but the StackSet's onlyAccounts [222222222222] gives it no ProwlerScan role: add it there too",
      "selection.onlyAccounts lists '444444444444', but the StackSet's onlyAccounts [222222222222] gives it no ProwlerScan role: add it there too",
    ]);
  });

  test('a target that is not one of the StackSet\'s is a warning (it may be an OU below them); none when the StackSet targets a root', () => {
    expect(selectionWithinStackSet(stackSet, { targets: ['ou-ab12-workload', 'ou-ab12-sandboxx'] }).warnings).toEqual([
      'selection.targets [ou-ab12-sandboxx] is not among the StackSet\'s targets [ou-ab12-workload]: accounts that are not below one of those have no ProwlerScan role '
      + 'and can never connect (connection tests do not wait for them)',
    ]);
    expect(selectionWithinStackSet({ targets: ['r-ab12'] }, { targets: ['ou-ab12-sandboxx'] }).warnings).toEqual([]);
  });
});

describe('the Prowler API URL', () => {
  test.each([
    ['https://api.prowler.com/api/v1', []],
    ['http://10.0.1.20:8080/api/v1', []],
    ['https://api.prowler.com/api/v1/', ["prowlerApiUrl must be an http(s) URL without a trailing slash, such as https://api.prowler.com/api/v1 (self-hosted: http://<host>:8080/api/v1), got 'https://api.prowler.com/api/v1/'"]],
    ['ftp://prowler/api', [expect.stringMatching(/^prowlerApiUrl must be an http\(s\) URL/)]],
    ['https://admin:hunter22@prowler.internal/api/v1', ["prowlerApiUrl must not contain credentials (the API key comes from Secrets Manager), got 'https://[credentials]@prowler.internal/api/v1'"]],
    ['https://prowler.internal/api/v1?token=abc', ["prowlerApiUrl must not have a query string, got 'https://prowler.internal/api/v1?token=abc'"]],
    ['https://prowler.internal/api/v1#frag', ["prowlerApiUrl must not have a fragment, got 'https://prowler.internal/api/v1#frag'"]],
  ])('%s', (url, expected) => {
    expect(apiUrlProblems(url)).toEqual(expected);
    expect(apiUrlProblems(url).join(' ')).not.toContain('hunter22');
  });

  test('a spec file with credentials in the URL is refused without showing them', () => {
    const result = specFileSchema.safeParse({ prowlerApiUrl: 'https://admin:hunter22@prowler.internal/api/v1' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('must not contain credentials');
    expect(JSON.stringify(result.error?.issues.map((i) => i.message))).not.toContain('hunter22');
  });
});

describe('every spec message shows the value it got', () => {
  const problemsOf = (input: unknown) => {
    try {
      parseOnboardingSpec(input);
      return [];
    } catch (error) {
      return (error as SpecError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  test.each([
    [{ connection: { retryRounds: 50 } }, 'connection.retryRounds: must be 0–10 rounds, got 50'],
    [{ connection: { retryDelaySeconds: Infinity } }, 'connection.retryDelaySeconds: must be a finite number, got Infinity'],
    [{ concurrency: 0 }, 'concurrency: must be 1–100, got 0'],
    [{ scanMode: 'hourly' }, "scanMode: must be one of 'daily', 'once', 'none', got 'hourly'"],
    [{ removal: 5 }, "removal: must be one of 'retain', 'unlink', 'destroy', got 5"],
    [{ localPrecheck: 'yes' }, "localPrecheck: must be a boolean, got string 'yes'"],
    [{ selection: { aliases: { 123456789012: 'ab' } } }, "selection.aliases.123456789012: must be 3–100 characters (a Prowler alias), got 'ab'"],
  ])('%j', (input, expected) => {
    expect(problemsOf(input)).toEqual([expected]);
  });

  test('a long value is cut to about 80 characters, never echoed whole', () => {
    const [problem] = problemsOf({ externalId: 'x'.repeat(1_000_000) });
    expect(problem).toMatch(/^externalId: Must be a valid External ID: .*, got 'x{77}…'$/);
    expect(problem.length).toBeLessThan(300);
  });
});
