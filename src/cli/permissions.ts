/**
 * `prowler-org permissions`: the least-privilege IAM policy for running `plan` or `apply`, and for
 * deploying each flavour, as a policy document (JSON, for `aws iam create-policy`) or as text to
 * read. The statements come from core (core/permissions.ts); this file only reads the options and
 * prints them.
 */
import { parseArgs } from 'node:util';
import type { Io } from './main';
import { partitionOfRegion } from '../core/partition';
import {
  cliPermissions,
  deployPermissions,
  permissionsPolicy,
  type CliCommand,
  type DeployTarget,
  type PermissionStatement,
} from '../core/permissions';
import { shown } from '../core/spec';
import { loadSpecFile } from '../core/spec-file-reader';
import { checkFormat, type FormatName } from '../core/validate';

const PARTITIONS = ['aws', 'aws-us-gov', 'aws-cn'];

/** Each target: who needs its policy, and what to do with it. */
const TARGETS: Readonly<Record<string, { readonly who: string; readonly use: string; readonly deploy?: DeployTarget; readonly cli?: CliCommand }>> = {
  'plan': {
    cli: 'plan',
    who: 'the identity that runs `prowler-org plan`',
    use: 'It only reads: Organizations, the API key\'s secret, the onboarding\'s record.',
  },
  'apply': {
    cli: 'apply',
    who: 'the identity that runs `prowler-org apply`',
    use: 'Prowler is written to with the API key; in AWS it only takes the lease and saves the record in the stateBucket.',
  },
  'deploy-cdk': {
    deploy: 'cdk',
    who: 'the identity that runs `cdk deploy` (and `cdk diff`)',
    use: 'It assumes the bootstrap roles; what the stacks create is the CloudFormation execution role\'s: see `prowler-org permissions deploy-cdk-execution`.',
  },
  'deploy-cdk-execution': {
    deploy: 'cdk-execution',
    who: 'the CDK\'s CloudFormation execution role (cdk-hnb659fds-cfn-exec-role-…)',
    use: 'Create it as a managed policy, then `cdk bootstrap --cloudformation-execution-policies arn:<partition>:iam::<account>:policy/<name>` '
      + '(the default is AdministratorAccess). It covers every construct of this package, in any configuration.',
  },
  'deploy-cdktf': {
    deploy: 'cdktf',
    who: 'the identity that runs `cdktf deploy` (Terraform\'s AWS provider)',
    use: 'It covers every construct of this package, in any configuration; your Terraform backend\'s state and lock are not included.',
  },
  'deploy-cdktn': {
    deploy: 'cdktn',
    who: 'the identity that runs `cdktn deploy` (Terraform\'s AWS provider)',
    use: 'It covers every construct of this package, in any configuration; your Terraform backend\'s state and lock are not included.',
  },
  'deploy-terraform': {
    deploy: 'terraform',
    who: 'the identity that runs `terraform apply` on templates/terraform',
    use: 'Your Terraform backend\'s state and lock are not included.',
  },
  'deploy-cloudformation': {
    deploy: 'cloudformation',
    who: 'the identity that creates the stack of templates/prowler-scan-role.yaml (Quick Create, `aws cloudformation deploy`)',
    use: 'Without a service role: CloudFormation creates the role and the StackSet with these credentials.',
  },
};

const CLI_FLAGS = ['state-bucket', 'api-key-secret-arn', 'api-key-kms-key-arn', 'organization-id'] as const;
const DEPLOY_FLAGS = ['account', 'region', 'role-name'] as const;

/** How each flag's value is checked (core's formats: the messages name the flag). */
const FLAG_FORMATS: Readonly<Record<(typeof CLI_FLAGS | typeof DEPLOY_FLAGS)[number], FormatName>> = {
  'state-bucket': 'bucketName',
  'api-key-secret-arn': 'secretArn',
  'api-key-kms-key-arn': 'kmsKeyArn',
  'organization-id': 'organizationId',
  'account': 'accountId',
  'region': 'region',
  'role-name': 'roleName',
};

/** The command's usage lines (in `prowler-org --help`). */
export function permissionsUsage(): string {
  return [
    '  prowler-org permissions plan|apply [<spec-file>] [--state-bucket <bucket>] [--api-key-secret-arn <arn>]',
    '                    [--api-key-kms-key-arn <arn>] [--organization-id <o-…>] [--partition aws|aws-us-gov|aws-cn] [--format json|text]',
    `  prowler-org permissions ${Object.keys(TARGETS).filter((t) => TARGETS[t].deploy).join('|')}`,
    '                    [--account <12 digits>] [--region <region>] [--role-name <name>] [--partition …] [--format json|text]',
  ].join('\n');
}

const USAGE = `Usage:\n${permissionsUsage()}

Prints the least-privilege IAM policy (JSON: a policy document for aws iam create-policy; text: to read).
plan and apply take the stateBucket, apiKey.secretArn and organizationId of the spec file, or the flags
(a flag wins over the file). The deploy targets are scoped to --account and --region when given.`;

