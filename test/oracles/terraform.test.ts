/**
 * Terraform itself judges what the CDKTF constructs synthesize: `terraform init -backend=false`
 * and `terraform validate` on the README's quick start and on the configurations users write.
 *
 * With the machine image's provider mirror (hashicorp/aws 5.x) the configuration is validated
 * against that version; with registry access and no mirror, against the 6.x the bindings pin.
 * The bindings are generated from 6.x, so every attribute they render exists there; validating
 * against 5.x with no warnings proves it exists in 5.x and is not deprecated there either.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, TerraformStack } from 'cdktf';
import { core } from '../../src';
import * as tf from '../../src/cdktf';
import { describeWith, TERRAFORM, terraformAwsMirror } from '../support/oracles';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:prowler/api-key-AbCdEf';

/** A user's configuration: a stack built on a fresh app. */
const CONFIGURATIONS: Record<string, (stack: TerraformStack) => void> = {
  'one-liner outside us-east-1, events forwarded from us-east-1, two regions, an excluded account': (stack) => {
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const virginia = new AwsProvider(stack, 'virginia', { region: 'us-east-1', alias: 'virginia' });
    new tf.ProwlerOrganization(stack, 'Prowler', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      excludeAccounts: ['123456789012'],
      regions: ['eu-west-1', 'us-east-1'],
      apiKeySecretArn: SECRET_ARN,
      organizationEventsProvider: virginia,
      selection: { targets: ['r-ab12'], excludeTags: [{ key: 'prowler-scan', value: 'false' }] },
      scanMode: core.ScanMode.DAILY,
      removal: core.RemovalBehaviour.UNLINK,
    });
  },
  'roles only: the management role and the member StackSet on two OUs': (stack) => {
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    new tf.ProwlerOrganizationRoles(stack, 'Roles', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['ou-ab12-abcdefgh', 'ou-ab12-ijklmnop'],
      onlyAccounts: ['222222222222', '333333333333'],
      s3Integration: { bucketName: 'prowler-reports', bucketAccountId: '444444444444' },
      stackSetManagement: true,
    });
  },
  'delegated administrator: StackSet as DELEGATED_ADMIN, onboarding in a VPC with its own bucket and role': (stack) => {
    new AwsProvider(stack, 'aws', { region: 'eu-central-1' });
    const members = new tf.ProwlerMemberRoleStackSet(stack, 'Members', {
      externalId: EXTERNAL_ID, targets: ['r-ab12'], callAs: core.CallAs.DELEGATED_ADMIN, stackSetName: 'prowler-scan-role',
    });
    new tf.ProwlerOrganizationOnboarding(stack, 'Onboarding', {
      apiKeySecretArn: SECRET_ARN,
      assumeCredentialsSecretArn: 'arn:aws:secretsmanager:eu-central-1:111111111111:secret:prowler/assume-AbCdEf',
      secretKmsKeyArns: ['arn:aws:kms:eu-central-1:111111111111:key/0b3a9f8e-1c2d-4e5f-8a9b-0c1d2e3f4a5b'],
      subnetIds: ['subnet-0123456789abcdef0'],
      securityGroupIds: ['sg-0123456789abcdef0'],
      stateBucketName: 'my-prowler-onboarding-state',
      functionRoleName: 'my-prowler-onboarding',
      syncSchedule: 'cron(0 3 * * ? *)',
      logRetentionDays: 365,
      memberStackSet: members,
      prowlerApiUrl: 'https://prowler.example.com/api/v1',
      selection: { targets: ['r-ab12'] },
    });
  },
  'from a delegated administrator: the onboarding accepting the management account\'s events': (stack) => {
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    new tf.ProwlerOrganization(stack, 'Prowler', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      callAs: core.CallAs.DELEGATED_ADMIN,
      apiKeySecretArn: SECRET_ARN,
      organizationEventsFrom: '111111111111',
    });
  },
  'the management account\'s forwarder of Organizations events to a delegated administrator': (stack) => {
    new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
    const virginia = new AwsProvider(stack, 'virginia', { region: 'us-east-1', alias: 'virginia' });
    new tf.ProwlerOrganizationEventForwarder(stack, 'Events', { delegatedAdministratorAccountId: '222222222222', onboardingRegion: 'eu-west-1', provider: virginia });
  },
  'a single account: the scan role alone': (stack) => {
    new AwsProvider(stack, 'aws', { region: 'ap-southeast-2' });
    new tf.ProwlerScanRole(stack, 'Scan', { externalId: EXTERNAL_ID, roleName: 'ProwlerScan' });
  },
};

