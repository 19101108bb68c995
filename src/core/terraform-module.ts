/**
 * templates/terraform/: a plain Terraform module (no CDK, no CDKTF) for the management account's
 * ProwlerScan role and the member StackSet, rendered from the same core data as the CloudFormation
 * templates. Its variables are the standalone template's parameters (same meanings, defaults and
 * allowed values, in Terraform's snake_case), its checks the template's rules (preconditions with
 * the same messages), its role the same policies; a test fails when the committed files drift.
 */
import { PLACEHOLDER, type Bindings } from './bind';
import { memberTemplate, STACKSET_PARAMETERS, standaloneTemplate } from './cfn';
import {
  DEFAULT_MAX_CONCURRENT_PERCENTAGE,
  DEFAULT_TERRAFORM_STACKSET_NAME,
  DEFAULT_STACKSET_CONCURRENCY_MODE,
  MAX_SESSION_DURATION_SECONDS,
  SCAN_MANAGED_POLICY_ARNS,
  SCAN_ROLE_NAME,
  scanRoleTags,
  STACKSET_DESCRIPTION,
} from './defaults';
import { expr, hclBlock, hclString, hclValue, type HclBlock } from './hcl';
import { STACK_OUTPUTS, type StackOutput } from './outputs';
import { organizationsPolicy, policyDocument, S3_INTEGRATION_POLICY, SCAN_POLICY, trustPolicyDocument, type InlinePolicySpec } from './policy';

/** The oldest hashicorp/aws provider with `aws_cloudformation_stack_instances` (5.67.0, September 2024). */
export const TERRAFORM_AWS_PROVIDER_CONSTRAINT = '>= 5.67.0';
/** Preconditions on data sources need 1.2; 1.5 is the oldest Terraform the tests name (oracles.ts). */
export const TERRAFORM_REQUIRED_VERSION = '>= 1.5.0';

/** The module's variable for each parameter of the standalone CloudFormation template. */
export const TERRAFORM_VARIABLES: Readonly<Record<string, string>> = {
  ExternalId: 'external_id',
  AccountId: 'account_id',
  IAMPrincipal: 'iam_principal',
  EnableS3Integration: 'enable_s3_integration',
  S3IntegrationBucketName: 's3_integration_bucket_name',
  S3IntegrationBucketAccountId: 's3_integration_bucket_account_id',
  EnableOrganizations: 'enable_organizations',
  OrganizationId: 'organization_id',
  EnableStackSetManagement: 'enable_stackset_management',
  DeployLocalRole: 'deploy_local_role',
  DeployStackSet: 'deploy_stackset',
  AWSOrganizationalUnitId: 'organizational_unit_ids',
  StackSetRegions: 'stackset_regions',
  RetainStacksOnAccountRemoval: 'retain_stacks_on_account_removal',
  DeployFromDelegatedAdmin: 'deploy_from_delegated_admin',
  FailureTolerancePercentage: 'failure_tolerance_percentage',
};

/** The Terraform reference bound to each policy placeholder. */
const TF_BINDINGS: Bindings = {
  Partition: 'local.partition',
  ExternalId: 'var.external_id',
  TrustedAccountId: 'var.account_id',
  TrustedPrincipal: 'var.iam_principal',
  OrganizationId: 'var.organization_id',
  S3BucketName: 'var.s3_integration_bucket_name',
  S3BucketAccountId: 'var.s3_integration_bucket_account_id',
};

/** A core string with `${Name}` placeholders as an HCL template over the module's references. */
function tfTemplate(text: string) {
  const parts = text.split(PLACEHOLDER); // literal, name, literal, name, …
  if (parts.length === 1) return text;
  const whole = parts.length === 3 && parts[0] === '' && parts[2] === '' ? (TF_BINDINGS as Record<string, string | undefined>)[parts[1]] : undefined;
  if (whole) return expr(whole);
  const body = parts.map((part, i) => {
    if (i % 2 === 0) return hclString(part).slice(1, -1);
    const reference = (TF_BINDINGS as Record<string, string | undefined>)[part];
    if (!reference) throw new Error(`no Terraform reference bound for \${${part}} in '${text}'`);
    return `\${${reference}}`;
  }).join('');
  return expr(`"${body}"`);
}

/** Every string of a JSON-like value as a {@link tfTemplate}. */
function tfValue(value: unknown): unknown {
  if (typeof value === 'string') return tfTemplate(value);
  if (Array.isArray(value)) return value.map(tfValue);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tfValue(v)]));
  return value;
}

/** A policy document as `jsonencode({...})` over the module's references. */
function jsonencode(document: unknown, indent = '  ') {
  return expr(`jsonencode(${hclValue(tfValue(document), indent)})`);
}

