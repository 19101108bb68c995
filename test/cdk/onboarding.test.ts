import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { core } from '../../src';
import { ProwlerMemberRoleStackSet, ProwlerOrganization, ProwlerOrganizationOnboarding, type ProwlerOrganizationOnboardingProps } from '../../src/cdk';
import { parseOnboardingSpec } from '../../src/core/spec';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';

function synth(props: Partial<ProwlerOrganizationOnboardingProps> = {}, region = 'us-east-1') {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region } });
  const apiKeySecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN);
  const onboarding = new ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecret, ...props });
  return { stack, onboarding, template: Template.fromStack(stack) };
}

const ours = (template: Template) => Object.values(template.findResources('AWS::Lambda::Function'))
  .filter((f: any) => String(f.Properties.Description ?? '').startsWith('prowler-org-onboarding'));

describe('ProwlerOrganizationOnboarding', () => {
  test('three functions from the prebuilt bundle: nodejs22.x, arm64, JSON logs, bounded timeouts', () => {
    const { template } = synth();
    const functions = ours(template);
    expect(functions.map((f: any) => [f.Properties.Handler, f.Properties.Timeout]).sort()).toEqual([
      ['index.isComplete', 600], ['index.onEvent', 600], ['index.sync', 900],
    ]);
    for (const f of functions) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        LoggingConfig: { LogFormat: 'JSON', LogGroup: expect.anything() },
        Environment: { Variables: { PROWLER_API_URL: 'https://api.prowler.com/api/v1', PROWLER_API_KEY_SECRET_ARN: SECRET_ARN, STATE_BUCKET: expect.anything() } },
      });
    }
    // Ours, the Provider framework's and the bucket's auto-delete function's.
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 5);
  });

  test.each([
    ['us-east-1', 'us-east-1', {}],
    ['eu-west-1: events forwarded from us-east-1', 'eu-west-1', {}],
    ['a log retention of a year', 'us-east-1', { logRetention: 365 }],
  ])('every function in the stack logs to a group with retention; the framework\'s "Logs:" hint names one (%s)', (where, region, props) => {
    const { template } = synth(props as Partial<ProwlerOrganizationOnboardingProps>, region);
    const json = template.toJSON();
    const groups = Object.entries<any>(json.Resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup');
    const retention = (props as any).logRetention ?? 30;
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(retention);
    const functions = Object.entries<any>(json.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(where.startsWith('eu-west-1') ? 8 : 7);
    for (const [id, fn] of functions) {
      // Where the function writes: its LoggingConfig's group, or else Lambda's own /aws/lambda/<name>.
      const target = fn.Properties.LoggingConfig?.LogGroup;
      const group = target
        ? groups.find(([groupId]) => JSON.stringify(target) === JSON.stringify({ Ref: groupId }))
        : groups.find(([, g]) => JSON.stringify(g.Properties.LogGroupName) === JSON.stringify({ 'Fn::Join': ['', ['/aws/lambda/', { Ref: id }]] }));
      expect([id, group !== undefined]).toEqual([id, true]);
    }
    // The framework reports a failure of our onEvent or isComplete as "Logs: /aws/lambda/<function name>".
    for (const fn of ours(template).filter((f: any) => f.Properties.Handler !== 'index.sync')) {
      const hint = `/aws/lambda/${fn.Properties.FunctionName}`;
      expect(groups.map(([, g]) => g.Properties.LogGroupName)).toContain(hint);
    }
  });

  test('the custom resource carries the spec as JSON, with a service timeout under the hour', () => {
    const { template } = synth({ selection: { targets: ['ou-ab12-abcdefgh'], excludeAccounts: ['123456789012'] }, scanMode: core.ScanMode.ONCE, removal: core.RemovalBehaviour.UNLINK });
    const resource = Object.values(template.findResources('Custom::ProwlerOrganizationOnboarding'))[0];
    expect(JSON.parse(resource.Properties.Spec)).toEqual({
      selection: { targets: ['ou-ab12-abcdefgh'], excludeAccounts: ['123456789012'] }, scanMode: 'once', removal: 'unlink',
    });
    expect(resource.Properties.ServiceTimeout).toBe('3480');
  });

  test('Prowler Cloud\'s options reach the function in the spec: schedule, prowlerEdition, replaceCredentials', () => {
    const schedule = { frequency: core.ScheduleFrequency.WEEKLY, dayOfWeek: 1, hour: 6, timeZone: 'Europe/Madrid' };
    const { template } = synth({ schedule, prowlerEdition: core.ProwlerEdition.CLOUD, replaceCredentials: true });
    const resource = Object.values(template.findResources('Custom::ProwlerOrganizationOnboarding'))[0];
    expect(JSON.parse(resource.Properties.Spec)).toEqual({ selection: {}, schedule: { ...schedule, frequency: 'weekly' }, prowlerEdition: 'cloud', replaceCredentials: true });
  });

  test('the Provider framework polls isComplete (a state machine) within 55 minutes', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const definition = JSON.stringify(Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0].Properties.DefinitionString);
    expect(definition).toContain('\\"IntervalSeconds\\":30');
    expect(definition).toContain('\\"MaxAttempts\\":110');
  });

  test('least privilege: Organizations reads, the state bucket (ListBucket too), the API key secret; no AssumeRole without the pre-check', () => {
    const { template } = synth();
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('organizations:ListAccountsForParent');
    expect(policies).not.toContain('sts:AssumeRole');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          // Without ListBucket, S3 answers 403 instead of 404 for the sync's missing state object.
          Match.objectLike({ Sid: 'StateBucket', Action: 's3:ListBucket' }),
          { Sid: 'Secrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET_ARN },
        ]),
      },
    });
    expect(policies).not.toMatch(/"secretsmanager:GetSecretValue"[^}]*"Resource":"\*"/);
  });

  test('the local pre-check adds sts:AssumeRole on ProwlerScan roles only', () => {
    const { template } = synth({ localPrecheck: true });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Sid: 'LocalPrecheck', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/ProwlerScan']] } }]) },
    });
  });

  test('syncs every 6 hours and on Organizations events', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.organizations'],
        'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
        'detail': {
          eventSource: ['organizations.amazonaws.com'],
          eventName: [
            'CreateAccountResult', 'AccountJoinedOrganization', 'MoveAccount', 'RemoveAccountFromOrganization', 'AccountDepartedOrganization', 'CloseAccount',
            'TagResource', 'UntagResource',
          ],
        },
      },
    });
  });

  test('a custom schedule, no event rule when disabled', () => {
    const { template } = synth({ syncSchedule: events.Schedule.rate(Duration.hours(1)), syncOnOrganizationEvents: false });
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  test('in another region, a rule in us-east-1 forwards the Organizations events to this region\'s default bus', () => {
    const { template } = synth({}, 'eu-west-1');
    const calls = Object.values(template.findResources('Custom::AWS')).map((r: any) => JSON.parse(JSON.stringify(r.Properties.Create)));
    const joined = JSON.stringify(calls);
    expect(joined).toContain('\\"action\\":\\"putRule\\"');
    expect(joined).toContain('\\"region\\":\\"us-east-1\\"');
    expect(joined).toContain('\\"action\\":\\"putTargets\\"');
    expect(joined).toContain(':events:eu-west-1:111111111111:event-bus/default');
    // EventBridge may assume the forwarder only for this account's forwarding rule (confused deputy).
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({
          Principal: { Service: 'events.amazonaws.com' },
          Condition: {
            StringEquals: {
              'aws:SourceAccount': '111111111111',
              'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, Match.stringLikeRegexp('^:events:us-east-1:111111111111:rule/prowler-org-onboarding-eu-west-1-')]] },
            },
          },
        })],
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:111111111111:event-bus/default']] } }] },
    });
    // The local rule still picks them up.
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ source: ['aws.organizations'] }) });
  });

  test('in us-east-1 no forwarding is needed; without an explicit region, a warning says why', () => {
    expect(Object.keys(synth({}, 'us-east-1').template.findResources('Custom::AWS'))).toEqual([]);
    const stack = new Stack(new App(), 'Agnostic');
    new ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN) });
    Annotations.fromStack(stack).hasWarning('/Agnostic/Onboarding', Match.stringLikeRegexp('Organizations events reach EventBridge only in the Organizations region'));
  });

  test('the API key is in no template: only the secret\'s ARN is', () => {
    const { template } = synth();
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/pk_[A-Za-z0-9]/);
    expect(text).toContain(SECRET_ARN);
  });

  test('a session longer than the ProwlerScan role allows fails synth (STS would refuse every connection)', () => {
    expect(() => synth({ sessionDurationSeconds: 43_200 }))
      .toThrow(/sessionDurationSeconds: must be 900–3600 seconds: at most the ProwlerScan role's MaxSessionDuration, or every connection fails/);
    expect(() => synth({ sessionDurationSeconds: 3600 })).not.toThrow();
  });

  test('bad props fail synth with every problem listed', () => {
    expect(() => synth({
      selection: { targets: ['Production'], aliasPattern: 'fixed' },
      prowlerApiUrl: 'https://api.prowler.com/api/v1/',
      connection: { retryRounds: 50 },
      concurrency: 0,
      logLevel: 'verbose',
    })).toThrow(/ProwlerOrganizationOnboarding at 'Stack\/Onboarding': 6 invalid properties:[\s\S]*selection.targets\[0\]: Must be an OU id[\s\S]*selection.aliasPattern[\s\S]*connection.retryRounds: must be 0–10 rounds[\s\S]*concurrency: must be 1–100[\s\S]*logLevel must be one of DEBUG, INFO, WARN, ERROR, got 'verbose'[\s\S]*prowlerApiUrl must be an http\(s\) URL without a trailing slash.*got .https:\/\/api.prowler.com\/api\/v1\/./);
  });

  test('a Token inside selection is left to deploy time: the Spec references it, and the function checks what it resolves to', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    const ou = new CfnParameter(stack, 'TargetOu', { type: 'String' });
    new ProwlerOrganizationOnboarding(stack, 'Onboarding', {
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN),
      selection: { targets: [ou.valueAsString] },
    });
    const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::ProwlerOrganizationOnboarding')) as any[];
    expect(resource.Properties.Spec).toEqual({ 'Fn::Join': ['', ['{"selection":{"targets":["', { Ref: 'TargetOu' }, '"]}}']] });
    // What the function gets once CloudFormation resolved it ("Production" given for the parameter):
    const resolved = resource.Properties.Spec['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : 'Production')).join('');
    expect(() => parseOnboardingSpec(JSON.parse(resolved))).toThrow(/selection.targets\[0\]: Must be an OU id.*got 'Production'/);
  });
});