/** Synthesizes a stack as `cdktf synth` does and returns its cdk.tf.json. */
function synthesize(build: (stack: TerraformStack) => void): any {
  const outdir = mkdtempSync(join(tmpdir(), 'tf-synth-'));
  try {
    const app = new App({ outdir });
    build(new TerraformStack(app, 'prowler'));
    app.synth();
    return JSON.parse(readFileSync(join(outdir, 'stacks', 'prowler', 'cdk.tf.json'), 'utf8'));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The README's CDKTF quick start, run as `cdktf synth` runs it. */
function synthesizeExample(): any {
  const outdir = mkdtempSync(join(tmpdir(), 'tf-example-'));
  const before = process.env.CDKTF_OUTDIR;
  process.env.CDKTF_OUTDIR = outdir;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    jest.isolateModules(() => require('../../examples/cdktf/main'));
    return JSON.parse(readFileSync(join(outdir, 'stacks', 'prowler-organization', 'cdk.tf.json'), 'utf8'));
  } finally {
    if (before === undefined) delete process.env.CDKTF_OUTDIR;
    else process.env.CDKTF_OUTDIR = before;
    rmSync(outdir, { recursive: true, force: true });
  }
}

interface Diagnostic { severity: string; summary: string; detail?: string; address?: string }

describeWith(TERRAFORM, 'terraform validate: the CDKTF constructs\' output is configuration Terraform accepts', () => {
  const mirror = terraformAwsMirror();
  const work = mkdtempSync(join(tmpdir(), 'tf-validate-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_PLUGIN_CACHE_DIR: join(work, 'plugin-cache') };
  mkdirSync(env.TF_PLUGIN_CACHE_DIR!);
  if (mirror) {
    env.TF_CLI_CONFIG_FILE = join(work, 'cli.tfrc');
    writeFileSync(env.TF_CLI_CONFIG_FILE, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror.path)}\n  }\n}\n`);
  }
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function terraform(dir: string, ...args: string[]) {
    return spawnSync('terraform', args, { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  }

  /** init + validate; the diagnostics Terraform gives, errors and warnings alike. */
  function validate(name: string, config: any): { valid: boolean; diagnostics: Diagnostic[]; provider: string } {
    const dir = join(work, name.replace(/[^\w]+/g, '-').slice(0, 60));
    mkdirSync(dir);
    const provider = config.terraform.required_providers.aws;
    if (mirror) provider.version = mirror.version; // the bindings pin 6.x; the mirror holds what it holds
    // Pretty-printed, so a diagnostic's line points at one attribute.
    writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(config, null, 2));
    const init = terraform(dir, 'init', '-backend=false', '-input=false', '-no-color');
    if (init.status !== 0) {
      // Some errors stop init already: give them as diagnostics too, with Terraform's whole text.
      const summaries = [...init.stderr.matchAll(/^Error: (.+)$/gm)].map((m) => m[1]);
      if (summaries.length === 0) throw new Error(`terraform init failed for '${name}':\n${init.stdout}\n${init.stderr}`);
      return { valid: false, diagnostics: summaries.map((summary) => ({ severity: 'error', summary, detail: init.stderr })), provider: `${provider.source} ${provider.version}` };
    }
    const run = terraform(dir, 'validate', '-json', '-no-color');
    const result = JSON.parse(run.stdout);
    const diagnostics = (result.diagnostics as any[]).map((d) => ({
      severity: d.severity, summary: d.summary, detail: d.detail, address: d.address ?? (d.range ? `line ${d.range.start.line}` : undefined),
    }));
    return { valid: result.valid, diagnostics, provider: `${provider.source} ${provider.version}` };
  }

  /** init (with the configuration's local backend) + plan, offline: the provider never calls AWS for these resources. */
  function plan(name: string, config: any): { status: number | null; output: string } {
    const dir = join(work, `plan-${name}`);
    mkdirSync(dir);
    if (mirror) config.terraform.required_providers.aws.version = mirror.version;
    // cdktf's local backend keeps its state (and the plan's lock) beside the process's working
    // directory, the repository: in the plan's own folder, two runs of this suite (cdktf and cdktn,
    // at once in the build) do not wait for each other's lock.
    const local = config.terraform.backend?.local;
    if (local?.path) local.path = join(dir, basename(local.path));
    writeFileSync(join(dir, 'cdk.tf.json'), JSON.stringify(config, null, 2));
    const init = terraform(dir, 'init', '-input=false', '-no-color');
    if (init.status !== 0) throw new Error(`terraform init failed for '${name}':\n${init.stdout}\n${init.stderr}`);
    const run = terraform(dir, 'plan', '-input=false', '-no-color');
    return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
  }

  /** The scan role alone, with a provider that needs no credentials and no network. */
  const offlineScanRole = (region: string, props: Partial<core.ScanRoleOptions> = {}) => synthesize((stack) => {
    new AwsProvider(stack, 'aws', {
      region, accessKey: 'AKIAIOSFODNN7EXAMPLE', secretKey: 'offline', skipCredentialsValidation: true, skipRequestingAccountId: true, skipMetadataApiCheck: 'true',
    });
    new tf.ProwlerScanRole(stack, 'Scan', { externalId: EXTERNAL_ID, ...props });
  });

  test.each([['us-gov-west-1', 'aws-us-gov'], ['cn-north-1', 'aws-cn']])(
    'terraform plan in %s: the role trusting Prowler Cloud fails the plan with our message (partition %s)', (region, partition) => {
      const result = plan(region, offlineScanRole(region));
      expect(result.status).toBe(1);
      expect(result.output).toContain('Resource precondition failed');
      expect(result.output).toContain(`partition is "${partition}"`);
      expect(result.output.replace(/\s+/g, ' ')).toContain("trustedAccountId: Prowler Cloud's account 232136659152 is in the aws partition and can never assume a role");
    });

  test('terraform plan: in us-east-1, or trusting a self-hosted Prowler in GovCloud, the same role plans', () => {
    for (const [name, config] of [['us-east-1', offlineScanRole('us-east-1')], ['self-hosted-gov', offlineScanRole('us-gov-west-1', { trustedAccountId: '222222222222' })]] as const) {
      const result = plan(name, config);
      expect({ name, status: result.status, error: result.output.match(/Error: .*/)?.[0] }).toEqual({ name, status: 0, error: undefined });
      expect(result.output).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
    }
  });

  test('the README\'s CDKTF quick start (examples/cdktf/main.ts)', () => {
    const config = synthesizeExample();
    expect(validate('readme-quick-start', config)).toEqual({ valid: true, diagnostics: [], provider: expect.any(String) });
  });

  test.each(Object.keys(CONFIGURATIONS))('%s', (name) => {
    const config = synthesize(CONFIGURATIONS[name]);
    expect(validate(name, config)).toEqual({ valid: true, diagnostics: [], provider: expect.any(String) });
  });

  test('the oracle rejects what the constructs once rendered: depends_on as an interpolation', () => {
    const config = synthesizeExample();
    const invocation: any = Object.values(config.resource.aws_lambda_invocation)[0];
    invocation.depends_on = invocation.depends_on.map((ref: string) => `\${${ref}}`); // what `resource.fqn` rendered
    const broken = validate('known-bad-depends-on', config);
    expect(broken.valid).toBe(false);
    expect(broken.diagnostics.map((d) => d.summary)).toContain('Invalid expression');
  });

  (mirror?.version.startsWith('5.') ? test : test.skip)('under provider 5.x, the oracle rejects a 6.x-only attribute (per-resource region)', () => {
    const config = synthesizeExample();
    const instances: any = Object.values(config.resource.aws_cloudformation_stack_instances)[0];
    instances.region = 'us-east-1';
    const broken = validate('known-bad-6x-only', config);
    expect(broken.valid).toBe(false);
    expect(broken.diagnostics.map((d) => d.summary)).toContain('Extraneous JSON object property');
  });
});
