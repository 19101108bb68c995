import { QuickCreateLink } from '../../src/core';

describe('QuickCreateLink', () => {
  const templateUrl = 'https://my-bucket.s3.eu-west-1.amazonaws.com/prowler/prowler-scan-role.yaml';

  test('builds the console quick-create form with every value URL-encoded', () => {
    const url = QuickCreateLink.url({
      region: 'us-east-1',
      templateUrl,
      stackName: 'Prowler',
      parameters: { ExternalId: 'a1b2=c/3+4@x', EnableOrganizations: 'true', AWSOrganizationalUnitId: 'ou-ab12-abcdefgh,ou-cd34-ijklmnop' },
    });
    expect(url).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/quickcreate'
      + '?templateURL=https%3A%2F%2Fmy-bucket.s3.eu-west-1.amazonaws.com%2Fprowler%2Fprowler-scan-role.yaml'
      + '&stackName=Prowler&param_ExternalId=a1b2%3Dc%2F3%2B4%40x&param_EnableOrganizations=true'
      + '&param_AWSOrganizationalUnitId=ou-ab12-abcdefgh%2Cou-cd34-ijklmnop',
    );
    // The fragment's query string decodes back to exactly what was given.
    const query = new URLSearchParams(new URL(url).hash.split('?')[1]);
    expect(query.get('templateURL')).toBe(templateUrl);
    expect(query.get('param_ExternalId')).toBe('a1b2=c/3+4@x');
  });

  test('refuses a parameter value the template itself would reject once the form is filled in', () => {
    expect(() => QuickCreateLink.url({ region: 'us-east-1', templateUrl, parameters: { ExternalId: 'a1b2&c=3', AccountId: '1234', IAMPrincipal: 'prowler' } }))
      .toThrow(/parameters.ExternalId: Must be a valid External ID.*got 'a1b2&c=3'[\s\S]*parameters.AccountId: .*got '1234'[\s\S]*parameters.IAMPrincipal: .*got 'prowler'/);
  });

  test('uses the partition\'s console host', () => {
    const selfHosted = { AccountId: '222222222222', IAMPrincipal: 'role/prowler-app' }; // Prowler Cloud cannot be trusted there
    expect(QuickCreateLink.url({ region: 'cn-northwest-1', templateUrl, parameters: selfHosted })).toMatch(/^https:\/\/cn-northwest-1\.console\.amazonaws\.cn\//);
    expect(QuickCreateLink.url({ region: 'us-gov-west-1', templateUrl, parameters: selfHosted })).toMatch(/^https:\/\/us-gov-west-1\.console\.amazonaws-us-gov\.com\//);
  });

  test('fails on a bad region, a non-https URL, a bad stack name and a bad parameter name, all at once', () => {
    expect(() => QuickCreateLink.url({ region: 'moon-1', templateUrl: 'http://x', stackName: '1abc', parameters: { 'param-x': 'v' } }))
      .toThrow(/4 invalid properties[\s\S]*region[\s\S]*https:\/\/[\s\S]*stackName[\s\S]*param-x/);
  });
});
