/** The CDK constructs' stack outputs (what a pipeline reads after `cdk deploy`), named and described by core. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import * as cdk from '../../src/cdk';
import { STATE_KEYS } from '../../src/core/onboarding';
import { CallAs } from '../../src/core/options';
import { STACK_OUTPUTS } from '../../src/core/outputs';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const newStack = () => new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
/** The stack's API key secret (one per stack, however many constructs use it). */
const apiKey = (stack: Stack) => (stack.node.tryFindChild('ApiKey') as secretsmanager.ISecret | undefined)
  ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN);
const organization = (scope: Construct, id: string, props: Partial<cdk.ProwlerOrganizationProps> = {}) => {
  return new cdk.ProwlerOrganization(scope, id, {
    externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecret: apiKey(Stack.of(scope)), ...props,
  });
};
const outputs = (stack: Stack): Record<string, { Description: string; Value: unknown }> => Template.fromStack(stack).toJSON().Outputs ?? {};
const keys = (...which: Array<keyof typeof STACK_OUTPUTS>) => which.map((w) => STACK_OUTPUTS[w].cloudFormation);

describe('stack outputs (CDK)', () => {
  test("the one-liner has the five outputs under core's keys, with core's descriptions, each the resource's own value", () => {
    const stack = newStack();
    const org = organization(stack, 'Prowler');
    const out = outputs(stack);
    expect(Object.keys(out).sort()).toEqual(Object.values(STACK_OUTPUTS).map((o) => o.cloudFormation).sort());
    for (const o of Object.values(STACK_OUTPUTS)) expect(out[o.cloudFormation].Description).toBe(o.description);
    const bucket = stack.resolve(org.onboarding.stateBucket.bucketName);
    expect(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.Value]))).toEqual({
      [STACK_OUTPUTS.scanRoleArn.cloudFormation]: { 'Fn::GetAtt': [stack.getLogicalId(org.roles.managementRole!.role.node.defaultChild as any), 'Arn'] },
      [STACK_OUTPUTS.stackSetName.cloudFormation]: 'Stack-Prowler-Roles-MemberRoles-06741A71',
      [STACK_OUTPUTS.stackSetId.cloudFormation]: { 'Fn::GetAtt': [stack.getLogicalId(org.roles.memberStackSet.stackSet), 'StackSetId'] },
      [STACK_OUTPUTS.stateBucketName.cloudFormation]: bucket,
      [STACK_OUTPUTS.latestReportUri.cloudFormation]: { 'Fn::Join': ['', ['s3://', bucket, `/${STATE_KEYS.latestReport}`]] },
    });
    expect(bucket).toEqual({ Ref: stack.getLogicalId(org.onboarding.stateBucket.node.defaultChild as any) });
    expect(STATE_KEYS.latestReport).toBe('reports/latest.json');
  });

  test('the keys are CloudFormation output keys as written (no hash), and the construct ids are pinned', () => {
    const stack = newStack();
    organization(stack, 'Prowler');
    const paths = stack.node.findAll().filter((c) => c instanceof CfnOutput).map((c) => c.node.path).sort();
    expect(paths).toEqual([
      'Stack/Prowler/Onboarding/LatestReportUri', 'Stack/Prowler/Onboarding/StateBucketName',
      'Stack/Prowler/Roles/ProwlerScanRoleArn', 'Stack/Prowler/Roles/StackSetId', 'Stack/Prowler/Roles/StackSetName',
    ]);
    for (const key of Object.keys(outputs(stack))) expect(key).toMatch(/^[A-Za-z0-9]+$/);
  });

  test('the roles and the onboarding each add theirs when used alone', () => {
    const stack = newStack();
    new cdk.ProwlerOrganizationRoles(stack, 'Roles', { externalId: EXTERNAL_ID, targets: ['r-ab12'] });
    expect(Object.keys(outputs(stack)).sort()).toEqual(keys('scanRoleArn', 'stackSetId', 'stackSetName').sort());

    const other = newStack();
    new cdk.ProwlerOrganizationOnboarding(other, 'Onboarding', { apiKeySecret: apiKey(other) });
    expect(Object.keys(outputs(other)).sort()).toEqual(keys('latestReportUri', 'stateBucketName').sort());
  });

  test('from a delegated administrator there is no management role, so no ProwlerScanRoleArn', () => {
    const stack = newStack();
    organization(stack, 'Prowler', { callAs: CallAs.DELEGATED_ADMIN });
    expect(Object.keys(outputs(stack))).not.toContain(STACK_OUTPUTS.scanRoleArn.cloudFormation);
    expect(Object.keys(outputs(stack))).toContain(STACK_OUTPUTS.stackSetId.cloudFormation);
  });

  test('a bucket you bring: its name, and the report in it', () => {
    const stack = newStack();
    const stateBucket = s3.Bucket.fromBucketName(stack, 'Mine', 'my-prowler-state');
    new cdk.ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecret: apiKey(stack), stateBucket });
    const out = outputs(stack);
    expect(out[STACK_OUTPUTS.stateBucketName.cloudFormation].Value).toBe('my-prowler-state');
    expect(out[STACK_OUTPUTS.latestReportUri.cloudFormation].Value).toBe(`s3://my-prowler-state/${STATE_KEYS.latestReport}`);
  });

  test('outputs: false adds none, so that a second onboarding (another Prowler tenant, say) fits in the stack', () => {
    const stack = newStack();
    organization(stack, 'Prowler');
    new cdk.ProwlerOrganizationOnboarding(stack, 'SelfHosted', { apiKeySecret: apiKey(stack), prowlerApiUrl: 'https://prowler.example/api/v1', outputs: false });
    expect(Object.keys(outputs(stack))).toHaveLength(5);

    const none = newStack();
    organization(none, 'Prowler', { outputs: false });
    expect(outputs(none)).toEqual({});
  });

  test('a second onboarding with outputs fails synth, naming the prop, the outputs and the construct that has them', () => {
    const stack = newStack();
    organization(stack, 'Prowler');
    expect(() => new cdk.ProwlerOrganizationOnboarding(stack, 'SelfHosted', { apiKeySecret: apiKey(stack), prowlerApiUrl: 'https://prowler.example/api/v1' })).toThrow(
      "ProwlerOrganizationOnboarding at 'Stack/SelfHosted': 1 invalid property:\n  - outputs must be false: the stack already has the outputs "
      + "'StateBucketName', 'LatestReportUri' (from 'Stack/Prowler/Onboarding') and a stack has one output of a name "
      + '(add your own outputs for this construct), got true (the default)');
    expect(() => new cdk.ProwlerOrganizationRoles(stack, 'Again', { externalId: EXTERNAL_ID, targets: ['r-ab12'], roleName: 'ProwlerScanToo', outputs: true }))
      .toThrow(/^ProwlerOrganizationRoles at 'Stack\/Again': 1 invalid property:\n {2}- outputs must be false: .*'ProwlerScanRoleArn', 'StackSetName', 'StackSetId' \(from 'Stack\/Prowler\/Roles'\).*, got true$/);
  });

  test("the README's CDK table lists every output by core's key and description", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const o of Object.values(STACK_OUTPUTS)) expect(readme).toContain(`| \`${o.cloudFormation}\` | ${o.description} |`);
  });
});
