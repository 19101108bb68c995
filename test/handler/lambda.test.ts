import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import { STSClient } from '@aws-sdk/client-sts';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ORGANIZATIONS_EVENT_NAMES } from '../../src/core/defaults';
import { onboardingEnvironment } from '../../src/core/onboarding';
import { organizationGroupName } from '../../src/handler/engine';
import {
  CURRENT_SPEC_KEY, environmentFromProcess, handleIsComplete, handleOnEvent, handleSync, handleTerraform, LATEST_REPORT_KEY, physicalIdOf,
} from '../../src/handler/lambda';
import { acquireLease, releaseLease } from '../../src/handler/lease';
import { S3JsonStore } from '../../src/handler/store';
import type { ConnectionRule } from '../../testing/prowler-api-double';
import { lambdaSetup, type LambdaSetup } from '../support/lambda-setup';

const KEY = 'pk_live.LAMBDA-SECRET-KEY';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler-AbCdEf';

type Setup = LambdaSetup;
const setup = (options: { connectionRule?: ConnectionRule } = {}) => lambdaSetup(KEY, SECRET_ARN, options);

function cfnEvent(requestType: 'Create' | 'Update' | 'Delete', spec: unknown, extra: Record<string, unknown> = {}): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/',
    StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Prowler/1',
    RequestId: `req-${Math.random().toString(36).slice(2)}`,
    LogicalResourceId: 'Onboarding',
    ResourceType: 'Custom::ProwlerOrganizationOnboarding',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider', Spec: JSON.stringify(spec) },
    ...extra,
  } as CloudFormationCustomResourceEvent;
}

/** What the Provider framework does: onEvent, then isComplete until complete (each poll a 5-minute Lambda). */
/** Every DELETE /providers/{id} takes `ms` of the Lambda's clock. */
function slowDeletes(s: Setup, ms: number): void {
  (s.env as { fetch?: typeof fetch }).fetch = async (input, init) => {
    if (init?.method === 'DELETE' && /\/providers\/[^/]+$/.test(String(input))) await s.env.clock.sleep(ms);
    return fetch(input, init);
  };
}

async function deploy(s: Setup, event: CloudFormationCustomResourceEvent) {
  const first = await handleOnEvent(event, s.env);
  const pollEvent = { ...event, PhysicalResourceId: first.PhysicalResourceId } as CloudFormationCustomResourceEvent;
  for (let poll = 1; poll <= 50; poll++) {
    const answer = await handleIsComplete(pollEvent, 5 * 60_000, s.env);
    if (answer.IsComplete) return { physicalId: first.PhysicalResourceId!, data: answer.Data!, polls: poll };
    await s.env.clock.sleep(30_000); // the Provider framework's query interval
  }
  throw new Error('never completed');
}

