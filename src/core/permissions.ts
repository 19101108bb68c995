/**
 * Least privilege for the people and pipelines around the onboarding, as data: the identity that
 * runs `prowler-org plan` or `apply`, and the one that deploys each flavour. Built from the facts
 * the rest of core holds (the functions' statements, the state keys, the scan role's names and
 * managed policies, the templates core renders), so a change there changes these policies too.
 * `prowler-org permissions` prints them; tests hold them against the calls the CLI makes and the
 * resource types each flavour synthesizes.
 */
import { bind } from './bind';
import { standaloneTemplate } from './cfn';
import { SCAN_MANAGED_POLICY_ARNS, SCAN_ROLE_NAME } from './defaults';
import { onboardingNamePrefix, onboardingStatements, organizationsRegion, STATE_KEYS, VPC_ACCESS_MANAGED_POLICY_ARN, type StatementModel } from './onboarding';
import { ORGANIZATIONS_UNSCOPABLE_ACTIONS, organizationsPolicy } from './policy';
import { terraformModuleFiles } from './terraform-module';

/** One Allow statement (conditions may list several values, as IAM allows). */
export interface PermissionStatement {
  readonly sid: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** An IAM policy document: what `aws iam create-policy --policy-document` takes. */
export interface PermissionsPolicy {
  readonly Version: '2012-10-17';
  readonly Statement: ReadonlyArray<Record<string, unknown>>;
}

/** The statements as an IAM policy document (Action and Resource always lists). */
export function permissionsPolicy(statements: readonly PermissionStatement[]): PermissionsPolicy {
  return {
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      Sid: s.sid,
      Effect: 'Allow',
      Action: [...s.actions],
      Resource: [...s.resources],
      ...(s.condition ? { Condition: s.condition } : {}),
    })),
  };
}

/**
 * Actions granted on `*` although IAM lists a resource type for them, each with the reason: IAM
 * authorizes the request against no resource when it names none. Every other `*` holds only
 * actions IAM authorizes on `*` alone (a test checks both against IAM's data).
 */
export const UNSCOPED_BY_REQUEST: Readonly<Record<string, string>> = {
  'cloudformation:GetTemplateSummary': 'the console and `aws cloudformation deploy` call it on a template URL, before any stack exists',
};

// ---- prowler-org plan and apply ----

/** The two commands of `prowler-org` that call AWS. */
export type CliCommand = 'plan' | 'apply';

/**
 * What `prowler-org` reads and writes in a spec's stateBucket (src/cli/main.ts, through
 * handler/store.ts and handler/lease.ts): a plan reads the record; an apply takes the lease,
 * reads the record under it and saves it as it goes. It never deletes, and never touches the
 * functions' runs, reports or triggers.
 */
export const CLI_STATE_OBJECTS: Readonly<Record<CliCommand, { readonly actions: readonly string[]; readonly keys: readonly string[] }>> = {
  plan: { actions: ['s3:GetObject'], keys: [STATE_KEYS.record] },
  apply: { actions: ['s3:GetObject', 's3:PutObject'], keys: [STATE_KEYS.record, STATE_KEYS.lease] },
};

/** What the policy of a `prowler-org plan` or `apply` depends on (a spec file's values). */
export interface CliPermissionInputs {
  readonly partition: string;
  /** The spec's `stateBucket`: without one, no S3 statement. */
  readonly stateBucket?: string;
  /** The spec's `apiKey.secretArn`: without one (the key in an environment variable), no Secrets Manager statement. */
  readonly apiKeySecretArn?: string;
  /** The KMS key of that secret, when it is customer-managed. */
  readonly apiKeyKmsKeyArn?: string;
  /** The spec's `organizationId`: scopes the Organizations reads that accept a resource to that organization. */
  readonly organizationId?: string;
}

/**
 * Least privilege for `prowler-org plan` or `apply`, from the same statements as the functions'
 * (onboardingStatements): Organizations discovery, the API key's secret, and in the state bucket
 * only the keys the CLI uses. A plan writes nothing to AWS.
 */
