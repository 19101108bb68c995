/**
 * The Terraform constructs' outputs (what a pipeline reads with `terraform output` after an apply),
 * named and described by core. The cdktn run (`npx projen test:cdktn`) runs this file against the
 * CDK Terrain flavour.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import type { Construct } from 'constructs';
import * as tf from '../../src/cdktf';
import { STATE_KEYS } from '../../src/core/onboarding';
import { CallAs } from '../../src/core/options';
import { STACK_OUTPUTS } from '../../src/core/outputs';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const newStack = () => {
  const stack = new TerraformStack(Testing.app(), 'stack');
  new AwsProvider(stack, 'aws', { region: 'us-east-1' });
  return stack;
};
const organization = (scope: Construct, id: string, props: Partial<tf.ProwlerOrganizationProps> = {}) => new tf.ProwlerOrganization(scope, id, {
  externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecretArn: SECRET_ARN, ...props,
});
const outputs = (stack: TerraformStack): Record<string, { description: string; value: string }> => JSON.parse(Testing.synth(stack)).output ?? {};
/** A resource's address in the configuration (`aws_iam_role.<id>`), from the construct. */
const address = (stack: TerraformStack, resource: { terraformResourceType: string; friendlyUniqueId: string }) =>
  `${resource.terraformResourceType}.${stack.getLogicalId(resource as never)}`;
const names = (...which: Array<keyof typeof STACK_OUTPUTS>) => which.map((w) => STACK_OUTPUTS[w].terraform);

describe('Terraform outputs', () => {
  test("the one-liner has the five outputs under core's names, with core's descriptions, each the resource's own attribute", () => {
    const stack = newStack();
    const org = organization(stack, 'Prowler');
    // The StackSet's id is a property too, as in the CDK flavour: a user's own output of it.
    new TerraformOutput(stack, 'mine', { value: org.roles.memberStackSet.stackSetId, staticId: true });
    const { mine, ...out } = outputs(stack);
    expect(mine.value).toBe(out[STACK_OUTPUTS.stackSetId.terraform].value);
    expect(Object.keys(out).sort()).toEqual(Object.values(STACK_OUTPUTS).map((o) => o.terraform).sort());
    for (const o of Object.values(STACK_OUTPUTS)) expect(out[o.terraform].description).toBe(o.description);
    const role = address(stack, org.roles.managementRole!.role);
    const stackSet = address(stack, org.roles.memberStackSet.stackSet);
    const bucket = address(stack, org.onboarding.stateBucket!);
    expect(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]))).toEqual({
      [STACK_OUTPUTS.scanRoleArn.terraform]: `\${${role}.arn}`,
      [STACK_OUTPUTS.stackSetName.terraform]: `\${${stackSet}.name}`,
      [STACK_OUTPUTS.stackSetId.terraform]: `\${${stackSet}.stack_set_id}`,
      [STACK_OUTPUTS.stateBucketName.terraform]: `\${${bucket}.bucket}`,
      [STACK_OUTPUTS.latestReportUri.terraform]: `s3://\${${bucket}.bucket}/${STATE_KEYS.latestReport}`,
    });
  });

  test('the names are the outputs as written (no hash), and the construct ids are pinned', () => {
    const stack = newStack();
    organization(stack, 'Prowler');
    const paths = stack.node.findAll().filter((c) => c instanceof TerraformOutput).map((c) => c.node.path).sort();
    expect(paths).toEqual([
      'stack/Prowler/Onboarding/latest_report_uri', 'stack/Prowler/Onboarding/state_bucket_name',
      'stack/Prowler/Roles/prowler_scan_role_arn', 'stack/Prowler/Roles/stackset_id', 'stack/Prowler/Roles/stackset_name',
    ]);
  });

  test('the roles and the onboarding each add theirs when used alone; from a delegated administrator, no role ARN', () => {
    const roles = newStack();
    new tf.ProwlerOrganizationRoles(roles, 'Roles', { externalId: EXTERNAL_ID, targets: ['r-ab12'] });
    expect(Object.keys(outputs(roles)).sort()).toEqual(names('scanRoleArn', 'stackSetId', 'stackSetName').sort());

    const onboarding = newStack();
    new tf.ProwlerOrganizationOnboarding(onboarding, 'Onboarding', { apiKeySecretArn: SECRET_ARN });
    expect(Object.keys(outputs(onboarding)).sort()).toEqual(names('latestReportUri', 'stateBucketName').sort());

    const delegated = newStack();
    organization(delegated, 'Prowler', { callAs: CallAs.DELEGATED_ADMIN });
    expect(Object.keys(outputs(delegated)).sort()).toEqual(names('latestReportUri', 'stackSetId', 'stackSetName', 'stateBucketName').sort());
  });

  test('a bucket you bring: its name, and the report in it', () => {
    const stack = newStack();
    new tf.ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecretArn: SECRET_ARN, stateBucketName: 'my-prowler-state' });
    const out = outputs(stack);
    expect(out[STACK_OUTPUTS.stateBucketName.terraform].value).toBe('my-prowler-state');
    expect(out[STACK_OUTPUTS.latestReportUri.terraform].value).toBe(`s3://my-prowler-state/${STATE_KEYS.latestReport}`);
  });

  test('outputs: false adds none, so that a second onboarding (another Prowler tenant, say) fits in the configuration', () => {
    const stack = newStack();
    organization(stack, 'Prowler');
    new tf.ProwlerOrganizationOnboarding(stack, 'SelfHosted', { apiKeySecretArn: SECRET_ARN, prowlerApiUrl: 'https://prowler.example/api/v1', outputs: false });
    const out = outputs(stack);
    expect(Object.keys(out)).toHaveLength(5);
    // The first onboarding's, not silently replaced by the second's.
    expect(out[STACK_OUTPUTS.stateBucketName.terraform].value).toContain('Prowler_Onboarding_State');

    const none = newStack();
    organization(none, 'Prowler', { outputs: false });
    expect(outputs(none)).toEqual({});
  });

  test('a second onboarding with outputs fails synth (Terraform JSON would keep one of the two silently), naming the prop, the outputs and the construct', () => {
    const stack = newStack();
    organization(stack, 'Prowler');
    expect(() => new tf.ProwlerOrganizationOnboarding(stack, 'SelfHosted', { apiKeySecretArn: SECRET_ARN, prowlerApiUrl: 'https://prowler.example/api/v1' })).toThrow(
      "ProwlerOrganizationOnboarding at 'stack/SelfHosted': 1 invalid property:\n  - outputs must be false: the stack already has the outputs "
      + "'state_bucket_name', 'latest_report_uri' (from 'stack/Prowler/Onboarding') and a stack has one output of a name "
      + '(add your own outputs for this construct), got true (the default)');
  });

  test("the README's Terraform table lists every output by core's name and description", () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const o of Object.values(STACK_OUTPUTS)) expect(readme).toContain(`| \`${o.terraform}\` | ${o.description} |`);
  });
});
