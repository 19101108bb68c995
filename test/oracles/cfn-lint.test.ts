/**
 * cfn-lint (CloudFormation's resource schemas and rules: runtimes, ARNs, properties) judges the
 * committed templates/ and what the CDK constructs synthesize: the README's quick start and the
 * variants users deploy (another commercial region, GovCloud, China, a delegated administrator).
 *
 * The same suite runs against the oldest aws-cdk-lib the package supports (`npx projen
 * test:cdk-floor`, part of the build): the Provider framework's and aws-cdk-lib's own functions
 * get their runtimes from the aws-cdk-lib in use, and CloudFormation refuses runtimes it retired.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { core } from '../../src';
import * as cdk from '../../src/cdk';
import { CFN_LINT, describeWith } from '../support/oracles';

const ROOT = join(__dirname, '..', '..');
const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';

/** A stack a user deploys: its region, and what is in it. */
interface Variant { region: string; build: (stack: Stack) => void }

const apiKey = (stack: Stack) => secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'prowler/api-key');

const VARIANTS: Record<string, Variant> = {
  'one-liner in another commercial region (eu-west-1: events forwarded from us-east-1)': {
    region: 'eu-west-1',
    build: (stack) => new cdk.ProwlerOrganization(stack, 'Prowler', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      excludeAccounts: ['123456789012'],
      regions: ['eu-west-1', 'us-east-1'],
      apiKeySecret: apiKey(stack),
      scanMode: core.ScanMode.DAILY,
    }),
  },
  'from a delegated administrator, accepting the management account\'s Organizations events (eu-west-1)': {
    region: 'eu-west-1',
    build: (stack) => new cdk.ProwlerOrganization(stack, 'Prowler', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      callAs: core.CallAs.DELEGATED_ADMIN,
      apiKeySecret: apiKey(stack),
      organizationEventsFrom: '333333333333',
    }),
  },
  'the management account\'s forwarder of Organizations events to a delegated administrator (us-east-1)': {
    region: 'us-east-1',
    build: (stack) => new cdk.ProwlerOrganizationEventForwarder(stack, 'Events', { delegatedAdministratorAccountId: '222222222222', onboardingRegion: 'eu-west-1' }),
  },
  'one-liner in GovCloud (aws-us-gov, us-gov-west-1)': {
    region: 'us-gov-west-1',
    build: (stack) => new cdk.ProwlerOrganization(stack, 'Prowler', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      apiKeySecret: apiKey(stack),
      prowlerApiUrl: 'https://prowler.example.gov/api/v1',
      trustedAccountId: '222222222222',
      trustedPrincipal: 'role/prowler-app',
    }),
  },
  'one-liner in China (aws-cn, cn-north-1)': {
    region: 'cn-north-1',
    build: (stack) => new cdk.ProwlerOrganization(stack, 'Prowler', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['r-ab12'],
      apiKeySecret: apiKey(stack),
      prowlerApiUrl: 'https://prowler.example.cn/api/v1',
      trustedAccountId: '222222222222',
      trustedPrincipal: 'role/prowler-app',
    }),
  },
  'delegated administrator: StackSet as DELEGATED_ADMIN, onboarding in a VPC': {
    region: 'eu-central-1',
    build: (stack) => {
      const members = new cdk.ProwlerMemberRoleStackSet(stack, 'Members', {
        externalId: EXTERNAL_ID, targets: ['r-ab12'], callAs: core.CallAs.DELEGATED_ADMIN, stackSetName: 'prowler-scan-role',
      });
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-central-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'],
      });
      new cdk.ProwlerOrganizationOnboarding(stack, 'Onboarding', {
        apiKeySecret: apiKey(stack),
        assumeCredentialsSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Assume', 'prowler/assume'),
        memberStackSet: members,
        vpc,
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')],
        selection: { targets: ['r-ab12'] },
      });
    },
  },
  'roles only: the management role and the member StackSet': {
    region: 'us-east-1',
    build: (stack) => new cdk.ProwlerOrganizationRoles(stack, 'Roles', {
      externalId: EXTERNAL_ID,
      organizationId: 'o-abc123def4',
      targets: ['ou-ab12-abcdefgh'],
      onlyAccounts: ['222222222222'],
      s3Integration: { bucketName: 'prowler-reports', bucketAccountId: '444444444444' },
      stackSetManagement: true,
    }),
  },
};

interface Finding { file: string; rule: string; level: string; message: string; path: string }

// eslint-disable-next-line @typescript-eslint/no-require-imports
const CDK_VERSION: string = require('aws-cdk-lib/package.json').version;

