/**
 * The onboarding is one model (src/core/onboarding.ts) rendered by two flavours: the same props
 * must give the same functions' settings, environment, IAM statements, triggers and state-bucket
 * protections in CDK and CDKTF, normalised to what AWS would see.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Testing } from 'cdktf';
import * as cdk from '../src/cdk';
import * as tf from '../src/cdktf';
import { CfnEvaluator } from './support/cfn-eval';
import { allows } from './support/iam-eval';
import { onboardingStatements, ONBOARDING_ENV, ORGANIZATIONS_EVENT_PATTERN, OWN_STACK_SID, statementJson, SYNC_RESERVED_CONCURRENCY } from '../src/core/onboarding';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const CREDENTIALS_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/assume-AbCdEf';
const ACCOUNT = '111111111111';
const REGION = 'us-east-1';

const PROPS = {
  externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f',
  organizationId: 'o-abc123def4',
  targets: ['ou-ab12-abcdefgh'],
  excludeAccounts: ['123456789012'],
  regions: [REGION],
  localPrecheck: true,
  concurrency: 10,
  prowlerApiUrl: 'https://prowler.internal.example/api/v1',
  logLevel: 'DEBUG',
};

type Json = any;

/** What one rendering of the onboarding amounts to, with references replaced by their kind (`<AWS::S3::Bucket>`). */
interface OnboardingShape {
  readonly functions: Array<{ handler: string; runtime: string; architecture: string; memory: number; timeout: number; reserved?: number }>;
  readonly environment: Record<string, string>;
  readonly statements: Record<string, { actions: string[]; resources: string[]; condition?: Json }>;
  readonly schedule: string;
  readonly eventPattern: Json;
  readonly bucket: {
    encryption: string;
    publicAccessBlock: Record<string, boolean>;
    lifecycle: Array<{ prefix: string; days: number }>;
    tlsOnly: Json[];
  };
}

const sorted = <T>(list: T[]) => [...new Set(list)].sort();
/** Statements by Sid: actions and resources as sets (a flavour may order or split them). */
function bySid(statements: Json[]): OnboardingShape['statements'] {
  const out: OnboardingShape['statements'] = {};
  for (const s of statements) {
    const entry = out[s.Sid] ?? { actions: [], resources: [] };
    out[s.Sid] = {
      actions: sorted([...entry.actions, ...[s.Action].flat()]),
      resources: sorted([...entry.resources, ...[s.Resource].flat()]),
      ...(s.Condition ? { condition: s.Condition } : {}),
    };
  }
  return out;
}
/** The only functions both flavours have alike: the sync (the others are the custom resource's or Terraform's entry points). */
const sameEverywhere = (f: OnboardingShape['functions'][number]) => f.handler === 'index.sync';

function cdkShape(): OnboardingShape {
  const stack = new Stack(new App(), 'S', { env: { account: ACCOUNT, region: REGION } });
  new cdk.ProwlerOrganization(stack, 'Prowler', {
    ...PROPS,
    apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN),
    assumeCredentialsSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Credentials', CREDENTIALS_ARN),
  });
  const template = Template.fromStack(stack).toJSON();
  const resources: Record<string, Json> = template.Resources;
  const stackSetName = Object.values(resources).find((r) => r.Type === 'AWS::CloudFormation::StackSet').Properties.StackSetName;
  const evaluator = new CfnEvaluator(template, { accountId: ACCOUNT, region: REGION, stackName: 'S', resourceRef: (type) => `<${type}>` });
  const evaluate = (value: Json) => JSON.parse(JSON.stringify(evaluator.eval(value)).split(stackSetName).join('<AWS::CloudFormation::StackSet>'));
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  const functions = ofType('AWS::Lambda::Function').filter(([, f]) => String(f.Properties.Description).startsWith('prowler-org-onboarding'));
  const roleId = functions[0][1].Properties.Role['Fn::GetAtt'][0];
  const policies = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
  const environments = functions.map(([, f]) => evaluate(f.Properties.Environment.Variables));
  expect(environments.every((e) => JSON.stringify(e) === JSON.stringify(environments[0]))).toBe(true);
  const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
  const [, bucket] = ofType('AWS::S3::Bucket')[0];
  const [, bucketPolicy] = ofType('AWS::S3::BucketPolicy')[0];
  return {
    functions: functions.map(([, f]) => ({
      handler: f.Properties.Handler,
      runtime: f.Properties.Runtime,
      architecture: f.Properties.Architectures[0],
      memory: f.Properties.MemorySize,
      timeout: f.Properties.Timeout,
      reserved: f.Properties.ReservedConcurrentExecutions,
    })).filter(sameEverywhere),
    environment: environments[0],
    statements: bySid(policies.flatMap(([, p]) => evaluate(p.Properties.PolicyDocument).Statement)),
    schedule: rules.find((r) => r.ScheduleExpression).ScheduleExpression,
    eventPattern: rules.find((r) => r.EventPattern).EventPattern,
    bucket: {
      encryption: bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm,
      publicAccessBlock: {
        blockPublicAcls: bucket.Properties.PublicAccessBlockConfiguration.BlockPublicAcls,
        blockPublicPolicy: bucket.Properties.PublicAccessBlockConfiguration.BlockPublicPolicy,
        ignorePublicAcls: bucket.Properties.PublicAccessBlockConfiguration.IgnorePublicAcls,
        restrictPublicBuckets: bucket.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets,
      },
      lifecycle: bucket.Properties.LifecycleConfiguration.Rules.map((r: Json) => ({ prefix: r.Prefix, days: r.ExpirationInDays })),
      // CDK's auto-delete adds an Allow for its own function: the protections are the Deny statements.
      tlsOnly: evaluate(bucketPolicy.Properties.PolicyDocument).Statement.filter((s: Json) => s.Effect === 'Deny'),
    },
  };
}

