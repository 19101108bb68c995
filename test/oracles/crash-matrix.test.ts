/**
 * A crash matrix of the shipped Lambda bundle (lib/handler-bundle/index.js): every invocation in
 * its own `node` process with only its environment, as Lambda runs it, against moto (the S3 state
 * bucket, the API key in Secrets Manager, an organization built through Organizations' API) and
 * the Prowler API double in this process.
 *
 * For each lifecycle step (a CloudFormation Create, an Update, a scheduled sync, a Terraform
 * create) and each k = 1, 2, 3, …, the process is SIGKILLed when the step's k-th Prowler request
 * arrives (the double serves it: its effect happens, its answer is lost), until a run completes
 * without reaching k. Time passes (the killed invocation's lease is made to look expired), the
 * lifecycle is finished as AWS and a user would finish it (a killed isComplete is polled again with
 * the same event; a killed onEvent fails the operation and CloudFormation rolls it back, then the
 * user deploys again; a killed sync or Terraform invocation is run again), and the onboarding is
 * deleted with `removal: 'destroy'` (a CloudFormation Delete, onEvent and isComplete; the Terraform
 * cycle ends as a Terraform user's does, with the invocation's destroy). Then, whatever was killed:
 *  - no account has two providers, and no account's provider was ever re-created under a new id;
 *  - every provider the onboarding created (POST /providers answered 201) is deleted;
 *  - every hand-made provider is still there with its alias, and no DELETE was ever sent for one.
 * Also: a first Create that fails (POST /provider-groups answers 503 on every poll) and
 * CloudFormation's rollback Delete. Mismatches are collected over the whole matrix and printed with
 * a figure line; every one, with the story of its case, goes to test-reports/crash-matrix.txt.
 *
 * It runs the bundle as built: `npx projen bundle:handler` first (the figure line says when the
 * bundle is older than src/handler). CRASH_MATRIX_BUNDLE runs another build (say, an older
 * commit's, for comparison); CRASH_MATRIX_PARALLEL sets the cases run at once (default 3).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateAccountCommand, CreateOrganizationalUnitCommand, CreateOrganizationCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient,
  TagResourceCommand, UntagResourceCommand,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CUSTOM_RESOURCE_TYPE, onboardingEnvironment, onboardingFunctions, SPEC_PROPERTY, STATE_KEYS, TERRAFORM_KEY } from '../../src/core/onboarding';
import { ProwlerApiDouble, type Fault } from '../../testing/prowler-api-double';
import { BUNDLE_PATH, expiredLease, expireLease, invokeBundle, type Invocation } from '../support/bundle-process';
import { startMoto, useMotoEndpoint, type Moto } from '../support/moto';
import { describeWith, MOTO_SERVER } from '../support/oracles';

const KEY = 'pk_crash-matrix-key-0123456789';
/** Where every mismatch is written, with the story of its case. */
const REPORT_DIR = join(__dirname, '..', '..', 'test-reports');
/** Cases run at once (each has its own double and state bucket; the organization is shared and read-only but for its own tag). */
const PARALLEL = Number(process.env.CRASH_MATRIX_PARALLEL ?? 3);
/** Polls of one CloudFormation operation before the Provider framework's timeout is taken to have come. */
const MAX_POLLS = 6;
/** Deployments, re-runs or deletions a user makes before giving up. */
const MAX_ATTEMPTS = 4;
/** What the CDK Provider framework answers for a resource whose Create failed in onEvent: its Delete never reaches the handler. */
const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** Each entry point's time (its function's timeout), as getRemainingTimeInMillis says at the start. */
const REMAINING_MS: Record<string, number> = Object.fromEntries([...onboardingFunctions('cloudformation'), ...onboardingFunctions('terraform')]
  .map((f) => [f.handler.replace(/^index\./, ''), f.timeoutSeconds * 1000]));

type Step = 'create' | 'update' | 'sync' | 'terraform';