describe('the custom resource (Provider framework onEvent / isComplete)', () => {
  let s: Setup;
  afterEach(() => s.stop());

  test('Create onboards the organization; the physical id names the organization, the Prowler tenant and this resource', async () => {
    s = await setup();
    const { physicalId, data } = await deploy(s, cfnEvent('Create', { selection: {}, connection: { retryRounds: 0 } }));
    expect(physicalId).toMatch(new RegExp(`^${physicalIdOf(s.org.id, s.double.tenantId)}/[0-9a-f]{12}$`));
    expect(data).toEqual({
      ExternalId: s.double.tenantId, OrganizationId: s.org.id, Selected: '11', Registered: '11', Connected: '11', Failed: '0', Blocked: '0',
    });
    expect(s.double.providers.size).toBe(11);
    expect(await s.store.load(CURRENT_SPEC_KEY)).toEqual({ physicalId, spec: expect.objectContaining({ selection: {} }), attributes: expect.objectContaining({ Selected: '11' }) });
    expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ outcome: 'succeeded', counts: { selected: 11 } });
    // The run's own state is cleaned up.
    expect([...s.store.objects.keys()].filter((k) => k.startsWith('runs/'))).toEqual([]);
  });

  test('Update reconciles and keeps the physical id while the organization and tenant stay', async () => {
    s = await setup();
    const created = await deploy(s, cfnEvent('Create', { selection: {} }));
    const leaving = s.org.accounts.filter((a) => a.status === 'ACTIVE')[3].id;
    const updated = await deploy(s, cfnEvent('Update', { selection: { excludeAccounts: [leaving] }, removal: 'unlink' }, { PhysicalResourceId: created.physicalId, OldResourceProperties: {} }));
    expect(updated.physicalId).toBe(created.physicalId);
    expect(updated.data.Selected).toBe('10');
    expect(s.double.groupNamed(organizationGroupName(s.org.id)).providerIds.has(s.double.providerByUid(leaving)!.id)).toBe(false);
    expect(s.double.providerByUid(leaving)).toBeDefined();
  });

  test('Update in another organization returns a new physical id (CloudFormation then deletes the old one)', async () => {
    s = await setup();
    const created = await deploy(s, cfnEvent('Create', { selection: {} }));
    s.org.id = 'o-neworg00001';
    const updated = await handleOnEvent(cfnEvent('Update', { selection: {}, scanMode: 'once' }, { PhysicalResourceId: created.physicalId, OldResourceProperties: {} }), s.env);
    expect(updated.PhysicalResourceId).toMatch(new RegExp(`^${physicalIdOf('o-neworg00001', s.double.tenantId)}/[0-9a-f]{12}$`));
    expect(s.logs.some((l) => l.startsWith(`the organization or the Prowler tenant changed: ${created.physicalId} →`))).toBe(true);
  });

  test('a bad spec fails with every problem named, before anything is done', async () => {
    s = await setup();
    const error: Error = await handleOnEvent(cfnEvent('Create', { selection: { targets: ['Production'] }, scanMode: 'weekly' }), s.env).catch((e) => e);
    expect(error.message).toMatch(/^Invalid onboarding spec: 2 invalid fields:/);
    expect(error.message).toMatch(/selection.targets\[0\]: Must be an OU id or a root id.*looks like an OU name/);
    expect(error.message).toMatch(/scanMode: /);
    expect(s.double.requests).toHaveLength(0);
  });

  test('when no account connects, the deployment fails with the wizard\'s message and the hint', async () => {
    s = await setup({ connectionRule: () => ({ connected: false, error: 'An error occurred (AccessDenied) when calling the AssumeRole operation' }) });
    await expect(deploy(s, cfnEvent('Create', { selection: {}, connection: { retryRounds: 1, retryDelaySeconds: 60 } })))
      .rejects.toThrow(/^No accounts connected successfully\. Fix the connection errors and retry before launching scans\. 11 failed: .*the role does not trust this Prowler/);
    expect(s.double.schedules.size).toBe(0);
  });

  test('waiting for a re-test round ends the poll; later polls continue the run', async () => {
    s = await setup({ connectionRule: (p, _s, attempt) => (p.uid === s.org.accounts[2].id && attempt < 3 ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    const { polls, data } = await deploy(s, cfnEvent('Create', { selection: {}, connection: { retryRounds: 3, retryDelaySeconds: 60 } }));
    // Poll 1 tests everyone; the re-test rounds come 60 s apart, polls 30 s apart.
    expect(polls).toBeGreaterThanOrEqual(5);
    expect(data.Connected).toBe('11');
    expect(s.double.connectionAttempts.get(s.org.accounts[2].id)).toBe(3);
  });

  test('a rollback to the last deployed spec succeeds without calling anyone, with that deployment\'s attributes (Prowler may be down)', async () => {
    s = await setup();
    const created = await deploy(s, cfnEvent('Create', { selection: {}, scanMode: 'daily' }));
    await s.double.stop(); // Prowler is down, or the key was revoked: that is why the update failed
    const before = s.double.requests.length;
    const rollback = cfnEvent('Update', { scanMode: 'daily', selection: {} }, { PhysicalResourceId: created.physicalId });
    expect(await handleOnEvent(rollback, s.env)).toEqual({ PhysicalResourceId: created.physicalId });
    expect(await handleIsComplete(rollback as never, 300_000, s.env)).toEqual({ IsComplete: true, Data: created.data });
    expect(s.double.requests.length).toBe(before);
    // Any other spec runs, and so fails for the cause that is still there.
    await expect(handleOnEvent(cfnEvent('Update', { selection: {}, scanMode: 'once' }, { PhysicalResourceId: created.physicalId }), s.env)).rejects.toThrow();
  });

  test('two onboarding resources of one organization and tenant (or a renamed one and its predecessor) never share a physical id', async () => {
    s = await setup();
    const first = await handleOnEvent(cfnEvent('Create', { selection: {} }, { LogicalResourceId: 'Onboarding' }), s.env);
    const renamed = await handleOnEvent(cfnEvent('Create', { selection: {} }, { LogicalResourceId: 'OrgOnboarding' }), s.env);
    expect(first.PhysicalResourceId).not.toBe(renamed.PhysicalResourceId);
    // An Update keeps the id it has while the organization and tenant stay, including one from before the instance part.
    const old = physicalIdOf(s.org.id, s.double.tenantId);
    expect(await handleOnEvent(cfnEvent('Update', { selection: {}, scanMode: 'once' }, { PhysicalResourceId: old }), s.env)).toEqual({ PhysicalResourceId: old });
  });

  test('a failed first Create\'s rollback Delete removes only what that run created; a user\'s provider stays, with its history', async () => {
    s = await setup({ connectionRule: () => ({ connected: false, error: 'AccessDenied' }) });
    const [, users] = s.org.accounts.filter((a) => a.status === 'ACTIVE');
    const secret = { role_arn: `arn:aws:iam::${users.id}:role/Mine`, external_id: 'mine' };
    const mine = s.double.seedProvider(users.id, { alias: 'My account', connected: false, secret });
    const create = cfnEvent('Create', { selection: {}, removal: 'destroy', connection: { retryRounds: 0 } });
    const { PhysicalResourceId } = await handleOnEvent(create, s.env);
    const polls = async () => {
      for (let poll = 0; poll < 20; poll++) {
        if ((await handleIsComplete({ ...create, PhysicalResourceId } as never, 300_000, s.env)).IsComplete) return;
      }
    };
    await expect(polls()).rejects.toThrow(/No accounts connected successfully/);
    expect(s.double.providers.size).toBe(11);
    // CloudFormation rolls the Create back: a Delete with the properties it had.
    await handleOnEvent({ ...create, RequestType: 'Delete', PhysicalResourceId } as CloudFormationCustomResourceEvent, s.env);
    expect([...s.double.providers.values()]).toEqual([expect.objectContaining({ id: mine.id, alias: 'My account' })]);
    expect(s.double.secretOf(users.id)).toBeDefined();
  });

  test.each([
    ['a renamed construct: the resource that took its place keeps them', 'CREATE_COMPLETE', 11],
    ['the whole stack is deleted: destroy goes ahead', 'DELETE_IN_PROGRESS', 0],
  ])('Delete with destroy beside another onboarding of the same organization and tenant in the stack: %s', async (_case, status, left) => {
    s = await setup();
    const created = await deploy(s, cfnEvent('Create', { selection: {}, removal: 'destroy' }, { LogicalResourceId: 'ProwlerOnboarding' }));
    const cfn = mockClient(CloudFormationClient);
    try {
      cfn.on(ListStackResourcesCommand).resolves({
        StackResourceSummaries: [
          { LogicalResourceId: 'ProwlerOnboarding', PhysicalResourceId: created.physicalId, ResourceType: 'Custom::ProwlerOrganizationOnboarding', ResourceStatus: 'DELETE_IN_PROGRESS', LastUpdatedTimestamp: new Date() },
          { LogicalResourceId: 'OrgOnboarding', PhysicalResourceId: `${physicalIdOf(s.org.id, s.double.tenantId)}/0a1b2c3d4e5f`, ResourceType: 'Custom::ProwlerOrganizationOnboarding', ResourceStatus: status as never, LastUpdatedTimestamp: new Date() },
        ],
      });
      const env = { ...s.env, cloudformation: new CloudFormationClient({ region: 'us-east-1' }) };
      await handleOnEvent(cfnEvent('Delete', { selection: {}, removal: 'destroy' }, { PhysicalResourceId: created.physicalId, LogicalResourceId: 'ProwlerOnboarding' }), env);
      expect(s.double.providers.size).toBe(left);
      expect(cfn.commandCalls(ListStackResourcesCommand)[0].args[0].input).toEqual({ StackName: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Prowler/1' });
    } finally {
      cfn.restore();
    }
  });

  test('Delete with destroy when the stack cannot be read removes nothing, and says so', async () => {
    s = await setup();
    const created = await deploy(s, cfnEvent('Create', { selection: {}, removal: 'destroy' }));
    const cfn = mockClient(CloudFormationClient);
    try {
      cfn.on(ListStackResourcesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
      await handleOnEvent(cfnEvent('Delete', { selection: {}, removal: 'destroy' }, { PhysicalResourceId: created.physicalId }), { ...s.env, cloudformation: new CloudFormationClient({ region: 'us-east-1' }) });
      expect(s.double.providers.size).toBe(11);
      expect(s.logs.some((l) => /could not read stack .* \(AccessDenied\): nothing removed/.test(l))).toBe(true);
    } finally {
      cfn.restore();
    }
  });

  test('Delete retains everything by default, without calling Prowler at all', async () => {
    s = await setup();
    const { physicalId } = await deploy(s, cfnEvent('Create', { selection: {} }));
    const before = s.double.requests.length;
    expect(await handleOnEvent(cfnEvent('Delete', { selection: {} }, { PhysicalResourceId: physicalId }), s.env)).toEqual({ PhysicalResourceId: physicalId });
    expect(s.double.requests.length).toBe(before);
    expect(s.double.providers.size).toBe(11);
    expect(await s.store.load(CURRENT_SPEC_KEY)).toBeUndefined(); // the sync stops
  });

  test('Delete with removal destroy deletes the organization\'s providers, and tolerates a second delete', async () => {
    s = await setup();
    const { physicalId } = await deploy(s, cfnEvent('Create', { selection: {} }));
    await handleOnEvent(cfnEvent('Delete', { selection: {}, removal: 'destroy' }, { PhysicalResourceId: physicalId }), s.env);
    expect(s.double.providers.size).toBe(0);
    await expect(handleOnEvent(cfnEvent('Delete', { selection: {}, removal: 'destroy' }, { PhysicalResourceId: physicalId }), s.env)).resolves.toEqual({ PhysicalResourceId: physicalId });
  });

  test('Delete with destroy that does not fit in onEvent goes on in the polls, each within its deadline', async () => {
    s = await setup();
    const { physicalId } = await deploy(s, cfnEvent('Create', { selection: {} }));
    // Each deletion takes 10 s of the invocation: 30 s of work each (the minimum) fits three.
    slowDeletes(s, 10_000);
    const remove = cfnEvent('Delete', { selection: {}, removal: 'destroy', concurrency: 1 }, { PhysicalResourceId: physicalId });
    await handleOnEvent(remove, s.env, 60_000);
    expect(s.double.providers.size).toBe(8);
    const polls: number[] = [];
    for (let complete = false; !complete;) {
      complete = (await handleIsComplete(remove, 60_000, s.env)).IsComplete;
      polls.push(s.double.providers.size);
      expect(polls.length).toBeLessThan(10);
    }
    expect(polls).toEqual([5, 2, 0]);
    expect(s.double.groups.size).toBe(0); // the group went with its last member
    expect([...s.store.objects.keys()].filter((k) => k.includes('runs/'))).toEqual([]);
  });

  test('a Create that syncs on Organizations events, with no trail recording them, warns in its report and log (and still succeeds)', async () => {
    s = await setup();
    const trails = mockClient(CloudTrailClient);
    trails.on(DescribeTrailsCommand).resolves({ trailList: [] });
    try {
      const env = { ...s.env, cloudtrail: new CloudTrailClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }) };
      await deploy({ ...s, env }, cfnEvent('Create', { selection: {} }));
      const report = await s.store.load<{ outcome: string; warnings: string[] }>(LATEST_REPORT_KEY);
      expect(report!.outcome).toBe('succeeded');
      expect(report!.warnings).toEqual([expect.stringMatching(/^No CloudTrail trail records global-service events in us-east-1/)]);
      expect(s.logs.some((l) => l.startsWith('No CloudTrail trail'))).toBe(true);
    } finally {
      trails.restore();
    }
  });

  test('Delete never touches another Prowler tenant than the one the resource onboarded', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {} }));
    const oldTenant = physicalIdOf(s.org.id, 'another-tenant');
    await handleOnEvent(cfnEvent('Delete', { selection: {}, removal: 'destroy' }, { PhysicalResourceId: oldTenant }), s.env);
    expect(s.double.providers.size).toBe(11);
    expect(s.logs.some((l) => l.startsWith('not removing anything: this resource onboarded Prowler tenant another-tenant'))).toBe(true);
  });

  test('Delete of a resource whose creation failed succeeds without doing anything', async () => {
    s = await setup();
    await expect(handleOnEvent(cfnEvent('Delete', { selection: {} }, { PhysicalResourceId: 'req-failed-create' }), s.env)).resolves.toEqual({ PhysicalResourceId: 'req-failed-create' });
    expect(s.double.requests).toHaveLength(0);
  });

  test('the API key appears in no response, state, report or log line', async () => {
    s = await setup();
    const result = await deploy(s, cfnEvent('Create', { selection: {} }));
    const everything = JSON.stringify(result) + [...s.store.objects.values()].join('') + s.logs.join('\n');
    expect(everything).not.toContain('LAMBDA-SECRET-KEY');
  });
});

