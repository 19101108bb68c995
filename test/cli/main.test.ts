/**
 * prowler-org in-process (`main()` with an Io): --version, the errors a first run meets (no AWS
 * credentials, a rejected API key, named for where the key came from), `apply --fail-on` and
 * GitHub Actions annotations, every template parameter as a flag, and no table without rows.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { stringify } from 'yaml';
import { EXIT, main, type Io } from '../../src/cli/main';
import { failingAccounts, githubAnnotation, shortfalls } from '../../src/cli/outcomes';
import { TEMPLATE_PARAMETER_FLAGS } from '../../src/cli/template';
import { standaloneTemplate } from '../../src/core/cfn';
import { generateOrganization } from '../../testing/organization';
import { ProwlerApiDouble, type ProwlerApiDoubleOptions } from '../../testing/prowler-api-double';

const KEY = 'pk_MainTest.THE-SECRET-PART';
const WRONG = 'pk_Wrong123.NOT-TO-BE-PRINTED';
const dir = mkdtempSync(join(tmpdir(), 'prowler-org-main-'));
const ORG = generateOrganization({ accounts: 10, ous: 3, depth: 2, seed: 27 });
const ACTIVE = ORG.accounts.filter((a) => a.status === 'ACTIVE');
const FIXTURE = join(dir, 'organization.json');
writeFileSync(FIXTURE, JSON.stringify(ORG));
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:prowler/api-key-AbCdEf';

interface Result {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], io: Partial<Io> = {}): Promise<Result> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => (out += t), err: (t) => (err += t), env: { PROWLER_API_KEY: KEY }, isTty: false, ...io,
  });
  return { code, out, err };
}

let n = 0;
function specFile(content: object): string {
  const path = join(dir, `spec-${n++}.yaml`);
  writeFileSync(path, stringify(content));
  return path;
}

const neverPrinted = (...results: Result[]) => {
  for (const text of results.flatMap((r) => [r.out, r.err])) {
    expect(text).not.toContain('THE-SECRET-PART');
    expect(text).not.toContain('NOT-TO-BE-PRINTED');
  }
};

describe('prowler-org --version', () => {
  const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

  test.each([['--version'], ['-v']])('%s prints the package version and exits 0', async (flag) => {
    expect(await cli([flag])).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });

  test('the usage names --version', async () => {
    expect((await cli(['--help'])).out).toMatch(/prowler-org --version/);
  });
});

describe('prowler-org without AWS credentials', () => {
  const organizations = mockClient(OrganizationsClient);
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => {
    organizations.reset();
    secrets.reset();
  });
  afterAll(() => {
    organizations.restore();
    secrets.restore();
  });
  // What the SDK's default chain throws when no provider has credentials.
  const noCredentials = () => Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError', tryNextLink: false });

  test('plan says how to give it credentials, and which identity discovery needs', async () => {
    organizations.onAnyCommand().rejects(noCredentials());
    const result = await cli(['plan', specFile({ prowlerApiUrl: 'http://127.0.0.1:9/api/v1', selection: {} })]);
    expect(result.code).toBe(EXIT.FAILED);
    expect(result.err).toMatch(/^error: no AWS credentials were found \(the AWS SDK said: Could not load credentials from any providers\)\.\n/m);
    expect(result.err).toContain('the management account or a delegated administrator for Organizations');
    expect(result.err).toContain('export AWS_PROFILE=<profile>');
    expect(result.err).toContain('aws sso login --profile <profile>');
    expect(result.err).toContain('export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY');
    expect(result.err).toContain('--simulate <organization.json> discovers from a file, with no credentials');
  });

  test('with --simulate, the Secrets Manager secret still needs credentials: the message says so, not discovery', async () => {
    secrets.on(GetSecretValueCommand).rejects(noCredentials());
    const result = await cli(['plan', specFile({ selection: {}, apiKey: { secretArn: SECRET_ARN } }), '--simulate', FIXTURE]);
    expect(result.code).toBe(EXIT.FAILED);
    expect(result.err).toMatch(/^error: no AWS credentials were found/m);
    expect(result.err).toContain(`read the Prowler API key from ${SECRET_ARN}`);
    expect(result.err).not.toContain('AWS Organizations');
    expect(result.err).toContain('--simulate replaces the discovery only');
  });
});

describe('prowler-org: a rejected API key is named where it came from', () => {
  let double: ProwlerApiDouble;
  const secrets = mockClient(SecretsManagerClient);
  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
  });
  afterEach(async () => {
    secrets.reset();
    await double.stop();
  });
  afterAll(() => secrets.restore());

  test('the default PROWLER_API_KEY', async () => {
    const result = await cli(['plan', specFile({ prowlerApiUrl: double.url, selection: {} }), '--simulate', FIXTURE], { env: { PROWLER_API_KEY: WRONG } });
    expect(result.code).toBe(EXIT.FAILED);
    expect(result.err).toMatch(/^error: Prowler API GET \S+: 401 the API key was rejected: put a current Prowler API key \(pk_…, Prowler: Settings → API Keys\) for this tenant in the environment variable PROWLER_API_KEY — Prowler said: /m);
    expect(result.err).not.toContain('Secrets Manager');
    neverPrinted(result);
  });

  test('the variable apiKey.env names', async () => {
    const file = specFile({ prowlerApiUrl: double.url, selection: {}, apiKey: { env: 'MY_PROWLER_KEY' } });
    const result = await cli(['apply', file, '--yes', '--simulate', FIXTURE], { env: { MY_PROWLER_KEY: WRONG } });
    expect(result.code).toBe(EXIT.FAILED);
    expect(result.err).toContain('in the environment variable MY_PROWLER_KEY (apiKey.env)');
    expect(result.err).not.toContain('Secrets Manager');
    neverPrinted(result);
  });

  test('the secret apiKey.secretArn names, by its ARN', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: WRONG });
    const result = await cli(['plan', specFile({ prowlerApiUrl: double.url, selection: {}, apiKey: { secretArn: SECRET_ARN } }), '--simulate', FIXTURE]);
    expect(result.code).toBe(EXIT.FAILED);
    expect(result.err).toContain(`for this tenant in the Secrets Manager secret ${SECRET_ARN} (apiKey.secretArn)`);
    neverPrinted(result);
  });
});

describe('prowler-org apply --fail-on and GitHub Actions annotations', () => {
  // Two accounts whose role is missing (connection test fails), one whose daily schedule Prowler refuses.
  const notConnected = new Set([ACTIVE[1].id, ACTIVE[2].id]);
  let double: ProwlerApiDouble;
  let schedules = 0;
  const options = (): ProwlerApiDoubleOptions => ({
    apiKeys: [KEY],
    connectionRule: (p) => (notConnected.has(p.uid) ? { connected: false, error: 'AccessDenied: not authorized to perform sts:AssumeRole' } : { connected: true }),
    fault: ({ method, path }) => (method === 'POST' && path.endsWith('/schedules/daily') && schedules++ === 0 ? { status: 400 } : undefined),
  });
  const spec = () => specFile({ prowlerApiUrl: double.url, selection: {}, connection: { failurePolicy: 'skip', retryRounds: 0 } });

  beforeEach(async () => {
    schedules = 0;
    double = await new ProwlerApiDouble(options()).start();
  });
  afterEach(() => double.stop());

  test('without --fail-on, an apply that skipped accounts exits 0, as before, with no annotation outside GitHub Actions', async () => {
    const plain = await cli(['apply', spec(), '--yes', '--simulate', FIXTURE]);
    expect(plain.code).toBe(EXIT.OK);
    expect(plain.out).toContain('Onboarding succeeded');
    expect(plain.out).not.toContain('::');
  });

  test('--fail-on failed: exit 3 for the account whose scan launch failed, not for the accounts that did not connect', async () => {
    const result = await cli(['apply', spec(), '--yes', '--simulate', FIXTURE, '--fail-on', 'failed']);
    expect(result.code).toBe(EXIT.ACCOUNTS);
    expect(result.err).toMatch(/--fail-on failed: 1 account failed:\n {2}account \d{12} \(.*\): scan launch failed: Prowler API POST \/api\/v1\/schedules\/daily: 400/);
    for (const id of notConnected) expect(result.err).not.toContain(`account ${id}`);
    neverPrinted(result);
  });

  test('--fail-on skipped: exit 3 for those and the accounts that did not connect', async () => {
    const result = await cli(['apply', spec(), '--yes', '--simulate', FIXTURE, '--fail-on', 'skipped']);
    expect(result.code).toBe(EXIT.ACCOUNTS);
    expect(result.err).toContain('--fail-on skipped: 3 accounts failed or were skipped:');
    for (const id of notConnected) expect(result.err).toMatch(new RegExp(`account ${id} \\(.*\\): not connected: AccessDenied`));
  });

  test('--fail-on with nothing to count exits 0', async () => {
    notConnected.clear();
    schedules = 1; // no schedule refused
    try {
      expect((await cli(['apply', spec(), '--yes', '--simulate', FIXTURE, '--fail-on', 'skipped'])).code).toBe(EXIT.OK);
    } finally {
      notConnected.add(ACTIVE[1].id).add(ACTIVE[2].id);
    }
  });

  test('under GitHub Actions (GITHUB_ACTIONS=true): an ::error per failed account, a ::warning per skipped one, on stdout', async () => {
    const result = await cli(['apply', spec(), '--yes', '--simulate', FIXTURE], { env: { PROWLER_API_KEY: KEY, GITHUB_ACTIONS: 'true' } });
    expect(result.code).toBe(EXIT.OK);
    const annotations = result.out.split('\n').filter((l) => l.startsWith('::'));
    expect(annotations[0]).toBe(`::error title=Prowler onboarding::1 failed, 2 skipped of ${ACTIVE.length} selected accounts: not onboarded (the next apply or sync tries again)`);
    expect(annotations.filter((l) => /^::error title=Prowler onboarding::account \d{12} \(.*\): scan launch failed: /.test(l))).toHaveLength(1);
    for (const id of notConnected) {
      expect(annotations).toContainEqual(expect.stringMatching(new RegExp(`^::warning title=Prowler onboarding::account ${id} \\(.*\\) skipped: not connected: AccessDenied`)));
    }
    expect(annotations).toHaveLength(4);
    neverPrinted(result);
  });

  test('--annotations github outside GitHub, with --fail-on skipped: skipped accounts are errors; with --format json, annotations go to stderr', async () => {
    const result = await cli(['apply', spec(), '--yes', '--simulate', FIXTURE, '--annotations', 'github', '--fail-on', 'skipped', '--format', 'json']);
    expect(result.code).toBe(EXIT.ACCOUNTS);
    expect(JSON.parse(result.out)).toMatchObject({ outcome: 'succeeded' });
    for (const id of notConnected) expect(result.err).toMatch(new RegExp(`^::error title=Prowler onboarding::account ${id} .* skipped: not connected`, 'm'));
    expect(result.err).not.toMatch(/^::warning/m);
  });

  test('--annotations none under GitHub Actions prints none; a failed run is one ::error', async () => {
    const none = await cli(['apply', spec(), '--yes', '--simulate', FIXTURE, '--annotations', 'none'], { env: { PROWLER_API_KEY: KEY, GITHUB_ACTIONS: 'true' } });
    expect(none.out).not.toContain('::');
    const rejected = await cli(['apply', spec(), '--yes', '--simulate', FIXTURE], { env: { PROWLER_API_KEY: WRONG, GITHUB_ACTIONS: 'true' } });
    expect(rejected.code).toBe(EXIT.FAILED);
    expect(rejected.out).toMatch(/^::error title=Prowler onboarding::Prowler API .*: 401 the API key was rejected: .* in the environment variable PROWLER_API_KEY/);
    neverPrinted(rejected);
  });

  test('bad values, and the apply-only options on plan, are refused', async () => {
    expect(await cli(['apply', spec(), '--yes', '--fail-on', 'warnings'])).toMatchObject({ code: 1, err: "--fail-on must be failed or skipped, got 'warnings'\n" });
    expect(await cli(['apply', spec(), '--yes', '--annotations', 'gitlab'])).toMatchObject({ code: 1, err: "--annotations must be github or none, got 'gitlab'\n" });
    expect(await cli(['plan', spec(), '--fail-on', 'failed'])).toMatchObject({ code: 1, err: expect.stringMatching(/^--fail-on is an option of apply, not of plan\n/) });
    expect(double.requests).toHaveLength(0);
  });
});

describe('what --fail-on counts', () => {
  const base = { selected: true, status: 'ACTIVE', parentId: 'r-ab12', reason: 'targets r-ab12', isManagementAccount: false, name: 'n', alias: 'a' };
  const report = {
    counts: { selected: 5 },
    accounts: [
      { ...base, accountId: '000000000001', action: 'create', connection: { connected: true, attempts: 1, tested: true }, scan: 'scheduled' },
      { ...base, accountId: '000000000002', action: 'create', error: 'registration failed: x', failedAt: 'registration' },
      { ...base, accountId: '000000000003', action: 'blocked', blockedBy: 'linked_to_other_organization' },
      { ...base, accountId: '000000000004', action: 'create', connection: { connected: false, error: 'AccessDenied', attempts: 1, tested: true }, scan: 'not-connected' },
      { ...base, accountId: '000000000005', action: 'link', connection: { connected: true, attempts: 1, tested: true }, error: 'scan launch failed: y', failedAt: 'launch' },
      { ...base, accountId: '000000000006', selected: false, action: 'not-selected' },
    ],
    departures: [{ accountId: '000000000007', providerId: 'p', reason: 'gone', origin: 'created', outcome: 'failed', error: 'z' }],
  } as any;

  test('failed: registration and launch failures, and a removal that failed; skipped adds blocked and not connected', () => {
    const ids = (list: Array<{ accountId: string }>) => list.map((a) => a.accountId);
    expect(ids(shortfalls(report).failed)).toEqual(['000000000002', '000000000005', '000000000007']);
    expect(ids(shortfalls(report).skipped)).toEqual(['000000000003', '000000000004']);
    expect(ids(failingAccounts(report, 'failed'))).toEqual(['000000000002', '000000000005', '000000000007']);
    expect(ids(failingAccounts(report, 'skipped'))).toHaveLength(5);
  });

  test('an annotation\'s message and title are escaped as GitHub reads them', () => {
    expect(githubAnnotation('error', 'a: b, c', '100%\nnext')).toBe('::error title=a%3A b%2C c::100%25%0Anext');
  });
});

describe('prowler-org template: every parameter of the template is a flag', () => {
  const URL = 'https://bucket.s3.amazonaws.com/prowler-scan-role.yaml';
  const link = ['template', '--template-url', URL, '--region', 'us-east-1'];

  test('the README\'s link: --deploy-stackset and --organizational-unit-ids', async () => {
    const result = await cli([...link, '--external-id', 'tenant-1', '--deploy-stackset', '--organizational-unit-ids', 'r-ab12']);
    expect(result).toEqual({
      code: 0,
      err: '',
      out: 'https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/quickcreate?templateURL=https%3A%2F%2Fbucket.s3.amazonaws.com%2Fprowler-scan-role.yaml'
        + '&stackName=Prowler&param_ExternalId=tenant-1&param_EnableOrganizations=true&param_DeployStackSet=true&param_AWSOrganizationalUnitId=r-ab12\n',
    });
  });

  const VALUES: Record<string, string[]> = {
    ExternalId: ['tenant-1'],
    AccountId: ['222222222222'],
    IAMPrincipal: ['role/prowler-app'],
    EnableS3Integration: [],
    S3IntegrationBucketName: ['reports-bucket'],
    S3IntegrationBucketAccountId: ['333333333333'],
    EnableOrganizations: ['false'],
    OrganizationId: ['o-abc123def4'],
    EnableStackSetManagement: [],
    DeployLocalRole: ['false'],
    DeployStackSet: [],
    AWSOrganizationalUnitId: ['ou-ab12-abcdefgh', '--organizational-unit-ids', 'r-ab12'],
    StackSetRegions: ['eu-west-1,eu-central-1'],
    RetainStacksOnAccountRemoval: ['true'],
    DeployFromDelegatedAdmin: [],
    FailureTolerancePercentage: ['25'],
  };

  test('each of the standalone template\'s parameters has a flag that fills it in', async () => {
    const parameters = Object.keys((standaloneTemplate('') as { Parameters: Record<string, unknown> }).Parameters);
    expect(Object.keys(TEMPLATE_PARAMETER_FLAGS).sort()).toEqual([...parameters].sort());
    expect(Object.keys(VALUES).sort()).toEqual([...parameters].sort());
    const args = parameters.flatMap((name) => [`--${TEMPLATE_PARAMETER_FLAGS[name].flag}`, ...VALUES[name]]);
    const result = await cli([...link, ...args]);
    expect(result).toMatchObject({ code: 0, err: '' });
    const query = new URLSearchParams(result.out.trim().split('#/stacks/quickcreate?')[1]);
    expect(Object.fromEntries([...query].filter(([k]) => k.startsWith('param_')))).toEqual({
      param_ExternalId: 'tenant-1',
      param_AccountId: '222222222222',
      param_IAMPrincipal: 'role/prowler-app',
      param_EnableS3Integration: 'true',
      param_S3IntegrationBucketName: 'reports-bucket',
      param_S3IntegrationBucketAccountId: '333333333333',
      param_EnableOrganizations: 'false',
      param_OrganizationId: 'o-abc123def4',
      param_EnableStackSetManagement: 'true',
      param_DeployLocalRole: 'false',
      param_DeployStackSet: 'true',
      param_AWSOrganizationalUnitId: 'ou-ab12-abcdefgh,r-ab12',
      param_StackSetRegions: 'eu-west-1,eu-central-1',
      param_RetainStacksOnAccountRemoval: 'true',
      param_DeployFromDelegatedAdmin: 'true',
      param_FailureTolerancePercentage: '25',
    });
  });

  test('the usage lists every parameter flag', async () => {
    const usage = (await cli(['--help'])).out;
    for (const [name, { flag }] of Object.entries(TEMPLATE_PARAMETER_FLAGS)) expect(usage).toMatch(new RegExp(`--${flag}\\b.*\\s${name}\\b`));
  });

  test('a missing --template-url or --region is named by its flag', async () => {
    const noUrl = await cli(['template', '--region', 'us-east-1', '--external-id', 'tenant-1']);
    expect(noUrl).toMatchObject({ code: 1, out: '' });
    expect(noUrl.err).toMatch(/^--template-url is required with --region: /);
    expect(noUrl.err).not.toMatch(/templateUrl/);
    expect((await cli(['template', '--template-url', URL])).err).toMatch(/^--region is required with --template-url/);
    const flagsOnly = await cli(['template', '--deploy-stackset']);
    expect(flagsOnly.code).toBe(1);
    expect(flagsOnly.err).toMatch(/^--deploy-stackset fill in a Quick Create link: give --template-url <https:\/\/…> and --region <region> too/);
  });

  test('a URL with a space is percent-encoded (the link opens the object S3 serves under that key), with a note', async () => {
    const result = await cli(['template', '--template-url', 'https://bucket.s3.amazonaws.com/prowler templates/scan role.yaml', '--region', 'eu-west-1']);
    expect(result.code).toBe(0);
    expect(result.err).toBe('note: --template-url percent-encoded as https://bucket.s3.amazonaws.com/prowler%20templates/scan%20role.yaml (a URL cannot hold spaces)\n');
    expect(result.out).toContain('templateURL=https%3A%2F%2Fbucket.s3.amazonaws.com%2Fprowler%2520templates%2Fscan%2520role.yaml&');
    // The console decodes the fragment's query once: CloudFormation gets the URL a browser would send.
    expect(new URLSearchParams(result.out.trim().split('#/stacks/quickcreate?')[1]).get('templateURL')).toBe('https://bucket.s3.amazonaws.com/prowler%20templates/scan%20role.yaml');
    const notHttps = await cli(['template', '--template-url', 'http://bucket/t.yaml', '--region', 'eu-west-1']);
    expect(notHttps).toMatchObject({ code: 1, err: "--template-url must be an https:// URL of the template (S3 or any URL CloudFormation can read), got 'http://bucket/t.yaml'\n" });
  });

  test('values the template would refuse are refused, named by their flag, all at once', async () => {
    const result = await cli([...link, '--deploy-stackset', 'yes', '--failure-tolerance-percentage', '120', '--organizational-unit-ids', 'Production',
      '--stackset-regions', 'Ireland', '--organization-id', 'O-ABC', '--s3-integration-bucket-account-id', '12345']);
    expect(result).toMatchObject({ code: 1, out: '' });
    const lines = result.err.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^--s3-integration-bucket-account-id: Must be a valid AWS account ID/),
      expect.stringMatching(/^--organization-id: Must be a valid AWS Organization ID/),
      "--deploy-stackset must be true or false, got 'yes'",
      expect.stringMatching(/^--organizational-unit-ids: Must be an OU id or a root id: .*got 'Production' \(this looks like an OU name/),
      expect.stringMatching(/^--stackset-regions: Must be an AWS region/),
      "--failure-tolerance-percentage must be a whole number from 0 to 100, got '120'",
    ]);
  });

  test('the template\'s rules, before the console\'s form: a StackSet needs targets, S3 integration its bucket, a delegated admin no local role', async () => {
    expect((await cli([...link, '--deploy-stackset'])).err).toMatch(/^--organizational-unit-ids is required with --deploy-stackset/);
    expect((await cli([...link, '--deploy-stackset=false'])).code).toBe(0);
    expect((await cli([...link, '--deploy-stackset', 'false'])).out).toContain('param_DeployStackSet=false');
    const s3 = await cli([...link, '--enable-s3-integration']);
    expect(s3.err).toBe('--s3-integration-bucket-name is required with --enable-s3-integration\n--s3-integration-bucket-account-id is required with --enable-s3-integration\n');
    const delegated = await cli([...link, '--deploy-stackset', '--organizational-unit-ids', 'r-ab12', '--deploy-from-delegated-admin']);
    expect(delegated.err).toMatch(/^--deploy-from-delegated-admin with --deploy-stackset needs --deploy-local-role=false/);
    expect((await cli([...link, '--deploy-local-role=false'])).err).toMatch(/^--deploy-local-role=false without --deploy-stackset deploys nothing/);
  });
});

describe('no table without rows', () => {
  const EMPTY = join(dir, 'empty-organization.json');
  writeFileSync(EMPTY, JSON.stringify({ ...ORG, ous: [], accounts: [] }));
  let double: ProwlerApiDouble;
  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
  });
  afterEach(() => double.stop());

  test.each(['table', 'markdown'])('plan --format %s of an organization with no account prints no table header', async (format) => {
    const result = await cli(['plan', specFile({ prowlerApiUrl: double.url, selection: {}, allowEmptySelection: true }), '--simulate', EMPTY, '--format', format]);
    expect(result.code).toBe(EXIT.OK);
    expect(result.out).not.toMatch(/ACCOUNT\s+ALIAS|\| Account \||<details>/);
    expect(result.out).toContain(`No accounts: the organization ${ORG.id} has none, and no provider leaves.`);
  });

  test('plan of an empty selection still lists every account, out of selection', async () => {
    const file = specFile({ prowlerApiUrl: double.url, selection: { excludeAccounts: ORG.accounts.map((a) => a.id) }, allowEmptySelection: true });
    const result = await cli(['plan', file, '--simulate', FIXTURE]);
    expect(result.code).toBe(EXIT.OK);
    expect(result.out.split('\n').filter((l) => /out of selection/.test(l))).toHaveLength(ORG.accounts.length);
  });
});