/** `prowler-org permissions …`: returns the exit code. */
export function permissionsCommand(argv: string[], io: Io): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        format: { type: 'string', default: 'json' },
        partition: { type: 'string' },
        ...Object.fromEntries([...CLI_FLAGS, ...DEPLOY_FLAGS].map((flag) => [flag, { type: 'string' as const }])),
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}\n`);
    return 1;
  }
  const [target, file, ...rest] = parsed.positionals;
  const o = parsed.values as Record<string, string | undefined> & { help: boolean; format: string };
  if (o.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const what = target === undefined ? undefined : TARGETS[target];
  if (!what) {
    io.err(`${target === undefined ? 'permissions needs a target' : `unknown target ${shown(target)}`}: one of ${Object.keys(TARGETS).join(', ')}\n\n${USAGE}\n`);
    return 1;
  }
  const problems: string[] = [];
  if (!['json', 'text'].includes(o.format)) problems.push(`--format must be json or text, got ${shown(o.format)}`);
  if (rest.length > 0 || (file !== undefined && !what.cli)) problems.push(`unexpected argument ${shown(rest[0] ?? file)} (${target} takes ${what.cli ? 'one spec file' : 'no spec file'})`);
  const misplaced = (what.cli ? DEPLOY_FLAGS : CLI_FLAGS).filter((flag) => o[flag] !== undefined);
  if (misplaced.length > 0) problems.push(`--${misplaced[0]} is an option of ${what.cli ? 'the deploy targets' : 'plan and apply'}, not of ${target}`);
  if (o.partition !== undefined && !PARTITIONS.includes(o.partition)) problems.push(`--partition must be ${PARTITIONS.join(', ')}, got ${shown(o.partition)}`);
  for (const [flag, format] of Object.entries(FLAG_FORMATS)) problems.push(...checkFormat(`--${flag}`, o[flag], format));

  let values: Record<string, string | undefined> = {};
  if (file !== undefined && what.cli && problems.length === 0) {
    const loaded = loadSpecFile(file);
    if (!loaded.spec) {
      io.err(`${file}: ${loaded.problems.length} ${loaded.problems.length === 1 ? 'problem' : 'problems'}:\n${loaded.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`);
      return 1;
    }
    const spec = loaded.spec;
    values = {
      'state-bucket': spec.stateBucket,
      'api-key-secret-arn': spec.apiKey && 'secretArn' in spec.apiKey ? spec.apiKey.secretArn : undefined,
      'organization-id': spec.organizationId,
    };
  }
  const value = (flag: string) => o[flag] ?? values[flag];
  // The partition: given, or the one the secret's ARN or the region is in.
  const implied = [
    ...(value('api-key-secret-arn') ? [{ from: '--api-key-secret-arn', partition: value('api-key-secret-arn')!.split(':')[1] }] : []),
    ...(value('api-key-kms-key-arn') ? [{ from: '--api-key-kms-key-arn', partition: value('api-key-kms-key-arn')!.split(':')[1] }] : []),
    ...(o.region ? [{ from: '--region', partition: partitionOfRegion(o.region) }] : []),
  ];
  const partition = o.partition ?? implied[0]?.partition ?? 'aws';
  for (const other of implied.filter((p) => p.partition !== partition)) {
    problems.push(`${other.from} is in the ${other.partition} partition, not ${partition}${o.partition ? ' (--partition)' : ` (${implied[0].from})`}`);
  }
  if (problems.length > 0) {
    io.err(`${problems.join('\n')}\n`);
    return 1;
  }

  const statements = what.cli
    ? cliPermissions(what.cli, {
      partition,
      stateBucket: value('state-bucket'),
      apiKeySecretArn: value('api-key-secret-arn'),
      apiKeyKmsKeyArn: value('api-key-kms-key-arn'),
      organizationId: value('organization-id'),
    })
    : deployPermissions(what.deploy!, { partition, account: o.account, region: o.region, roleName: o['role-name'] });
  if (o.format === 'json') {
    io.out(`${JSON.stringify(permissionsPolicy(statements), null, 2)}\n`);
    return 0;
  }
  const notes = what.cli
    ? [
      ...(value('state-bucket') ? [] : ['No stateBucket: no S3 statement. A spec with stateBucket needs it: give the spec file or --state-bucket.']),
      ...(value('api-key-secret-arn') ? [] : ['The API key from an environment variable: no Secrets Manager statement.']),
      ...(value('organization-id') ? [] : ['Without an organization id, every Organizations read is on `*`: give organizationId (or --organization-id) to scope those that accept it.']),
    ]
    : [
      ...(o.account && o.region ? [] : ['Any account and region: give --account and --region to scope it.']),
    ];
  io.out(`${renderText(`prowler-org permissions ${target}`, what.who, [what.use, ...notes], statements)}\n`);
  return 0;
}

/** The policy to read: who needs it, each statement's actions and resources, and notes. */
function renderText(title: string, who: string, notes: string[], statements: readonly PermissionStatement[]): string {
  const lines = [`${title}: for ${who}.`, ''];
  // A label, then values wrapped to lines of about 100 characters (resources one a line).
  const field = (label: string, values: readonly string[], perLine: boolean) => {
    const rows: string[] = [];
    for (const v of values) {
      const last = rows.length - 1;
      if (!perLine && last >= 0 && rows[last].length + v.length < 100) rows[last] += `, ${v}`;
      else rows.push(v);
    }
    return rows.map((row, n) => `  ${(n === 0 ? label : '').padEnd(6)} ${row}${!perLine && n < rows.length - 1 ? ',' : ''}`);
  };
  for (const s of statements) {
    lines.push(s.sid, ...field('allow', s.actions, false), ...field('on', s.resources, true));
    for (const [operator, keys] of Object.entries(s.condition ?? {})) {
      for (const [key, v] of Object.entries(keys)) lines.push(...field('when', [`${key} ${operator}`, ...[v].flat().map((x) => `  ${x}`)], true));
    }
  }
  return [...lines, '', ...notes.map((n) => `note: ${n}`)].join('\n');
}