describe('sync (schedule and Organizations events)', () => {
  let s: Setup;
  afterEach(() => s.stop());

  test('does nothing before a deployment completed', async () => {
    s = await setup();
    await handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 600_000, s.env);
    expect(s.double.requests).toHaveLength(0);
    expect(s.logs[0]).toMatch(/no onboarding is deployed yet/);
  });

  test('onboards an account that joined, with the deployed spec, on an Organizations event', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {} }));
    const joined = { ...s.org.accounts[1], id: '999999999991', name: 'new-account', email: 'new@example.com' };
    s.org.accounts.push(joined);
    await handleSync({ 'source': 'aws.organizations', 'detail-type': 'AWS API Call via CloudTrail', 'detail': { eventName: 'CreateAccountResult' } }, 600_000, s.env);
    expect(s.double.providerByUid('999999999991')).toBeDefined();
    expect(s.double.schedules.has(s.double.providerByUid('999999999991')!.id)).toBe(true);
    expect(s.logs.some((l) => l.startsWith('sync (Organizations event CreateAccountResult): 12 of 13 accounts selected'))).toBe(true);
    expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ outcome: 'succeeded', counts: { created: 1, unchanged: 11 } });
  });

  test.each(ORGANIZATIONS_EVENT_NAMES)(
    'a %s event re-runs the onboarding with the deployed spec', async (eventName) => {
      s = await setup();
      await deploy(s, cfnEvent('Create', { selection: {}, removal: 'unlink' }));
      const leaving = s.org.accounts.filter((a) => a.status === 'ACTIVE')[4];
      s.org.accounts.splice(s.org.accounts.indexOf(leaving), 1); // it left (or moved out of reach)
      await handleSync({ 'source': 'aws.organizations', 'detail-type': 'AWS API Call via CloudTrail', 'detail': { eventName } }, 600_000, s.env);
      expect(s.logs.some((l) => l.startsWith(`sync (Organizations event ${eventName}): 10 of 11 accounts selected`))).toBe(true);
      expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ departures: [expect.objectContaining({ accountId: leaving.id, outcome: 'unlinked' })] });
    });

  test('a sync that ends with the onboarding failed throws (Lambda counts it: metricSyncFailures), after saving its report', async () => {
    const newcomer = '999999999992';
    s = await setup({ connectionRule: (p) => (p.uid === newcomer ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    await deploy(s, cfnEvent('Create', { selection: {}, connection: { failurePolicy: 'fail', retryRounds: 0 } }));
    s.org.accounts.push({ ...s.org.accounts[1], id: newcomer, name: 'no-role-yet', email: 'n@example.com' });
    await expect(handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 600_000, s.env))
      .rejects.toThrow(/^The sync failed: There was a problem connecting to some accounts: 1 failed: 999999999992 \(AccessDenied/);
    expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ outcome: 'failed' });
  });

  test('a scheduled sync with nothing new changes nothing', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {} }));
    const before = s.double.requests.length;
    await handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 600_000, s.env);
    const writes = s.double.requests.slice(before).filter((r) => r.method !== 'GET' && !(r.path === '/api/v1/schedules/daily' && r.status === 409));
    expect(writes).toEqual([]);
    expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ outcome: 'succeeded', counts: { unchanged: 11, created: 0 } });
  });
});

