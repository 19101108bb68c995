import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ProwlerMemberRoleStackSet, ProwlerOrganizationRoles, ProwlerScanRole } from '../../src/cdk';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const newStack = () => new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });

describe('ProwlerOrganizationRoles', () => {
  test('deploys the management role with Organizations discovery and the member StackSet, sharing one trust', () => {
    const stack = newStack();
    const roles = new ProwlerOrganizationRoles(stack, 'Prowler', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      trustedAccountId: '222222222222',
      trustedPrincipal: 'role/prowler-app',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::CloudFormation::StackSet', 1);
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0];
    expect(role.Properties.Policies.map((p: any) => p.PolicyName)).toEqual(['ProwlerScan', 'ProwlerOrganizations']);
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain(':iam::222222222222:role/prowler-app');
    const stackSet = Object.values(template.findResources('AWS::CloudFormation::StackSet'))[0];
    expect(stackSet.Properties.Parameters).toEqual(expect.arrayContaining([
      { ParameterKey: 'ExternalId', ParameterValue: EXTERNAL_ID },
      { ParameterKey: 'AccountId', ParameterValue: '222222222222' },
      { ParameterKey: 'IAMPrincipal', ParameterValue: 'role/prowler-app' },
    ]));
    expect(stackSet.Properties.TemplateBody).not.toContain('organizations:');
    // The public attributes are the resources' own.
    const [roleId] = Object.keys(template.findResources('AWS::IAM::Role'));
    const [stackSetId] = Object.keys(template.findResources('AWS::CloudFormation::StackSet'));
    expect(stack.resolve(roles.managementRole!.roleArn)).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(stack.resolve(roles.memberStackSet.stackSetId)).toEqual({ 'Fn::GetAtt': [stackSetId, 'StackSetId'] });
    expect(roles.memberStackSet.stackSetName).toBe(stackSet.Properties.StackSetName);
    expect(roles.memberStackSet.deploymentTargets)
      .toEqual({ organizationalUnitIds: stackSet.Properties.StackInstancesGroup[0].DeploymentTargets.OrganizationalUnitIds });
  });
});

