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
import { ORGANIZATIONS_EVENT_PATTERN } from '../src/core/onboarding';

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

describe('CDK: Organizations events from the management account to a delegated administrator', () => {
  const delegatedStack = (props: Partial<cdk.ProwlerOrganizationProps> = {}) => {
    const app = new App();
    const stack = new Stack(app, 'ProwlerOrganization', { env: { account: DELEGATED, region: 'eu-west-1' } });
    const apiKeySecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', `arn:aws:secretsmanager:eu-west-1:${DELEGATED}:secret:prowler-AbCdEf`);
    new cdk.ProwlerOrganization(stack, 'Prowler', {
      externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], callAs: core.CallAs.DELEGATED_ADMIN, apiKeySecret, ...props,
    });
    return stack;
  };
  const forwarder = (region: string, props: Partial<cdk.ProwlerOrganizationEventForwarderProps> = {}) => {
    const stack = new Stack(new App(), 'ProwlerManagementEvents', { env: { account: MANAGEMENT, region } });
    new cdk.ProwlerOrganizationEventForwarder(stack, 'Events', { delegatedAdministratorAccountId: DELEGATED, onboardingRegion: 'eu-west-1', ...props });
    return stack;
  };

  test('without organizationEventsFrom, a warning says only the schedule syncs and what to deploy', () => {
    const warnings = Annotations.fromStack(delegatedStack()).findWarning('*', Match.stringLikeRegexp('Organizations events are recorded in the management account'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toMatch(/deploy ProwlerOrganizationEventForwarder .* set organizationEventsFrom to the management account/);
    expect(Template.fromStack(delegatedStack()).findResources('AWS::Events::EventBusPolicy')).toEqual({});
  });

  test('with organizationEventsFrom, the default bus of the onboarding\'s region accepts the management account\'s events, and no warning', () => {
    const stack = delegatedStack({ organizationEventsFrom: MANAGEMENT });
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::Events::EventBusPolicy'));
    const statementId = expect.stringMatching(/^prowler-org-onboarding-[0-9a-f]{8}$/);
    expect(policies).toEqual([{
      Type: 'AWS::Events::EventBusPolicy',
      DependsOn: expect.any(Array),
      Properties: {
        StatementId: statementId,
        Statement: {
          Sid: statementId,
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${MANAGEMENT}:root`]] } },
          Action: 'events:PutEvents',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:eu-west-1:${DELEGATED}:event-bus/default`]] },
        },
      },
    }]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Organizations events are recorded in the management account'))).toHaveLength(0);
  });

  test('the forwarder: the onboarding\'s pattern on the management account\'s bus in us-east-1, to the delegated administrator\'s bus, with a role only that rule can use', () => {
    const template = Template.fromStack(forwarder('us-east-1'));
    const ruleName = `prowler-org-onboarding-${DELEGATED}-eu-west-1`;
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: ruleName,
      EventPattern: {
        'source': ORGANIZATIONS_EVENT_PATTERN.source,
        'detail-type': ORGANIZATIONS_EVENT_PATTERN['detail-type'],
        'detail': ORGANIZATIONS_EVENT_PATTERN.detail,
      },
      Targets: [{ Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:eu-west-1:${DELEGATED}:event-bus/default`]] }, RoleArn: Match.anyValue(), Id: Match.anyValue() }],
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'events.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': MANAGEMENT,
              'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:events:us-east-1:${MANAGEMENT}:rule/${ruleName}`]] },
            },
          },
        })],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Sid: 'ForwardOrganizationEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: Match.anyValue() }] },
    });
  });

  test('the forwarder refuses a stack outside the Organizations region, a bad account id, and another partition, naming field and value', () => {
    expect(() => forwarder('eu-west-1')).toThrow(/the stack's region must be us-east-1, the only region of the aws partition where Organizations events reach EventBridge: got 'eu-west-1'/);
    expect(() => forwarder('us-east-1', { delegatedAdministratorAccountId: '2222-2222-2222' })).toThrow(/delegatedAdministratorAccountId: Must be a valid AWS account ID: expected 12 digits.*got '2222-2222-2222' \(remove the dashes\)/);
    expect(() => forwarder('us-east-1', { onboardingRegion: 'us-gov-west-1' })).toThrow(/onboardingRegion: 'us-gov-west-1' is not in the aws partition/);
    expect(() => forwarder('us-gov-west-1', { onboardingRegion: 'us-gov-east-1' })).not.toThrow();
    expect(() => forwarder('us-east-1', { delegatedAdministratorAccountId: MANAGEMENT })).toThrow(/is this stack's own account/);
  });

  test('organizationEventsFrom must be an account id', () => {
    expect(() => delegatedStack({ organizationEventsFrom: '11111111111' })).toThrow(/organizationEventsFrom: Must be a valid AWS account ID: expected 12 digits, as a string, got '11111111111' \(a leading zero may have been lost/);
  });
});

describe('CDKTF: Organizations events from the management account to a delegated administrator', () => {
  const synth = (build: (scope: any) => void) => {
    let root: any;
    const json = JSON.parse(Testing.synthScope((s) => { root = s; build(s); }));
    const warnings = root.node.findAll().flatMap((c: any) => c.node.metadata).filter((m: any) => m.type === '@cdktf/warn').map((m: any) => String(m.data));
    return { json, warnings };
  };
  const onboarding = (props: Partial<tf.ProwlerOrganizationProps> = {}) => synth((s) => new tf.ProwlerOrganization(s, 'Prowler', {
    externalId: EXTERNAL_ID,
    organizationId: 'o-abc123def4',
    targets: ['r-ab12'],
    callAs: core.CallAs.DELEGATED_ADMIN,
    apiKeySecretArn: `arn:aws:secretsmanager:eu-west-1:${DELEGATED}:secret:k-AbCdEf`,
    ...props,
  }));

  test('with organizationEventsFrom, the default bus accepts the management account\'s events (one statement, additive); without, a warning', () => {
    const accepting = onboarding({ organizationEventsFrom: MANAGEMENT });
    expect(Object.values<any>(accepting.json.resource.aws_cloudwatch_event_permission)).toEqual([
      { statement_id: expect.stringMatching(/^prowler-org-onboarding-[0-9a-f]{8}$/), action: 'events:PutEvents', principal: MANAGEMENT },
    ]);
    expect(accepting.warnings.some((w: string) => w.includes('Organizations events are recorded in the management account'))).toBe(false);
    const silent = onboarding();
    expect(silent.json.resource.aws_cloudwatch_event_permission).toBeUndefined();
    expect(silent.warnings.some((w: string) => w.includes('Organizations events are recorded in the management account'))).toBe(true);
  });

  test('the forwarder: the onboarding\'s pattern, the delegated administrator\'s bus, a role only that rule can use, a region precondition', () => {
    const { json } = synth((s) => new tf.ProwlerOrganizationEventForwarder(s, 'Events', { delegatedAdministratorAccountId: DELEGATED, onboardingRegion: 'eu-west-1' }));
    const rule = Object.values<any>(json.resource.aws_cloudwatch_event_rule)[0];
    expect(rule.name).toBe(`prowler-org-onboarding-${DELEGATED}-eu-west-1`);
    expect(JSON.parse(rule.event_pattern)).toEqual(ORGANIZATIONS_EVENT_PATTERN);
    expect(rule.lifecycle.precondition.map((p: any) => p.error_message)).toEqual([
      expect.stringMatching(/^ProwlerOrganizationEventForwarder must be deployed with a provider for the management account in the Organizations region \(us-east-1 in aws, us-gov-west-1 in aws-us-gov, cn-northwest-1 in aws-cn\)/),
      "onboardingRegion 'eu-west-1' is in the aws partition, not the provider's: events cannot cross partitions.",
    ]);
    const target = Object.values<any>(json.resource.aws_cloudwatch_event_target)[0];
    expect(target.arn).toMatch(new RegExp(`^arn:\\$\\{data\\.aws_partition\\.\\w+\\.partition\\}:events:eu-west-1:${DELEGATED}:event-bus/default$`));
    const trust = JSON.parse(Object.values<any>(json.resource.aws_iam_role)[0].assume_role_policy);
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      'aws:SourceAccount': expect.stringMatching(/^\$\{data\.aws_caller_identity\.\w+\.account_id\}$/),
      'aws:SourceArn': expect.stringMatching(new RegExp(`:rule/prowler-org-onboarding-${DELEGATED}-eu-west-1$`)),
    });
    expect(() => synth((s) => new tf.ProwlerOrganizationEventForwarder(s, 'Events', { delegatedAdministratorAccountId: '22222222222a', onboardingRegion: 'eu-west-1' })))
      .toThrow(/delegatedAdministratorAccountId: Must be a valid AWS account ID: expected 12 digits, as a string, got '22222222222a'/);
  });
});