describe('the tag cache in the state bucket', () => {
  let s: Setup;
  afterEach(() => s.stop());

  test('a scheduled sync with a tag rule reads no tags; a TagResource event has its account read again, and one recorded while the lease was held too', async () => {
    s = await setup();
    const tagReads: string[] = [];
    s.intercept((operation, input) => {
      if (operation === 'ListTagsForResource') tagReads.push(input.ResourceId);
      return undefined;
    });
    const spec = { selection: { excludeTags: [{ key: 'prowler-scan', value: 'false' }] } };
    await deploy(s, cfnEvent('Create', spec));
    const active = s.org.accounts.filter((a) => a.status === 'ACTIVE');
    expect(tagReads).toHaveLength(active.length);
    expect(Object.keys((await s.store.load<any>('onboarding/tags.json')).accounts)).toHaveLength(active.length);

    tagReads.length = 0;
    await handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 600_000, s.env);
    expect(tagReads).toEqual([]);
    expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ tags: { read: 0, cached: active.length } });

    const tagged = active[2];
    tagged.tags = { 'prowler-scan': 'false' };
    const tagEvent = (id: string) => ({
      'source': 'aws.organizations',
      'detail-type': 'AWS API Call via CloudTrail',
      'time': new Date(s.env.clock.now()).toISOString(),
      'detail': { eventName: 'TagResource', requestParameters: { resourceId: id, tags: [{ key: 'prowler-scan', value: 'false' }] } },
    });
    await handleSync(tagEvent(tagged.id), 600_000, s.env);
    expect(tagReads).toEqual([tagged.id]);
    expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ tags: { read: 1, cached: active.length - 1 } });
    expect(s.double.providerByUid(tagged.id)).toBeDefined(); // left the selection: retained

    // An event that finds the lease held is recorded with its account: the next run reads it again.
    tagReads.length = 0;
    const other = active[3];
    await acquireLease(s.store, 'someone-else', 'deploy', s.env.clock.now());
    await s.env.clock.sleep(1_000);
    await handleSync(tagEvent(other.id), 600_000, s.env);
    await releaseLease(s.store, 'someone-else');
    await s.env.clock.sleep(1_000);
    await handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 600_000, s.env);
    expect(tagReads).toEqual([other.id]);
  });
});

