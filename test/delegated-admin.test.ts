/**
 * Deploying from a CloudFormation StackSets delegated administrator: the StackSet lives in the
 * management account, the deploying account is an ordinary member (the StackSet gives it its
 * role), the management account needs its own role, and reading the StackSet needs
 * organizations:ListDelegatedAdministrators.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { core } from '../src';
import * as cdk from '../src/cdk';
import * as tf from '../src/cdktf';
import { CfnEvaluator } from './support/cfn-eval';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const MANAGEMENT = '111111111111';
const DELEGATED = '222222222222';

describe('CDK: a delegated administrator deploys the one-liner, the management account its own role', () => {
  const app = new App();
  const management = new Stack(app, 'ProwlerManagement', { env: { account: MANAGEMENT, region: 'us-east-1' } });
  new cdk.ProwlerScanRole(management, 'Scan', { externalId: EXTERNAL_ID, organizationDiscovery: true, organizationId: 'o-abc123def4' });
  const delegated = new Stack(app, 'ProwlerOrganization', { env: { account: DELEGATED, region: 'eu-west-1' } });
  const apiKeySecret = secretsmanager.Secret.fromSecretCompleteArn(delegated, 'ApiKey', `arn:aws:secretsmanager:eu-west-1:${DELEGATED}:secret:prowler-AbCdEf`);
  const prowler = new cdk.ProwlerOrganization(delegated, 'Prowler', {
    externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], callAs: core.CallAs.DELEGATED_ADMIN, apiKeySecret, stackSetName: 'prowler-scan-role',
  });
  const template = Template.fromStack(delegated);

  test('no ProwlerScan role in the delegated administrator (the StackSet deploys it there), and a warning says where the management role comes from', () => {
    expect(prowler.roles.managementRole).toBeUndefined();
    expect(template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'ProwlerScan' } })).toEqual({});
    template.hasResourceProperties('AWS::CloudFormation::StackSet', { CallAs: 'DELEGATED_ADMIN', PermissionModel: 'SERVICE_MANAGED' });
    const warnings = Annotations.fromStack(delegated).findWarning('*', Match.stringLikeRegexp('callAs is DELEGATED_ADMIN: this account is a member'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toMatch(/templates\/prowler-scan-role\.yaml there with DeployLocalRole=true, EnableOrganizations=true and DeployStackSet=false/);
  });

  test('the management account\'s stack: the role with Organizations discovery', () => {
    const role = Template.fromStack(management).findResources('AWS::IAM::Role', { Properties: { RoleName: 'ProwlerScan' } });
    expect(JSON.stringify(role)).toContain('organizations:ListAccounts');
  });

  test('the functions read the StackSet in the management account (any account id) and may call ListDelegatedAdministrators', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('"Action":"organizations:ListDelegatedAdministrators","Effect":"Allow","Resource":"*","Sid":"DelegatedAdministrator"');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'MemberStackSetStatus',
          Action: 'cloudformation:ListStackInstances',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:', { Ref: 'AWS::Region' }, ':*:stackset/prowler-scan-role:*']] },
        })]),
      },
    });
  });
});

describe('CDK: the member StackSet in another stack and region than the onboarding', () => {
  test('the functions read it in its region: STACKSET_REGION and the statement\'s ARN', () => {
    const app = new App();
    const virginia = new Stack(app, 'Members', { env: { account: MANAGEMENT, region: 'us-east-1' } });
    const members = new cdk.ProwlerMemberRoleStackSet(virginia, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'], stackSetName: 'prowler-scan-role' });
    const ireland = new Stack(app, 'Onboarding', { env: { account: MANAGEMENT, region: 'eu-west-1' } });
    const apiKeySecret = secretsmanager.Secret.fromSecretCompleteArn(ireland, 'ApiKey', `arn:aws:secretsmanager:eu-west-1:${MANAGEMENT}:secret:prowler-AbCdEf`);
    new cdk.ProwlerOrganizationOnboarding(ireland, 'Onboarding', { apiKeySecret, memberStackSet: members });
    const template = Template.fromStack(ireland);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ STACKSET_NAME: 'prowler-scan-role', STACKSET_REGION: 'us-east-1' }) } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'MemberStackSetStatus',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:us-east-1:', { Ref: 'AWS::AccountId' }, ':stackset/prowler-scan-role:*']] },
        })]),
      },
    });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('ListDelegatedAdministrators');
  });
});

describe('CDKTF: the same from a delegated administrator', () => {
  test('no ProwlerScan role, the StackSet and its instances as DELEGATED_ADMIN, the functions\' statements, a warning', () => {
    let construct: tf.ProwlerOrganization | undefined;
    const json = JSON.parse(Testing.synthScope((s) => {
      construct = new tf.ProwlerOrganization(s, 'Prowler', {
        externalId: EXTERNAL_ID,
        organizationId: 'o-abc123def4',
        targets: ['r-ab12'],
        callAs: core.CallAs.DELEGATED_ADMIN,
        apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:k-AbCdEf',
        stackSetName: 'prowler-scan-role',
      });
    }));
    expect(construct!.roles.managementRole).toBeUndefined();
    expect(Object.values<any>(json.resource.aws_iam_role).filter((r) => r.name === 'ProwlerScan')).toEqual([]);
    expect(Object.values<any>(json.resource.aws_cloudformation_stack_set)[0].call_as).toBe('DELEGATED_ADMIN');
    expect(Object.values<any>(json.resource.aws_cloudformation_stack_instances)[0].call_as).toBe('DELEGATED_ADMIN');
    const policy = JSON.parse(Object.values<any>(json.resource.aws_iam_role_policy).find((p) => p.name === 'onboarding').policy);
    expect(policy.Statement).toEqual(expect.arrayContaining([
      { Sid: 'DelegatedAdministrator', Effect: 'Allow', Action: 'organizations:ListDelegatedAdministrators', Resource: '*' },
      {
        Sid: 'MemberStackSetStatus',
        Effect: 'Allow',
        Action: 'cloudformation:ListStackInstances',
        Resource: expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:cloudformation:\$\{data\.aws_region\.\w+\.name\}:\*:stackset\/\$\{aws_cloudformation_stack_set\.\w+\.name\}:\*$/),
      },
    ]));
    const warnings = construct!.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings.some((w) => w.startsWith('callAs is DELEGATED_ADMIN: this account is a member'))).toBe(true);
  });
});

describe('the standalone template from a delegated administrator', () => {
  const template = parse(readFileSync(join(__dirname, '..', 'templates', 'prowler-scan-role.yaml'), 'utf8'));
  const failures = (parameters: Record<string, string>) => new CfnEvaluator(template, { parameters: { ExternalId: EXTERNAL_ID, AWSOrganizationalUnitId: ['r-ab12'] as any, ...parameters } }).failedAssertions();

  test('refuses a local role beside the StackSet (the two would collide), saying what to deploy where', () => {
    expect(failures({ DeployStackSet: 'true', DeployFromDelegatedAdmin: 'true' })).toEqual([
      expect.stringMatching(/^From a delegated administrator set DeployLocalRole to false: .* management account too, with DeployLocalRole=true, EnableOrganizations=true and DeployStackSet=false/),
    ]);
    expect(failures({ DeployStackSet: 'true', DeployFromDelegatedAdmin: 'true', DeployLocalRole: 'false' })).toEqual([]);
    expect(failures({ DeployStackSet: 'true' })).toEqual([]); // the management account: both
  });
});