export function cliPermissions(command: CliCommand, i: CliPermissionInputs): PermissionStatement[] {
  const region = i.apiKeySecretArn?.split(':')[3] ?? '';
  const functions = onboardingStatements({
    partition: i.partition,
    region,
    account: '',
    stateBucketName: i.stateBucket ?? '',
    secretArns: i.apiKeySecretArn ? [i.apiKeySecretArn] : [],
    secretKeyArns: i.apiKeyKmsKeyArn ? [i.apiKeyKmsKeyArn] : undefined,
    logGroupNames: [],
  });
  const the = (sid: string): StatementModel => {
    const found = functions.find((s) => s.sid === sid);
    if (!found) throw new Error(`the functions' statements have no ${sid}`);
    return found;
  };
  const as = (s: StatementModel): PermissionStatement =>
    ({ sid: s.sid!, actions: s.actions, resources: s.resources, ...(s.condition ? { condition: s.condition } : {}) });
  const statements = discoveryStatements(the('OrganizationsDiscovery'), i);
  if (i.apiKeySecretArn) {
    statements.push(as(the('Secrets')));
    if (i.apiKeyKmsKeyArn) statements.push(as(the('SecretKeys')));
  }
  if (i.stateBucket) {
    const bucket = the('StateBucket');
    // Only to read a key that does not exist yet as absent (S3 answers 403 instead of 404 without it).
    statements.push(as(bucket));
    const objects = the('StateObjects');
    const access = CLI_STATE_OBJECTS[command];
    const beyond = access.actions.filter((a) => !objects.actions.includes(a));
    if (beyond.length > 0) throw new Error(`the CLI would need ${beyond.join(', ')}, which the functions' ${objects.sid} statement does not grant`);
    statements.push({ sid: objects.sid!, actions: access.actions, resources: access.keys.map((key) => `${bucket.resources[0]}/${key}`) });
  }
  return statements;
}

/**
 * The functions' discovery statement, and with an organization id, its actions that accept a
 * resource scoped to that organization's accounts, OUs and roots (as the ProwlerScan role's are).
 */
function discoveryStatements(discovery: StatementModel, i: CliPermissionInputs): PermissionStatement[] {
  if (!i.organizationId) return [{ sid: discovery.sid!, actions: discovery.actions, resources: discovery.resources }];
  const scoped = organizationsPolicy({ scopeToOrganization: true, stackSetManagement: false }).statements.find((s) => s.Resource[0] !== '*');
  if (!scoped) throw new Error('the scoped Organizations policy has no scoped statement');
  const global = discovery.actions.filter((a) => ORGANIZATIONS_UNSCOPABLE_ACTIONS.includes(a));
  return [
    { sid: `${discovery.sid}Global`, actions: global, resources: ['*'] },
    {
      sid: discovery.sid!,
      actions: discovery.actions.filter((a) => !global.includes(a)),
      resources: scoped.Resource.map((r) => bind(r, { Partition: i.partition, OrganizationId: i.organizationId })),
    },
  ];
}

// ---- Deploying each flavour ----

/**
 * Who deploys what: the CDK app's deployer (it only assumes the bootstrap roles), the CDK's
 * CloudFormation execution role (what the stacks create), Terraform through CDKTF or CDK Terrain,
 * the plain Terraform module and the plain CloudFormation template.
 */
export type DeployTarget = 'cdk' | 'cdk-execution' | 'cdktf' | 'cdktn' | 'terraform' | 'cloudformation';

/** Where a deployment goes. */
export interface DeployPermissionInputs {
  readonly partition: string;
  /** The account deployed to (default: any). */
  readonly account?: string;
  /**
   * The region deployed to (default: any). Terraform's event rules may also be in the
   * Organizations region (the forwarder, organizationEventsProvider); a CDK stack there is a
   * deployment of its own (its own bootstrap and execution role).
   */
  readonly region?: string;
  /** The scan role's name (default ProwlerScan). */
  readonly roleName?: string;
}

/** The qualifier of `cdk bootstrap`'s default roles. */
export const CDK_BOOTSTRAP_QUALIFIER = 'hnb659fds';