/** Bad props: each must fail synth with a message that names the field and shows the value. */
const BAD_PROPS: Array<[string, Record<string, unknown>, RegExp]> = [
  ['externalId is empty', { externalId: '' }, /externalId is required/],
  ['externalId has a space', { externalId: 'my tenant' }, /externalId: Must be a valid External ID.*got 'my tenant'/],
  ['externalId is one character', { externalId: 'x' }, /externalId: .*got 'x'/],
  ['trustedAccountId has 11 digits', { trustedAccountId: '23213665915' }, /trustedAccountId: Must be a valid AWS account ID.*got '23213665915' \(a leading zero may have been lost/],
  ['trustedAccountId has dashes', { trustedAccountId: '2321-3665-9152' }, /trustedAccountId: .*\(remove the dashes\)/],
  ['trustedPrincipal is an ARN', { trustedPrincipal: 'arn:aws:iam::232136659152:role/prowler' }, /trustedPrincipal: .*part after the account only/],
  ['trustedPrincipal is a group', { trustedPrincipal: 'group/admins' }, /trustedPrincipal: Must be an IAM principal.*got 'group\/admins'/],
  ['organizationId is uppercase', { organizationId: 'O-ABC123DEF4' }, /organizationId: Must be a valid AWS Organization ID.*got 'O-ABC123DEF4' \(ids are lowercase\)/],
  ['organizationId is too short', { organizationId: 'o-abc' }, /organizationId: Must be a valid AWS Organization ID.*got 'o-abc'/],
  ['organizationId is an OU id', { organizationId: 'ou-ab12-abcdefgh' }, /organizationId: .*\(that is an OU id\)/],
  ['a target is an OU name', { targets: ['Production'] }, /targets\[0\]: Must be an OU id or a root id.*got 'Production'.*looks like an OU name/],
  ['a target is an account id', { targets: ['123456789012'] }, /targets\[0\]: .*onlyAccounts or excludeAccounts/],
  ['a target is the organization id', { targets: ['o-abc123def4'] }, /targets\[0\]: .*target its root/],
  ['a target has spaces', { targets: [' r-ab12'] }, /targets\[0\]: .*remove the surrounding spaces/],
  ['targets is empty', { targets: [] }, /targets must have 1–50 entries, got 0/],
  ['targets has 51 OUs', { targets: Array.from({ length: 51 }, (_, i) => `ou-ab12-${String(i).padStart(8, '0')}`) }, /targets must have 1–50 entries, got 51/],
  ['a target is listed twice', { targets: ['r-ab12', 'r-ab12'] }, /targets lists 'r-ab12' more than once/],
  ['excludeAccounts has a bad id', { excludeAccounts: ['12345'] }, /excludeAccounts\[0\]: Must be a valid AWS account ID.*got '12345'/],
  ['both account filters', { excludeAccounts: ['123456789012'], onlyAccounts: ['210987654321'] }, /excludeAccounts and onlyAccounts cannot be combined/],
  ['a region is misspelled', { regions: ['us-east1'] }, /regions\[0\]: Must be an AWS region.*got 'us-east1'/],
  ['regions is empty', { regions: [] }, /regions must have at least 1 entries, got 0/],
  ['failure tolerance over 100', { failureTolerancePercentage: 150 }, /failureTolerancePercentage must be a whole number from 0 to 100, got 150/],
  ['concurrency of 0', { maxConcurrentPercentage: 0 }, /maxConcurrentPercentage must be a whole number from 1 to 100, got 0/],
  ['concurrency not whole', { maxConcurrentPercentage: 12.5 }, /maxConcurrentPercentage must be a whole number from 1 to 100, got 12.5/],
  ['callAs is unknown', { callAs: 'ADMIN' }, /callAs must be SELF or DELEGATED_ADMIN, got 'ADMIN'/],
  ['roleName has a space', { roleName: 'Prowler Scan' }, /roleName: Must be a valid IAM role name.*got 'Prowler Scan'/],
  ['stackSetName starts with a digit', { stackSetName: '1prowler' }, /stackSetName: Must be a valid StackSet name.*got '1prowler'/],
  ['S3 bucket name has uppercase', { s3Integration: { bucketName: 'Reports', bucketAccountId: '123456789012' } }, /s3Integration.bucketName: Must be a valid S3 bucket name.*got 'Reports'/],
  ['S3 bucket account missing', { s3Integration: { bucketName: 'reports' } }, /s3Integration.bucketAccountId is required/],
];

describe('bad props fail synth with a message naming the field, the value and what is allowed', () => {
  test.each(BAD_PROPS)('%s', (_name, bad, expected) => {
    const props = { externalId: EXTERNAL_ID, targets: ['r-ab12'], ...bad } as any;
    expect(() => new ProwlerOrganizationRoles(newStack(), 'Prowler', props)).toThrow(expected);
  });

  test('every problem is listed in one message', () => {
    let message = '';
    try {
      new ProwlerOrganizationRoles(newStack(), 'Prowler', {
        externalId: '',
        organizationId: 'o-1',
        targets: ['Production', 'r-ab12'],
        regions: ['mars-1'],
        excludeAccounts: ['1'],
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^ProwlerOrganizationRoles at 'Stack\/Prowler': 5 invalid properties:\n {2}- externalId is required/);
    for (const field of ['externalId', 'organizationId', 'targets[0]', 'regions[0]', 'excludeAccounts[0]']) expect(message).toContain(`- ${field}`);
    // A problem shared by both roles is listed once.
    expect(message.match(/externalId is required/g)).toHaveLength(1);
  });

  test('the single constructs validate too', () => {
    expect(() => new ProwlerScanRole(newStack(), 'Role', { externalId: EXTERNAL_ID, stackSetManagement: true }))
      .toThrow(/stackSetManagement requires organizationDiscovery: true/);
    expect(() => new ProwlerScanRole(newStack(), 'Role', { externalId: EXTERNAL_ID, organizationId: 'o-abc123def4' }))
      .toThrow(/organizationId is only used with organizationDiscovery: true/);
    expect(() => new ProwlerMemberRoleStackSet(newStack(), 'Set', { externalId: EXTERNAL_ID } as any))
      .toThrow(/targets is required/);
  });

  test('values only known at deploy time (tokens) are not validated', () => {
    const stack = newStack();
    const { CfnParameter } = jest.requireActual('aws-cdk-lib');
    const externalId = new CfnParameter(stack, 'ExternalId').valueAsString;
    const ou = new CfnParameter(stack, 'Ou').valueAsString;
    expect(() => new ProwlerOrganizationRoles(stack, 'Prowler', { externalId, targets: [ou] })).not.toThrow();
  });
});
