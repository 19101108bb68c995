/**
 * The handler's AWS side against moto's server, with the real AWS SDK clients (no client mock):
 * discovery of an organization built through Organizations' own API, the S3 state store and
 * its conditional writes, the secrets, the StackSet's instance statuses, and one whole Terraform
 * apply and sync through the Lambda's own client factories (Prowler: the project's double).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudFormationClient, CreateStackInstancesCommand, CreateStackSetCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudTrailClient, CreateTrailCommand, PutEventSelectorsCommand, StartLoggingCommand, StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CloseAccountCommand, CreateAccountCommand, CreateOrganizationalUnitCommand, CreateOrganizationCommand, DescribeOrganizationalUnitCommand,
  ListParentsCommand, ListRootsCommand, ListTagsForResourceCommand, MoveAccountCommand, OrganizationsClient, paginateListAccounts,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { core } from '../../src';
import { ORGANIZATIONS_EVENT_PATTERN, STATE_KEYS, onboardingEnvironment } from '../../src/core/onboarding';
import { memberStackSetModel } from '../../src/core/stackset';
import { environmentFromProcess, handleSync, handleTerraform } from '../../src/handler/lambda';
import { acquireLease, releaseLease } from '../../src/handler/lease';
import { discoverOrganization, locateAccounts, organizationsClient } from '../../src/handler/organizations';
import { readAssumeCredentials, readProwlerAuth } from '../../src/handler/secrets';
import { stackInstanceStatuses } from '../../src/handler/stackset';
import { S3JsonStore } from '../../src/handler/store';
import { checkOrganizationEventsTrail } from '../../src/handler/trail';
import { ProwlerApiDouble } from '../../testing/prowler-api-double';
import { lambdaNode } from '../support/lambda-node';
import { startMoto, useMotoEndpoint, type Moto } from '../support/moto';
import { describeWith, MOTO_SERVER } from '../support/oracles';

const KEY = 'pk_moto-integration-key-0123456789';
const BUCKET = 'prowler-onboarding-state-moto';

// moto imports a service's backend on its first call (CloudFormation's takes seconds on a busy
// machine, and the build runs a suite per core): no test here is bound by jest's default 5 s.
jest.setTimeout(60_000);

/** The organization the tests build: an OU path of depth 4, 32 member accounts, tags, a closed account. */
interface Built {
  rootId: string;
  ous: Record<string, { id: string; parentId: string; name: string }>;
  accounts: Record<string, { ou: string; tags: Record<string, string> }>;
  closed: string;
}

async function buildOrganization(client: OrganizationsClient): Promise<Built> {
  await client.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const rootId = (await client.send(new ListRootsCommand({}))).Roots![0].Id!;
  const tree: Array<[string, string]> = [
    ['Workloads', 'root'], ['Prod', 'Workloads'], ['EU', 'Prod'], ['Payments', 'EU'], ['Dev', 'Workloads'], ['Sandbox', 'root'], ['Closing', 'root'],
  ];
  const ous: Built['ous'] = {};
  for (const [name, parent] of tree) {
    const parentId = parent === 'root' ? rootId : ous[parent].id;
    const { OrganizationalUnit } = await client.send(new CreateOrganizationalUnitCommand({ ParentId: parentId, Name: name }));
    ous[name] = { id: OrganizationalUnit!.Id!, parentId, name };
  }
  const homes = ['Payments', 'EU', 'Prod', 'Dev', 'Sandbox', 'Workloads', 'root', 'Closing'];
  const accounts: Built['accounts'] = {};
  for (let i = 0; i < 32; i++) {
    const ou = homes[i % homes.length];
    const tags: Record<string, string> = i % 3 === 0 ? { 'prowler-scan': i % 2 === 0 ? 'true' : 'false', 'team': `team-${i % 4}` } : {};
    const { CreateAccountStatus } = await client.send(new CreateAccountCommand({
      AccountName: `member-${String(i).padStart(2, '0')}`,
      Email: `member-${i}@example.com`,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }));
    const id = CreateAccountStatus!.AccountId!;
    if (ou !== 'root') await client.send(new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: ous[ou].id }));
    accounts[id] = { ou, tags };
  }
  const closed = Object.keys(accounts).find((id) => accounts[id].ou === 'Closing')!;
  await client.send(new CloseAccountCommand({ AccountId: closed }));
  return { rootId, ous, accounts, closed };
}

