import { parseAccountSelection, SpecError } from '../../src/core/spec';

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
  ['a target is a number', { targets: [12] }, /^selection.targets\[0\]: must be a string, got number/],
  ['a target listed twice', { targets: ['r-ab12', 'r-ab12'] }, /^selection.targets: lists 'r-ab12' more than once/],
  ['an excluded OU is uppercase', { excludeOus: ['OU-AB12-ABCDEFGH'] }, /^selection.excludeOus\[0\]: .*\(ids are lowercase\)/],
  ['an excluded OU is also a target', { targets: ['ou-ab12-abcdefgh'], excludeOus: ['ou-ab12-abcdefgh'] }, /^selection.excludeOus: 'ou-ab12-abcdefgh' is also a target/],
  ['an included account has 11 digits', { includeAccounts: ['12345678901'] }, /^selection.includeAccounts\[0\]: Must be a valid AWS account ID.*leading zero/],
  ['an account id is a number', { excludeAccounts: [123456789012] }, /^selection.excludeAccounts\[0\]: must be a string, got number/],
  ['an account included and excluded', { includeAccounts: ['123456789012'], excludeAccounts: ['123456789012'] }, /^selection.includeAccounts: '123456789012' is also in excludeAccounts/],
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
