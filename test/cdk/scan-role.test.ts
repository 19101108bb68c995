import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ProwlerScanRole } from '../../src/cdk';
import { SCAN_READ_ONLY_ACTIONS } from '../../src/core/policy';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';

function synth(props: Partial<ConstructorParameters<typeof ProwlerScanRole>[2]> = {}) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  const role = new ProwlerScanRole(stack, 'Scan', { externalId: EXTERNAL_ID, ...props });
  return { stack, role, template: Template.fromStack(stack) };
}

const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

describe('ProwlerScanRole', () => {
  test('creates ProwlerScan trusted by Prowler Cloud under the External ID, partition-aware', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'ProwlerScan',
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { AWS: partitionArn(':iam::232136659152:root') },
          Condition: {
            StringEquals: { 'sts:ExternalId': EXTERNAL_ID },
            StringLike: { 'aws:PrincipalArn': partitionArn(':iam::232136659152:role/prowler*') },
          },
        }],
      },
      ManagedPolicyArns: [
        partitionArn(':iam::aws:policy/SecurityAudit'),
        partitionArn(':iam::aws:policy/job-function/ViewOnlyAccess'),
      ],
      Tags: [
        { Key: 'CloudFormation', Value: 'true' },
        { Key: 'Name', Value: 'ProwlerScan' },
        { Key: 'Service', Value: 'https://prowler.com' },
        { Key: 'Support', Value: 'support@prowler.com' },
      ],
    });
  });

  test('has the scan policy only, without Organizations permissions, by default', () => {
    const { template } = synth();
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0];
    expect(role.Properties.Policies.map((p: any) => p.PolicyName)).toEqual(['ProwlerScan']);
    const statements = role.Properties.Policies[0].PolicyDocument.Statement;
    expect(statements.map((s: any) => s.Sid)).toEqual(['AllowMoreReadOnly', 'AllowSecurityHubImportFindings', 'AllowAPIGatewayReadOnly']);
    expect(statements[0].Action).toEqual([...SCAN_READ_ONLY_ACTIONS]);
    expect(JSON.stringify(role)).not.toContain('organizations:');
  });

  test('trusts a self-hosted Prowler App identity', () => {
    const { template } = synth({ trustedAccountId: '222222222222', trustedPrincipal: 'user/prowler-app' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { AWS: partitionArn(':iam::222222222222:root') },
          Condition: Match.objectLike({ StringLike: { 'aws:PrincipalArn': partitionArn(':iam::222222222222:user/prowler-app') } }),
        })],
      },
    });
  });

  test('adds Organizations discovery on * when no organization id is given', () => {
    const { template } = synth({ organizationDiscovery: true });
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: Match.arrayWith([{
        PolicyName: 'ProwlerOrganizations',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{
            Sid: 'AllowOrganizationsReadOnly',
            Effect: 'Allow',
            Action: [
              'organizations:DescribeAccount',
              'organizations:DescribeOrganization',
              'organizations:ListAccounts',
              'organizations:ListAccountsForParent',
              'organizations:ListOrganizationalUnitsForParent',
              'organizations:ListRoots',
              'organizations:ListTagsForResource',
            ],
            Resource: '*',
          }],
        },
      }]),
    });
  });

  test('scopes the scopable Organizations actions to the organization, keeping * where IAM requires it', () => {
    const { template } = synth({ organizationDiscovery: true, organizationId: 'o-abc123def4', stackSetManagement: true });
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: Match.arrayWith([{
        PolicyName: 'ProwlerOrganizations',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'AllowOrganizationsReadOnlyGlobal',
              Effect: 'Allow',
              Action: ['organizations:DescribeOrganization', 'organizations:ListAccounts', 'organizations:ListRoots'],
              Resource: '*',
            },
            {
              Sid: 'AllowOrganizationsReadOnly',
              Effect: 'Allow',
              Action: [
                'organizations:DescribeAccount',
                'organizations:ListAccountsForParent',
                'organizations:ListOrganizationalUnitsForParent',
                'organizations:ListTagsForResource',
              ],
              Resource: [
                partitionArn(':organizations::*:account/o-abc123def4/*'),
                partitionArn(':organizations::*:ou/o-abc123def4/*'),
                partitionArn(':organizations::*:root/o-abc123def4/*'),
              ],
            },
            {
              Sid: 'AllowStackSetManagement',
              Effect: 'Allow',
              Action: 'organizations:RegisterDelegatedAdministrator',
              Resource: partitionArn(':organizations::*:account/o-abc123def4/*'),
            },
            {
              Sid: 'AllowCreateStackSetSLR',
              Effect: 'Allow',
              Action: 'iam:CreateServiceLinkedRole',
              Resource: partitionArn(':iam::*:role/aws-service-role/member.org.stacksets.cloudformation.amazonaws.com/*'),
            },
          ],
        },
      }]),
    });
  });

  test('adds the S3 integration with the bucket account condition', () => {
    const { template } = synth({ s3Integration: { bucketName: 'prowler-reports', bucketAccountId: '333333333333' } });
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: Match.arrayWith([Match.objectLike({
        PolicyName: 'S3Integration',
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([{
            Sid: 'AllowPutReports',
            Effect: 'Allow',
            Action: 's3:PutObject',
            Resource: partitionArn(':s3:::prowler-reports/*'),
            Condition: { StringEquals: { 's3:ResourceAccount': '333333333333' } },
          }]),
        }),
      })]),
    });
  });

  test('warns when roleName is not ProwlerScan', () => {
    const { stack } = synth({ roleName: 'MyScanner' });
    Annotations.fromStack(stack).hasWarning('/Stack/Scan', Match.stringLikeRegexp("roleName is 'MyScanner': Prowler assumes 'ProwlerScan'"));
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', { RoleName: 'MyScanner' });
  });

  test('does not warn with the default name', () => {
    const { stack } = synth();
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('exposes the role ARN', () => {
    const { stack, role } = synth();
    expect(stack.resolve(role.roleArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ScanRole/), 'Arn'] });
  });
});
