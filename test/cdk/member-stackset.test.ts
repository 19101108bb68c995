import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { core } from '../../src';
import { ProwlerMemberRoleStackSet } from '../../src/cdk';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';

function synth(props: Partial<ConstructorParameters<typeof ProwlerMemberRoleStackSet>[2]> = {}) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  new ProwlerMemberRoleStackSet(stack, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'], ...props });
  const template = Template.fromStack(stack);
  const stackSet = Object.values(template.findResources('AWS::CloudFormation::StackSet'))[0];
  return { stack, template, stackSet };
}

describe('ProwlerMemberRoleStackSet', () => {
  test('is a service-managed StackSet with auto-deployment, managed execution and Prowler\'s trust parameters', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::CloudFormation::StackSet', 1);
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      PermissionModel: 'SERVICE_MANAGED',
      CallAs: 'SELF',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      ManagedExecution: { Active: true },
      OperationPreferences: { FailureTolerancePercentage: 10, MaxConcurrentPercentage: 100, RegionConcurrencyType: 'PARALLEL', ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE' },
      Parameters: [
        { ParameterKey: 'ExternalId', ParameterValue: EXTERNAL_ID },
        { ParameterKey: 'AccountId', ParameterValue: '232136659152' },
        { ParameterKey: 'IAMPrincipal', ParameterValue: 'role/prowler*' },
        { ParameterKey: 'RoleName', ParameterValue: 'ProwlerScan' },
        { ParameterKey: 'EnableS3Integration', ParameterValue: 'false' },
        { ParameterKey: 'S3IntegrationBucketName', ParameterValue: '' },
        { ParameterKey: 'S3IntegrationBucketAccountId', ParameterValue: '' },
      ],
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: ['r-ab12'] }, Regions: ['eu-west-1'] }],
    });
  });

  test('deploys to one region by default: the stack\'s (IAM is global)', () => {
    const stack = new Stack(new App(), 'Agnostic');
    new ProwlerMemberRoleStackSet(stack, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'] });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackInstancesGroup: [{ DeploymentTargets: Match.anyValue(), Regions: [{ Ref: 'AWS::Region' }] }],
    });
  });

  test('excludeAccounts becomes a DIFFERENCE filter', () => {
    const { stackSet } = synth({ targets: ['ou-ab12-abcdefgh', 'ou-cd34-ijklmnop'], excludeAccounts: ['123456789012'] });
    expect(stackSet.Properties.StackInstancesGroup).toEqual([{
      DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-abcdefgh', 'ou-cd34-ijklmnop'], AccountFilterType: 'DIFFERENCE', Accounts: ['123456789012'] },
      Regions: ['eu-west-1'],
    }]);
  });

  test('onlyAccounts becomes an INTERSECTION filter, and UNION is never emitted', () => {
    const { stackSet } = synth({ onlyAccounts: ['123456789012', '210987654321'], regions: ['us-east-1', 'eu-central-1'] });
    expect(stackSet.Properties.StackInstancesGroup).toEqual([{
      DeploymentTargets: { OrganizationalUnitIds: ['r-ab12'], AccountFilterType: 'INTERSECTION', Accounts: ['123456789012', '210987654321'] },
      Regions: ['us-east-1', 'eu-central-1'],
    }]);
    expect(JSON.stringify(stackSet)).not.toContain('UNION');
  });

  test('deploys from a delegated administrator and keeps stacks on removal when asked', () => {
    const { template } = synth({ callAs: core.CallAs.DELEGATED_ADMIN, retainStacksOnAccountRemoval: true, failureTolerancePercentage: 25, maxConcurrentPercentage: 50, stackSetName: 'prowler-members' });
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      StackSetName: 'prowler-members',
      CallAs: 'DELEGATED_ADMIN',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: true },
      OperationPreferences: { FailureTolerancePercentage: 25, MaxConcurrentPercentage: 50, RegionConcurrencyType: 'PARALLEL' },
    });
  });

  test('concurrencyMode: STRICT_FAILURE_TOLERANCE when asked; a bad value is named', () => {
    synth({ concurrencyMode: core.StackSetConcurrencyMode.STRICT_FAILURE_TOLERANCE }).template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      OperationPreferences: Match.objectLike({ ConcurrencyMode: 'STRICT_FAILURE_TOLERANCE' }),
    });
    expect(() => synth({ concurrencyMode: 'FAST' as never })).toThrow(/concurrencyMode must be STRICT_FAILURE_TOLERANCE or SOFT_FAILURE_TOLERANCE, got 'FAST'/);
  });

  test('an account filter with auto-deployment warns that new accounts get the role whatever the filter says', () => {
    const warned = (props: object) => Annotations.fromStack(synth(props).stack).findWarning('*', Match.stringLikeRegexp('auto-deployment ignores account filters'));
    expect(warned({ excludeAccounts: ['123456789012'] })).toHaveLength(1);
    expect(warned({ onlyAccounts: ['123456789012'] })[0].entry.data).toMatch(/^onlyAccounts applies when the StackSet deploys/);
    expect(warned({ excludeAccounts: ['123456789012'], autoDeployment: false })).toHaveLength(0);
    expect(warned({})).toHaveLength(0);
  });

  test('its template is the member role: scan permissions only, never Organizations ones, within the inline body limit', () => {
    const { stackSet } = synth();
    const body: string = stackSet.Properties.TemplateBody;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(51_200);
    const member = JSON.parse(body);
    expect(Object.keys(member.Resources)).toEqual(['ProwlerScan']);
    expect(member.Resources.ProwlerScan.Type).toBe('AWS::IAM::Role');
    expect(body).not.toContain('organizations:');
    expect(member).toEqual(core.ScanRolePermissions.memberTemplate());
  });

  test('passes a self-hosted trust and the S3 integration to the members', () => {
    const { template } = synth({ trustedAccountId: '222222222222', trustedPrincipal: 'role/prowler-app', s3Integration: { bucketName: 'reports-bucket', bucketAccountId: '333333333333' } });
    template.hasResourceProperties('AWS::CloudFormation::StackSet', {
      Parameters: Match.arrayWith([
        { ParameterKey: 'AccountId', ParameterValue: '222222222222' },
        { ParameterKey: 'IAMPrincipal', ParameterValue: 'role/prowler-app' },
        { ParameterKey: 'EnableS3Integration', ParameterValue: 'true' },
        { ParameterKey: 'S3IntegrationBucketName', ParameterValue: 'reports-bucket' },
      ]),
    });
  });
});
