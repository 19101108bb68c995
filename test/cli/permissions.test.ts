/**
 * `prowler-org permissions`: the policies it prints are exactly what `plan` and `apply` call. The
 * CLI runs in-process against mocked AWS clients (every call recorded: command → IAM action and
 * the ARN IAM authorizes it on) and the Prowler API double; each call is then evaluated against
 * the printed policy, and the policy may grant nothing the runs never needed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main';
import { STATE_KEYS } from '../../src/core/onboarding';
import { cliPermissions, deployPermissions, permissionsPolicy } from '../../src/core/permissions';
import { organizationGroupName } from '../../src/handler/engine';
import { generateOrganization, mockOrganizations } from '../../testing/organization';
import { ProwlerApiDouble } from '../../testing/prowler-api-double';
import { allows } from '../support/iam-eval';

type Json = any;

const KEY = 'pk_Permissions.the-key';
const BUCKET = 'prowler-onboarding-state';
const ORG = generateOrganization({ accounts: 10, ous: 3, depth: 2, seed: 27 });
const MANAGEMENT = ORG.managementAccountId;
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:${MANAGEMENT}:secret:prowler/api-key-AbCdEf`;
/** An account that left: its provider is in the organization's group, so the plan asks Organizations where it is. */
const DEPARTED = '999999999999';
const dir = mkdtempSync(join(tmpdir(), 'prowler-org-permissions-'));

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), env: {}, isTty: false });
  return { code, out, err };
}

/** What IAM authorizes a call on: its action, and the ARN of what it names (`*` for organization-wide reads). */
function authorization(service: string, command: Json): { action: string; resource: string } {
  const action = `${service}:${command.constructor.name.replace(/Command$/, '')}`;
  const input = command.input;
  const unit = (id: string) => {
    if (/^\d{12}$/.test(id)) return `account/${ORG.id}/${id}`;
    return id.startsWith('r-') ? `root/${ORG.id}/${id}` : `ou/${ORG.id}/${id}`;
  };
  const organizations = (id: string) => `arn:aws:organizations::${MANAGEMENT}:${unit(id)}`;
  switch (service) {
    case 's3': return { action, resource: `arn:aws:s3:::${input.Bucket}/${input.Key}` };
    case 'secretsmanager': return { action, resource: input.SecretId };
    case 'organizations': {
      const id = input.AccountId ?? input.ChildId ?? input.ParentId ?? input.ResourceId;
      return { action, resource: id === undefined ? '*' : organizations(id) };
    }
    default: return { action, resource: JSON.stringify(input) };
  }
}