/** Parameter names in a CloudFormation message replaced by the module's variable names. */
function inTerraformTerms(message: string): string {
  const names = Object.keys(TERRAFORM_VARIABLES).sort((a, b) => b.length - a.length);
  return message
    .replace(new RegExp(`\\b(${names.join('|')})\\b`, 'g'), (name) => TERRAFORM_VARIABLES[name])
    .replace(/\bthis template\b/g, 'this module');
}

/**
 * A CloudFormation AllowedPattern (matched whole) as a Terraform condition on `ref`. RE2 (Terraform's
 * `regex`) refuses a repeat count above 1000: `[class]{min,max}` with a larger max becomes the class
 * repeated and a length check.
 */
function patternCondition(pattern: string, ref: string): string {
  // RE2 has no lookahead: a leading `(?!start)` becomes a condition that the value does not start so.
  const refused = /^\(\?!([^()]+)\)/.exec(pattern);
  if (refused) return `!can(regex(${hclString(`^${refused[1]}`)}, ${ref})) && ${patternCondition(pattern.slice(refused[0].length), ref)}`;
  const long = /^(\[[^\]]+\])\{(\d+),(\d+)\}$/.exec(pattern);
  if (long && Number(long[3]) > 1000) {
    return `can(regex(${hclString(`^${long[1]}+$`)}, ${ref})) && length(${ref}) >= ${long[2]} && length(${ref}) <= ${long[3]}`;
  }
  const anchored = pattern.startsWith('^') ? pattern : `^(?:${pattern})$`;
  return `can(regex(${hclString(anchored)}, ${ref}))`;
}

interface CfnParameter {
  Description: string;
  Type: 'String' | 'Number' | 'CommaDelimitedList';
  Default?: string | number;
  AllowedValues?: string[];
  AllowedPattern?: string;
  ConstraintDescription?: string;
  MinValue?: number;
  MaxValue?: number;
}

/** variables.tf: one variable per CloudFormation parameter, plus the StackSet's name. */
function variablesTf(): string {
  const parameters = standaloneTemplate('').Parameters as Record<string, CfnParameter>;
  const blocks: HclBlock[] = Object.entries(parameters).map(([name, p]) => {
    const variable = TERRAFORM_VARIABLES[name];
    if (!variable) throw new Error(`the Terraform module has no variable for the template parameter ${name}`);
    const ref = `var.${variable}`;
    const isBool = p.AllowedValues?.length === 2 && p.AllowedValues.includes('true') && p.AllowedValues.includes('false');
    const type = isBool ? 'bool' : p.Type === 'Number' ? 'number' : p.Type === 'CommaDelimitedList' ? 'list(string)' : 'string';
    const defaultValue = p.Default === undefined ? undefined
      : isBool ? p.Default === 'true'
        : p.Type === 'CommaDelimitedList' ? String(p.Default).split(',').filter((s) => s !== '')
          : p.Default;
    const validations: HclBlock[] = [];
    const message = inTerraformTerms(p.ConstraintDescription ?? '');
    if (p.AllowedPattern) {
      const condition = p.Type === 'CommaDelimitedList'
        ? `alltrue([for v in ${ref} : ${patternCondition(p.AllowedPattern, 'v')}])`
        : patternCondition(p.AllowedPattern, ref);
      validations.push({ type: 'validation', attributes: { condition: expr(condition), error_message: message } });
    }
    if (p.MinValue !== undefined && p.MaxValue !== undefined) {
      validations.push({
        type: 'validation',
        attributes: {
          condition: expr(`${ref} >= ${p.MinValue} && ${ref} <= ${p.MaxValue} && floor(${ref}) == ${ref}`),
          error_message: `${variable} must be a whole number from ${p.MinValue} to ${p.MaxValue}.`,
        },
      });
    }
    return {
      type: 'variable',
      labels: [variable],
      attributes: { description: inTerraformTerms(p.Description), type: expr(type), default: defaultValue, nullable: false },
      blocks: validations,
    };
  });
  blocks.push({
    type: 'variable',
    labels: ['stackset_name'],
    attributes: {
      description: 'The StackSet\'s name (CloudFormation derives it from the stack name; a Terraform module has none). One per organization.',
      type: expr('string'),
      default: DEFAULT_TERRAFORM_STACKSET_NAME,
      nullable: false,
    },
    blocks: [{
      type: 'validation',
      attributes: {
        condition: expr('can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,127}$", var.stackset_name))'),
        error_message: 'stackset_name must start with a letter and have up to 128 letters, digits and hyphens.',
      },
    }],
  });
  return blocks.map((b) => hclBlock(b)).join('\n\n');
}

