/**
 * The prowler-org command end to end: the built binary (lib/cli/prowler-org.js) spawned against a
 * simulated organization (--simulate) and the Prowler API double.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { progressBar } from '../../src/cli/main';
import { organizationGroupName } from '../../src/handler/engine';
import { generateOrganization } from '../../testing/organization';
import { cloudOrganizationFromSimulation, ProwlerApiDouble } from '../../testing/prowler-api-double';

const BIN = join(__dirname, '..', '..', 'lib', 'cli', 'prowler-org.js');
const KEY = 'pk_cli.CLI-SECRET-KEY';
const dir = mkdtempSync(join(tmpdir(), 'prowler-org-cli-'));
const ORG = generateOrganization({ accounts: 30, ous: 6, depth: 3, suspended: 2, seed: 77 });
const FIXTURE = join(dir, 'organization.json');
writeFileSync(FIXTURE, JSON.stringify(ORG));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { env?: Record<string, string>; killWhen?: () => boolean; bin?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', PROWLER_API_KEY: KEY, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const watcher = options.killWhen ? setInterval(() => options.killWhen!() && child.kill('SIGKILL'), 5) : undefined;
    child.on('close', (code) => {
      if (watcher) clearInterval(watcher);
      resolve({ code, stdout, stderr });
    });
  });
}

let n = 0;
function specFile(content: unknown, extension = 'yaml'): string {
  const path = join(dir, `spec-${n++}.${extension}`);
  writeFileSync(path, typeof content === 'string' ? content : extension === 'json' ? JSON.stringify(content) : stringify(content));
  return path;
}

describe('prowler-org', () => {
  let double: ProwlerApiDouble;
  const spec = (extra: Record<string, unknown> = {}) =>
    specFile({ prowlerApiUrl: double.url, organizationId: ORG.id, selection: {}, connection: { retryRounds: 0 }, ...extra });

  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
  });
  afterEach(() => double.stop());

  test('validate: a good file is valid (YAML and JSON)', async () => {
    expect(await cli(['validate', spec()])).toMatchObject({ code: 0, stdout: expect.stringMatching(/: valid\n$/) });
    expect((await cli(['validate', specFile({ selection: { targets: ['r-ab12'] } }, 'json')])).code).toBe(0);
  });

  test('plan: exit 2 with the changes, as a table; then apply; then plan says nothing changes (exit 0)', async () => {
    const file = spec();
    const plan = await cli(['plan', file, '--simulate', FIXTURE]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/^ACCOUNT\s+ALIAS\s+ACTION\s+WHY/);
    expect(plan.stdout).toMatch(/\d{12}\s+\S+\s+create provider\s+targets r-/);
    expect(plan.stdout).toMatch(/out of selection\s+status SUSPENDED/);
    expect(plan.stdout).toContain('28 of 30 accounts selected: 28 to create, 0 to link, 0 to update, 0 unchanged, 0 blocked, 0 leaving');
    expect(double.requests.filter((r) => r.method !== 'GET')).toEqual([]);

    const apply = await cli(['apply', file, '--yes', '--simulate', FIXTURE]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Onboarding succeeded');
    expect(apply.stderr).toMatch(/registered 28 of 28 accounts/);
    expect(double.providers.size).toBe(28);

    const again = await cli(['plan', file, '--simulate', FIXTURE]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 to create, 0 to link, 0 to update, 28 unchanged');
  }, 60_000);

  test('a plan of more than a megabyte reaches a pipe whole (the process waits for its output to drain)', async () => {
    const big = generateOrganization({ accounts: 7000, ous: 40, depth: 3, seed: 78 });
    const fixture = join(dir, 'big-organization.json');
    writeFileSync(fixture, JSON.stringify(big));
    const file = specFile({ prowlerApiUrl: double.url, organizationId: big.id, selection: {} });
    // Through a shell pipe into another process, as `plan --format json | jq` is run.
    const piped = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" plan "${file}" --simulate "${fixture}" --format json | cat`], {
        env: { PATH: process.env.PATH ?? '', PROWLER_API_KEY: KEY }, stdio: ['ignore', 'pipe', 'ignore'],
      });
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    expect(Buffer.byteLength(piped.stdout)).toBeGreaterThan(1_000_000);
    expect(JSON.parse(piped.stdout)).toMatchObject({ counts: { selected: 7000 } });
  }, 120_000);

  test('a JSON spec file: a key given twice is refused (YAML does the same); a byte-order mark is fine', async () => {
    const twice = specFile('{"selection": {}, "removal": "retain", "removal": "destroy"}', 'json');
    const refused = await cli(['validate', twice]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/line 1, column 40: is not valid JSON: 'removal' is given twice/);
    const bom = specFile('\uFEFF{"selection": {}}', 'json');
    expect((await cli(['validate', bom])).code).toBe(0);
  });

  test('plan --format markdown is a pull-request comment; --format json is machine-readable', async () => {
    const file = spec({ selection: { excludeAccounts: [ORG.accounts[3].id] } });
    const markdown = await cli(['plan', file, '--simulate', FIXTURE, '--format', 'markdown']);
    expect(markdown.code).toBe(2);
    expect(markdown.stdout).toMatch(/^### Prowler onboarding plan for `o-[a-z0-9]+`\n\nProwler App \(self-hosted\): providers in the provider group "AWS Organization o-[a-z0-9]+" {2}\n\*\*27 of 30 accounts selected: 27 to create/);
    expect(markdown.stdout).toContain('| Account | Alias | Action | Why |\n| --- | --- | --- | --- |');
    expect(markdown.stdout).toContain(`| ${ORG.accounts[3].id} | ${ORG.accounts[3].name} | out of selection | excludeAccounts |`);
    const json = JSON.parse((await cli(['plan', file, '--simulate', FIXTURE, '--format', 'json'])).stdout);
    expect(json).toMatchObject({ changes: true, counts: { selected: 27, created: 27 }, organization: { id: ORG.id } });
  }, 60_000);

  test('against Prowler Cloud, plan says what the organization gets, and apply onboards through it', async () => {
    await double.stop();
    const cloud = { organization: () => cloudOrganizationFromSimulation(ORG), discoveryMs: 200 };
    double = await new ProwlerApiDouble({ apiKeys: [KEY], cloud }).start();
    const file = spec({ schedule: { frequency: 'weekly', dayOfWeek: 1, hour: 6, timeZone: 'Europe/Madrid' } });
    const plan = await cli(['plan', file, '--simulate', FIXTURE, '--format', 'markdown']);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('Prowler Cloud: organization to create, credential to create, 6 OU nodes to apply');
    expect(plan.stdout).toContain('will create the Prowler organization');
    const apply = await cli(['apply', file, '--simulate', FIXTURE, '--yes']);
    expect(apply.code).toBe(0);
    const [organization] = double.cloud.organizations();
    expect(apply.stdout).toContain(`Prowler Cloud: organization ${organization.id} (created), credential created`);
    expect(double.cloud.providersOf(organization.id)).toHaveLength(ORG.accounts.filter((a) => a.status === 'ACTIVE').length);
    expect([...double.cloud.schedules().values()].every((v) => v.scan_frequency === 'WEEKLY' && v.scan_hour === 6)).toBe(true);
  }, 60_000);

  test('plan shows accounts linked to another organization as blocked', async () => {
    const active = ORG.accounts.filter((a) => a.status === 'ACTIVE');
    double.seedProvider(active[2].id, { groupName: organizationGroupName('o-other00001') });
    double.seedProvider(active[3].id, { alias: 'by hand' });
    const plan = await cli(['plan', spec(), '--simulate', FIXTURE]);
    expect(plan.stdout).toMatch(new RegExp(`${active[2].id}\\s+\\S+\\s+blocked\\s+linked_to_other_organization`));
    expect(plan.stdout).toMatch(new RegExp(`${active[3].id}\\s+by hand\\s+link existing provider`));
  }, 60_000);

  test('apply without --yes outside a terminal refuses, changing nothing', async () => {
    const result = await cli(['apply', spec(), '--simulate', FIXTURE]);
    expect(result).toMatchObject({ code: 1, stderr: 'apply changes Prowler: pass --yes to apply without a prompt (as in a pipeline)\n' });
    expect(double.requests).toHaveLength(0);
  });

  test('an interrupted apply, run again, converges: no duplicate, every secret and schedule', async () => {
    double.options = { ...double.options, latencyMs: 5 };
    const file = spec();
    const killed = await cli(['apply', file, '--yes', '--simulate', FIXTURE], { killWhen: () => double.requests.length >= 40 });
    expect(killed.code).toBeNull(); // killed mid-run
    expect(double.providers.size).toBeGreaterThan(0);
    expect(double.schedules.size).toBeLessThan(28);
    const rerun = await cli(['apply', file, '--yes', '--simulate', FIXTURE]);
    expect(rerun.code).toBe(0);
    expect(double.providers.size).toBe(28);
    for (const p of double.providers.values()) {
      expect(double.secretOf(p.uid)?.secret.role_arn).toBe(`arn:aws:iam::${p.uid}:role/ProwlerScan`);
      expect(double.schedules.has(p.id)).toBe(true);
    }
  }, 60_000);

  test('the API key comes from the environment variable the file names, and is never printed', async () => {
    const file = spec({ apiKey: { env: 'MY_PROWLER_KEY' } });
    const missing = await cli(['plan', file, '--simulate', FIXTURE]);
    expect(missing).toMatchObject({ code: 1, stderr: 'error: The Prowler API key is not set: export MY_PROWLER_KEY (or name a Secrets Manager secret in apiKey.secretArn)\n' });
    const ok = await cli(['apply', file, '--yes', '--simulate', FIXTURE], { env: { MY_PROWLER_KEY: KEY } });
    expect(ok.code).toBe(0);
    const wrong = await cli(['plan', spec(), '--simulate', FIXTURE], { env: { PROWLER_API_KEY: 'pk_wrong.NOT-PRINTED' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/401 the API key was rejected/);
    for (const output of [missing, ok, wrong].flatMap((r) => [r.stdout, r.stderr])) {
      expect(output).not.toContain('CLI-SECRET-KEY');
      expect(output).not.toContain('NOT-PRINTED');
    }
  }, 60_000);

  test('template prints the standalone CloudFormation template, or a Quick Create link', async () => {
    const template = await cli(['template']);
    expect(template.code).toBe(0);
    expect(template.stdout).toMatch(/^AWSTemplateFormatVersion: 2010-09-09\n/);
    expect(template.stdout).toContain('ProwlerScanStackSet:');
    const link = await cli(['template', '--template-url', 'https://bucket.s3.amazonaws.com/prowler-scan-role.yaml', '--region', 'eu-west-1', '--external-id', 'tenant-1']);
    expect(link.stdout).toBe('https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate?templateURL=https%3A%2F%2Fbucket.s3.amazonaws.com%2Fprowler-scan-role.yaml&stackName=Prowler&param_ExternalId=tenant-1&param_EnableOrganizations=true\n');
  });

  test('template --region in GovCloud or China needs the self-hosted Prowler\'s account: Prowler Cloud cannot be trusted across partitions', async () => {
    const url = ['--template-url', 'https://bucket.s3.us-gov-west-1.amazonaws.com/prowler-scan-role.yaml', '--region', 'us-gov-west-1'];
    const refused = await cli(['template', ...url]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^--trusted-account-id: Prowler Cloud's account 232136659152 .* aws-us-gov partition .* set --trusted-account-id and --trusted-principal/);
    const link = await cli(['template', ...url, '--trusted-account-id', '222222222222', '--trusted-principal', 'role/prowler-app']);
    expect(link.code).toBe(0);
    expect(link.stdout).toMatch(/^https:\/\/us-gov-west-1\.console\.amazonaws-us-gov\.com\/.*&param_AccountId=222222222222&param_IAMPrincipal=role%2Fprowler-app&/);
  });

  test('template --external-id refuses an External ID the template would reject', async () => {
    const bad = await cli(['template', '--template-url', 'https://example.com/t.yaml', '--region', 'us-east-1', '--external-id', 'has spaces']);
    expect(bad).toMatchObject({ code: 1, stdout: '' });
    expect(bad.stderr).toMatch(/^--external-id: Must be a valid External ID: expected 2–1224 characters .*, got 'has spaces'\n$/);
  });

  test('permissions prints a policy document for the spec file\'s bucket and secret, or the text to read', async () => {
    const json = await cli(['permissions', 'apply', spec({ stateBucket: 'prowler-onboarding-state' })]);
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const policy = JSON.parse(json.stdout);
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement.find((s: any) => s.Sid === 'StateObjects').Resource).toEqual(['arn:aws:s3:::prowler-onboarding-state/onboarding/record.json', 'arn:aws:s3:::prowler-onboarding-state/locks/run.json']);
    const text = await cli(['permissions', 'deploy-cdktf', '--format', 'text']);
    expect(text.stdout).toMatch(/^prowler-org permissions deploy-cdktf: for the identity that runs `cdktf deploy`/);
  });

  test('--version: the version is in the bundle, which reads no package.json at run time (a copy alone in a folder says the same)', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const alone = join(dir, 'alone', 'bin');
    mkdirSync(alone, { recursive: true });
    copyFileSync(BIN, join(alone, 'prowler-org.js'));
    expect(await cli(['--version'], { bin: join(alone, 'prowler-org.js') })).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect((await cli(['-v'])).stdout).toBe(`${version}\n`);
  });

  test('without AWS credentials, plan says what to do: a profile, aws sso login or keys, of the management account or a delegated administrator', async () => {
    // No profile, no keys, no instance metadata: the SDK's whole default chain comes up empty.
    const home = join(dir, 'empty-home');
    mkdirSync(home, { recursive: true });
    const result = await cli(['plan', spec()], {
      env: { HOME: home, AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'us-east-1' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: no AWS credentials were found \(the AWS SDK said: Could not load credentials from any providers\)\.$/m);
    // The error comes first: on Node 22 (the floor) the AWS SDK prints no Node version warning before it.
    expect(result.stderr.split('\n')[0]).toBe('error: no AWS credentials were found (the AWS SDK said: Could not load credentials from any providers).');
    expect(result.stderr).toContain('as the management account or a delegated administrator for Organizations');
    expect(result.stderr).toContain('export AWS_PROFILE=<profile> (for an IAM Identity Center profile, run `aws sso login --profile <profile>` first)');
    expect(result.stderr).toContain('--simulate <organization.json> discovers from a file, with no credentials');
    expect(double.requests).toHaveLength(0);
  });

  test('usage errors: no command, an unknown command, a missing file argument, a bad option value', async () => {
    expect((await cli([])).code).toBe(1);
    expect(await cli(['destroy', 'x.yaml'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^unknown command 'destroy'/) });
    expect(await cli(['plan'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^plan needs a spec file/) });
    expect(await cli(['plan', spec(), '--format', 'html'])).toMatchObject({ code: 1, stderr: "--format must be table, markdown or json, got 'html'\n" });
    expect((await cli(['--help'])).code).toBe(0);
  });
});

/** Bad spec files: each fails validation (exit 1) naming where in the file and what is wrong. */
const BAD_FILES: Array<[string, string | object, string, RegExp]> = [
  ['a file that does not exist', '', 'missing', /missing-file\.yaml: cannot be read: ENOENT/],
  ['an empty file', '', 'yaml', /\(top level\): the file is empty/],
  ['broken YAML', 'selection:\n  targets: [r-ab12\n', 'yaml', /line \d+, column \d+: is not valid YAML/],
  ['broken JSON', '{"selection": ', 'json', /\(file\): is not valid JSON/],
  ['a list at the top', '- r-ab12\n', 'yaml', /\(top level\): must be an object, got a list/],
  ['an unknown field', { selection: {}, targets: ['r-ab12'] }, 'yaml', /\(top level\): unknown field 'targets'/],
  ['an OU name as a target', { selection: { targets: ['Production'] } }, 'yaml', /selection\.targets\[0\]: Must be an OU id or a root id.*looks like an OU name/],
  ['an organization id in uppercase', { organizationId: 'O-ABC123DEF4', selection: {} }, 'yaml', /organizationId: Must be a valid AWS Organization ID/],
  ['an account id as a number', { selection: { excludeAccounts: [123456789012] } }, 'yaml', /selection\.excludeAccounts\[0\]: must be a string, got 123456789012: quote account ids/],
  ['a scan mode that does not exist', { selection: {}, scanMode: 'weekly' }, 'yaml', /scanMode: /],
  ['a failure policy that does not exist', { selection: {}, connection: { failurePolicy: 'ignore' } }, 'yaml', /connection\.failurePolicy: /],
  ['too many retry rounds', { selection: {}, connection: { retryRounds: 99 } }, 'yaml', /connection\.retryRounds: must be 0–10 rounds/],
  ['a removal that does not exist', { selection: {}, removal: 'delete' }, 'yaml', /removal: /],
  ['the API key itself in the file', { selection: {}, apiKey: 'pk_abc.def' }, 'yaml', /apiKey: must be \{secretArn: <Secrets Manager ARN>\} or \{env: <VARIABLE>\}/],
  ['an API key secret that is not an ARN', { selection: {}, apiKey: { secretArn: 'prowler/api-key' } }, 'yaml', /apiKey.*secretArn|apiKey: must be/],
  ['an API URL with a trailing slash', { selection: {}, prowlerApiUrl: 'https://api.prowler.com/api/v1/' }, 'yaml', /prowlerApiUrl: must be an http\(s\) URL without a trailing slash/],
  ['a trust principal given as an ARN', { selection: {}, trust: { principal: 'arn:aws:iam::1:role/x' } }, 'yaml', /trust\.principal: .*part after the account only/],
  ['an alias pattern without a placeholder', { selection: { aliasPattern: 'AWS' } }, 'json', /selection\.aliasPattern: must use \{name\}, \{id\} or \{ou\}/],
];

describe('prowler-org validate: bad files', () => {
  test.each(BAD_FILES)('%s', async (_name, content, extension, expected) => {
    const file = extension === 'missing' ? join(dir, 'missing-file.yaml') : specFile(content, extension);
    const result = await cli(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(expected);
  });

  test('every problem of a file is listed at once', async () => {
    const result = await cli(['validate', specFile({ organizationId: 'o-1', selection: { targets: ['Production'], excludeAccounts: ['1'] }, scanMode: 'hourly' })]);
    expect(result.stderr).toMatch(/: 4 problems:\n/);
  });
});

describe('the progress bar on a terminal', () => {
  test('draws registration and connection progress from the engine\'s lines', () => {
    expect(progressBar('registered 340 of 1200 accounts', 10)).toBe('[###-------] 340/1200 registered');
    expect(progressBar('connection tests, round 2: 120 of 120 connected', 10)).toBe('[##########] 120/120 connected');
    expect(progressBar('44 of 60 accounts selected')).toBeUndefined();
  });
});
