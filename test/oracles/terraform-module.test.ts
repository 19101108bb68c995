/**
 * templates/terraform/, judged by Terraform: `terraform fmt -check`, `terraform validate`, and
 * offline plans (a provider that needs no credentials and calls nothing for these resources)
 * whose role and StackSet are compared, grant by grant, with the CloudFormation template's for
 * the same inputs. The module's checks are the template's rules: a bad input fails the plan with
 * the template's message, in variable names.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TEMPLATE_FILES, TERRAFORM_MODULE_DIR } from '../../src/core/templates';
import { TERRAFORM_VARIABLES } from '../../src/core/terraform-module';
import { CfnEvaluator, grants, roleGrants, trust } from '../support/cfn-eval';
import { describeWith, TERRAFORM, terraformAwsMirror } from '../support/oracles';

const TEMPLATES = join(__dirname, '..', '..', 'templates');
const MODULE = join(TEMPLATES, TERRAFORM_MODULE_DIR);
const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const ORGANIZATION_ID = 'o-abc123def4';

type Inputs = Record<string, string | boolean | number | string[]>;

/** The CloudFormation parameters for the same inputs (booleans as 'true'/'false', lists as lists). */
function cfnParameters(inputs: Inputs): Record<string, string | string[]> {
  const byVariable = Object.fromEntries(Object.entries(TERRAFORM_VARIABLES).map(([parameter, variable]) => [variable, parameter]));
  return Object.fromEntries(Object.entries(inputs).filter(([k]) => byVariable[k]).map(([k, v]) => [byVariable[k], Array.isArray(v) ? v : String(v)]));
}

