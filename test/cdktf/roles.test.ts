import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Testing, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { parse } from 'yaml';
import * as cdk from '../../src/cdk';
import * as tf from '../../src/cdktf';
import { CfnEvaluator, grants, roleGrants, trust } from '../support/cfn-eval';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';

/** Synthesizes constructs in a Terraform stack and returns the JSON configuration. */
function synth(build: (scope: Construct) => void): any {
  return JSON.parse(Testing.synthScope((scope) => build(scope)));
}

const resources = (json: any, type: string): any[] => Object.values(json.resource?.[type] ?? {});
/** Terraform's data.aws_partition reference, resolved as AWS would in the aws partition. */
const resolvePartition = (text: string) => text.replace(/\$\{data\.aws_partition\.[^}]+\.partition\}/g, 'aws');

describe('CDKTF ProwlerScanRole', () => {
  test('the ProwlerScan role, its managed policies and its inline policies as Terraform resources', () => {
    const json = synth((s) => new tf.ProwlerScanRole(s, 'Scan', { externalId: EXTERNAL_ID }));
    const [role] = resources(json, 'aws_iam_role');
    expect(role).toMatchObject({ name: 'ProwlerScan', max_session_duration: 3600, tags: { Service: 'https://prowler.com', Terraform: 'true', Name: 'ProwlerScan' } });
    const assume = JSON.parse(resolvePartition(role.assume_role_policy));
    expect(assume.Statement[0]).toEqual({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::232136659152:root' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID }, StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::232136659152:role/prowler*' } },
    });
    expect(resources(json, 'aws_iam_role_policy_attachment').map((a) => resolvePartition(a.policy_arn)).sort())
      .toEqual(['arn:aws:iam::aws:policy/SecurityAudit', 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess']);
    expect(resources(json, 'aws_iam_role_policy').map((p) => p.name)).toEqual(['ProwlerScan']);
  });

  test('bad props fail synth with every problem listed, like the CDK construct', () => {
    expect(() => synth((s) => new tf.ProwlerOrganizationRoles(s, 'Roles', { externalId: '', organizationId: 'O-1', targets: ['Production'] })))
      .toThrow(/ProwlerOrganizationRoles at '.*Roles': 3 invalid properties:[\s\S]*externalId is required[\s\S]*organizationId: Must be a valid AWS Organization ID[\s\S]*targets\[0\]: Must be an OU id/);
  });
});