describe('ProwlerOrganization (the one-liner)', () => {
  test('roles, StackSet and onboarding with one External ID, the onboarding after the roles', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    new ProwlerOrganization(stack, 'Prowler', {
      externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f',
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN),
    });
    const template = Template.fromStack(stack);
    const resource = Object.entries(template.findResources('Custom::ProwlerOrganizationOnboarding'))[0][1];
    expect(JSON.parse(resource.Properties.Spec)).toMatchObject({ externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', organizationId: 'o-abc123def4' });
    const stackSetId = Object.keys(template.findResources('AWS::CloudFormation::StackSet'))[0];
    const roleId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'ProwlerScan' } }))[0];
    expect(resource.DependsOn).toEqual(expect.arrayContaining([stackSetId, roleId]));
    // The onboarding waits for the StackSet's instances below its targets, and may read only those.
    const stackSetName = Object.values(template.findResources('AWS::CloudFormation::StackSet'))[0].Properties.StackSetName;
    expect(stackSetName).toBe('Stack-Prowler-Roles-MemberRoles-06741A71');
    for (const f of ours(template)) {
      expect(f.Properties.Environment.Variables).toMatchObject({ STACKSET_NAME: stackSetName, STACKSET_CALL_AS: 'SELF' });
      expect(JSON.parse(f.Properties.Environment.Variables.STACKSET_TARGETS)).toEqual({ organizationalUnitIds: ['r-ab12'] });
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Sid: 'MemberStackSetStatus',
          Effect: 'Allow',
          Action: 'cloudformation:ListStackInstances',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:stackset/${stackSetName}:*`]] },
        }]),
      },
    });
  });
});

describe('what CDK users expect of a construct that runs Lambdas', () => {
  test('in a VPC: the three functions get its subnets and security groups, the role the VPC access policy', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const securityGroup = new ec2.SecurityGroup(stack, 'ToProwler', { vpc });
    new ProwlerOrganizationOnboarding(stack, 'Onboarding', {
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN),
      prowlerApiUrl: 'http://10.0.1.20:8080/api/v1',
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [securityGroup],
    });
    const template = Template.fromStack(stack);
    const functions = ours(template);
    expect(functions).toHaveLength(3);
    for (const f of functions) {
      expect(f.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ToProwler/), 'GroupId'] }]);
      expect(f.Properties.VpcConfig.SubnetIds).toHaveLength(2);
    }
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] }),
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }],
    });
  });

  test('a bucket and a role you bring are used as they are: no bucket is created, the role gets the onboarding\'s statements', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    const stateBucket = s3.Bucket.fromBucketName(stack, 'Mine', 'my-onboarding-state');
    const functionRole = iam.Role.fromRoleArn(stack, 'MyRole', 'arn:aws:iam::111111111111:role/platform/prowler-onboarding');
    const onboarding = new ProwlerOrganizationOnboarding(stack, 'Onboarding', {
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN), stateBucket, functionRole,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(Object.values(template.findResources('AWS::IAM::Role')).filter((r: any) => r.Properties.Description?.startsWith('prowler-org-onboarding'))).toEqual([]);
    for (const f of ours(template)) {
      expect(f.Properties.Role).toBe('arn:aws:iam::111111111111:role/platform/prowler-onboarding');
      expect(f.Properties.Environment.Variables.STATE_BUCKET).toBe('my-onboarding-state');
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['prowler-onboarding'],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'StateBucket', Action: 's3:ListBucket' })]) },
    });
    expect(onboarding.stateBucket).toBe(stateBucket);
    expect(onboarding.functionRole).toBe(functionRole);
  });

  test('every resource is a public property, and a failed sync is a metric to alarm on', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    const onboarding = new ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN) });
    onboarding.metricSyncFailures().createAlarm(stack, 'SyncFailing', { threshold: 1, evaluationPeriods: 1 });
    const template = Template.fromStack(stack);
    const id = (construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as any).logicalId);
    const handlerOf = (f: { node: { defaultChild?: unknown } }) => template.toJSON().Resources[id(f)].Properties.Handler;
    expect([onboarding.onEventFunction, onboarding.isCompleteFunction, onboarding.syncFunction].map(handlerOf))
      .toEqual(['index.onEvent', 'index.isComplete', 'index.sync']);
    expect(stack.resolve(onboarding.syncScheduleRule.ruleName)).toEqual({ Ref: id(onboarding.syncScheduleRule) });
    expect(onboarding.organizationEventsRule).toBeInstanceOf(events.Rule);
    expect(onboarding.provider).toBeInstanceOf(cr.Provider);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Dimensions: [{ Name: 'FunctionName', Value: { Ref: id(onboarding.syncFunction) } }],
    });
    // Not retried by Lambda: the next trigger runs the sync again.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id(onboarding.syncFunction) }, MaximumRetryAttempts: 0 });
  });
});

describe('the one-liner onboards what its StackSet reaches', () => {
  const oneLiner = (extra: Record<string, unknown> = {}) => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    const org = new ProwlerOrganization(stack, 'Prowler', {
      externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f',
      targets: ['ou-ab12-workload'],
      excludeAccounts: ['111111111111'],
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN),
      ...extra,
    });
    const template = Template.fromStack(stack);
    const resource = Object.values(template.findResources('Custom::ProwlerOrganizationOnboarding'))[0];
    return { stack, org, template, spec: JSON.parse(resource.Properties.Spec) };
  };

  test('the StackSet\'s targets and account filter are the selection; every onboarding option passes through', () => {
    const { spec } = oneLiner({
      scanMode: core.ScanMode.ONCE, concurrency: 5, localPrecheck: true, roleSessionName: 'prowler-org', syncOnOrganizationEvents: false, connection: { stackSetWaitSeconds: 900 },
    });
    expect(spec).toEqual({
      selection: { targets: ['ou-ab12-workload'], excludeAccounts: ['111111111111'] },
      externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f',
      scanMode: 'once',
      concurrency: 5,
      localPrecheck: true,
      roleSessionName: 'prowler-org',
      connection: { stackSetWaitSeconds: 900 },
    });
  });

  test('an account the StackSet excludes cannot be selected: synth fails naming both', () => {
    expect(() => oneLiner({ selection: { includeAccounts: ['111111111111'] } })).toThrow(
      /ProwlerOrganization at 'Stack\/Prowler': .*selection.includeAccounts lists '111111111111', but the StackSet's excludeAccounts \[111111111111\] gives it no ProwlerScan role/s,
    );
  });

  test('a target beyond the StackSet\'s is a warning that names both', () => {
    const { stack } = oneLiner({ selection: { targets: ['ou-ab12-sandboxx'] } });
    Annotations.fromStack(stack).hasWarning('/Stack/Prowler', Match.stringLikeRegexp("selection.targets \\[ou-ab12-sandboxx\\] is not among the StackSet's targets \\[ou-ab12-workload\\]"));
  });
});

describe('construct ids and names are a contract', () => {
  test('the named role and the StackSet keep their logical ids (renaming one replaces a fixed-name role: "already exists")', () => {
    const { template } = (() => {
      const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
      new ProwlerOrganization(stack, 'Prowler', {
        externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: ['r-ab12'], apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN),
      });
      return { template: Template.fromStack(stack) };
    })();
    expect(Object.keys(template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'ProwlerScan' } }))).toEqual(['ProwlerRolesManagementRoleCC7EC984']);
    expect(Object.keys(template.findResources('AWS::CloudFormation::StackSet'))).toEqual(['ProwlerRolesMemberRolesStackSet233D2114']);
    expect(Object.keys(template.findResources('Custom::ProwlerOrganizationOnboarding'))).toEqual(['ProwlerOnboarding5E0A0FAC']);
  });

  test('two member StackSets in one stack get distinct default names', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
    new ProwlerMemberRoleStackSet(stack, 'Production', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: ['ou-ab12-prodprod'] });
    new ProwlerMemberRoleStackSet(stack, 'Sandbox', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: ['ou-ab12-sandboxx'] });
    const names = Object.values(Template.fromStack(stack).findResources('AWS::CloudFormation::StackSet')).map((r: any) => r.Properties.StackSetName);
    expect(names).toEqual([expect.stringMatching(/^Stack-Production-[0-9A-F]{8}$/), expect.stringMatching(/^Stack-Sandbox-[0-9A-F]{8}$/)]);
  });
});
