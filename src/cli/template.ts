/**
 * `prowler-org template`: the standalone CloudFormation template, or a Quick Create link to it with
 * any of its parameters filled in, one flag per parameter (the same parameters as Prowler's own
 * prowler-scan-role.yml). Every value is checked as the template would check it, named by its flag.
 */
import { standaloneTemplate } from '../core/cfn';
import { partitionOfRegion, PROWLER_CLOUD_PARTITION, trustOutsidePartitionMessage, trustsProwlerCloud } from '../core/partition';
import { quickCreateLink } from '../core/quick-create';
import { shown } from '../core/spec';
import { standaloneTemplateYaml } from '../core/templates';
import { checkFormat, type FormatName } from '../core/validate';

/** How a flag's value is read and checked. */
type FlagKind =
  | { readonly kind: 'string'; readonly format?: FormatName }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'list'; readonly format: FormatName }
  | { readonly kind: 'percentage' };

interface ParameterFlag {
  readonly flag: string;
  readonly value: string;
  readonly kind: FlagKind;
}

/**
 * Every parameter of the standalone template, by parameter name: its flag (kebab-case), what the
 * usage shows as its value, and how it is checked. A test fails when the template has a
 * parameter without a flag.
 */
export const TEMPLATE_PARAMETER_FLAGS: Readonly<Record<string, ParameterFlag>> = {
  ExternalId: { flag: 'external-id', value: '<id>', kind: { kind: 'string', format: 'externalId' } },
  AccountId: { flag: 'trusted-account-id', value: '<12 digits>', kind: { kind: 'string', format: 'accountId' } },
  IAMPrincipal: { flag: 'trusted-principal', value: '<role/name>', kind: { kind: 'string', format: 'trustedPrincipal' } },
  EnableS3Integration: { flag: 'enable-s3-integration', value: '', kind: { kind: 'boolean' } },
  S3IntegrationBucketName: { flag: 's3-integration-bucket-name', value: '<bucket>', kind: { kind: 'string', format: 'bucketName' } },
  S3IntegrationBucketAccountId: { flag: 's3-integration-bucket-account-id', value: '<12 digits>', kind: { kind: 'string', format: 'accountId' } },
  EnableOrganizations: { flag: 'enable-organizations', value: '', kind: { kind: 'boolean' } },
  OrganizationId: { flag: 'organization-id', value: '<o-…>', kind: { kind: 'string', format: 'organizationId' } },
  EnableStackSetManagement: { flag: 'enable-stackset-management', value: '', kind: { kind: 'boolean' } },
  DeployLocalRole: { flag: 'deploy-local-role', value: '', kind: { kind: 'boolean' } },
  DeployStackSet: { flag: 'deploy-stackset', value: '', kind: { kind: 'boolean' } },
  AWSOrganizationalUnitId: { flag: 'organizational-unit-ids', value: '<ou-…|r-…,…>', kind: { kind: 'list', format: 'target' } },
  StackSetRegions: { flag: 'stackset-regions', value: '<region,…>', kind: { kind: 'list', format: 'region' } },
  RetainStacksOnAccountRemoval: { flag: 'retain-stacks-on-account-removal', value: '', kind: { kind: 'boolean' } },
  DeployFromDelegatedAdmin: { flag: 'deploy-from-delegated-admin', value: '', kind: { kind: 'boolean' } },
  FailureTolerancePercentage: { flag: 'failure-tolerance-percentage', value: '<0–100>', kind: { kind: 'percentage' } },
};

/** The link sets EnableOrganizations=true unless told otherwise: it is for onboarding an organization. */
const LINK_DEFAULTS: Readonly<Record<string, string>> = { EnableOrganizations: 'true' };

const FLAGS = Object.values(TEMPLATE_PARAMETER_FLAGS);
const BOOLEAN_FLAGS = new Set(FLAGS.filter((f) => f.kind.kind === 'boolean').map((f) => `--${f.flag}`));