/** Terraform references resolved as AWS would (data sources) or by kind (resources). */
function resolveTerraform(text: string): string {
  return text
    .replace(/\$\{data\.aws_partition\.[\w]+\.partition\}/g, 'aws')
    .replace(/\$\{data\.aws_region\.[\w]+\.(region|name)\}/g, REGION)
    .replace(/\$\{data\.aws_caller_identity\.[\w]+\.account_id\}/g, ACCOUNT)
    .replace(/\$\{aws_s3_bucket\.[\w]+\.(bucket|id)\}/g, '<AWS::S3::Bucket>')
    .replace(/\$\{aws_cloudwatch_log_group\.[\w]+\.name\}/g, '<AWS::Logs::LogGroup>')
    .replace(/\$\{aws_cloudformation_stack_set\.[\w]+\.name\}/g, '<AWS::CloudFormation::StackSet>');
}

function terraformJson(): Json {
  return JSON.parse(resolveTerraform(Testing.synthScope((scope) => new tf.ProwlerOrganization(scope, 'Prowler', {
    ...PROPS, apiKeySecretArn: SECRET_ARN, assumeCredentialsSecretArn: CREDENTIALS_ARN,
  }))));
}

function terraformShape(json: Json): OnboardingShape {
  const all = (type: string): Json[] => Object.values(json.resource?.[type] ?? {});
  const functions = all('aws_lambda_function');
  const environments = functions.map((f) => f.environment.variables);
  expect(environments.every((e) => JSON.stringify(e) === JSON.stringify(environments[0]))).toBe(true);
  const rules = all('aws_cloudwatch_event_rule');
  const block = all('aws_s3_bucket_public_access_block')[0];
  return {
    functions: functions
      .map((f) => ({
        handler: f.handler,
        runtime: f.runtime,
        architecture: f.architectures[0],
        memory: f.memory_size,
        timeout: f.timeout,
        reserved: f.reserved_concurrent_executions,
      }))
      .filter(sameEverywhere),
    environment: environments[0],
    statements: bySid(JSON.parse(all('aws_iam_role_policy').find((p) => p.name === 'onboarding').policy).Statement),
    schedule: rules.find((r) => r.schedule_expression).schedule_expression,
    eventPattern: JSON.parse(rules.find((r) => r.event_pattern).event_pattern),
    bucket: {
      encryption: all('aws_s3_bucket_server_side_encryption_configuration')[0].rule[0].apply_server_side_encryption_by_default.sse_algorithm,
      publicAccessBlock: {
        blockPublicAcls: block.block_public_acls,
        blockPublicPolicy: block.block_public_policy,
        ignorePublicAcls: block.ignore_public_acls,
        restrictPublicBuckets: block.restrict_public_buckets,
      },
      lifecycle: all('aws_s3_bucket_lifecycle_configuration')[0].rule.map((r: Json) => ({ prefix: r.filter[0].prefix, days: r.expiration[0].days })),
      tlsOnly: JSON.parse(all('aws_s3_bucket_policy')[0].policy).Statement.filter((s: Json) => s.Effect === 'Deny'),
    },
  };
}