/** The organization: 6 member accounts in 3 OUs, and the management account (not selected). */
interface World {
  readonly moto: Moto;
  readonly s3: S3Client;
  readonly organizations: OrganizationsClient;
  readonly secretArn: string;
  readonly stackId: string;
  readonly ous: Record<'Prod' | 'Dev' | 'Parking', string>;
  /** Account id by name: prod-1, prod-2, dev-1, dev-2, park-1, park-2. */
  readonly accounts: Record<string, string>;
  readonly names: Map<string, string>;
}

/** One run of the lifecycle, with its own double and state bucket. */
interface Case {
  readonly name: string;
  readonly step: Step | 'failed-create';
  readonly k?: number;
  readonly double: ProwlerApiDouble;
  readonly bucket: string;
  readonly environment: Record<string, string>;
  readonly handMade: ReadonlyArray<{ readonly id: string; readonly uid: string; readonly alias: string }>;
  /** Provider id → account id, for every POST /providers answered 201. */
  readonly created: Map<string, string>;
  /** Account id → every provider id it had during the lifecycle. */
  readonly idsOf: Map<string, Set<string>>;
  /** The kill: armed during the step, fired at its k-th Prowler request. */
  readonly kill: { armed: boolean; seen: number; fired?: string };
  /** Faults other than the kill (the failed-Create case). */
  fault?: (request: { method: string; path: string }) => Fault | undefined;
  child?: ChildProcess;
  /** What happened, in order (for the mismatch descriptions). */
  readonly story: string[];
  /** Harness-level problems: an operation that never completed, a hung process. */
  readonly problems: string[];
  /** The record in the state bucket before the final deletion. */
  recordBeforeDelete?: { created?: Record<string, string>; linked?: Record<string, string> };
}

interface Figures {
  cases: number;
  kills: number;
  invocations: number;
  /** Wall time per entry point: invocations and milliseconds. */
  readonly time: Record<string, { n: number; ms: number; runMs: number }>;
  readonly mismatches: string[];
  /** Mismatches by kind (step and message, counts left out), with the first case that showed it. */
  readonly kinds: Map<string, { count: number; example: string }>;
  readonly perStep: Record<string, { cases: number; kills: number; mismatched: number; maxK: number; note?: string }>;
}

const figures: Figures = { cases: 0, kills: 0, invocations: 0, time: {}, mismatches: [], kinds: new Map(), perStep: {} };

function tally(step: string, at: string, messages: readonly string[]): void {
  for (const m of messages) {
    const kind = `${step}: ${m.replace(/\b\d+ later\b/, 'N later').replace(/\(\d+ ids\b/, '(N ids').replace(/ \(answered \d+\)/, '')}`;
    const seen = figures.kinds.get(kind);
    if (seen) seen.count++;
    else figures.kinds.set(kind, { count: 1, example: at });
  }
}

/** The story with repeats counted: "isComplete threw: … ×6". */
const told = (story: readonly string[]) => story
  .reduce<Array<[string, number]>>((acc, line) => {
    const last = acc[acc.length - 1];
    if (last && last[0] === line) last[1]++;
    else acc.push([line, 1]);
    return acc;
  }, [])
  .map(([line, n]) => (n > 1 ? `${line} ×${n}` : line)).join(' | ') || 'no failure';

const short = (path: string) => path.replace(/^\/api\/v1/, '').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}');

test('crash matrix support: the lease helper expires every expiry and heartbeat field, whatever else the lease holds', () => {
  expect(expiredLease({ owner: 'deploy:x', kind: 'deploy', expiresAt: 1_800_000_000_000 })).toEqual({
    lease: { owner: 'deploy:x', kind: 'deploy', expiresAt: 0 }, changed: ['expiresAt'], times: 1,
  });
  expect(expiredLease({ owner: 'sync:1', kind: 'sync', since: 1_700_000_000_000, heartbeatAt: 1_700_000_060_000, expiresAt: 1_700_000_180_000, fence: 7 })).toEqual({
    lease: { owner: 'sync:1', kind: 'sync', since: 1_700_000_000_000, heartbeatAt: 0, expiresAt: 0, fence: 7 }, changed: ['heartbeatAt', 'expiresAt'], times: 2,
  });
  expect(expiredLease({ owner: 'o', holder: { validUntil: 5, renewedAt: 3 } }).changed).toEqual(['holder.validUntil', 'holder.renewedAt']);
});