describe('the Terraform adapter (aws_lambda_invocation, lifecycle_scope CRUD)', () => {
  let s: Setup;
  afterEach(() => s.stop());
  const spec = (value: unknown) => JSON.stringify(value);

  test('create onboards in one invocation and returns the counts', async () => {
    s = await setup();
    const result = await handleTerraform({ Spec: spec({ selection: {} }), tf: { action: 'create', prev_input: null } }, 840_000, s.env);
    expect(result).toEqual({
      status: 'complete', ExternalId: s.double.tenantId, OrganizationId: s.org.id, Selected: '11', Registered: '11', Connected: '11', Failed: '0', Blocked: '0',
    });
    expect(await s.store.load(CURRENT_SPEC_KEY)).toMatchObject({ physicalId: physicalIdOf(s.org.id, s.double.tenantId) });
  });

  test('a destroy that does not fit in one invocation fails saying to run it again, and the next one goes on', async () => {
    s = await setup();
    await handleTerraform({ Spec: spec({ selection: {}, removal: 'destroy', concurrency: 1 }), tf: { action: 'create' } }, 840_000, s.env);
    expect(s.double.providers.size).toBe(11);
    slowDeletes(s, 10_000);
    const destroy = { Spec: spec({ selection: {}, removal: 'destroy', concurrency: 1 }), tf: { action: 'delete' } };
    // 180 s left: 30 s of work, three deletions.
    await expect(handleTerraform(destroy, 180_000, s.env)).rejects.toThrow(/8 of the organization's providers were still to remove .*run terraform destroy again/);
    expect(s.double.providers.size).toBe(8);
    await expect(handleTerraform(destroy, 180_000, s.env)).rejects.toThrow(/5 of the organization's providers/);
    await expect(handleTerraform(destroy, 840_000, s.env)).resolves.toEqual({ status: 'destroyed', providers: 5 });
    expect(s.double.providers.size).toBe(0);
    expect(s.double.groups.size).toBe(0);
  });

  test('update reconciles (an account that left is unlinked), with the same semantics as CloudFormation', async () => {
    s = await setup();
    await handleTerraform({ Spec: spec({ selection: {} }), tf: { action: 'create' } }, 840_000, s.env);
    const leaving = s.org.accounts.filter((a) => a.status === 'ACTIVE')[2].id;
    const result = await handleTerraform({ Spec: spec({ selection: { excludeAccounts: [leaving] }, removal: 'unlink' }), tf: { action: 'update', prev_input: { Spec: spec({ selection: {} }) } } }, 840_000, s.env);
    expect(result).toMatchObject({ status: 'complete', Selected: '10' });
    expect(s.double.groupNamed(organizationGroupName(s.org.id)).providerIds.has(s.double.providerByUid(leaving)!.id)).toBe(false);
  });

  test('destroy retains by default without calling Prowler; destroy with removal destroy deletes the providers', async () => {
    s = await setup();
    await handleTerraform({ Spec: spec({ selection: {} }), tf: { action: 'create' } }, 840_000, s.env);
    const before = s.double.requests.length;
    expect(await handleTerraform({ tf: { action: 'delete', prev_input: { Spec: spec({ selection: {} }) } } }, 840_000, s.env)).toEqual({ status: 'retained' });
    expect(s.double.requests.length).toBe(before);
    expect(await handleTerraform({ tf: { action: 'delete', prev_input: { Spec: spec({ selection: {}, removal: 'destroy' }) } } }, 840_000, s.env))
      .toEqual({ status: 'destroyed', providers: 11 });
    expect(s.double.providers.size).toBe(0);
  });

  test('what does not fit in one invocation is reported pending, and the scheduled sync finishes it', async () => {
    s = await setup({ connectionRule: (p, _s, attempt) => (p.uid === s.org.accounts[2].id && attempt < 2 ? { connected: false, error: 'AccessDenied' } : { connected: true }) });
    // 180 s left: 30 s of work, then the re-test round 60 s later does not fit.
    const result = await handleTerraform({ Spec: spec({ selection: {}, connection: { retryRounds: 1, retryDelaySeconds: 60 } }), tf: { action: 'create' } }, 180_000, s.env);
    expect(result).toMatchObject({ status: 'pending', Selected: '11' });
    expect(s.double.schedules.size).toBe(10); // those that connected are scheduled at once (skip policy)
    await handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 840_000, s.env);
    expect(s.double.schedules.size).toBe(11);
    expect(s.double.connectionAttempts.get(s.org.accounts[2].id)).toBe(2);
  });

  test('an unknown action fails with what is expected', async () => {
    s = await setup();
    await expect(handleTerraform({ Spec: '{}', tf: { action: 'read' } }, 840_000, s.env)).rejects.toThrow("Invalid Terraform invocation input: tf.action: must be one of 'create', 'update', 'delete', got 'read'");
  });
});


describe('Prowler Cloud through every entry point of the function', () => {
  let s: Setup;
  afterEach(async () => {
    // Never a request that deletes an organization or a node, with every provider under it.
    const cascades = s.double.requests.filter((r) => r.method === 'DELETE' && /\/organization(s|-nodes)\/[^/]+\/?$/.test(r.path));
    await s.stop();
    expect(cascades).toEqual([]);
  });

  test('Create onboards through the Prowler organization; a discovery longer than a poll is continued by the next poll, from its saved id', async () => {
    s = await lambdaSetup(KEY, SECRET_ARN, { cloud: { discoveryMs: 40_000 } });
    const { data, polls } = await deploy(s, cfnEvent('Create', { selection: {}, connection: { retryRounds: 0 } }));
    expect(data).toMatchObject({ Selected: '11', Registered: '11', Connected: '11', Failed: '0' });
    expect(polls).toBeGreaterThan(1);
    expect(s.double.requests.filter((r) => r.method === 'POST' && /\/discover$/.test(r.path))).toHaveLength(1);
    const [organization] = s.double.cloud.organizations();
    expect(s.double.cloud.providersOf(organization.id)).toHaveLength(11);
    expect(await s.store.load(LATEST_REPORT_KEY)).toMatchObject({ edition: 'cloud', cloud: { organizationId: organization.id }, outcome: 'succeeded' });
  });

  test('a scheduled sync with nothing new writes nothing; Delete with destroy deletes only what it created, one provider at a time', async () => {
    s = await lambdaSetup(KEY, SECRET_ARN, { cloud: true });
    const [, own] = s.org.accounts.filter((a) => a.status === 'ACTIVE');
    const mine = s.double.seedProvider(own.id, { alias: 'Mine', connected: false });
    const { physicalId } = await deploy(s, cfnEvent('Create', { selection: {}, removal: 'destroy' }));
    const before = s.double.requests.length;
    await handleSync({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }, 600_000, s.env);
    expect(s.double.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    await handleOnEvent(cfnEvent('Delete', { selection: {}, removal: 'destroy' }, { PhysicalResourceId: physicalId }), s.env);
    expect([...s.double.providers.values()].map((p) => p.id)).toEqual([mine.id]);
    expect(s.double.cloud.organizations()).toHaveLength(1);
  });

  test('unlink on Prowler Cloud fails the deployment before anything is written, saying what to do instead', async () => {
    s = await lambdaSetup(KEY, SECRET_ARN, { cloud: true });
    await expect(deploy(s, cfnEvent('Create', { selection: {}, removal: 'unlink' }))).rejects.toThrow(/'unlink' is not available on Prowler Cloud/);
    expect(s.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('the Terraform adapter onboards through the Prowler organization with a weekly schedule', async () => {
    s = await lambdaSetup(KEY, SECRET_ARN, { cloud: true });
    const result = await handleTerraform({
      Spec: JSON.stringify({ selection: {}, schedule: { frequency: 'weekly', dayOfWeek: 0, hour: 5, timeZone: 'Europe/Madrid' } }), tf: { action: 'create', prev_input: null },
    }, 840_000, s.env);
    expect(result).toMatchObject({ status: 'complete', Selected: '11', Connected: '11' });
    expect([...s.double.cloud.schedules().values()]).toHaveLength(11);
    expect([...s.double.cloud.schedules().values()].every((v) => v.scan_frequency === 'WEEKLY' && v.scan_day_of_week === 0 && v.scan_timezone === 'Europe/Madrid')).toBe(true);
  });
});

describe('environmentFromProcess (the function\'s configuration, as the constructs set it)', () => {
  const variables = onboardingEnvironment({
    apiUrl: 'https://api.prowler.com/api/v1',
    apiKeySecretArn: 'arn:aws-us-gov:secretsmanager:us-gov-east-1:111111111111:secret:prowler-AbCdEf',
    stateBucket: 'state-bucket',
    localPrecheck: true,
    stackSet: { name: 'members', callAs: 'DELEGATED_ADMIN', targets: { organizationalUnitIds: ['ou-ab12-abcdefgh'] } },
  });

  test('the partition comes from the invoked function\'s ARN; Organizations is called in its region', async () => {
    const env = environmentFromProcess('arn:aws-us-gov:lambda:us-gov-east-1:111111111111:function:sync', variables);
    expect(env).toMatchObject({ partition: 'aws-us-gov', prowlerApiUrl: 'https://api.prowler.com/api/v1', apiKeySecretArn: variables.PROWLER_API_KEY_SECRET_ARN });
    expect(await env.organizations.config.region()).toBe('us-gov-west-1');
    expect(env.sts).toBeInstanceOf(STSClient);
    expect(env.stackSet).toMatchObject({ name: 'members', callAs: 'DELEGATED_ADMIN', targets: { organizationalUnitIds: ['ou-ab12-abcdefgh'] } });
    expect(env.store).toBeInstanceOf(S3JsonStore);
  });

  test('syncing on Organizations events: CloudTrail is read in the Organizations region; otherwise not at all', async () => {
    const env = environmentFromProcess('arn:aws-us-gov:lambda:us-gov-east-1:111111111111:function:sync', { ...variables, ORGANIZATION_EVENTS: 'true' });
    expect(await env.cloudtrail!.config.region()).toBe('us-gov-west-1');
    expect(environmentFromProcess('arn:aws:lambda:eu-west-1:111111111111:function:sync', variables).cloudtrail).toBeUndefined();
  });

  test('no pre-check, no StackSet: no STS client, nothing to wait for', () => {
    const { LOCAL_PRECHECK: _p, STACKSET_NAME: _n, STACKSET_CALL_AS: _c, STACKSET_TARGETS: _t, ...plain } = variables;
    const env = environmentFromProcess('arn:aws:lambda:eu-west-1:111111111111:function:sync', plain);
    expect(env.partition).toBe('aws');
    expect(env.sts).toBeUndefined();
    expect(env.stackSet).toBeUndefined();
  });

  test('a function deployed without the construct\'s variables says which are missing', () => {
    expect(() => environmentFromProcess('arn:aws:lambda:eu-west-1:111111111111:function:sync', {}))
      .toThrow(/PROWLER_API_URL is not set; PROWLER_API_KEY_SECRET_ARN is not set; STATE_BUCKET is not set\): deploy it with the construct/);
  });
});

describe('one run at a time (the lease in the state bucket)', () => {
  let s: Setup;
  afterEach(() => s.stop());
  const orgEvent = (eventName: string, at: number) => ({
    'source': 'aws.organizations', 'detail-type': 'AWS API Call via CloudTrail', 'time': new Date(at).toISOString(), 'detail': { eventName },
  });
  const writes = (from: number) => s.double.requests.slice(from).filter((r) => r.method !== 'GET');

  test('a CloudFormation Update while a sync holds the onboarding waits for it, then completes', async () => {
    s = await setup();
    const created = await deploy(s, cfnEvent('Create', { selection: {} }));
    await acquireLease(s.store, 'sync:running', 'sync', s.env.clock.now(), 16 * 60_000);
    const update = cfnEvent('Update', { selection: {}, scanMode: 'once' }, { PhysicalResourceId: created.physicalId });
    await handleOnEvent(update, s.env);
    const before = s.double.requests.length;
    expect(await handleIsComplete(update as never, 300_000, s.env)).toEqual({ IsComplete: false });
    expect(writes(before)).toEqual([]);
    expect(s.logs.some((l) => l.startsWith('waiting: a sync run of this onboarding (sync:running) holds its lease since 1970-01-01T00:'))).toBe(true);
    await releaseLease(s.store, 'sync:running');
    expect(await handleIsComplete(update as never, 300_000, s.env)).toMatchObject({ IsComplete: true });
  });

  test('ten simultaneous Organizations events run one sync, with one set of requests', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {} }));
    s.org.accounts.push({ ...s.org.accounts[1], id: '999999999993', name: 'joined', email: 'j@example.com' });
    const before = s.double.requests.length;
    await Promise.all(Array.from({ length: 10 }, () => handleSync(orgEvent('CreateAccountResult', s.env.clock.now()), 600_000, s.env)));
    expect(writes(before).filter((r) => r.method === 'POST' && r.path === '/api/v1/providers')).toHaveLength(1);
    expect(s.logs.filter((l) => l.includes('the trigger is recorded, and that run serves it before it finishes')).length).toBe(9);
    // One run's writes: the new account onboarded once.
    const shape = (path: string) => path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}');
    expect(writes(before).map((r) => `${r.method} ${shape(r.path)}`).sort()).toEqual([
      'POST /api/v1/provider-groups/{id}/relationships/providers', 'POST /api/v1/providers', 'POST /api/v1/providers/secrets',
      'POST /api/v1/providers/{id}/connection', 'POST /api/v1/schedules/daily',
    ]);
  });

  test('an event older than the last sync\'s start is already covered: nothing runs', async () => {
    s = await setup();
    await deploy(s, cfnEvent('Create', { selection: {} }));
    await s.env.clock.sleep(60_000);
    await handleSync(orgEvent('MoveAccount', s.env.clock.now()), 600_000, s.env);
    const before = s.double.requests.length;
    await handleSync(orgEvent('MoveAccount', s.env.clock.now() - 30_000), 600_000, s.env);
    expect(s.double.requests.length).toBe(before);
    expect(s.logs.some((l) => /already covered by the sync that started at/.test(l))).toBe(true);
  });

  test('Terraform waits for a running sync, and gives up with a message when it runs too long', async () => {
    s = await setup();
    await acquireLease(s.store, 'sync:slow', 'sync', s.env.clock.now(), 60 * 60_000);
    await expect(handleTerraform({ Spec: JSON.stringify({ selection: {} }), tf: { action: 'create' } }, 900_000, s.env))
      .rejects.toThrow(/a sync run of this onboarding \(sync:slow\) holds its lease since .*; still so after 360 s of waiting: retry when it has finished/);
    expect(s.double.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('Terraform destroy never touches another Prowler tenant than the one it onboarded', async () => {
    s = await setup();
    await handleTerraform({ Spec: JSON.stringify({ selection: {}, removal: 'destroy' }), tf: { action: 'create' } }, 900_000, s.env);
    await s.store.save(CURRENT_SPEC_KEY, { physicalId: physicalIdOf(s.org.id, 'a-tenant-before-the-key-rotation'), spec: { selection: {} } });
    const providers = s.double.providers.size;
    const result = await handleTerraform({ tf: { action: 'delete', prev_input: { Spec: JSON.stringify({ selection: {}, removal: 'destroy' }) } } }, 900_000, s.env);
    expect(result).toMatchObject({ status: 'retained', reason: expect.stringMatching(/another Prowler tenant/) });
    expect(s.double.providers.size).toBe(providers);
    expect(s.double.requests.some((r) => r.method === 'DELETE')).toBe(false);
  });
});
