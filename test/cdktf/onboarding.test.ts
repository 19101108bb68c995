import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { unzipSync } from 'fflate';
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

  test('the Lambda code is the archive built with the package, copied as is: a synth zips nothing', () => {
    const lib = join(__dirname, '..', '..', 'lib');
    const archive = readFileSync(join(lib, 'handler-bundle.zip'));
    // The shipped archive holds exactly the shipped bundle (a stale archive fails here).
    expect(Object.keys(unzipSync(archive))).toEqual(['index.js']);
    expect(Buffer.from(unzipSync(archive)['index.js']).equals(readFileSync(join(lib, 'handler-bundle', 'index.js')))).toBe(true);

    const outdir = mkdtempSync(join(tmpdir(), 'tf-archive-'));
    try {
      const app = new App({ outdir });
      const stack = new TerraformStack(app, 'stack');
      new AwsProvider(stack, 'aws', { region: 'us-east-1' });
      new tf.ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecretArn: SECRET_ARN });
      app.synth();
      const json = JSON.parse(readFileSync(join(outdir, 'stacks', 'stack', 'cdk.tf.json'), 'utf8'));
      const filenames = [...new Set(resources(json, 'aws_lambda_function').map((f) => f.filename as string))];
      expect(filenames).toHaveLength(1);
      expect(filenames[0]).toMatch(/handler-bundle\.zip$/);
      expect(readFileSync(join(outdir, 'stacks', 'stack', filenames[0])).equals(archive)).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('an aws_lambda_invocation with lifecycle_scope CRUD carries the spec', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', {
      apiKeySecretArn: SECRET_ARN, selection: { targets: ['ou-ab12-abcdefgh'] }, removal: core.RemovalBehaviour.UNLINK,
    }));
    const [invocation] = resources(json, 'aws_lambda_invocation');
    expect(invocation).toMatchObject({ lifecycle_scope: 'CRUD', terraform_key: 'tf' });
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toEqual({ selection: { targets: ['ou-ab12-abcdefgh'] }, removal: 'unlink' });
  });

  test('Prowler Cloud\'s options reach the function in the spec: schedule, prowlerEdition, replaceCredentials', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', {
      apiKeySecretArn: SECRET_ARN,
      schedule: { frequency: core.ScheduleFrequency.MONTHLY, dayOfMonth: 15 },
      prowlerEdition: core.ProwlerEdition.APP,
      replaceCredentials: false,
    }));
    const [invocation] = resources(json, 'aws_lambda_invocation');
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toEqual({ selection: {}, schedule: { frequency: 'monthly', dayOfMonth: 15 }, prowlerEdition: 'app', replaceCredentials: false });
  });

  test('least privilege: Organizations reads, the state objects, the API key secret only', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN }));
    const policy = JSON.parse(resources(json, 'aws_iam_role_policy')[0].policy);
    expect(policy.Statement.map((st: any) => st.Sid)).toEqual(['OrganizationsDiscovery', 'StateObjects', 'StateBucket', 'Secrets', 'Logs', 'TrailStatus']);
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
      apiKeySecretArn: SECRET_ARN, selection: { targets: ['Production'] }, concurrency: 500, prowlerApiUrl: 'ftp://x', logLevel: 'verbose',
    }))).toThrow(/4 invalid properties:[\s\S]*selection.targets\[0\][\s\S]*concurrency: must be 1–100[\s\S]*logLevel must be one of DEBUG, INFO, WARN, ERROR, got 'verbose'[\s\S]*prowlerApiUrl must be an http\(s\) URL/);
  });

  test('user text with ${ or %{ (an alias, a tag value) reaches the function as written: Terraform does not interpolate it', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', {
      apiKeySecretArn: SECRET_ARN, selection: { aliases: { 123456789012: 'cost ${center} %{x}' }, excludeTags: [{ key: 'team', value: '${owner}' }] },
    }));
    const [invocation] = resources(json, 'aws_lambda_invocation');
    expect(invocation.input).toContain('cost $${center} %%{x}');
    // What Terraform hands the function, once it has read its escapes:
    const received = JSON.parse(JSON.parse(invocation.input.split('$${').join('${').split('%%{').join('%{')).Spec);
    expect(received.selection).toEqual({ aliases: { 123456789012: 'cost ${center} %{x}' }, excludeTags: [{ key: 'team', value: '${owner}' }] });
  });

  test('a Terraform variable inside selection is left to apply time: the invocation references it', () => {
    const json = synth((s) => {
      const ou = new TerraformVariable(s, 'target_ou', { type: 'string' });
      new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN, selection: { targets: [ou.stringValue] } });
    });
    const [invocation] = resources(json, 'aws_lambda_invocation');
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toEqual({ selection: { targets: ['${var.target_ou}'] } });
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
      expect.stringMatching(/^aws_iam_role\.[\w]+$/), expect.stringMatching(/^aws_cloudformation_stack_set\.[\w]+$/), expect.stringMatching(/^aws_cloudformation_stack_instances\.[\w]+$/),
    ]);
    const policy = JSON.parse(resources(json, 'aws_iam_role_policy').find((p) => p.name === 'onboarding').policy);
    expect(policy.Statement.map((st: any) => st.Sid)).toContain('MemberStackSetStatus');
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toMatchObject({ externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', organizationId: 'o-abc123def4' });
  });

  test('the stack reads its partition, region and account once, however many constructs use them', () => {
    const json = synth((s) => {
      new tf.ProwlerOrganization(s, 'Prowler', {
        externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecretArn: SECRET_ARN,
      });
      new tf.ProwlerScanRole(s, 'Another', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', roleName: 'ProwlerScanElsewhere' });
    });
    const count = (type: string) => Object.keys(json.data?.[type] ?? {}).length;
    expect({ partition: count('aws_partition'), region: count('aws_region'), account: count('aws_caller_identity') })
      .toEqual({ partition: 1, region: 1, account: 1 });
    // Every reference is to that one data source.
    const [partition] = Object.keys(json.data.aws_partition);
    const references = JSON.stringify(json.resource).match(/data\.aws_partition\.\w+/g) ?? [];
    expect(new Set(references)).toEqual(new Set([`data.aws_partition.${partition}`]));
  });

  test("a construct of the user's holding the stack's data-source id is named in the error", () => {
    expect(() => synth((s) => {
      new TerraformVariable(s, 'ProwlerOrgOnboardingPartition', { type: 'string' });
      new tf.ProwlerScanRole(s, 'Scan', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f' });
    })).toThrow("the stack's 'ProwlerOrgOnboardingPartition' is not a DataAwsPartition: that id is prowler-org-onboarding's, rename your construct");
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


describe('CDKTF: what a Terraform user expects of a module that runs Lambdas', () => {
  test('in a VPC: both functions get the subnets and security groups, the role the VPC access policy', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', {
      apiKeySecretArn: SECRET_ARN, prowlerApiUrl: 'http://10.0.1.20:8080/api/v1', subnetIds: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-0prowler'],
    }));
    for (const f of resources(json, 'aws_lambda_function')) expect(f.vpc_config).toEqual({ subnet_ids: ['subnet-0a', 'subnet-0b'], security_group_ids: ['sg-0prowler'] });
    expect(resources(json, 'aws_iam_role_policy_attachment').map((a) => a.policy_arn))
      .toEqual([expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:iam::aws:policy\/service-role\/AWSLambdaVPCAccessExecutionRole$/)]);
  });

  test('subnets without security groups (or the reverse) fail synth, naming both', () => {
    expect(() => synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN, subnetIds: ['subnet-0a'] })))
      .toThrow(/securityGroupIds is required with subnetIds, got null/);
  });

  test('a bucket and a role you bring are used as they are: no bucket, no role created; the policy goes on your role', () => {
    const json = synth((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN, stateBucketName: 'my-onboarding-state', functionRoleName: 'prowler-onboarding' }));
    expect(resources(json, 'aws_s3_bucket')).toEqual([]);
    expect(resources(json, 'aws_iam_role')).toEqual([]);
    const [policy] = resources(json, 'aws_iam_role_policy');
    expect(policy.role).toBe('prowler-onboarding');
    expect(JSON.parse(policy.policy).Statement.find((st: any) => st.Sid === 'StateBucket').Resource).toMatch(/:s3:::my-onboarding-state$/);
    for (const f of resources(json, 'aws_lambda_function')) {
      expect(f.role).toMatch(/^\$\{data\.aws_iam_role\.[^}]+\.arn\}$/);
      expect(f.environment.variables.STATE_BUCKET).toBe('my-onboarding-state');
    }
  });

  test('a failed sync is a metric for an alarm, and Lambda does not retry it', () => {
    let metric: tf.SyncFailuresMetric | undefined;
    const json = synth((s) => {
      metric = new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN }).syncFailuresMetric;
    });
    expect(metric).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Errors', statistic: 'Sum', dimensions: { FunctionName: expect.stringMatching(/^\$\{TfToken\[/) } });
    const [config] = resources(json, 'aws_lambda_function_event_invoke_config');
    expect(config).toEqual({ function_name: expect.stringMatching(/^\$\{aws_lambda_function\.[\w]+\.function_name\}$/), maximum_retry_attempts: 0 });
    const sync = Object.keys(json.resource.aws_lambda_function).find((k) => json.resource.aws_lambda_function[k].handler === 'index.sync');
    expect(config.function_name).toBe(`\${aws_lambda_function.${sync}.function_name}`);
  });

  test('with a provider for the Organizations region, a rule there forwards the events to this region\'s default bus', () => {
    const json = synth((s) => {
      const home = new AwsProvider(s, 'OrganizationsRegion', { alias: 'organizations', region: 'us-east-1' });
      new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN, organizationEventsProvider: home });
    });
    const rules = resources(json, 'aws_cloudwatch_event_rule');
    const forward = rules.find((r) => r.provider === 'aws.organizations');
    expect(JSON.parse(forward.event_pattern)).toEqual(JSON.parse(rules.find((r) => r.event_pattern && !r.provider).event_pattern));
    const target = resources(json, 'aws_cloudwatch_event_target').find((t) => t.provider === 'aws.organizations');
    expect(target.arn).toMatch(/^arn:\$\{data\.aws_partition\.[^}]+\}:events:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:event-bus\/default$/);
    // In the Organizations region already, forwarding would send the bus's events back to it: Terraform refuses at plan.
    expect(forward.lifecycle.precondition).toEqual([{
      condition: expect.stringMatching(/^\$\{\(data\.aws_region\.\w*OrganizationsRegion\w*\.name != data\.aws_region\.\w+\.name\)\}$/),
      error_message: expect.stringMatching(/^organizationEventsProvider is for the Organizations region, and this configuration is already there/),
    }]);
    expect(Object.values<any>(json.data.aws_region).some((d) => d.provider === 'aws.organizations')).toBe(true);
    const forwarder = resources(json, 'aws_iam_role').find((r) => r.name.endsWith('-forwarder'));
    expect(JSON.parse(forwarder.assume_role_policy).Statement[0]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Condition: {
        StringEquals: {
          'aws:SourceAccount': expect.stringMatching(/^\$\{data\.aws_caller_identity/),
          'aws:SourceArn': expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:events:\$\{data\.aws_region\.\w*OrganizationsRegion\w*\.name\}:\$\{data\.aws_caller_identity\.[^}]+\}:rule\/prowler-org-onboarding-\w+-forward$/),
        },
      },
    });
  });
});