describeWith(CFN_LINT, `cfn-lint: templates/ and the CDK constructs' output (aws-cdk-lib ${CDK_VERSION})`, () => {
  const work = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** cfn-lint's findings for templates of one region. */
  function lint(region: string, files: string[]): Finding[] {
    const run = spawnSync('cfn-lint', ['--format', 'json', '--regions', region, '--', ...files], { encoding: 'utf8', timeout: 300_000 });
    // Exit codes are a bit mask of levels (2 errors, 4 warnings, 8 informational); odd is cfn-lint failing.
    if (run.status === null || run.status % 2 === 1 || !run.stdout.trim().startsWith('[')) {
      throw new Error(`cfn-lint did not run (exit ${run.status}):\n${run.stderr}${run.stdout}`);
    }
    return JSON.parse(run.stdout).map((m: any) => ({
      file: m.Filename.split('/').pop(), rule: m.Rule.Id, level: m.Level, message: m.Message, path: (m.Location.Path ?? []).join('/'),
    }));
  }

  /** Writes a template where cfn-lint reads it; the template's file name. */
  function write(name: string, template: unknown): string {
    const file = join(work, `${name.replace(/[^\w]+/g, '-').slice(0, 60)}.json`);
    writeFileSync(file, JSON.stringify(template, null, 1));
    return file;
  }

  function report(name: string, findings: Finding[]): Finding[] {
    const warnings = findings.filter((f) => f.level !== 'Error');
    const byRule = new Map<string, Finding[]>();
    for (const w of warnings) byRule.set(w.rule, [...(byRule.get(w.rule) ?? []), w]);
    process.stdout.write(`cfn-lint ${name} (aws-cdk-lib ${CDK_VERSION}): ${findings.length - warnings.length} errors, ${warnings.length} warnings`
      + [...byRule].map(([rule, [first, ...more]]) => `\n  ${rule} ×${more.length + 1}, e.g. ${first.path}: ${first.message.slice(0, 140)}`).join('') + '\n');
    return findings.filter((f) => f.level === 'Error');
  }

  const TEMPLATES = readdirSync(join(ROOT, 'templates')).filter((f) => f.endsWith('.yaml'));
  const PARTITIONS = ['us-east-1', 'us-gov-west-1', 'cn-north-1'];
  const RETIRED_RUNTIME = {
    AWSTemplateFormatVersion: '2010-09-09',
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] } } },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'nodejs20.x', Handler: 'index.handler', Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, Code: { ZipFile: 'x' } } },
    },
  };

  /**
   * Every template of the suite is synthesized and written first, then linted with one cfn-lint per
   * region (its start-up, about 2 s of CPU, is most of a run's time); each test reads its own file's
   * findings. Keyed by region and file name.
   */
  const findings = new Map<string, Finding[]>();
  const found = (region: string, file: string) => findings.get(`${region} ${basename(file)}`) ?? [];
  const files: Record<string, string> = {};
  beforeAll(() => {
    const byRegion = new Map<string, string[]>();
    const add = (region: string, file: string) => byRegion.set(region, [...(byRegion.get(region) ?? []), file]);
    for (const file of TEMPLATES) for (const region of PARTITIONS) add(region, join(ROOT, 'templates', file));

    // The README's CDK quick start, as `cdk synth` runs it.
    const outdir = mkdtempSync(join(work, 'example-'));
    const before = process.env.CDK_OUTDIR;
    process.env.CDK_OUTDIR = outdir;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require('../../examples/cdk/app'));
    } finally {
      if (before === undefined) delete process.env.CDK_OUTDIR;
      else process.env.CDK_OUTDIR = before;
    }
    files.example = join(outdir, 'ProwlerOrganization.template.json');
    add('us-east-1', files.example);

    for (const [name, { region, build }] of Object.entries(VARIANTS)) {
      const app = new App({ outdir: mkdtempSync(join(work, 'cdk-')) });
      const stack = new Stack(app, 'Prowler', { env: { account: '111111111111', region } });
      build(stack);
      files[name] = write(name, app.synth().getStackByName('Prowler').template);
      add(region, files[name]);
    }
    files.retired = write('retired-runtime', RETIRED_RUNTIME);
    add('us-east-1', files.retired);

    for (const [region, list] of byRegion) {
      for (const finding of lint(region, list)) findings.set(`${region} ${finding.file}`, [...found(region, finding.file), finding]);
    }
  }, 600_000);

  test.each(TEMPLATES)('templates/%s: 0 errors in every partition', (file) => {
    for (const region of PARTITIONS) {
      expect(report(`templates/${file} (${region})`, found(region, file))).toEqual([]);
    }
  });

  test('the README\'s CDK quick start (examples/cdk/app.ts): 0 errors', () => {
    expect(report('examples/cdk/app.ts', found('us-east-1', files.example))).toEqual([]);
  });

  test.each(Object.keys(VARIANTS))('%s: 0 errors', (name) => {
    expect(report(name, found(VARIANTS[name].region, files[name]))).toEqual([]);
  });

  test('the oracle refuses what the floor once deployed: a function on a retired runtime', () => {
    const errors = found('us-east-1', files.retired).filter((f) => f.level === 'Error');
    expect(errors.map((e) => e.rule)).toContain('E2533');
  });
});
