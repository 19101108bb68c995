import { join } from 'node:path';
import { Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { core } from '../../src';
import * as tf from '../../src/cdktf';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const synth = (build: (scope: Construct) => void): any => JSON.parse(Testing.synthScope((scope) => build(scope)));
const resources = (json: any, type: string): any[] => Object.values(json.resource?.[type] ?? {});

describe('CDKTF ProwlerOrganizationOnboarding', () => {
  test('the prebuilt bundle as a Terraform asset, two functions (apply, sync), JSON logs with retention', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN }));
    const functions = resources(json, 'aws_lambda_function');
    expect(functions.map((f) => f.handler).sort()).toEqual(['index.sync', 'index.terraform']);
    for (const f of functions) {
      expect(f).toMatchObject({
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        timeout: 900,
        environment: { variables: { PROWLER_API_URL: 'https://api.prowler.com/api/v1', PROWLER_API_KEY_SECRET_ARN: SECRET_ARN } },
        logging_config: { log_format: 'JSON' },
      });
      expect(f.filename).toMatch(/assets\/.*\.zip$|\$\{.*\}/);
    }
    expect(resources(json, 'aws_cloudwatch_log_group').map((g) => g.retention_in_days)).toEqual([30, 30]);
  });

  test('an aws_lambda_invocation with lifecycle_scope CRUD carries the spec', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', {
      apiKeySecretArn: SECRET_ARN, selection: { targets: ['ou-ab12-abcdefgh'] }, removal: core.RemovalBehaviour.UNLINK,
    }));
    const [invocation] = resources(json, 'aws_lambda_invocation');
    expect(invocation).toMatchObject({ lifecycle_scope: 'CRUD', terraform_key: 'tf' });
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toEqual({ selection: { targets: ['ou-ab12-abcdefgh'] }, removal: 'unlink' });
  });

  test('least privilege: Organizations reads, the state objects, the API key secret only', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN }));
    const policy = JSON.parse(resources(json, 'aws_iam_role_policy')[0].policy);
    expect(policy.Statement.map((st: any) => st.Sid)).toEqual(['OrganizationsDiscovery', 'StateObjects', 'StateBucket', 'Secrets', 'Logs']);
    expect(policy.Statement.find((st: any) => st.Sid === 'Secrets')).toEqual({ Sid: 'Secrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET_ARN });
    // Without ListBucket, S3 answers 403 instead of 404 for the sync's missing state object (runs/sync.json).
    expect(policy.Statement.find((st: any) => st.Sid === 'StateBucket')).toEqual({
      Sid: 'StateBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:s3:::\$\{aws_s3_bucket\.[^}]+\.bucket\}$/),
    });
    expect(JSON.stringify(policy)).not.toContain('sts:AssumeRole');
  });

  test('syncs on a schedule and on Organizations events, each rule allowed to invoke the sync', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN }));
    const rules = resources(json, 'aws_cloudwatch_event_rule');
    expect(rules.map((r) => r.schedule_expression).filter(Boolean)).toEqual(['rate(6 hours)']);
    expect(JSON.parse(rules.find((r) => r.event_pattern).event_pattern)).toMatchObject({ 'source': ['aws.organizations'], 'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'] });
    expect(resources(json, 'aws_lambda_permission')).toHaveLength(2);
  });

  test('bad props fail synth with every problem listed', () => {
    expect(() => synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', {
      apiKeySecretArn: SECRET_ARN, selection: { targets: ['Production'] }, concurrency: 500, prowlerApiUrl: 'ftp://x',
    }))).toThrow(/3 invalid properties:[\s\S]*selection.targets\[0\][\s\S]*concurrency: must be 1–100[\s\S]*prowlerApiUrl must be an http\(s\) URL/);
  });

  test('no API key in the Terraform configuration, only the secret\'s ARN', () => {
    const text = Testing.synthScope((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN }));
    expect(text).not.toMatch(/pk_[A-Za-z0-9]/);
    expect(text).toContain(SECRET_ARN);
  });
});

describe('CDKTF ProwlerOrganization', () => {
  test('roles, StackSet and onboarding; the invocation waits for the roles and the StackSet instances', () => {
    const json = synth((s) => new tf.ProwlerOrganization(s, 'Prowler', {
      externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecretArn: SECRET_ARN,
    }));
    const [invocation] = resources(json, 'aws_lambda_invocation');
    // Static references: Terraform rejects an interpolation ("${aws_iam_role.x}") in depends_on.
    expect(invocation.depends_on).toEqual([
      expect.stringMatching(/^aws_iam_role\.[\w]+$/), expect.stringMatching(/^aws_cloudformation_stack_set\.[\w]+$/), expect.stringMatching(/^aws_cloudformation_stack_set_instance\.[\w]+$/),
    ]);
    const policy = JSON.parse(resources(json, 'aws_iam_role_policy').find((p) => p.name === 'onboarding').policy);
    expect(policy.Statement.map((st: any) => st.Sid)).toContain('MemberStackSetStatus');
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toMatchObject({ externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', organizationId: 'o-abc123def4' });
  });
});

describe('one spec file drives every route', () => {
  test('the Terraform construct takes core.SpecFile.load like the CDK one', () => {
    const values = core.SpecFile.load(join(__dirname, '..', '..', 'examples', 'gitops', 'prowler-onboarding.yaml'));
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { ...values, apiKeySecretArn: SECRET_ARN }));
    const [invocation] = resources(json, 'aws_lambda_invocation');
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toMatchObject({ selection: values.selection, organizationId: 'o-abc123def4', scanMode: 'daily', removal: 'retain' });
  });
});