describeWith(TERRAFORM, 'templates/terraform: the plain Terraform module, judged by Terraform', () => {
  const mirror = terraformAwsMirror();
  const work = mkdtempSync(join(tmpdir(), 'tf-module-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_PLUGIN_CACHE_DIR: join(work, 'plugin-cache') };
  mkdirSync(env.TF_PLUGIN_CACHE_DIR!);
  env.TF_CLI_CONFIG_FILE = join(work, 'cli.tfrc');
  writeFileSync(env.TF_CLI_CONFIG_FILE, mirror ? `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror.path)}\n  }\n}\n` : '');
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const terraform = (dir: string, ...args: string[]) => spawnSync('terraform', args, { cwd: dir, env, encoding: 'utf8', timeout: 180_000 });

  /** A root configuration that calls the module as the README shows, in its own folder, initialised. */
  function root(name: string, region = 'us-east-1'): string {
    const dir = join(work, name);
    mkdirSync(dir);
    cpSync(MODULE, join(dir, 'prowler'), { recursive: true });
    writeFileSync(join(dir, 'main.tf'), [
      'provider "aws" {',
      `  region                      = "${region}"`,
      '  access_key                  = "AKIAIOSFODNN7EXAMPLE"',
      '  secret_key                  = "offline"',
      '  skip_credentials_validation = true',
      '  skip_requesting_account_id  = true',
      '  skip_metadata_api_check     = true',
      '}',
      '',
      'variable "inputs" {',
      '  type = any',
      '}',
      '',
      'module "prowler" {',
      '  source = "./prowler"',
      ...Object.values(TERRAFORM_VARIABLES).concat('stackset_name').map((v) => `  ${v} = try(var.inputs.${v}, null)`),
      '}',
      '',
    ].join('\n'));
    const init = terraform(dir, 'init', '-backend=false', '-input=false', '-no-color');
    if (init.status !== 0) throw new Error(`terraform init failed:\n${init.stdout}\n${init.stderr}`);
    return dir;
  }

  let shared: string;
  beforeAll(() => {
    shared = root('shared');
  });

  /** `terraform plan` with these inputs: the exit status, Terraform's words, and the planned resources. */
  function plan(inputs: Inputs, dir = shared): { status: number | null; output: string; resources: Record<string, any> } {
    writeFileSync(join(dir, 'terraform.tfvars.json'), JSON.stringify({ inputs }));
    const run = terraform(dir, 'plan', '-input=false', '-no-color', '-out=plan.bin');
    const output = `${run.stdout}\n${run.stderr}`;
    if (run.status !== 0) return { status: run.status, output, resources: {} };
    const show = terraform(dir, 'show', '-json', 'plan.bin');
    const planned = JSON.parse(show.stdout);
    const resources: Record<string, any> = {};
    for (const change of planned.resource_changes ?? []) {
      if (change.mode === 'managed') resources[change.address.replace(/^module\.prowler\./, '')] = change.change.after;
    }
    return { status: run.status, output, resources };
  }

  /** The module's planned role, in the shape the CloudFormation evaluator gives the template's. */
  function plannedRole(resources: Record<string, any>) {
    const role = resources['aws_iam_role.prowler_scan[0]'];
    if (!role) return undefined;
    const inline = Object.entries(resources).filter(([address]) => address.startsWith('aws_iam_role_policy.')).map(([, p]) => JSON.parse(p.policy));
    return {
      trust: trust(JSON.parse(role.assume_role_policy)),
      managedPolicies: Object.entries(resources).filter(([address]) => address.startsWith('aws_iam_role_policy_attachment.')).map(([, a]) => a.policy_arn).sort(),
      inline: grants(inline),
      maxSessionDuration: role.max_session_duration,
    };
  }

  test('terraform fmt -check: the generated files are laid out as Terraform lays them out', () => {
    const run = terraform(MODULE, 'fmt', '-check', '-diff', '-no-color');
    expect({ status: run.status, diff: run.stdout }).toEqual({ status: 0, diff: '' });
  });

  test('terraform validate: the module is configuration Terraform accepts, with no warning', () => {
    const run = terraform(shared, 'validate', '-json', '-no-color');
    const result = JSON.parse(run.stdout);
    expect({ valid: result.valid, diagnostics: result.diagnostics }).toEqual({ valid: true, diagnostics: [] });
  });

  const CASES: Array<[string, Inputs]> = [
    ['defaults: the local role only, trusting Prowler Cloud', { external_id: EXTERNAL_ID }],
    ['the management account of an organization, scoped, with the StackSet', {
      external_id: EXTERNAL_ID,
      enable_organizations: true,
      organization_id: ORGANIZATION_ID,
      deploy_stackset: true,
      organizational_unit_ids: ['r-ab12'],
      stackset_regions: ['eu-west-1', 'us-east-1'],
      failure_tolerance_percentage: 25,
    }],
    ['self-hosted, with S3 integration and Prowler\'s StackSet management permissions, unscoped', {
      external_id: EXTERNAL_ID,
      account_id: '222222222222',
      iam_principal: 'user/prowler-app',
      enable_s3_integration: true,
      s3_integration_bucket_name: 'reports',
      s3_integration_bucket_account_id: '333333333333',
      enable_organizations: true,
      enable_stackset_management: true,
    }],
    ['from a delegated administrator: the StackSet only', {
      external_id: EXTERNAL_ID,
      deploy_local_role: false,
      deploy_stackset: true,
      deploy_from_delegated_admin: true,
      organizational_unit_ids: ['ou-ab12-abcdefgh'],
      retain_stacks_on_account_removal: true,
    }],
  ];

  test.each(CASES)('%s: the plan grants exactly what the CloudFormation template grants for the same inputs', (_name, inputs) => {
    const result = plan(inputs);
    expect({ status: result.status, error: result.output.match(/Error: .*/)?.[0] }).toEqual({ status: 0, error: undefined });
    const template = new CfnEvaluator(parse(readFileSync(join(TEMPLATES, TEMPLATE_FILES.standalone), 'utf8')), { parameters: cfnParameters(inputs) });
    const cfnRole = template.resource('ProwlerScan');
    expect(plannedRole(result.resources)).toEqual(cfnRole ? roleGrants(cfnRole) : undefined);

    const stackSet = result.resources['aws_cloudformation_stack_set.member_roles[0]'];
    const cfnStackSet = template.resource('ProwlerScanStackSet');
    expect(Boolean(stackSet)).toBe(Boolean(cfnStackSet));
    if (!cfnStackSet) return;
    const instances = result.resources['aws_cloudformation_stack_instances.member_roles[0]'];
    expect({
      permissionModel: stackSet.permission_model,
      callAs: stackSet.call_as,
      capabilities: stackSet.capabilities,
      autoDeployment: stackSet.auto_deployment[0],
      managedExecution: stackSet.managed_execution[0].active,
      failureTolerance: stackSet.operation_preferences[0].failure_tolerance_percentage,
      maxConcurrent: stackSet.operation_preferences[0].max_concurrent_percentage,
      parameters: stackSet.parameters,
      template: parse(stackSet.template_body), // the module's copy carries the generated header as YAML comments
      targets: instances.deployment_targets[0].organizational_unit_ids,
      regions: [...instances.regions].sort(),
      concurrencyMode: instances.operation_preferences[0].concurrency_mode,
    }).toEqual({
      permissionModel: cfnStackSet.PermissionModel,
      callAs: cfnStackSet.CallAs,
      capabilities: cfnStackSet.Capabilities,
      autoDeployment: { enabled: true, retain_stacks_on_account_removal: cfnStackSet.AutoDeployment.RetainStacksOnAccountRemoval === 'true' },
      managedExecution: cfnStackSet.ManagedExecution.Active,
      failureTolerance: Number(cfnStackSet.OperationPreferences.FailureTolerancePercentage),
      maxConcurrent: cfnStackSet.OperationPreferences.MaxConcurrentPercentage,
      parameters: Object.fromEntries(cfnStackSet.Parameters.map((p: any) => [p.ParameterKey, p.ParameterValue])),
      template: parse(cfnStackSet.TemplateBody),
      targets: cfnStackSet.StackInstancesGroup[0].DeploymentTargets.OrganizationalUnitIds,
      regions: [...cfnStackSet.StackInstancesGroup[0].Regions].sort(),
      concurrencyMode: cfnStackSet.OperationPreferences.ConcurrencyMode,
    });
  });

  /**
   * Bad inputs, each with the message it must give. Plans take seconds each, so inputs that fail
   * independently share one plan (Terraform reports every failing validation, then every failing
   * precondition): each batch sets different variables.
   */
  const BAD: Array<[string, number, Inputs, string]> = [
    ['an External ID with a space', 1, { external_id: 'has space' }, 'external_id must be 2-1224 characters'],
    ['an account id of 11 digits', 1, { account_id: '12345678901' }, 'account_id must be a 12-digit AWS account ID.'],
    ['a principal that is neither role/ nor user/', 1, { iam_principal: 'group/x' }, 'iam_principal must be role/<name>, user/<name> or *.'],
    ['an organization id without o-', 1, { organization_id: 'abc123def4' }, 'organization_id must be \'o-\' followed by'],
    ['an account id where an OU belongs', 1, { organizational_unit_ids: ['123456789012'] }, 'Each entry must be an OU id'],
    ['a failure tolerance of 101', 1, { failure_tolerance_percentage: 101 }, 'failure_tolerance_percentage must be a whole number from 0 to 100.'],
    ['an External ID of 1,225 characters (beyond RE2\'s repeat limit, checked by length)', 2, { external_id: 'a'.repeat(1225) }, 'external_id must be 2-1224 characters'],
    ['S3 integration without its bucket', 3, { enable_s3_integration: true }, 's3_integration_bucket_name is required when enable_s3_integration is true.'],
    ['the StackSet without targets', 3, { deploy_stackset: true }, 'organizational_unit_ids needs at least one OU id'],
    ['a local role from a delegated administrator', 3, { deploy_from_delegated_admin: true }, 'From a delegated administrator set deploy_local_role to false'],
    ['nothing to deploy', 4, { deploy_local_role: false }, 'Set deploy_local_role or deploy_stackset (or both) to true.'],
    ['a Prowler API key as the External ID (it would be in the trust policy and the state)', 5, { external_id: 'pk_Ab12Cd34.the-secret-part' },
      'external_id must be 2-1224 characters of letters, digits and _+=,.@:/-, and not a Prowler API key or token'],
  ];
  const batches = new Map<number, { status: number | null; output: string }>();
  function batch(n: number) {
    if (!batches.has(n)) {
      const inputs = Object.assign({ external_id: EXTERNAL_ID }, ...BAD.filter(([, b]) => b === n).map(([, , i]) => i));
      const result = plan(inputs);
      batches.set(n, { status: result.status, output: result.output.replace(/\s*│\s*/g, ' ').replace(/\s+/g, ' ') });
    }
    return batches.get(n)!;
  }

  test.each(BAD)('%s: the plan fails with the template\'s message, in variable names', (_name, n, _inputs, message) => {
    const result = batch(n);
    expect(result.status).toBe(1);
    expect(result.output).toContain(message);
  });
});