/** The template's rules as preconditions: the same checks, with the same messages in variable names. */
function preconditions(): HclBlock[] {
  const rules = standaloneTemplate('').Rules as Record<string, { Assertions: Array<{ AssertDescription: string }> }>;
  const conditions: Record<string, string[]> = {
    S3IntegrationRequiresParams: ['!var.enable_s3_integration || var.s3_integration_bucket_name != ""', '!var.enable_s3_integration || var.s3_integration_bucket_account_id != ""'],
    StackSetRequiresTargets: ['!var.deploy_stackset || (length(var.organizational_unit_ids) > 0 && !contains(var.organizational_unit_ids, ""))'],
    DelegatedAdministratorIsAMember: ['!(var.deploy_stackset && var.deploy_from_delegated_admin) || !var.deploy_local_role'],
    SomethingToDeploy: ['var.deploy_local_role || var.deploy_stackset'],
  };
  return Object.entries(rules).flatMap(([name, rule]) => {
    const checks = conditions[name];
    if (!checks || checks.length !== rule.Assertions.length) throw new Error(`the Terraform module does not check the template rule ${name}`);
    return rule.Assertions.map((assertion, i) => ({
      type: 'precondition',
      attributes: { condition: expr(checks[i]), error_message: inTerraformTerms(assertion.AssertDescription) },
    }));
  });
}

/** An inline policy of the local role: its document is core's, or an expression choosing one. */
const policyBlock = (label: string, count: string, policy: InlinePolicySpec, document = jsonencode(policyDocument(policy))) => hclBlock({
  type: 'resource',
  labels: ['aws_iam_role_policy', label],
  attributes: { count: expr(count), name: policy.name, role: expr('aws_iam_role.prowler_scan[0].id'), policy: document },
});

/** main.tf: the checks, the local role and its policies, the StackSet and its instances. */
function mainTf(): string {
  const organizations = (scope: boolean, stackSetManagement: boolean) =>
    policyDocument(organizationsPolicy({ scopeToOrganization: scope, stackSetManagement }));
  const memberParameters = STACKSET_PARAMETERS;
  const memberParameterNames = Object.keys(memberTemplate().Parameters);
  for (const name of memberParameters) if (!memberParameterNames.includes(name)) throw new Error(`the member template has no parameter ${name}`);
  const operationPreferences = (extra: Record<string, unknown>) => ({
    type: 'operation_preferences',
    attributes: {
      failure_tolerance_percentage: expr('var.failure_tolerance_percentage'),
      max_concurrent_percentage: DEFAULT_MAX_CONCURRENT_PERCENTAGE,
      region_concurrency_type: 'PARALLEL',
      ...extra,
    },
  });

  return [
    // The template's rules, checked when the plan reads the partition, before any resource is planned.
    hclBlock({ type: 'data', labels: ['aws_partition', 'current'], blocks: [{ type: 'lifecycle', blocks: preconditions() }] }),
    hclBlock({ type: 'data', labels: ['aws_region', 'current'] }),
    hclBlock({
      type: 'locals',
      attributes: {
        partition: expr('data.aws_partition.current.partition'),
        call_as: expr('var.deploy_from_delegated_admin ? "DELEGATED_ADMIN" : "SELF"'),
        stackset_regions: expr('length(var.stackset_regions) > 0 ? var.stackset_regions : [data.aws_region.current.name]'),
        organizations_policies: {
          'scoped-stackset-management': jsonencode(organizations(true, true), '    '),
          'scoped-discovery': jsonencode(organizations(true, false), '    '),
          'unscoped-stackset-management': jsonencode(organizations(false, true), '    '),
          'unscoped-discovery': jsonencode(organizations(false, false), '    '),
        },
      },
    }),
    hclBlock({
      type: 'resource',
      labels: ['aws_iam_role', 'prowler_scan'],
      attributes: {
        count: expr('var.deploy_local_role ? 1 : 0'),
        name: SCAN_ROLE_NAME,
        max_session_duration: MAX_SESSION_DURATION_SECONDS,
        assume_role_policy: jsonencode(trustPolicyDocument()),
        tags: scanRoleTags('Terraform'),
      },
    }),
    hclBlock({
      type: 'resource',
      labels: ['aws_iam_role_policy_attachment', 'prowler_scan'],
      attributes: {
        for_each: expr(`var.deploy_local_role ? ${hclValue(Object.fromEntries(SCAN_MANAGED_POLICY_ARNS.map((arn) => [arn.split('/').pop()!, tfTemplate(arn)])), '  ')} : {}`),
        role: expr('aws_iam_role.prowler_scan[0].name'),
        policy_arn: expr('each.value'),
      },
    }),
    policyBlock('prowler_scan', 'var.deploy_local_role ? 1 : 0', SCAN_POLICY),
    // One of four documents: scoped to organization_id or not, with the StackSet-management statements or not.
    policyBlock('organizations', 'var.deploy_local_role && var.enable_organizations ? 1 : 0', organizationsPolicy({ scopeToOrganization: false, stackSetManagement: false }),
      expr('local.organizations_policies[join("-", [var.organization_id != "" ? "scoped" : "unscoped", var.enable_stackset_management ? "stackset-management" : "discovery"])]')),
    policyBlock('s3_integration', 'var.deploy_local_role && var.enable_s3_integration ? 1 : 0', S3_INTEGRATION_POLICY),
    hclBlock({
      type: 'resource',
      labels: ['aws_cloudformation_stack_set', 'member_roles'],
      attributes: {
        count: expr('var.deploy_stackset ? 1 : 0'),
        name: expr('var.stackset_name'),
        description: STACKSET_DESCRIPTION,
        permission_model: 'SERVICE_MANAGED',
        call_as: expr('local.call_as'),
        capabilities: ['CAPABILITY_NAMED_IAM'],
        parameters: Object.fromEntries(memberParameters.map((name) => {
          const variable = `var.${TERRAFORM_VARIABLES[name]}`;
          return [name, expr(name === 'EnableS3Integration' ? `tostring(${variable})` : variable)];
        })),
        template_body: expr('file("${path.module}/prowler-member-role.yaml")'),
      },
      blocks: [
        { type: 'auto_deployment', attributes: { enabled: true, retain_stacks_on_account_removal: expr('var.retain_stacks_on_account_removal') } },
        { type: 'managed_execution', attributes: { active: true } },
        operationPreferences({}),
        // The provider reports a drift on this service-managed attribute (terraform-provider-aws #23464).
        { type: 'lifecycle', attributes: { ignore_changes: expr('[administration_role_arn]') } },
      ],
    }),
    hclBlock({
      type: 'resource',
      labels: ['aws_cloudformation_stack_instances', 'member_roles'],
      attributes: {
        count: expr('var.deploy_stackset ? 1 : 0'),
        stack_set_name: expr('aws_cloudformation_stack_set.member_roles[0].name'),
        call_as: expr('local.call_as'),
        regions: expr('local.stackset_regions'),
      },
      blocks: [
        { type: 'deployment_targets', attributes: { organizational_unit_ids: expr('var.organizational_unit_ids') } },
        operationPreferences({ concurrency_mode: DEFAULT_STACKSET_CONCURRENCY_MODE }),
      ],
    }),
  ].join('\n\n');
}