describe('prowler-org permissions plan and apply: what the commands call, and nothing more', () => {
  let double: ProwlerApiDouble;
  const clients: Array<[string, AwsStub<any, any, any>]> = [];
  const objects = new Map<string, { body: string; etag: string }>();
  let writes = 0;

  beforeAll(() => {
    const s3 = mockClient(S3Client);
    const failed = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    s3.on(GetObjectCommand).callsFake(async (input: Json) => {
      const found = objects.get(input.Key);
      if (!found) throw failed('NoSuchKey', 404);
      return { Body: { transformToString: async () => found.body }, ETag: found.etag };
    });
    s3.on(PutObjectCommand).callsFake(async (input: Json) => {
      const current = objects.get(input.Key);
      if ((input.IfNoneMatch === '*' && current) || (input.IfMatch !== undefined && current?.etag !== input.IfMatch)) throw failed('PreconditionFailed', 412);
      const etag = `"${++writes}"`;
      objects.set(input.Key, { body: String(input.Body), etag });
      return { ETag: etag };
    });
    s3.on(DeleteObjectCommand).callsFake(async (input: Json) => {
      objects.delete(input.Key);
      return {};
    });
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: KEY });
    // Any call to these would be recorded (and fail the comparison): the CLI makes none.
    const sts = mockClient(STSClient);
    const cloudformation = mockClient(CloudFormationClient);
    clients.push(['s3', s3], ['secretsmanager', secrets], ['sts', sts], ['cloudformation', cloudformation]);
  });
  afterAll(() => {
    for (const [, client] of clients) client.restore();
  });
  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
    double.seedProvider(DEPARTED, { connected: true, groupName: organizationGroupName(ORG.id) });
  });
  afterEach(() => double.stop());

  /** Runs a command against the mocks; returns every AWS call it made, as IAM sees them. */
  async function recorded(command: 'plan' | 'apply', spec: object) {
    const organizations = mockOrganizations(ORG);
    for (const [, client] of clients) client.resetHistory();
    const path = join(dir, `${command}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, stringify(spec));
    try {
      const result = await cli([command, path, ...(command === 'apply' ? ['--yes'] : [])]);
      expect({ code: result.code, err: result.err.replace(/^(?!error).*\n/gm, '') }).toEqual({ code: command === 'plan' ? 2 : 0, err: '' });
      return [['organizations', organizations] as const, ...clients].flatMap(([service, client]) => client.calls().map((call) => authorization(service, call.args[0])));
    } finally {
      organizations.restore();
    }
  }

  const spec = () => ({
    prowlerApiUrl: double.url,
    organizationId: ORG.id,
    apiKey: { secretArn: SECRET_ARN },
    stateBucket: BUCKET,
    // A tag rule: discovery reads tags.
    selection: { excludeTags: [{ key: 'prowler-scan', value: 'false' }] },
    connection: { retryRounds: 0 },
  });
  /** The policy `prowler-org permissions <command> <spec>` prints. */
  async function printed(command: 'plan' | 'apply', file: object): Promise<Json> {
    const path = join(dir, `printed-${command}.yaml`);
    writeFileSync(path, stringify(file));
    const result = await cli(['permissions', command, path]);
    expect(result.code).toBe(0);
    return JSON.parse(result.out);
  }

  test.each(['plan', 'apply'] as const)('%s: every call is allowed by the printed policy, and every action it grants was called', async (command) => {
    const calls = await recorded(command, spec());
    const policy = await printed(command, spec());
    // The runs exercised discovery whole: tags, and an account the walk did not list (DescribeAccount, ListParents).
    expect(calls.map((c) => c.action)).toEqual(expect.arrayContaining(['organizations:ListTagsForResource', 'organizations:DescribeAccount', 'organizations:ListParents']));
    expect(calls.filter((c) => !allows(policy.Statement, c.action, c.resource))).toEqual([]);
    const called = new Set(calls.map((c) => c.action));
    // s3:ListBucket is never called: it makes S3 answer 404 (not 403) for a record that does not exist yet.
    const granted = policy.Statement.flatMap((s: Json) => s.Action).filter((a: string) => a !== 's3:ListBucket');
    expect(granted.filter((a: string) => !called.has(a))).toEqual([]);
    // In the bucket: exactly the keys the run used.
    const keysUsed = new Set(calls.filter((c) => c.action.startsWith('s3:')).map((c) => c.resource));
    const keysGranted = policy.Statement.filter((s: Json) => s.Sid === 'StateObjects').flatMap((s: Json) => s.Resource);
    expect([...keysUsed].sort()).toEqual([...keysGranted].sort());
    expect(calls.filter((c) => /^(sts|cloudformation):/.test(c.action))).toEqual([]);
  }, 60_000);

  test('plan: no call writes; apply: the lease and the record, nothing else', async () => {
    const plan = await recorded('plan', spec());
    expect(plan.filter((c) => !/:(Get|List|Describe)/.test(c.action))).toEqual([]);
    objects.clear();
    const apply = await recorded('apply', spec());
    const written = [...new Set(apply.filter((c) => c.action === 's3:PutObject').map((c) => c.resource))].sort();
    expect(written).toEqual([STATE_KEYS.lease, STATE_KEYS.record].map((k) => `arn:aws:s3:::${BUCKET}/${k}`).sort());
  }, 60_000);

  test('the evaluation can fail: a policy without the lease denies apply\'s first call to it', async () => {
    objects.clear();
    const calls = await recorded('apply', spec());
    const policy = permissionsPolicy(cliPermissions('plan', { partition: 'aws', stateBucket: BUCKET, apiKeySecretArn: SECRET_ARN, organizationId: ORG.id }));
    expect(calls.filter((c) => !allows(policy.Statement as Json[], c.action, c.resource)).map((c) => c.resource)).toContain(`arn:aws:s3:::${BUCKET}/${STATE_KEYS.lease}`);
  }, 60_000);
});

describe('prowler-org permissions: what it prints', () => {
  test('JSON by default: the policy document core builds, from the flags', async () => {
    const result = await cli(['permissions', 'apply', '--state-bucket', BUCKET, '--api-key-secret-arn', SECRET_ARN]);
    expect(result).toEqual({ code: 0, err: '', out: `${JSON.stringify(permissionsPolicy(cliPermissions('apply', { partition: 'aws', stateBucket: BUCKET, apiKeySecretArn: SECRET_ARN })), null, 2)}\n` });
    const policy = JSON.parse(result.out);
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement.map((s: Json) => s.Sid)).toEqual(['OrganizationsDiscovery', 'Secrets', 'StateBucket', 'StateObjects']);
  });

  test('a flag wins over the spec file; without stateBucket, no S3 statement', async () => {
    const path = join(dir, 'no-bucket.yaml');
    writeFileSync(path, stringify({ selection: {}, organizationId: 'o-abc123def4' }));
    const policy = JSON.parse((await cli(['permissions', 'plan', path])).out);
    expect(policy.Statement.flatMap((s: Json) => s.Action).filter((a: string) => /^(s3|secretsmanager):/.test(a))).toEqual([]);
    const other = JSON.parse((await cli(['permissions', 'plan', path, '--organization-id', 'o-zzzzzzzzzz'])).out);
    expect(JSON.stringify(other)).toContain(':account/o-zzzzzzzzzz/*');
  });

  test('text: who needs it, each statement, and what is missing from the inputs', async () => {
    const result = await cli(['permissions', 'plan', '--format', 'text']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^prowler-org permissions plan: for the identity that runs `prowler-org plan`\.\n\nOrganizationsDiscovery\n {2}allow {2}organizations:DescribeOrganization, /);
    expect(result.out).toContain('\n  on     *\n');
    expect(result.out).toContain('note: No stateBucket: no S3 statement.');
    const cdk = await cli(['permissions', 'deploy-cdk', '--format', 'text', '--account', '111111111111', '--region', 'eu-west-1']);
    expect(cdk.out).toContain('  on     arn:aws:iam::111111111111:role/cdk-hnb659fds-deploy-role-111111111111-eu-west-1\n');
    expect(cdk.out).toContain('prowler-org permissions deploy-cdk-execution');
  });

  test.each(['deploy-cdk', 'deploy-cdk-execution', 'deploy-cdktf', 'deploy-cdktn', 'deploy-terraform', 'deploy-cloudformation'])('%s prints core\'s policy for the account and region', async (target) => {
    const result = await cli(['permissions', target, '--account', '111111111111', '--region', 'us-gov-west-1']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out)).toEqual(permissionsPolicy(deployPermissions(target.replace(/^deploy-/, '') as any, { partition: 'aws-us-gov', account: '111111111111', region: 'us-gov-west-1' })));
  });

  test.each([
    [['permissions'], /^permissions needs a target: one of plan, apply, deploy-cdk, /],
    [['permissions', 'destroy'], /^unknown target 'destroy': one of /],
    [['permissions', 'plan', '--format', 'yaml'], /^--format must be json or text, got 'yaml'/],
    [['permissions', 'plan', '--account', '111111111111'], /^--account is an option of the deploy targets, not of plan/],
    [['permissions', 'deploy-cdk', '--state-bucket', BUCKET], /^--state-bucket is an option of plan and apply, not of deploy-cdk/],
    [['permissions', 'deploy-cdk', 'spec.yaml'], /^unexpected argument 'spec.yaml' \(deploy-cdk takes no spec file\)/],
    [['permissions', 'apply', '--state-bucket', 'My_Bucket'], /^--state-bucket: Must be a valid S3 bucket name: expected .*, got 'My_Bucket'/],
    [['permissions', 'apply', '--api-key-secret-arn', SECRET_ARN, '--partition', 'aws-cn'], /^--api-key-secret-arn is in the aws partition, not aws-cn \(--partition\)/],
    [['permissions', 'plan', join(dir, 'missing.yaml')], /missing\.yaml: 1 problem:\n {2}.*missing\.yaml: cannot be read: ENOENT/],
  ])('%j fails, saying why', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    expect(result.err).toMatch(message);
  });

  test('--help prints the usage; prowler-org --help lists the command', async () => {
    expect((await cli(['permissions', '--help'])).out).toMatch(/^Usage:\n {2}prowler-org permissions plan\|apply \[<spec-file>\]/);
    expect((await cli(['--help'])).out).toContain('prowler-org permissions deploy-cdk|deploy-cdk-execution|deploy-cdktf|deploy-cdktn|deploy-terraform|deploy-cloudformation');
  });
});