describe('cross-flavour equivalence of the onboarding: CDK and CDKTF render one model', () => {
  const cdkSide = cdkShape();
  const tfSide = terraformShape(terraformJson());

  test('the same functions\' settings, environment, IAM statements, triggers and bucket protections', () => {
    // CloudFormation alone has a stack to read (a Delete looks there for the resource that took its place).
    const { [OWN_STACK_SID]: ownStack, ...cdkStatements } = cdkSide.statements;
    expect(ownStack).toEqual({ actions: ['cloudformation:ListStackResources'], resources: ['arn:aws:cloudformation:us-east-1:111111111111:stack/S/<stack id>'] });
    expect(tfSide).toEqual({ ...cdkSide, statements: cdkStatements });
  });

  test('and they are core\'s: every statement of the model, every environment key, the event pattern', () => {
    const model = bySid(onboardingStatements({
      partition: 'aws',
      region: REGION,
      account: ACCOUNT,
      stateBucketName: '<AWS::S3::Bucket>',
      secretArns: [SECRET_ARN, CREDENTIALS_ARN],
      logGroupNames: ['<AWS::Logs::LogGroup>'],
      localPrecheck: true,
      stackSetName: '<AWS::CloudFormation::StackSet>',
      stackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/S/<stack id>',
      organizationEvents: true,
    }).map(statementJson));
    expect(cdkSide.statements).toEqual(model);
    // Every key but the StackSet's region, set only for a StackSet elsewhere (test/delegated-admin.test.ts).
    expect(Object.keys(cdkSide.environment).sort()).toEqual(Object.values(ONBOARDING_ENV).filter((k) => k !== ONBOARDING_ENV.stackSetRegion).sort());
    expect(cdkSide.eventPattern).toEqual(ORGANIZATIONS_EVENT_PATTERN);
    expect(cdkSide.functions).toEqual([expect.objectContaining({ handler: 'index.sync', reserved: SYNC_RESERVED_CONCURRENCY })]);
    expect(JSON.parse(cdkSide.environment[ONBOARDING_ENV.stackSetTargets])).toEqual({
      organizationalUnitIds: ['ou-ab12-abcdefgh'], accountFilterType: 'DIFFERENCE', accounts: ['123456789012'],
    });
  });

  /** A shape's statements back as IAM statements (all of the functions' are Allow). */
  const statementsOf = (side: OnboardingShape, without?: string) => Object.entries(side.statements)
    .filter(([sid]) => sid !== without)
    .map(([, st]) => ({ Effect: 'Allow', Action: st.actions, Resource: st.resources, Condition: st.condition }));

  // S3 answers 403 (not 404) for a missing object when the caller may not list the bucket: the
  // sync's first read of runs/sync.json after a Terraform apply failed that way, every time.
  test.each([['CDK', cdkSide], ['CDKTF', tfSide]])('%s: a state object that does not exist yet reads as absent (s3:ListBucket on the bucket STATE_BUCKET names)', (_flavour, side) => {
    const bucket = `arn:aws:s3:::${side.environment[ONBOARDING_ENV.stateBucket]}`;
    expect(allows(statementsOf(side), 's3:ListBucket', bucket)).toBe(true);
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) expect(allows(statementsOf(side), action, `${bucket}/runs/sync.json`)).toBe(true);
    expect(allows(statementsOf(side), 's3:GetObject', 'arn:aws:s3:::another-bucket/runs/sync.json')).toBe(false);
    // Without the StateBucket statement (the CDKTF role before this fix), the read is a 403.
    expect(allows(statementsOf(side, 'StateBucket'), 's3:ListBucket', bucket)).toBe(false);
  });

  // The comparison must be able to fail: each kind of drift, made by hand in one rendering, is seen.
  test.each([
    ['an IAM action (s3:ListBucket)', (json: Json) => {
      const policy = Object.values<Json>(json.resource.aws_iam_role_policy).find((p) => p.name === 'onboarding');
      const doc = JSON.parse(policy.policy);
      doc.Statement = doc.Statement.filter((s: Json) => s.Sid !== 'StateBucket');
      policy.policy = JSON.stringify(doc);
    }],
    ['an environment key (STACKSET_TARGETS)', (json: Json) => {
      for (const f of Object.values<Json>(json.resource.aws_lambda_function)) delete f.environment.variables[ONBOARDING_ENV.stackSetTargets];
    }],
    ['a bucket protection (the TLS-only policy)', (json: Json) => {
      const [policy] = Object.values<Json>(json.resource.aws_s3_bucket_policy);
      policy.policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    }],
  ])('a rendering that drops %s is not equivalent', (_what, drop) => {
    const json = terraformJson();
    drop(json);
    expect(terraformShape(json)).not.toEqual(cdkSide);
  });
});