/** The parseArgs options of the template command (every value a string: booleans take true/false). */
export const TEMPLATE_OPTIONS = {
  'template-url': { type: 'string' },
  'region': { type: 'string' },
  'stack-name': { type: 'string', default: 'Prowler' },
  ...Object.fromEntries(FLAGS.map((f) => [f.flag, f.kind.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' }])),
} as const;

/**
 * The arguments with each bare boolean flag (`--deploy-stackset`) given its value:
 * `--deploy-stackset`, `--deploy-stackset=false` and `--deploy-stackset false` all work (the
 * template command has no positional argument a value could be mistaken for).
 */
export function withBooleanValues(argv: readonly string[]): string[] {
  return argv.map((arg, i) => (BOOLEAN_FLAGS.has(arg) && (argv[i + 1] === undefined || argv[i + 1].startsWith('-')) ? `${arg}=true` : arg));
}

/** The template command's usage lines. */
export function templateUsage(): string {
  const width = Math.max(...FLAGS.map((f) => `--${f.flag}${f.value ? ` ${f.value}` : '[=false]'}`.length));
  const lines = FLAGS.map((f) => {
    const text = `--${f.flag}${f.value ? ` ${f.value}` : '[=false]'}`;
    const note = LINK_DEFAULTS[parameterOf(f)] ? ` (default ${LINK_DEFAULTS[parameterOf(f)]} in the link)` : '';
    return `      ${text.padEnd(width)}  ${parameterOf(f)}${note}`;
  });
  return [
    '  prowler-org template [--template-url <https://…> --region <region> [--stack-name <name>] [<parameter flags>]]',
    '    Without --template-url: prints the standalone CloudFormation template. With --template-url and',
    '    --region: a Quick Create link, the template\'s parameters filled in from these flags',
    '    (lists: comma-separated or the flag repeated):',
    ...lines,
  ].join('\n');
}

function parameterOf(flag: ParameterFlag): string {
  return Object.entries(TEMPLATE_PARAMETER_FLAGS).find(([, f]) => f === flag)![0];
}

type TemplateValues = Partial<Record<string, string | boolean | string[] | undefined>>;

/** Problems with one flag's value, named by the flag, as the template's own patterns would see them. */
function flagProblems(flag: ParameterFlag, raw: string | string[]): string[] {
  const name = `--${flag.flag}`;
  const kind = flag.kind;
  switch (kind.kind) {
    case 'boolean':
      return raw === 'true' || raw === 'false' ? [] : [`${name} must be true or false, got ${shown(raw)}`];
    case 'percentage':
      return /^(100|[1-9]?\d)$/.test(raw as string) ? [] : [`${name} must be a whole number from 0 to 100, got ${shown(raw)}`];
    case 'list': {
      const entries = listOf(raw);
      if (entries.length === 0) return [`${name} needs at least one value, got ${shown(raw)}`];
      return entries.flatMap((entry) => checkFormat(name, entry, kind.format));
    }
    default:
      return kind.format ? checkFormat(name, raw, kind.format) : [];
  }
}

const listOf = (raw: string | string[]) => [raw].flat().flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');

/** Characters a URL cannot hold as they are: white space, controls, non-ASCII and "<>\^`{|}. */
const UNSAFE_IN_URL = /[^\x21-\x7e]|["<>\\^`{|}]/;

/**
 * The template URL, or why it is not one. A URL with spaces or other characters a URL cannot hold
 * is accepted and percent-encoded (`my template.yaml` → `my%20template.yaml`), the way a browser
 * would send it: the link then names the object S3 serves under that key.
 */
export function templateUrlOf(raw: string): { url?: string; encoded?: boolean; problem?: string } {
  const problem = `--template-url must be an https:// URL of the template (S3 or any URL CloudFormation can read), got ${shown(raw)}`;
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    return { problem };
  }
  if (parsed.protocol !== 'https:' || !parsed.hostname) return { problem };
  return UNSAFE_IN_URL.test(raw.trim()) ? { url: parsed.href, encoded: true } : { url: raw.trim() };
}

/** The template command: the template, or a Quick Create link; returns the exit code. */
export function templateCommand(values: TemplateValues, io: { out: (text: string) => void; err: (text: string) => void }): number {
  const given = FLAGS.filter((f) => values[f.flag] !== undefined);
  const problems = given.flatMap((f) => flagProblems(f, values[f.flag] as string | string[]));
  const templateUrl = values['template-url'] as string | undefined;
  const region = values.region as string | undefined;
  problems.push(...checkFormat('--region', region, 'region'));
  if (templateUrl === undefined && region === undefined) {
    if (given.length > 0 || values['stack-name'] !== 'Prowler') {
      problems.push(`${given.length > 0 ? given.map((f) => `--${f.flag}`).join(', ') : '--stack-name'} fill in a Quick Create link: give --template-url <https://…> `
        + 'and --region <region> too (without them, template prints the template itself, whose parameters are set when the stack is created)');
    }
    if (problems.length > 0) return fail(io, problems);
    io.out(standaloneTemplateYaml());
    return 0;
  }
  if (templateUrl === undefined) {
    problems.push('--template-url is required with --region: the https:// URL of the template in a bucket CloudFormation can read '
      + '(prowler-org template > prowler-scan-role.yaml, then upload it)');
  }
  if (region === undefined) problems.push('--region is required with --template-url: the region the console opens in, the stack\'s region');
  const url = templateUrl === undefined ? {} : templateUrlOf(templateUrl);
  if (url.problem) problems.push(url.problem);
  const stackName = values['stack-name'] as string;
  if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(stackName)) {
    problems.push(`--stack-name must be a letter followed by up to 127 letters, digits and hyphens, got ${shown(stackName)}`);
  }

  // The parameters, in the template's order, as the console's form receives them.
  const parameters: Record<string, string> = {};
  for (const name of Object.keys(standaloneTemplate('').Parameters as Record<string, unknown>)) {
    const flag = TEMPLATE_PARAMETER_FLAGS[name];
    const value = flag ? values[flag.flag] : undefined;
    if (value !== undefined) parameters[name] = Array.isArray(value) ? listOf(value).join(',') : String(value);
    else if (LINK_DEFAULTS[name] !== undefined) parameters[name] = LINK_DEFAULTS[name];
  }
  if (problems.length === 0) problems.push(...ruleProblems(parameters, region!));
  if (problems.length > 0) return fail(io, problems);
  if (url.encoded) io.err(`note: --template-url percent-encoded as ${url.url} (a URL cannot hold spaces)\n`);
  io.out(`${quickCreateLink({ region: region!, templateUrl: url.url!, stackName, parameters })}\n`);
  return 0;
}

/** The template's rules (and the partition's trust), checked before the user fills in the console's form. */
function ruleProblems(p: Record<string, string>, region: string): string[] {
  const flag = (name: string) => `--${TEMPLATE_PARAMETER_FLAGS[name].flag}`;
  const on = (name: string) => p[name] === 'true';
  const problems: string[] = [];
  const partition = partitionOfRegion(region);
  if (partition !== PROWLER_CLOUD_PARTITION && trustsProwlerCloud(p.AccountId)) {
    problems.push(trustOutsidePartitionMessage(partition, p.AccountId, { account: flag('AccountId'), principal: flag('IAMPrincipal') }));
  }
  if (on('EnableS3Integration')) {
    for (const name of ['S3IntegrationBucketName', 'S3IntegrationBucketAccountId']) {
      if (!p[name]) problems.push(`${flag(name)} is required with ${flag('EnableS3Integration')}`);
    }
  }
  if (on('DeployStackSet') && !p.AWSOrganizationalUnitId) {
    problems.push(`${flag('AWSOrganizationalUnitId')} is required with ${flag('DeployStackSet')}: the OU ids (ou-…) or the root id (r-…) the StackSet deploys to`);
  }
  if (on('DeployStackSet') && on('DeployFromDelegatedAdmin') && p.DeployLocalRole !== 'false') {
    problems.push(`${flag('DeployFromDelegatedAdmin')} with ${flag('DeployStackSet')} needs ${flag('DeployLocalRole')}=false: a delegated administrator is a member `
      + 'account, so the StackSet deploys ProwlerScan to it and a local one would collide');
  }
  if (p.DeployLocalRole === 'false' && !on('DeployStackSet')) {
    problems.push(`${flag('DeployLocalRole')}=false without ${flag('DeployStackSet')} deploys nothing: set one of them`);
  }
  return problems;
}

function fail(io: { err: (text: string) => void }, problems: string[]): number {
  io.err(`${problems.join('\n')}\n`);
  return 1;
}
