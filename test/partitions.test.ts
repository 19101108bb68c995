/**
 * GovCloud and China: Prowler Cloud's account cannot assume a role across partitions, and its API
 * cannot scan there. Every flavour refuses those defaults as early as it knows the partition.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { mockClient } from 'aws-sdk-client-mock';
import { Testing } from 'cdktf';
import * as cdk from '../src/cdk';
import * as tf from '../src/cdktf';
import { QuickCreateLink } from '../src/core';
import { partitionProblems, PROWLER_CLOUD_API_URL } from '../src/core/partition';
import { handleOnEvent, type LambdaEnvironment } from '../src/handler/lambda';
import { MemoryJsonStore } from '../src/handler/store';
import { fakeClock } from '../testing/harness';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const SELF_HOSTED = { trustedAccountId: '222222222222', trustedPrincipal: 'role/prowler-app', prowlerApiUrl: 'https://prowler.example.internal/api/v1' };
const PARTITIONS = [['us-gov-west-1', 'aws-us-gov'], ['cn-north-1', 'aws-cn']] as const;

function cdkStack(region?: string) {
  const stack = new Stack(new App(), 'Stack', region ? { env: { account: '111111111111', region } } : {});
  const apiKeySecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', `arn:${region?.startsWith('cn-') ? 'aws-cn' : 'aws'}:secretsmanager:${region ?? 'us-east-1'}:111111111111:secret:prowler-AbCdEf`);
  return { stack, apiKeySecret };
}

const oneLiner = (region: string | undefined, extra: object = {}) => {
  const { stack, apiKeySecret } = cdkStack(region);
  new cdk.ProwlerOrganization(stack, 'Prowler', { externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecret, ...extra });
  return stack;
};

describe('core', () => {
  test('the aws partition accepts the defaults; the others name the field, the value and what to set', () => {
    expect(partitionProblems('aws', { trust: {}, api: {} })).toEqual([]);
    const [trust, api] = partitionProblems('aws-us-gov', { trust: {}, api: {} });
    expect(trust).toMatch(/^trustedAccountId: Prowler Cloud's account 232136659152 is in the aws partition and can never assume a role in the aws-us-gov partition/);
    expect(trust).toMatch(/set trustedAccountId and trustedPrincipal .* self-hosted Prowler/);
    expect(trust).toMatch(/got nothing \(the default, 232136659152\)$/);
    expect(api).toMatch(/^prowlerApiUrl: Prowler Cloud \(https:\/\/api\.prowler\.com\/api\/v1\) .* aws-cn|aws-us-gov partition: set prowlerApiUrl to your self-hosted Prowler App's API/);
    expect(partitionProblems('aws-cn', { trust: { trustedAccountId: '232136659152' }, api: { prowlerApiUrl: `${PROWLER_CLOUD_API_URL}` } })).toHaveLength(2);
    expect(partitionProblems('aws-cn', { trust: { trustedAccountId: '222222222222' }, api: { prowlerApiUrl: SELF_HOSTED.prowlerApiUrl } })).toEqual([]);
  });
});

describe.each(PARTITIONS)('CDK in %s (%s)', (region, partition) => {
  test('the one-liner with the defaults fails at synth with both problems at once', () => {
    expect(() => oneLiner(region)).toThrow(new RegExp(
      `ProwlerOrganization at 'Stack/Prowler': 2 invalid properties:\\n  - trustedAccountId: .* in the ${partition} partition[^\\n]*\\n  - prowlerApiUrl: .* ${partition} partition`));
  });

  test('each construct refuses the default it depends on', () => {
    const { stack, apiKeySecret } = cdkStack(region);
    expect(() => new cdk.ProwlerScanRole(stack, 'Scan', { externalId: EXTERNAL_ID })).toThrow(/ProwlerScanRole at 'Stack\/Scan': 1 invalid property:\n {2}- trustedAccountId/);
    expect(() => new cdk.ProwlerMemberRoleStackSet(stack, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'] }))
      .toThrow(/ProwlerMemberRoleStackSet at 'Stack\/Members': 1 invalid property:\n {2}- trustedAccountId/);
    expect(() => new cdk.ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecret }))
      .toThrow(/ProwlerOrganizationOnboarding at 'Stack\/Onboarding': 1 invalid property:\n {2}- prowlerApiUrl/);
  });

  test("a self-hosted Prowler's account, principal and API synthesize, trusted in the stack's partition", () => {
    const template = Template.fromStack(oneLiner(region, SELF_HOSTED));
    const role = Object.values(template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'ProwlerScan' } }))[0] as any;
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain(':iam::222222222222:root');
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).not.toContain('232136659152');
  });
});

describe('CDK in the aws partition, or with the region unknown at synth', () => {
  test('the defaults synthesize (Prowler Cloud)', () => {
    expect(() => oneLiner('eu-west-1')).not.toThrow();
    expect(() => oneLiner(undefined)).not.toThrow();
  });
});

describe('CDKTF: the plan fails outside the aws partition (Terraform knows it at plan, not at synth)', () => {
  const synth = (build: (scope: any) => void): any => JSON.parse(Testing.synthScope(build));
  const preconditions = (resource: any) => resource.lifecycle?.precondition ?? [];

  test('defaults: a precondition on the roles, the StackSet and the invocation, each with its message', () => {
    const json = synth((s) => new tf.ProwlerOrganization(s, 'Prowler', {
      externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:k-AbCdEf',
    }));
    const [role] = Object.values(json.resource.aws_iam_role).filter((r: any) => r.name === 'ProwlerScan');
    const [stackSet] = Object.values(json.resource.aws_cloudformation_stack_set);
    const [invocation] = Object.values(json.resource.aws_lambda_invocation);
    for (const [resource, message] of [[role, /^trustedAccountId: /], [stackSet, /^trustedAccountId: /], [invocation, /^prowlerApiUrl: /]] as const) {
      const [p] = preconditions(resource);
      expect(p.condition).toMatch(/^\$\{\(data\.aws_partition\.[\w-]+\.partition == "aws"\)\}$/);
      expect(p.error_message).toMatch(message);
      expect(p.error_message).toMatch(/aws-us-gov or aws-cn partition/);
    }
  });

  test("a self-hosted Prowler's account and API: no precondition", () => {
    const json = synth((s) => new tf.ProwlerOrganization(s, 'Prowler', {
      externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:k-AbCdEf', ...SELF_HOSTED,
    }));
    for (const type of ['aws_iam_role', 'aws_cloudformation_stack_set', 'aws_lambda_invocation']) {
      for (const resource of Object.values(json.resource[type])) expect(preconditions(resource)).toEqual([]);
    }
  });
});

describe('the standalone template', () => {
  const templateUrl = 'https://example-bucket.s3.amazonaws.com/prowler-scan-role.yaml';
  test.each(PARTITIONS)('a Quick Create link for %s needs the trusted account (%s)', (region, partition) => {
    expect(() => QuickCreateLink.url({ region, templateUrl })).toThrow(new RegExp(`parameters.AccountId: Prowler Cloud's account 232136659152 .* ${partition} partition`));
    expect(QuickCreateLink.url({ region, templateUrl, parameters: { AccountId: '222222222222', IAMPrincipal: 'role/prowler-app' } })).toContain('param_AccountId=222222222222');
  });
  test('in the aws partition the default trust is fine', () => {
    expect(QuickCreateLink.url({ region: 'us-east-1', templateUrl })).toContain('quickcreate');
  });
});

describe('the Lambda, at deploy time (an environment-agnostic stack)', () => {
  test('with Prowler Cloud in GovCloud, a Create fails before any request reaches Prowler; a Delete still succeeds', async () => {
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'pk_live.KEY' });
    const requests: string[] = [];
    const env: LambdaEnvironment = {
      prowlerApiUrl: PROWLER_CLOUD_API_URL,
      apiKeySecretArn: 'arn:aws-us-gov:secretsmanager:us-gov-west-1:111111111111:secret:k-AbCdEf',
      partition: 'aws-us-gov',
      store: new MemoryJsonStore(),
      organizations: undefined as any,
      secrets: new SecretsManagerClient({ region: 'us-gov-west-1' }),
      clock: fakeClock(),
      log: { info: () => undefined, warn: () => undefined },
      fetch: (async (url: string) => { requests.push(String(url)); throw new Error('no network'); }) as any,
    };
    const event = (RequestType: string) => ({
      RequestType,
      RequestId: 'r',
      LogicalResourceId: 'Onboarding',
      PhysicalResourceId: 'x',
      StackId: 'arn:aws-us-gov:cloudformation:us-gov-west-1:111111111111:stack/S/1',
      ResourceType: 'Custom::ProwlerOrganizationOnboarding',
      ResourceProperties: { ServiceToken: 't', Spec: JSON.stringify({ selection: {}, removal: 'retain' }) },
    }) as any;
    try {
      await expect(handleOnEvent(event('Create'), env)).rejects.toThrow(/^prowlerApiUrl: Prowler Cloud .* aws-us-gov partition: set prowlerApiUrl/);
      expect(requests).toEqual([]);
      await expect(handleOnEvent(event('Delete'), env)).resolves.toMatchObject({ PhysicalResourceId: 'x' });
    } finally {
      sm.restore();
    }
  });
});