/** The bootstrap roles `cdk deploy` and `cdk diff` assume: deploy, upload the Lambda's asset, read the deployed stack. */
export const CDK_BOOTSTRAP_ROLES = ['deploy', 'file-publishing', 'lookup'] as const;

/** `cdk bootstrap`'s bucket of file assets (the functions' code) in an account and region. */
export const cdkAssetBucket = (account: string, region: string) => `cdk-${CDK_BOOTSTRAP_QUALIFIER}-assets-${account}-${region}`;

/**
 * The AWS managed policy the CDK's Lambda roles get (aws-cdk-lib attaches it to every function role
 * it creates: the provider framework's, the bucket's auto-delete handler's).
 */
export const LAMBDA_BASIC_EXECUTION_POLICY_ARN = 'arn:${Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';

/** The services the deployments hand a role to: the functions, the provider framework's state machine, the event forwarder. */
export const ROLE_PASSED_TO = ['lambda.amazonaws.com', 'states.amazonaws.com', 'events.amazonaws.com'];

/** The services' principals as `iam:PassedToService` may name them: in China, also with the `.cn` suffix. */
function passedTo(partition: string): string[] {
  return partition === 'aws-cn' ? ROLE_PASSED_TO.flatMap((p) => [p, `${p}.cn`]) : [...ROLE_PASSED_TO];
}

/** What a group of deployed resource types needs. */
interface DeployedResources {
  /** The CloudFormation types (`AWS::…`, `Custom::…`) and Terraform types (`aws_…`, `data.aws_…`) it covers. */
  readonly types: readonly string[];
  readonly statements: (s: DeployScope) => PermissionStatement[];
}

/** The ARN parts of a deployment. */
interface DeployScope {
  readonly partition: string;
  readonly account: string;
  readonly regions: readonly string[];
  /** Where its event rules are: Terraform also forwards Organizations events from their region. */
  readonly eventRegions: readonly string[];
  readonly roleName: string;
  /** Our resources carry our prefix (Terraform), instead of names CloudFormation generates (CDK). */
  readonly named: boolean;
  /** CloudFormation reads the functions' code from the CDK's asset bucket with the execution role's credentials. */
  readonly cdkAssets: boolean;
  /** The deployment has functions (and their roles, named with our prefix, with Lambda's managed policies). */
  readonly functions: boolean;
}

/** The types that are handed a role: the functions, the provider framework's state machine, the rules' targets. */
const TAKES_A_ROLE = ['AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine', 'AWS::Events::Rule', 'aws_lambda_function', 'aws_cloudwatch_event_target'];

const arns = (s: DeployScope, service: string, path: (name: string) => string, names: readonly string[], regions = s.regions) =>
  regions.flatMap((region) => names.map((name) => `arn:${s.partition}:${service}:${region}:${s.account}:${path(name)}`));
/** Our names: the onboarding's prefix (functions, their roles and log groups, rules, the state bucket). */
const PREFIX = onboardingNamePrefix('');
const ours = (s: DeployScope) => (s.named ? [`${PREFIX}*`] : ['*']);

/**
 * Every resource type any flavour deploys, grouped by service, with the actions CloudFormation's
 * handlers and Terraform's provider call to create, read, update, tag and delete them. A test
 * synthesizes every flavour and fails on a type missing here, and on a type here that none deploys.
 */