describeWith(MOTO_SERVER, 'moto: the handler\'s AWS calls with the real SDK clients', () => {
  let moto: Moto;
  let undoEndpoint: () => void;
  let built: Built;

  beforeAll(async () => {
    moto = await startMoto();
    undoEndpoint = useMotoEndpoint(moto.url);
    built = await buildOrganization(organizationsClient());
  }, 60_000);

  afterAll(async () => {
    undoEndpoint?.();
    await moto?.stop();
  });

  test('discovery finds what Organizations reports, account by account: parents, status, tags, and the OU tree to depth 4', async () => {
    const client = organizationsClient(); // the Lambda's own factory: endpoint and credentials from the environment
    const snapshot = await discoverOrganization(client, { withTags: true });

    // What moto says, through calls discovery does not make (ListAccounts, ListParents).
    const reported: Array<{ id: string; name: string; status: string; parentId: string; tags: Record<string, string> }> = [];
    for await (const page of paginateListAccounts({ client }, {})) {
      for (const a of page.Accounts ?? []) {
        const parent = (await client.send(new ListParentsCommand({ ChildId: a.Id! }))).Parents![0].Id!;
        const { Tags } = await client.send(new ListTagsForResourceCommand({ ResourceId: a.Id! }));
        const tags = Object.fromEntries((Tags ?? []).map((t) => [t.Key!, t.Value!]));
        reported.push({ id: a.Id!, name: a.Name!, status: (a as { State?: string }).State ?? a.Status!, parentId: parent, tags });
      }
    }
    reported.sort((a, b) => a.id.localeCompare(b.id));
    expect(snapshot.accounts.map((a) => ({ id: a.id, name: a.name, status: a.status, parentId: a.parentId, tags: a.tags }))).toEqual(reported);

    expect(snapshot.accounts).toHaveLength(33); // 32 members and the management account
    expect(snapshot.accounts.find((a) => a.id === built.closed)?.status).toBe('SUSPENDED');
    expect(snapshot.rootIds).toEqual([built.rootId]);
    expect(snapshot.depth).toBe(4);
    for (const [name, ou] of Object.entries(built.ous)) {
      const described = (await client.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: ou.id }))).OrganizationalUnit!;
      expect(snapshot.units.get(ou.id)).toMatchObject({ name: described.Name, parentId: ou.parentId });
      expect(described.Name).toBe(name);
    }
    expect(snapshot.units.get(built.ous.Payments.id)?.depth).toBe(4);
    for (const [id, { tags }] of Object.entries(built.accounts)) expect(snapshot.accounts.find((a) => a.id === id)?.tags).toEqual(tags);
  });

  test('locating accounts a walk did not list (DescribeAccount, ListParents): a moved one where it is now, one that is not a member as gone', async () => {
    const client = organizationsClient();
    const moving = Object.keys(built.accounts).find((id) => built.accounts[id].ou === 'Dev')!;
    const to = built.ous.Sandbox.id;
    await client.send(new MoveAccountCommand({ AccountId: moving, SourceParentId: built.ous.Dev.id, DestinationParentId: to }));
    try {
      const { accounts, calls } = await locateAccounts(client, [moving, '999999999999'], { withTags: true });
      expect(accounts.get(moving)).toMatchObject({ id: moving, parentId: to, status: 'ACTIVE', tags: built.accounts[moving].tags });
      expect(accounts.has('999999999999')).toBe(true);
      expect(accounts.get('999999999999')).toBeUndefined();
      expect(calls).toBeGreaterThanOrEqual(4);
    } finally {
      await client.send(new MoveAccountCommand({ AccountId: moving, SourceParentId: to, DestinationParentId: built.ous.Dev.id }));
    }
  });

  test('the S3 state store: a missing key, an overwrite, conditional writes, and the lease built on them', async () => {
    const s3 = new S3Client({ forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: `${BUCKET}-store` }));
    const store = new S3JsonStore(s3, `${BUCKET}-store`);
    expect(await store.load('runs/missing.json')).toBeUndefined();
    await store.save('runs/a.json', { n: 1 });
    await store.save('runs/a.json', { n: 2 });
    expect(await store.load('runs/a.json')).toEqual({ n: 2 });

    expect(await store.saveIf('runs/a.json', { n: 3 }, undefined)).toBe(false); // exists: If-None-Match fails
    const read = (await store.loadVersioned<{ n: number }>('runs/a.json'))!;
    expect(await store.saveIf('runs/a.json', { n: 3 }, read.version)).toBe(true);
    expect(await store.saveIf('runs/a.json', { n: 4 }, read.version)).toBe(false); // stale ETag: If-Match fails
    expect(await store.load('runs/a.json')).toEqual({ n: 3 });
    expect(await store.saveIf('runs/b.json', { n: 1 }, undefined)).toBe(true);

    await store.delete('runs/a.json');
    expect(await store.load('runs/a.json')).toBeUndefined();

    const now = Date.now();
    expect(await acquireLease(store, 'first', 'deploy', now, 60_000)).toEqual({ acquired: true });
    expect(await acquireLease(store, 'second', 'sync', now, 60_000)).toMatchObject({ acquired: false, holder: { owner: 'first', kind: 'deploy' } });
    await releaseLease(store, 'first');
    expect(await acquireLease(store, 'second', 'sync', now, 60_000)).toEqual({ acquired: true });
  });

  test('secrets: the API key as text or JSON, static credentials, and a missing secret named with what to check', async () => {
    const sm = new SecretsManagerClient({});
    const plain = (await sm.send(new CreateSecretCommand({ Name: 'prowler/key-plain', SecretString: `${KEY}\n` }))).ARN!;
    const json = (await sm.send(new CreateSecretCommand({ Name: 'prowler/key-json', SecretString: JSON.stringify({ apiKey: KEY }) }))).ARN!;
    const creds = (await sm.send(new CreateSecretCommand({
      Name: 'prowler/assume', SecretString: JSON.stringify({ AWS_ACCESS_KEY_ID: 'AKIAMOTOEXAMPLE00001', AWS_SECRET_ACCESS_KEY: 'secret' }),
    }))).ARN!;
    expect(await readProwlerAuth(sm, plain)).toEqual({ apiKey: KEY });
    expect(await readProwlerAuth(sm, json)).toEqual({ apiKey: KEY });
    expect(await readAssumeCredentials(sm, creds)).toEqual({ accessKeyId: 'AKIAMOTOEXAMPLE00001', secretAccessKey: 'secret', sessionToken: undefined });
    await expect(readProwlerAuth(sm, 'arn:aws:secretsmanager:us-east-1:123456789012:secret:prowler/none-AbCdEf'))
      .rejects.toThrow(/ResourceNotFoundException: check the secret ARN and region/);
  });

  test('the trail check, against CloudTrail\'s own answers: none, then one logging, stopped, read-only, and logging again', async () => {
    const trails = new CloudTrailClient({ region: 'us-east-1' });
    const none = await checkOrganizationEventsTrail(trails);
    expect(none).toMatchObject({ recorded: false, warning: expect.stringMatching(/^No CloudTrail trail records global-service events in us-east-1 \(0 trails seen\)/) });
    const s3 = new S3Client({ region: 'us-east-1', forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'org-trail-logs' }));
    await trails.send(new CreateTrailCommand({ Name: 'org', S3BucketName: 'org-trail-logs', IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true }));
    expect(await checkOrganizationEventsTrail(trails)).toMatchObject({ recorded: false, warning: expect.stringContaining('(org is not logging)') });
    await trails.send(new StartLoggingCommand({ Name: 'org' }));
    expect(await checkOrganizationEventsTrail(trails)).toEqual({ recorded: true, trail: expect.stringMatching(/:trail\/org$/) });
    await trails.send(new PutEventSelectorsCommand({ TrailName: 'org', EventSelectors: [{ ReadWriteType: 'ReadOnly', IncludeManagementEvents: true }] }));
    expect(await checkOrganizationEventsTrail(trails)).toMatchObject({ recorded: false, warning: expect.stringContaining('org does not log write management events') });
    await trails.send(new PutEventSelectorsCommand({ TrailName: 'org', EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] }));
    expect((await checkOrganizationEventsTrail(trails)).recorded).toBe(true);
    await trails.send(new StopLoggingCommand({ Name: 'org' }));
    expect((await checkOrganizationEventsTrail(trails)).recorded).toBe(false);
  });

  test('a service-managed StackSet on two OUs: every account below them CURRENT, read through ListStackInstances', async () => {
    const cfn = new CloudFormationClient({});
    const model = memberStackSetModel({ externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: [built.ous.Prod.id, built.ous.Sandbox.id] });
    await cfn.send(new CreateStackSetCommand({
      StackSetName: 'prowler-scan-moto',
      PermissionModel: model.permissionModel,
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      // moto creates every instance's stack in one account, where a second ProwlerScan role is
      // "already exists": the instances are what is read here, so a template without names.
      TemplateBody: JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }),
    }));
    await cfn.send(new CreateStackInstancesCommand({
      StackSetName: 'prowler-scan-moto',
      DeploymentTargets: { OrganizationalUnitIds: model.instanceGroup.organizationalUnitIds },
      Regions: ['us-east-1'],
    }));
    const statuses = await stackInstanceStatuses(cfn, 'prowler-scan-moto');
    /** The OU and every OU above it, by name. */
    const lineage = (ou: string): string[] => {
      const names: string[] = [];
      for (let unit = built.ous[ou]; unit; unit = Object.values(built.ous).find((o) => o.id === unit.parentId)!) names.push(unit.name);
      return names;
    };
    const below = (ou: string) => ou !== 'root' && lineage(ou).some((name) => name === 'Prod' || name === 'Sandbox');
    // AWS deploys to the whole subtree of each target; moto 5.2 to the targets and their children
    // only. So: every account directly in a target, and nothing outside the targets.
    const direct = Object.entries(built.accounts).filter(([, a]) => a.ou === 'Prod' || a.ou === 'Sandbox').map(([id]) => id);
    expect(direct.length).toBeGreaterThanOrEqual(8);
    expect([...statuses.keys()]).toEqual(expect.arrayContaining(direct));
    for (const id of statuses.keys()) expect([id, below(built.accounts[id].ou)]).toEqual([id, true]);
    expect(new Set(statuses.values())).toEqual(new Set(['CURRENT']));
  });

  test('a Terraform apply and a sync through the Lambda\'s own client factories: state in S3, key from Secrets Manager', async () => {
    const double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
    try {
      await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: BUCKET }));
      const secretArn = (await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: 'prowler/api-key', SecretString: KEY }))).ARN!;
      const variables = onboardingEnvironment({ apiUrl: double.url, apiKeySecretArn: secretArn, stateBucket: BUCKET, logLevel: 'WARN' });
      const env = environmentFromProcess('arn:aws:lambda:us-east-1:123456789012:function:prowler-org-onboarding-apply', variables);
      // The Lambda's S3 client is made with defaults: moto on 127.0.0.1 is addressed path-style, as S3 does for an IP endpoint.
      const spec = { selection: { excludeTags: [{ key: 'prowler-scan', value: 'false' }] }, scanMode: core.ScanMode.NONE };
      const result = await handleTerraform({ Spec: JSON.stringify(spec), tf: { action: 'create', prev_input: null } }, 840_000, env);

      const optedOut = Object.values(built.accounts).filter((a) => a.tags['prowler-scan'] === 'false').length;
      const active = 33 - 1; // the closed account is SUSPENDED
      expect(result).toMatchObject({ status: 'complete', Selected: String(active - optedOut), Registered: String(active - optedOut), Failed: '0' });
      expect(double.providerByUid(built.closed)).toBeUndefined();
      expect(double.providerByUid('123456789012')).toBeDefined(); // the management account

      const objects = await new S3Client({ forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: BUCKET }));
      expect(objects.Contents!.map((o) => o.Key)).toEqual(expect.arrayContaining([STATE_KEYS.currentSpec, STATE_KEYS.latestReport]));

      const requests = double.requests.length;
      await handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 600_000, env);
      expect(await env.store.load(STATE_KEYS.latestReport)).toMatchObject({ outcome: 'succeeded', counts: { created: 0, unchanged: active - optedOut } });
      expect(double.requests.length - requests).toBeLessThan(10); // nothing to change: a few reads
    } finally {
      await double.stop();
    }
  }, 120_000);

  test('the shipped bundle (lib/handler-bundle/index.js) as Lambda runs it: its own process, only its environment, a Terraform apply', async () => {
    // What the zip holds, not the source: how it is bundled (ES module builds, zod, credentials) is tested here.
    const double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
    try {
      const bucket = `${BUCKET}-bundle`;
      await new S3Client({ forcePathStyle: true }).send(new CreateBucketCommand({ Bucket: bucket }));
      const secretArn = (await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: 'prowler/bundle-key', SecretString: KEY }))).ARN!;
      const variables = onboardingEnvironment({ apiUrl: double.url, apiKeySecretArn: secretArn, stateBucket: bucket, logLevel: 'WARN' });
      const payload = { Spec: JSON.stringify({ selection: { onlyAccounts: Object.keys(built.accounts).slice(0, 3) }, scanMode: core.ScanMode.NONE }), tf: { action: 'create', prev_input: null } };
      const invoke = [
        `require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'handler-bundle', 'index.js'))})`,
        `.terraform(${JSON.stringify(payload)}, { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:apply', getRemainingTimeInMillis: () => 840000 })`,
        '.then((result) => console.log(JSON.stringify(result)))',
      ].join('');
      // Asynchronous: the Prowler double answers from this process. On the Lambda's Node, as the function runs.
      const { stdout } = await promisify(execFile)(lambdaNode(), ['-e', invoke], {
        env: { PATH: process.env.PATH, ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('AWS_'))), ...variables },
      });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ status: 'complete', Selected: '4', Registered: '4', Failed: '0' }); // and the management account
      expect(Object.keys(built.accounts).slice(0, 3).map((id) => double.providerByUid(id)?.uid)).toEqual(Object.keys(built.accounts).slice(0, 3));
    } finally {
      await double.stop();
    }
  }, 60_000);

  test('EventBridge routes the events that change the organization, as CloudTrail delivers them, and no other (a rule with our pattern, an SQS target)', async () => {
    /** One AWS JSON-protocol call to moto (it routes by the credential scope's service). */
    const call = async (service: 'events' | 'sqs', target: string, body: object): Promise<any> => {
      const answer = await fetch(moto.url, {
        method: 'POST',
        headers: {
          'Content-Type': service === 'events' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0',
          'X-Amz-Target': `${service === 'events' ? 'AWSEvents' : 'AmazonSQS'}.${target}`,
          'Authorization': `AWS4-HMAC-SHA256 Credential=AKID/20261121/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify(body),
      });
      const text = await answer.text();
      if (!answer.ok) throw new Error(`${service} ${target} answered ${answer.status}: ${text}`);
      return text ? JSON.parse(text) : {};
    };
    const { QueueUrl } = await call('sqs', 'CreateQueue', { QueueName: 'organization-events' });
    const arn = (await call('sqs', 'GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] })).Attributes.QueueArn;
    await call('events', 'PutRule', { Name: 'sync-on-organization-events', EventPattern: JSON.stringify(ORGANIZATIONS_EVENT_PATTERN) });
    await call('events', 'PutTargets', { Rule: 'sync-on-organization-events', Targets: [{ Id: 'sync', Arn: arn }] });
    const api = 'AWS API Call via CloudTrail';
    const service = 'AWS Service Event via CloudTrail';
    const event = (eventName: string, detailType: string, source = 'aws.organizations') => ({
      Source: source, DetailType: detailType, Detail: JSON.stringify({ eventVersion: '1.08', eventSource: `${source.slice(4)}.amazonaws.com`, eventName }),
    });
    const arriving = [
      ['CreateAccountResult', service], ['AccountJoinedOrganization', service], ['AccountDepartedOrganization', service],
      ['MoveAccount', api], ['RemoveAccountFromOrganization', api], ['CloseAccount', api], ['TagResource', api], ['UntagResource', api],
    ];
    // The invitation changes nothing yet (the join does); reads, and other services' calls, are not ours.
    const ignored = [event('InviteAccountToOrganization', api), event('ListAccounts', api), event('TagResource', api, 'aws.s3')];
    const entries = [...arriving.map(([name, type]) => event(name, type)), ...ignored];
    for (const batch of [entries.slice(0, 10), entries.slice(10)]) expect((await call('events', 'PutEvents', { Entries: batch })).FailedEntryCount).toBe(0);
    const received: string[] = [];
    for (let i = 0; i < 5 && received.length < arriving.length; i++) {
      const { Messages = [] } = await call('sqs', 'ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
      received.push(...Messages.map((m: any) => `${JSON.parse(m.Body).source} ${JSON.parse(m.Body).detail.eventName}`));
    }
    expect(received.sort()).toEqual(arriving.map(([name]) => `aws.organizations ${name}`).sort());
  }, 60_000);
});