describeWith(MOTO_SERVER, 'crash matrix: the shipped bundle killed at every Prowler request of each lifecycle step, then deleted with destroy', () => {
  let world: World;
  let undoEndpoint: () => void;

  beforeAll(async () => {
    const moto = await startMoto();
    undoEndpoint = useMotoEndpoint(moto.url);
    const organizations = new OrganizationsClient({ region: 'us-east-1' });
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const rootId = (await organizations.send(new ListRootsCommand({}))).Roots![0].Id!;
    const ous = {} as Record<'Prod' | 'Dev' | 'Parking', string>;
    for (const name of ['Prod', 'Dev', 'Parking'] as const) {
      ous[name] = (await organizations.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: name }))).OrganizationalUnit!.Id!;
    }
    const accounts: Record<string, string> = {};
    for (const [name, ou] of [['prod-1', 'Prod'], ['prod-2', 'Prod'], ['dev-1', 'Dev'], ['dev-2', 'Dev'], ['park-1', 'Parking'], ['park-2', 'Parking']] as const) {
      const id = (await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }))).CreateAccountStatus!.AccountId!;
      await organizations.send(new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: ous[ou] }));
      accounts[name] = id;
    }
    const s3 = new S3Client({ forcePathStyle: true });
    const secretArn = (await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: 'prowler/crash-matrix-key', SecretString: KEY }))).ARN!;
    // A Delete reads its stack (is another onboarding resource taking this one's place?): a stack without one.
    const stackId = (await new CloudFormationClient({}).send(new CreateStackCommand({
      StackName: 'crash-matrix', TemplateBody: JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }),
    }))).StackId!;
    const names = new Map(Object.entries(accounts).map(([name, id]) => [id, name]));
    names.set('123456789012', 'management');
    world = { moto, s3, organizations, secretArn, stackId, ous, accounts, names };
  }, 120_000);

  afterAll(async () => {
    const bundleAge = bundleStaleness();
    const steps = Object.entries(figures.perStep)
      .map(([step, f]) => `${step}: ${f.cases} cases, ${f.kills} kills (k up to ${f.maxK}), ${f.mismatched} mismatched${f.note ? ` (${f.note})` : ''}`).join('; ');
    const lines = [
      '',
      `CRASH MATRIX: ${figures.cases} cases, ${figures.kills} kills, ${figures.mismatches.length} mismatches, ${figures.invocations} bundle invocations`,
      `  per step: ${steps}`,
      `  invocations (count, mean ms of the process, of the handler): ${Object.entries(figures.time)
        .map(([entry, t]) => `${entry} ${t.n}, ${Math.round(t.ms / t.n)}, ${Math.round(t.runMs / t.n)}`).join('; ')}`,
      `  bundle: ${BUNDLE_PATH} ${bundleAge}`,
      '  mismatches by kind (cases showing it, first case):',
      ...[...figures.kinds].map(([kind, { count, example }]) => `    ${count}× ${kind} (first: ${example})`),
      ...figures.mismatches.slice(0, 3).map((m, i) => `  mismatch ${i + 1}: ${m}`),
      ...(figures.mismatches.length > 3 ? [`  … and ${figures.mismatches.length - 3} more, each with its story, in test-reports/crash-matrix.txt`] : []),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    try {
      mkdirSync(REPORT_DIR, { recursive: true });
      writeFileSync(join(REPORT_DIR, 'crash-matrix.txt'), [...lines, 'every mismatch:', ...figures.mismatches, ''].join('\n'));
    } catch (error) {
      process.stdout.write(`could not write ${REPORT_DIR}/crash-matrix.txt: ${(error as Error).message}\n`);
    }
    undoEndpoint?.();
    await world?.moto.stop();
  });

  // ---- The specs ----

  const base = (extra: object = {}) => ({
    // The management account left out: 4 member accounts, 2 of them a user's (the matrix stays small).
    selection: { excludeOus: [world.ous.Parking], includeManagementAccount: false },
    scanMode: 'daily',
    connection: { retryRounds: 0 },
    // One request at a time: the k-th request is the same one from run to run.
    concurrency: 1,
    ...extra,
  });
  /** The Update: Dev leaves the selection (dev-1 is a user's provider, dev-2 the onboarding's), Parking joins; destroy from now on. */
  const updated = () => ({ ...base(), selection: { excludeOus: [world.ous.Dev], includeManagementAccount: false }, removal: 'destroy' });

  // ---- One case ----

  async function newCase(step: Case['step'], k?: number): Promise<Case> {
    const name = `${step}${k === undefined ? '' : `-k${k}`}`;
    let c: Case | undefined;
    const double = await new ProwlerApiDouble({
      apiKeys: [KEY],
      // Every account's ProwlerScan role is in place.
      connectionRule: () => ({ connected: true }),
      fault: (request) => {
        if (c && c.kill.armed && !c.kill.fired && c.child && k !== undefined) {
          c.kill.seen++;
          if (c.kill.seen === k) {
            c.kill.fired = `${request.method} ${short(request.path)}`;
            c.child.kill('SIGKILL'); // before the answer is written: the request is served, its answer never read
          }
        }
        return c?.fault?.(request);
      },
    }).start();
    // A user's earlier manual onboarding: prod-1 in no group, dev-1 in a group of their own.
    const roleOf = (id: string) => ({ role_arn: `arn:aws:iam::${id}:role/ProwlerScan`, external_id: double.tenantId });
    const a = double.seedProvider(world.accounts['prod-1'], { alias: 'hand-made-a', connected: true, secret: roleOf(world.accounts['prod-1']) });
    const b = double.seedProvider(world.accounts['dev-1'], { alias: 'hand-made-b', connected: true, secret: roleOf(world.accounts['dev-1']), groupName: 'team-b' });
    const bucket = `crash-${name}-${randomUUID().slice(0, 8)}`.toLowerCase();
    await world.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const aws = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('AWS_'))) as Record<string, string>;
    c = {
      name,
      step,
      k,
      double,
      bucket,
      environment: { ...aws, ...onboardingEnvironment({ apiUrl: double.url, apiKeySecretArn: world.secretArn, stateBucket: bucket, logLevel: 'WARN' }) },
      handMade: [a, b].map((p) => ({ id: p.id, uid: p.uid, alias: p.alias! })),
      created: new Map(),
      idsOf: new Map([[a.uid, new Set([a.id])], [b.uid, new Set([b.id])]]),
      kill: { armed: false, seen: 0 },
      story: [],
      problems: [],
    };
    const theCase = c;
    // Every provider a create answered 201 for, with its id (the request log has no answers).
    const dispatch = double.dispatch.bind(double);
    double.dispatch = (method, url, headers, raw) => {
      const answer = dispatch(method, url, headers, raw);
      if (method === 'POST' && url.pathname === '/api/v1/providers' && answer.status === 201) {
        const { id, attributes } = JSON.parse(answer.body!).data as { id: string; attributes: { uid: string } };
        theCase.created.set(id, attributes.uid);
        if (!theCase.idsOf.has(attributes.uid)) theCase.idsOf.set(attributes.uid, new Set());
        theCase.idsOf.get(attributes.uid)!.add(id);
      }
      return answer;
    };
    return c;
  }

  const accountName = (uid: string) => world.names.get(uid) ?? uid;

  /** One invocation of the bundle; after a kill, the time its lease would take to expire passes. */
  async function invoke(c: Case, entry: string, event: unknown): Promise<Invocation> {
    figures.invocations++;
    const result = await invokeBundle(entry, event, c.environment, {
      remainingMs: REMAINING_MS[entry],
      hangMs: 120_000,
      onSpawn: (child) => { c.child = child; },
    });
    c.child = undefined;
    const spent = (figures.time[`${entry}${result.outcome === 'killed' ? ' (killed)' : ''}`] ??= { n: 0, ms: 0, runMs: 0 });
    spent.n++;
    spent.ms += result.ms;
    spent.runMs += 'runMs' in result ? result.runMs ?? 0 : 0;
    if (result.outcome === 'killed' || result.outcome === 'hung' || result.outcome === 'died') {
      const lease = await expireLease(world.s3, c.bucket, STATE_KEYS.lease);
      const leaseNote = !lease.found ? 'no lease object'
        : lease.changed.length ? `its lease ${JSON.stringify(lease.lease)} expired (${lease.changed.join(', ')} set to 0)` : 'the lease was released already';
      c.story.push(`${entry} ${result.outcome}${result.outcome === 'killed' ? ` at ${c.kill.fired}` : ''}; ${leaseNote}`);
      if (result.outcome !== 'killed') c.problems.push(`${entry} ${result.outcome}: ${result.output.slice(-600)}`);
    } else if (result.outcome === 'threw') {
      c.story.push(`${entry} threw: ${result.error.slice(0, 300)}`);
    }
    return result;
  }

  const described = (r: Invocation) => (r.outcome === 'returned' ? `returned ${JSON.stringify(r.value).slice(0, 200)}` : r.outcome === 'threw' ? `threw ${r.error.slice(0, 300)}` : r.outcome);

  // ---- CloudFormation, as the CDK Provider framework drives it ----

  function cfnEvent(type: 'Create' | 'Update' | 'Delete', spec: object, extra: Record<string, unknown> = {}) {
    const serviceToken = 'arn:aws:lambda:us-east-1:123456789012:function:crash-matrix-framework-onEvent';
    return {
      RequestType: type,
      ServiceToken: serviceToken,
      ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/crash-matrix',
      StackId: world.stackId,
      RequestId: randomUUID(),
      LogicalResourceId: 'Onboarding',
      ResourceType: CUSTOM_RESOURCE_TYPE,
      ResourceProperties: { ServiceToken: serviceToken, [SPEC_PROPERTY]: JSON.stringify(spec) },
      ...extra,
    };
  }

  /**
   * One CloudFormation operation: onEvent, then isComplete with the same event (and onEvent's
   * answer) until complete. A failed or killed onEvent fails the operation; a failed or killed
   * isComplete is polled again, until the framework's timeout.
   */
  type Operation = { ok: boolean; physicalId?: string; why?: string };
  async function cfnOperation(c: Case, event: ReturnType<typeof cfnEvent> & { PhysicalResourceId?: string }): Promise<Operation> {
    if (event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED_MARKER) {
      c.story.push('rollback Delete of a resource whose Create failed in onEvent: the framework answers it without the handler');
      return { ok: true };
    }
    const first = await invoke(c, 'onEvent', event);
    if (first.outcome !== 'returned') {
      return { ok: false, physicalId: event.PhysicalResourceId ?? CREATE_FAILED_MARKER, why: `onEvent ${described(first)}` };
    }
    const answer = (first.value ?? {}) as { PhysicalResourceId?: string; Data?: unknown };
    const physicalId = answer.PhysicalResourceId ?? event.PhysicalResourceId;
    const poll = { ...event, PhysicalResourceId: physicalId, ...(answer.Data ? { Data: answer.Data } : {}) };
    let last = '';
    for (let i = 0; i < MAX_POLLS; i++) {
      const r = await invoke(c, 'isComplete', poll);
      if (r.outcome === 'returned' && (r.value as { IsComplete?: boolean } | null)?.IsComplete) return { ok: true, physicalId };
      last = described(r);
    }
    return { ok: false, physicalId, why: `isComplete not complete after ${MAX_POLLS} polls (last: ${last})` };
  }

  /** A stack's Create: on failure CloudFormation rolls it back (a Delete), and the user deploys again. */
  async function deployCreate(c: Case, spec: object): Promise<string | undefined> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const create = await cfnOperation(c, cfnEvent('Create', spec));
      if (create.ok) return create.physicalId;
      c.story.push(`Create failed (${create.why}): rolled back`);
      const rollback = await cfnOperation(c, cfnEvent('Delete', spec, { PhysicalResourceId: create.physicalId }));
      if (!rollback.ok) c.problems.push(`the rollback Delete after a failed Create failed: ${rollback.why}`);
    }
    c.problems.push(`the Create never succeeded in ${MAX_ATTEMPTS} deployments`);
    return undefined;
  }

  /** An Update: on failure CloudFormation rolls back to the old properties, and the user deploys again. */
  async function deployUpdate(c: Case, physicalId: string, from: object, to: object): Promise<boolean> {
    const props = (spec: object) => ({ ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:crash-matrix-framework-onEvent', [SPEC_PROPERTY]: JSON.stringify(spec) });
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const update = await cfnOperation(c, cfnEvent('Update', to, { PhysicalResourceId: physicalId, OldResourceProperties: props(from) }));
      if (update.ok) return true;
      c.story.push(`Update failed (${update.why}): rolled back`);
      const rollback = await cfnOperation(c, cfnEvent('Update', from, { PhysicalResourceId: physicalId, OldResourceProperties: props(to) }));
      if (!rollback.ok) c.problems.push(`UPDATE_ROLLBACK_FAILED: ${rollback.why}`);
    }
    c.problems.push(`the Update never succeeded in ${MAX_ATTEMPTS} deployments`);
    return false;
  }

  /** The stack's deletion, retried by the user until it succeeds. */
  async function deleteStack(c: Case, physicalId: string, spec: object): Promise<void> {
    c.recordBeforeDelete = await loadJson(c.bucket, STATE_KEYS.record);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const deletion = await cfnOperation(c, cfnEvent('Delete', spec, { PhysicalResourceId: physicalId }));
      if (deletion.ok) return;
      c.story.push(`Delete failed (${deletion.why})`);
    }
    c.problems.push(`the Delete never succeeded in ${MAX_ATTEMPTS} attempts`);
  }

  /** The scheduled sync, triggered again after a failure or a kill (the next schedule). */
  async function syncUntilDone(c: Case): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const r = await invoke(c, 'sync', { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'time': new Date().toISOString(), 'detail': {} });
      if (r.outcome === 'returned') return;
    }
    c.problems.push(`the sync never succeeded in ${MAX_ATTEMPTS} runs`);
  }

  /** `terraform apply` (or destroy), run again by the user after a failure or a kill. */
  async function terraformUntilDone(c: Case, payload: object, done: (value: any) => boolean): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const r = await invoke(c, 'terraform', payload);
      if (r.outcome === 'returned' && done(r.value)) return;
      if (r.outcome === 'returned') c.story.push(`terraform ${described(r)}`);
    }
    c.problems.push(`terraform ${JSON.stringify((payload as { tf: unknown }).tf)} never completed in ${MAX_ATTEMPTS} runs`);
  }

  async function loadJson<T>(bucket: string, key: string): Promise<T | undefined> {
    try {
      const object = await world.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return JSON.parse(await object.Body!.transformToString()) as T;
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  // ---- The lifecycles ----

  /** Runs `step` of the lifecycle with the kill armed; what comes before and after is not killed. */
  async function armed<T>(c: Case, step: () => Promise<T>): Promise<T> {
    c.kill.armed = true;
    try {
      return await step();
    } finally {
      c.kill.armed = false;
    }
  }

  const cycles: Record<Step, (c: Case) => Promise<void>> = {
    create: async (c) => {
      const spec = base({ removal: 'destroy' });
      const physicalId = await armed(c, () => deployCreate(c, spec));
      if (physicalId) await deleteStack(c, physicalId, spec);
    },
    update: async (c) => {
      const physicalId = await deployCreate(c, base());
      if (!physicalId) return;
      await armed(c, () => deployUpdate(c, physicalId, base(), updated()));
      await deleteStack(c, physicalId, updated());
    },
    sync: async (c) => {
      // prod-2 is left out of the Create by a tag of this case's own; untagged, the sync onboards it.
      const tag = `crash-${c.name}`;
      await world.organizations.send(new TagResourceCommand({ ResourceId: world.accounts['prod-2'], Tags: [{ Key: tag, Value: 'skip' }] }));
      const spec = base({ selection: { excludeOus: [world.ous.Parking], includeManagementAccount: false, excludeTags: [{ key: tag }] }, removal: 'destroy' });
      try {
        const physicalId = await deployCreate(c, spec);
        if (!physicalId) return;
        await world.organizations.send(new UntagResourceCommand({ ResourceId: world.accounts['prod-2'], TagKeys: [tag] }));
        await armed(c, () => syncUntilDone(c));
        await deleteStack(c, physicalId, spec);
      } finally {
        await world.organizations.send(new UntagResourceCommand({ ResourceId: world.accounts['prod-2'], TagKeys: [tag] }));
      }
    },
    terraform: async (c) => {
      const Spec = JSON.stringify(base({ removal: 'destroy' }));
      await armed(c, () => terraformUntilDone(c, { Spec, [TERRAFORM_KEY]: { action: 'create', prev_input: null } }, (v) => v?.status === 'complete'));
      c.recordBeforeDelete = await loadJson(c.bucket, STATE_KEYS.record);
      // A Terraform onboarding ends with terraform destroy (the Delete of the aws_lambda_invocation).
      await terraformUntilDone(c, { Spec, [TERRAFORM_KEY]: { action: 'delete', prev_input: { Spec } } }, (v) => v?.status === 'destroyed');
    },
  };

  // ---- The invariants ----

  function mismatches(c: Case): string[] {
    const out: string[] = [...c.problems];
    const providers = [...c.double.providers.values()];
    const byUid = new Map<string, string[]>();
    for (const p of providers) byUid.set(p.uid, [...(byUid.get(p.uid) ?? []), p.id]);
    for (const [uid, ids] of byUid) if (ids.length > 1) out.push(`duplicate providers for ${accountName(uid)}: ${ids.length}`);
    for (const [uid, ids] of c.idsOf) {
      if (ids.size > 1) out.push(`${accountName(uid)}'s provider was re-created under a new id (${ids.size} ids during the lifecycle)`);
    }
    const handMade = new Set(c.handMade.map((h) => h.id));
    for (const [id, uid] of c.created) {
      if (!c.double.providers.has(id)) continue;
      const record = c.recordBeforeDelete;
      const recorded = record?.created?.[id] ? 'recorded as created' : record?.linked?.[id] ? 'recorded as LINKED' : 'NOT in the record';
      const conflicts = c.double.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/providers' && r.status === 409 && r.body?.data?.attributes?.uid === uid).length;
      out.push(`${accountName(uid)}'s provider, created by the onboarding (201), survived the destroy (before the deletion it was ${recorded}; `
        + `${conflicts} later POST /providers for it answered 409)`);
    }
    for (const h of c.handMade) {
      const p = c.double.providers.get(h.id);
      if (!p) out.push(`hand-made provider of ${accountName(h.uid)} (${h.alias}) was deleted`);
      else if (p.alias !== h.alias) out.push(`hand-made provider of ${accountName(h.uid)} lost its alias: ${h.alias} → ${p.alias}`);
    }
    for (const r of c.double.requests) {
      const id = r.path.match(/^\/api\/v1\/providers\/([^/]+)$/)?.[1];
      if (r.method === 'DELETE' && id && handMade.has(id)) out.push(`DELETE ${short(r.path)} of a hand-made provider was sent (answered ${r.status})`);
    }
    return out;
  }

  async function runCase(step: Step, k: number): Promise<{ fired: boolean; mismatches: string[] }> {
    const c = await newCase(step, k);
    try {
      try {
        await cycles[step](c);
      } catch (error) {
        c.problems.push(`harness error: ${(error as Error).stack ?? error}`);
      }
      const found = mismatches(c);
      const fired = c.kill.fired !== undefined;
      const f = (figures.perStep[step] ??= { cases: 0, kills: 0, mismatched: 0, maxK: 0 });
      f.cases++;
      figures.cases++;
      if (fired) {
        f.kills++;
        figures.kills++;
        f.maxK = Math.max(f.maxK, k);
      }
      const at = fired ? `killed at request ${k} (${c.kill.fired})` : `k=${k} not reached (no kill)`;
      const lines = found.map((m) => `${step} ${at}: ${m} [story: ${told(c.story)}]`);
      if (found.length > 0) f.mismatched++;
      figures.mismatches.push(...lines);
      tally(step, at, found);
      return { fired, mismatches: lines };
    } finally {
      await c.double.stop();
    }
  }

  /** k = 1, 2, 3, … (PARALLEL at a time) until a run completes without reaching k. */
  async function matrix(step: Step): Promise<void> {
    for (let k = 1; ; k += PARALLEL) {
      const batch = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => runCase(step, k + i)));
      if (!batch[batch.length - 1].fired) break;
      if (k > 500) throw new Error(`${step}: still killing at k=${k}: a run that never ends?`);
    }
  }

  /** A step's mismatches by kind: how many of its cases showed each, and the first. */
  const kindsOf = (step: string) => [...figures.kinds]
    .filter(([kind]) => kind.startsWith(`${step}: `))
    .map(([kind, { count, example }]) => `${count} of ${figures.perStep[step]?.cases ?? 0} cases: ${kind.slice(step.length + 2)} (first: ${example})`);

  for (const step of ['create', 'update', 'sync', 'terraform'] as const) {
    test(`${step}: killed at each Prowler request, finished, then deleted with destroy: no duplicate, every created provider deleted, every hand-made one kept`, async () => {
      await matrix(step);
      expect(kindsOf(step)).toEqual([]); // every case's story: test-reports/crash-matrix.txt
    }, 30 * 60_000);
  }

  test('a first Create that fails (POST /provider-groups answers 503), then CloudFormation\'s rollback Delete with destroy: every provider the Create made is removed', async () => {
    const c = await newCase('failed-create');
    try {
      c.fault = (request) => (request.method === 'POST' && request.path === '/api/v1/provider-groups' ? { status: 503, retryAfterSeconds: 0 } : undefined);
      const spec = base({ removal: 'destroy' });
      const create = await cfnOperation(c, cfnEvent('Create', spec));
      expect(create).toMatchObject({ ok: false }); // the fault bites (else the case tests nothing)
      c.recordBeforeDelete = await loadJson(c.bucket, STATE_KEYS.record);
      const rollback = await cfnOperation(c, cfnEvent('Delete', spec, { PhysicalResourceId: create.physicalId }));
      if (!rollback.ok) c.problems.push(`the rollback Delete failed: ${rollback.why}`);
      const raw = mismatches(c);
      const found = raw.map((m) => `failed-create: ${m} [story: ${told(c.story)}]`);
      figures.cases++;
      figures.perStep['failed-create'] = {
        cases: 1, kills: 0, mismatched: found.length ? 1 : 0, maxK: 0, note: `${c.created.size} providers created before it failed`,
      };
      figures.mismatches.push(...found);
      tally('failed-create', `${c.created.size} providers created before it failed`, raw);
      expect(kindsOf('failed-create')).toEqual([]);
    } finally {
      await c.double.stop();
    }
  }, 5 * 60_000);
});

/** How the bundle's age compares with the handler's sources (a stale bundle tests old code). */
function bundleStaleness(): string {
  try {
    const bundle = statSync(BUNDLE_PATH).mtimeMs;
    const dir = join(__dirname, '..', '..', 'src', 'handler');
    const newest = Math.max(...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
    return newest > bundle
      ? `(OLDER than src/handler by ${Math.round((newest - bundle) / 1000)} s: run npx projen bundle:handler)`
      : `(built ${new Date(bundle).toISOString()}, after the last change to src/handler)`;
  } catch (error) {
    return `(not readable: ${(error as Error).message})`;
  }
}