export const DEPLOYED_RESOURCES: readonly DeployedResources[] = [
  {
    types: ['AWS::IAM::Role', 'AWS::IAM::Policy', 'aws_iam_role', 'aws_iam_role_policy', 'aws_iam_role_policy_attachment', 'data.aws_iam_role'],
    statements: (s) => {
      const role = (name: string) => `arn:${s.partition}:iam::${s.account}:role/${name}`;
      const written = s.named ? [...(s.functions ? ours(s) : []), s.roleName].map(role) : [role('*')];
      const managed = [...SCAN_MANAGED_POLICY_ARNS, ...(s.functions ? [VPC_ACCESS_MANAGED_POLICY_ARN, LAMBDA_BASIC_EXECUTION_POLICY_ARN] : [])]
        .map((arn) => bind(arn, { Partition: s.partition }));
      return [
        {
          sid: 'ReadRoles',
          actions: ['iam:GetRole', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies', 'iam:ListRoleTags', 'iam:ListInstanceProfilesForRole'],
          resources: [role('*')],
        },
        {
          sid: 'Roles',
          actions: ['iam:CreateRole', 'iam:DeleteRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole',
            'iam:PutRolePolicy', 'iam:DeleteRolePolicy'],
          resources: written,
        },
        { sid: 'ManagedPolicies', actions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'], resources: written, condition: { ArnEquals: { 'iam:PolicyARN': managed } } },
      ];
    },
  },
  {
    types: TAKES_A_ROLE,
    // The functions' role may be one you bring (functionRole, functionRoleName): any name, handed to these services only.
    statements: (s) => [{
      sid: 'PassRoles',
      actions: ['iam:PassRole'],
      resources: [`arn:${s.partition}:iam::${s.account}:role/*`],
      condition: { StringEquals: { 'iam:PassedToService': passedTo(s.partition) } },
    }],
  },
  {
    types: ['AWS::Lambda::Function', 'AWS::Lambda::Permission', 'AWS::Lambda::EventInvokeConfig', 'aws_lambda_function', 'aws_lambda_permission',
      'aws_lambda_function_event_invoke_config', 'aws_lambda_invocation',
      // CloudFormation invokes the function behind each custom resource with the deployment's credentials.
      'Custom::ProwlerOrganizationOnboarding', 'Custom::S3AutoDeleteObjects', 'Custom::AWS'],
    statements: (s) => [
      {
        sid: 'Functions',
        // lambda:GetFunction*: the function, its configuration, concurrency, code signing and invoke configuration (all Read).
        actions: ['lambda:CreateFunction', 'lambda:DeleteFunction', 'lambda:GetFunction*', 'lambda:ListVersionsByFunction', 'lambda:UpdateFunctionCode',
          'lambda:UpdateFunctionConfiguration', 'lambda:PutFunctionConcurrency', 'lambda:DeleteFunctionConcurrency', 'lambda:TagResource', 'lambda:UntagResource',
          'lambda:ListTags', 'lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy', 'lambda:PutFunctionEventInvokeConfig',
          'lambda:UpdateFunctionEventInvokeConfig', 'lambda:DeleteFunctionEventInvokeConfig', 'lambda:GetRuntimeManagementConfig', 'lambda:InvokeFunction'],
        resources: arns(s, 'lambda', (n) => `function:${n}`, ours(s)),
      },
      ...(s.cdkAssets
        ? [{
          sid: 'CdkAssets',
          actions: ['s3:GetObject'],
          resources: s.regions.map((region) => `arn:${s.partition}:s3:::${cdkAssetBucket(s.account, region)}/*`),
        }]
        : []),
      // Lambda checks that whoever puts a function in a VPC may see its subnets and security groups.
      { sid: 'FunctionNetworks', actions: ['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'], resources: ['*'] },
    ],
  },
  {
    types: ['AWS::Logs::LogGroup', 'aws_cloudwatch_log_group'],
    statements: (s) => [
      {
        sid: 'LogGroups',
        actions: ['logs:CreateLogGroup', 'logs:DeleteLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy', 'logs:TagResource', 'logs:UntagResource',
          'logs:ListTagsForResource', 'logs:TagLogGroup', 'logs:ListTagsLogGroup'],
        resources: arns(s, 'logs', (n) => `log-group:/aws/lambda/${n}`, ours(s)),
      },
      { sid: 'ListLogGroups', actions: ['logs:DescribeLogGroups'], resources: ['*'] },
    ],
  },
  {
    types: ['AWS::S3::Bucket', 'AWS::S3::BucketPolicy', 'aws_s3_bucket', 'aws_s3_bucket_policy', 'aws_s3_bucket_public_access_block',
      'aws_s3_bucket_server_side_encryption_configuration', 'aws_s3_bucket_lifecycle_configuration'],
    statements: (s) => [{
      sid: 'StateBucket',
      // s3:GetBucket*: what Terraform reads back of a bucket (ACL, CORS, website, versioning, logging, policy, tags, …; all Read).
      actions: ['s3:CreateBucket', 's3:DeleteBucket', 's3:ListBucket', 's3:GetBucket*', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy',
        's3:PutEncryptionConfiguration', 's3:GetEncryptionConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutLifecycleConfiguration',
        's3:GetLifecycleConfiguration', 's3:PutBucketTagging', 's3:GetAccelerateConfiguration', 's3:GetReplicationConfiguration'],
      resources: ours(s).map((n) => `arn:${s.partition}:s3:::${n}`),
    }],
  },
  {
    types: ['AWS::Events::Rule', 'AWS::Events::EventBusPolicy', 'aws_cloudwatch_event_rule', 'aws_cloudwatch_event_target', 'aws_cloudwatch_event_permission'],
    statements: (s) => [
      {
        sid: 'EventRules',
        actions: ['events:PutRule', 'events:DeleteRule', 'events:DescribeRule', 'events:EnableRule', 'events:DisableRule', 'events:PutTargets',
          'events:RemoveTargets', 'events:ListTargetsByRule', 'events:TagResource', 'events:UntagResource', 'events:ListTagsForResource'],
        resources: arns(s, 'events', (n) => `rule/${n}`, ours(s), s.eventRegions),
      },
      { sid: 'DefaultEventBus', actions: ['events:DescribeEventBus'], resources: arns(s, 'events', () => 'event-bus/default', ['default']) },
      // The delegated administrator's bus accepting the management account's events (PutPermission takes only `*`).
      { sid: 'EventBusPermissions', actions: ['events:PutPermission', 'events:RemovePermission'], resources: ['*'] },
    ],
  },
  {
    types: ['AWS::CloudFormation::StackSet', 'aws_cloudformation_stack_set', 'aws_cloudformation_stack_instances'],
    statements: (s) => {
      // A delegated administrator's StackSet lives in the management account: any account.
      const stackSet = (path: string) => s.regions.map((region) => `arn:${s.partition}:cloudformation:${region}:*:${path}`);
      return [
        { sid: 'CreateStackSet', actions: ['cloudformation:CreateStackSet'], resources: ['*'] },
        {
          sid: 'StackSets',
          actions: ['cloudformation:UpdateStackSet', 'cloudformation:DeleteStackSet', 'cloudformation:DescribeStackSet', 'cloudformation:DescribeStackSetOperation',
            'cloudformation:ListStackSetOperations', 'cloudformation:ListStackSetOperationResults', 'cloudformation:CreateStackInstances',
            'cloudformation:UpdateStackInstances', 'cloudformation:DeleteStackInstances', 'cloudformation:ListStackInstances', 'cloudformation:DescribeStackInstance',
            'cloudformation:TagResource', 'cloudformation:UntagResource'],
          // stackset*: the StackSets and their targets.
          resources: [...stackSet('stackset*'), ...stackSet('type/resource/*')],
        },
        // CloudFormation checks that a caller with CallAs DELEGATED_ADMIN is one (the action takes only `*`).
        { sid: 'DelegatedAdministrator', actions: ['organizations:ListDelegatedAdministrators'], resources: ['*'] },
      ];
    },
  },
  {
    types: ['AWS::StepFunctions::StateMachine'],
    statements: (s) => [{
      sid: 'ProviderStateMachine',
      actions: ['states:CreateStateMachine', 'states:UpdateStateMachine', 'states:DeleteStateMachine', 'states:DescribeStateMachine', 'states:TagResource',
        'states:UntagResource', 'states:ListTagsForResource'],
      resources: arns(s, 'states', (n) => `stateMachine:${n}`, ['*']),
    }],
  },
  {
    types: ['AWS::EC2::SecurityGroup'],
    statements: (s) => [{
      sid: 'FunctionSecurityGroups',
      actions: ['ec2:CreateSecurityGroup', 'ec2:DeleteSecurityGroup', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupEgress', 'ec2:CreateTags', 'ec2:DeleteTags'],
      // security-group*: the groups and their rules.
      resources: [...arns(s, 'ec2', () => 'security-group*', ['*']), ...arns(s, 'ec2', () => 'vpc/*', ['*'])],
    }],
  },
  {
    // The caller's identity, its partition and its region: no permission needed.
    types: ['data.aws_caller_identity', 'data.aws_partition', 'data.aws_region'],
    statements: () => [],
  },
];

/** The Terraform types (resources, and data sources as `data.…`) of the plain module core renders. */
export function terraformModuleTypes(): string[] {
  const text = Object.values(terraformModuleFiles()).join('\n');
  return [...new Set([...text.matchAll(/^(resource|data) "([\w]+)"/gm)].map((m) => (m[1] === 'data' ? `data.${m[2]}` : m[2])))].sort();
}

/** The CloudFormation types of the standalone template core renders. */
export function standaloneTemplateTypes(): string[] {
  return [...new Set(Object.values<{ Type: string }>(standaloneTemplate('').Resources).map((r) => r.Type))].sort();
}

const isCloudFormationType = (type: string) => /^(AWS|Custom)::/.test(type);

/** The resource types a target deploys. */
export function deployedTypes(target: Exclude<DeployTarget, 'cdk'>): string[] {
  const every = DEPLOYED_RESOURCES.flatMap((r) => r.types);
  switch (target) {
    case 'cdk-execution': return every.filter(isCloudFormationType);
    case 'cdktf':
    case 'cdktn': return every.filter((t) => !isCloudFormationType(t));
    case 'terraform': return terraformModuleTypes();
    case 'cloudformation': return standaloneTemplateTypes();
  }
}

/** Least privilege for deploying a flavour, scoped to the account and region when they are given. */
export function deployPermissions(target: DeployTarget, i: DeployPermissionInputs): PermissionStatement[] {
  const account = i.account ?? '*';
  const regions = [i.region ?? '*'];
  if (target === 'cdk') {
    return [{
      sid: 'CdkBootstrapRoles',
      actions: ['sts:AssumeRole'],
      resources: regions.flatMap((region) => CDK_BOOTSTRAP_ROLES.map((role) =>
        `arn:${i.partition}:iam::${account}:role/cdk-${CDK_BOOTSTRAP_QUALIFIER}-${role}-role-${account}-${region}`)),
    }];
  }
  const named = target !== 'cdk-execution';
  const eventRegions = named && i.region ? [...new Set([i.region, organizationsRegion(i.partition)])] : regions;
  const types = new Set(deployedTypes(target));
  const scope: DeployScope = {
    partition: i.partition,
    account,
    regions,
    eventRegions,
    roleName: i.roleName ?? SCAN_ROLE_NAME,
    named,
    cdkAssets: target === 'cdk-execution',
    functions: types.has('AWS::Lambda::Function') || types.has('aws_lambda_function'),
  };
  const statements = DEPLOYED_RESOURCES.filter((r) => r.types.some((t) => types.has(t))).flatMap((r) => r.statements(scope));
  if (target === 'cloudformation') statements.unshift(...stackStatements(scope));
  return statements;
}

/** The plain template is deployed as a stack of your own (the CDK's deploy role does this for a CDK app). */
function stackStatements(s: DeployScope): PermissionStatement[] {
  return [
    {
      sid: 'Stacks',
      actions: ['cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:DescribeStacks',
        'cloudformation:DescribeStackEvents', 'cloudformation:GetTemplate', 'cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet',
        'cloudformation:ExecuteChangeSet', 'cloudformation:DeleteChangeSet', 'cloudformation:ListStackResources'],
      resources: arns(s, 'cloudformation', () => 'stack/*', ['*']),
    },
    { sid: 'Templates', actions: ['cloudformation:ValidateTemplate', 'cloudformation:GetTemplateSummary'], resources: ['*'] },
  ];
}