describe('CDKTF ProwlerMemberRoleStackSet', () => {
  test('a service-managed StackSet, administration_role_arn ignored, one instance resource per region', () => {
    const json = synth((s) => new tf.ProwlerMemberRoleStackSet(s, 'Members', {
      externalId: EXTERNAL_ID, targets: ['ou-ab12-abcdefgh'], excludeAccounts: ['123456789012'], regions: ['us-east-1', 'eu-west-1'],
    }));
    const [stackSet] = resources(json, 'aws_cloudformation_stack_set');
    expect(stackSet).toMatchObject({
      name: expect.stringMatching(/^prowler-scan-member-role-[0-9a-f]{8}$/),
      permission_model: 'SERVICE_MANAGED',
      call_as: 'SELF',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      auto_deployment: { enabled: true, retain_stacks_on_account_removal: false },
      managed_execution: { active: true },
      operation_preferences: { failure_tolerance_percentage: 10, max_concurrent_percentage: 100, region_concurrency_type: 'PARALLEL' },
      parameters: { ExternalId: EXTERNAL_ID, AccountId: '232136659152', IAMPrincipal: 'role/prowler*', RoleName: 'ProwlerScan' },
      lifecycle: { ignore_changes: ['administration_role_arn'] },
    });
    // One resource for every region: it changes targets in place (stack_set_instance would replace itself).
    expect(resources(json, 'aws_cloudformation_stack_set_instance')).toEqual([]);
    const [instances, ...more] = resources(json, 'aws_cloudformation_stack_instances');
    expect(more).toEqual([]);
    expect(instances.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(instances.stack_set_name).toMatch(/^\$\{aws_cloudformation_stack_set\.[\w]+\.name\}$/);
    expect(instances.deployment_targets).toEqual({ organizational_unit_ids: ['ou-ab12-abcdefgh'], account_filter_type: 'DIFFERENCE', accounts: ['123456789012'] });
    expect(instances.operation_preferences).toEqual({
      failure_tolerance_percentage: 10, max_concurrent_percentage: 100, region_concurrency_type: 'PARALLEL', concurrency_mode: 'SOFT_FAILURE_TOLERANCE',
    });
  });

  test('every ${ of the member template is escaped for Terraform, and unescaped it is the CDK template body', () => {
    const json = synth((s) => new tf.ProwlerMemberRoleStackSet(s, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'] }));
    const body: string = resources(json, 'aws_cloudformation_stack_set')[0].template_body;
    expect(body).toContain('$${AWS::Partition}');
    expect(body.replace(/\$\$\{/g, '')).not.toContain('${');
    const cdkStack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    new cdk.ProwlerMemberRoleStackSet(cdkStack, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'] });
    const cdkBody = Object.values(Template.fromStack(cdkStack).findResources('AWS::CloudFormation::StackSet'))[0].Properties.TemplateBody;
    expect(body.split('$${').join('${')).toBe(cdkBody);
  });

  test('one region by default: the provider\'s, which the provider fills in when regions is left out', () => {
    const json = synth((s) => new tf.ProwlerMemberRoleStackSet(s, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'] }));
    expect(resources(json, 'aws_cloudformation_stack_instances')[0]).not.toHaveProperty('regions');
  });
});

/** Same props, same grants and StackSet settings in every flavour (normalised policy documents). */
describe('cross-flavour equivalence: CDK, CDKTF and templates/', () => {
  const props = {
    externalId: EXTERNAL_ID, trustedAccountId: '222222222222', trustedPrincipal: 'role/prowler-app', organizationId: 'o-abc123def4', targets: ['r-ab12'],
  };

  test('the management role grants and trusts exactly the same in CDK, CDKTF and templates/', () => {
    const cdkStack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    new cdk.ProwlerOrganizationRoles(cdkStack, 'Org', props);
    const cfn = Template.fromStack(cdkStack).toJSON();
    const roleId = Object.keys(cfn.Resources).find((k) => cfn.Resources[k].Type === 'AWS::IAM::Role')!;
    const cdkRole = roleGrants(new CfnEvaluator(cfn).resource(roleId));

    const json = synth((s) => new tf.ProwlerOrganizationRoles(s, 'Org', props));
    const [role] = resources(json, 'aws_iam_role');
    const tfRole = {
      trust: trust(JSON.parse(resolvePartition(role.assume_role_policy))),
      managedPolicies: resources(json, 'aws_iam_role_policy_attachment').map((a) => resolvePartition(a.policy_arn)).sort(),
      inline: grants(resources(json, 'aws_iam_role_policy').map((p) => JSON.parse(resolvePartition(p.policy)))),
      maxSessionDuration: role.max_session_duration,
    };
    expect(tfRole).toEqual(cdkRole);
    expect(tfRole.inline.some((g) => g.startsWith('Allow organizations:ListAccounts *'))).toBe(true);

    // And templates/prowler-scan-role.yaml, with the same values as parameters.
    const standalone = parse(readFileSync(join(__dirname, '..', '..', 'templates', 'prowler-scan-role.yaml'), 'utf8'));
    const templateRole = roleGrants(new CfnEvaluator(standalone, {
      parameters: { ExternalId: EXTERNAL_ID, AccountId: '222222222222', IAMPrincipal: 'role/prowler-app', EnableOrganizations: 'true', OrganizationId: 'o-abc123def4' },
    }).resource('ProwlerScan'));
    expect(templateRole).toEqual(tfRole);
  });

  test('the StackSet settings are the same', () => {
    const cdkStack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    new cdk.ProwlerOrganizationRoles(cdkStack, 'Org', { ...props, regions: ['us-east-1'] });
    const cfnSet = Object.values(Template.fromStack(cdkStack).findResources('AWS::CloudFormation::StackSet'))[0].Properties;
    const json = synth((s) => new tf.ProwlerOrganizationRoles(s, 'Org', { ...props, regions: ['us-east-1'] }));
    const tfSet = resources(json, 'aws_cloudformation_stack_set')[0];
    const tfInstance = resources(json, 'aws_cloudformation_stack_instances')[0];
    expect({
      permissionModel: tfSet.permission_model,
      callAs: tfSet.call_as,
      capabilities: tfSet.capabilities,
      autoDeployment: {
        Enabled: tfSet.auto_deployment.enabled,
        RetainStacksOnAccountRemoval: tfSet.auto_deployment.retain_stacks_on_account_removal,
      },
      managedExecution: { Active: tfSet.managed_execution.active },
      failureTolerance: tfSet.operation_preferences.failure_tolerance_percentage,
      maxConcurrent: tfSet.operation_preferences.max_concurrent_percentage,
      parameters: tfSet.parameters,
      targets: tfInstance.deployment_targets.organizational_unit_ids,
      regions: tfInstance.regions,
    }).toEqual({
      permissionModel: cfnSet.PermissionModel,
      callAs: cfnSet.CallAs,
      capabilities: cfnSet.Capabilities,
      autoDeployment: cfnSet.AutoDeployment,
      managedExecution: cfnSet.ManagedExecution,
      failureTolerance: cfnSet.OperationPreferences.FailureTolerancePercentage,
      maxConcurrent: cfnSet.OperationPreferences.MaxConcurrentPercentage,
      parameters: Object.fromEntries(cfnSet.Parameters.map((p: any) => [p.ParameterKey, p.ParameterValue])),
      targets: cfnSet.StackInstancesGroup[0].DeploymentTargets.OrganizationalUnitIds,
      regions: cfnSet.StackInstancesGroup[0].Regions,
    });
  });

  test('a TerraformStack holds them like any construct', () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, 'prowler');
    const roles = new tf.ProwlerOrganizationRoles(stack, 'Org', props);
    expect(roles.managementRole!.roleArn).toMatch(/^\$\{TfToken\[/);
    expect(Testing.synth(stack)).toContain('aws_cloudformation_stack_instances');
  });
});