/** outputs.tf: core's names and descriptions; null when a variable leaves the resource out. */
function outputsTf(): string {
  const output = (key: StackOutput, value: string, nullWithout: string) => hclBlock({
    type: 'output',
    labels: [STACK_OUTPUTS[key].terraform],
    attributes: { description: `${STACK_OUTPUTS[key].description}; null without ${nullWithout}`, value: expr(value) },
  });
  return [
    output('scanRoleArn', 'one(aws_iam_role.prowler_scan[*].arn)', 'deploy_local_role'),
    output('stackSetName', 'one(aws_cloudformation_stack_set.member_roles[*].name)', 'deploy_stackset'),
    output('stackSetId', 'one(aws_cloudformation_stack_set.member_roles[*].stack_set_id)', 'deploy_stackset'),
  ].join('\n\n');
}

/** versions.tf */
function versionsTf(): string {
  return hclBlock({
    type: 'terraform',
    attributes: { required_version: TERRAFORM_REQUIRED_VERSION },
    blocks: [{ type: 'required_providers', attributes: { aws: { source: 'hashicorp/aws', version: TERRAFORM_AWS_PROVIDER_CONSTRAINT } } }],
  });
}

const HEADER = [
  '# Generated by prowler-org-onboarding from src/core: do not edit.',
  '# Regenerate with `npx projen templates`; a test fails when this file drifts from src/core.',
].join('\n');

/** The module's .tf files by name (the member template beside them is templates/'s, copied). */
export function terraformModuleFiles(): Record<string, string> {
  return {
    'versions.tf': `${HEADER}\n\n${versionsTf()}\n`,
    'variables.tf': `${HEADER}\n\n${variablesTf()}\n`,
    'main.tf': `${HEADER}\n\n${mainTf()}\n`,
    'outputs.tf': `${HEADER}\n\n${outputsTf()}\n`,
  };
}