describe('CDKTF: the one-liner onboards what its StackSet reaches', () => {
  const oneLiner = (extra: Record<string, unknown> = {}) => synth((s) => new tf.ProwlerOrganization(s, 'Prowler', {
    externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: ['ou-ab12-workload'], onlyAccounts: ['222222222222', '333333333333'], apiKeySecretArn: SECRET_ARN, ...extra,
  }));

  test('the StackSet\'s targets and account filter are the selection; every onboarding option passes through', () => {
    const json = oneLiner({
      sessionDurationSeconds: 3600,
      localPrecheck: true,
      concurrency: 7,
      assumeCredentialsSecretArn: SECRET_ARN.replace('api-key', 'assume'),
      logRetentionDays: 90,
      connection: { stackSetWaitSeconds: 900 },
    });
    const [invocation] = resources(json, 'aws_lambda_invocation');
    expect(JSON.parse(JSON.parse(invocation.input).Spec)).toEqual({
      selection: { targets: ['ou-ab12-workload'], onlyAccounts: ['222222222222', '333333333333'] },
      externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f',
      concurrency: 7,
      sessionDurationSeconds: 3600,
      localPrecheck: true,
      connection: { stackSetWaitSeconds: 900 },
    });
    const [fn] = resources(json, 'aws_lambda_function');
    expect(fn.environment.variables).toMatchObject({ ASSUME_CREDENTIALS_SECRET_ARN: SECRET_ARN.replace('api-key', 'assume'), LOCAL_PRECHECK: 'true' });
    expect(resources(json, 'aws_cloudwatch_log_group').map((g) => g.retention_in_days)).toEqual([90, 90]);
  });

  test('an account the StackSet leaves out cannot be selected: synth fails naming both', () => {
    expect(() => oneLiner({ selection: { includeAccounts: ['444444444444'] } }))
      .toThrow(/selection.includeAccounts lists '444444444444', but the StackSet's onlyAccounts \[222222222222, 333333333333\] gives it no ProwlerScan role/);
  });

  test('two member StackSets get distinct default names', () => {
    const json = synth((s) => {
      new tf.ProwlerMemberRoleStackSet(s, 'Production', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: ['ou-ab12-prodprod'] });
      new tf.ProwlerMemberRoleStackSet(s, 'Sandbox', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: ['ou-ab12-sandboxx'] });
    });
    const names = resources(json, 'aws_cloudformation_stack_set').map((r) => r.name);
    expect(new Set(names).size).toBe(2);
    for (const name of names) expect(name).toMatch(/^prowler-scan-member-role-[0-9a-f]{8}$/);
  });
});
