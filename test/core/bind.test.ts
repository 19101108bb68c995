import { bind, bindAll, placeholdersIn } from '../../src/core/bind';

describe('bind', () => {
  test('replaces every placeholder in one pass, never re-scanning a bound value', () => {
    expect(bind('arn:${Partition}:iam::${TrustedAccountId}:root', { Partition: '${Token[AWS.Partition.1]}', TrustedAccountId: '232136659152' }))
      .toBe('arn:${Token[AWS.Partition.1]}:iam::232136659152:root');
  });

  test('fails on a placeholder with no value, naming it', () => {
    expect(() => bind('${OrganizationId}/x', { Partition: 'aws' })).toThrow("no value bound for ${OrganizationId} in '${OrganizationId}/x'");
  });

  test('binds strings inside nested documents, leaving keys and other values alone', () => {
    expect(bindAll({ 'a:${Partition}': ['${Partition}', 3, true] }, { Partition: 'aws-cn' })).toEqual({ 'a:${Partition}': ['aws-cn', 3, true] });
    expect(placeholdersIn('${A}-${B}')).toEqual(['A', 'B']);
  });
});
