/**
 * The crash matrix (crash-matrix.test.ts) on Prowler Cloud: the shipped Lambda bundle
 * (lib/handler-bundle/index.js), every invocation in its own `node` process, against moto (the S3
 * state bucket, the API key in Secrets Manager, an organization built through Organizations' API)
 * and the Prowler API double in Cloud mode, whose discovery sees the organization moto holds.
 *
 * For each lifecycle step (a CloudFormation Create, an Update that changes the selection, a
 * scheduled sync that onboards an account, a Terraform create) and each k = 1, 2, 3, …, the
 * process is SIGKILLed when the step's k-th Prowler request arrives (the double serves it: its
 * effect happens, its answer is lost), until a run completes without reaching k. The lifecycle is
 * finished as AWS and a user would finish it, then deleted with `removal: 'destroy'`. Then:
 *  - never a `DELETE /organizations/…` or `DELETE /organization-nodes/…` (each deletes every
 *    provider under it), and no provider went in such a cascade;
 *  - at most one Prowler organization for the AWS organization; no account has two providers; no
 *    provider was re-created under a new id;
 *  - every provider an apply created is deleted; the hand-made ones (one with its own credentials,
 *    left out as keep-credentials; one plain, linked by the apply) are still there, never sent a
 *    DELETE;
 *  - the organization credential was never PATCHed (its role and external ID never change here);
 *  - a completed step's last report (reports/latest.json) says `edition: 'cloud'`.
 * Prowler's discovery runs on the double's clock, moved on by each poll of it, so the k-th request
 * is the same one from run to run: in the CloudFormation steps it takes two polls (a poll of the
 * custom resource hands it to the next one, which continues it from its saved id); in the sync and
 * Terraform steps one (they would sleep through the second in-process).
 *
 * Mismatches are collected over the whole matrix, printed with a figure line, and written with the
 * story of each case to test-reports/crash-matrix-cloud.txt. Build the bundle first
 * (`node build-tools/bundle.js handler`); CRASH_MATRIX_BUNDLE runs another build,
 * CRASH_MATRIX_PARALLEL sets the cases run at once (default 3).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateAccountCommand, CreateOrganizationalUnitCommand, CreateOrganizationCommand, DescribeOrganizationCommand, ListParentsCommand, ListRootsCommand,
  MoveAccountCommand, OrganizationsClient, paginateListAccounts, paginateListOrganizationalUnitsForParent,
} from '@aws-sdk/client-organizations';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CUSTOM_RESOURCE_TYPE, onboardingEnvironment, onboardingFunctions, SPEC_PROPERTY, STATE_KEYS, TERRAFORM_KEY } from '../../src/core/onboarding';
import { ProwlerApiDouble, type CloudAccountView, type CloudOrganizationView } from '../../testing/prowler-api-double';
import { BUNDLE_PATH, expireLease, invokeBundle, type Invocation } from '../support/bundle-process';
import { startMoto, useMotoEndpoint, type Moto } from '../support/moto';
import { describeWith, MOTO_SERVER } from '../support/oracles';

const KEY = 'pk_crash-matrix-cloud-key-0123456789';
const REPORT_DIR = join(__dirname, '..', '..', 'test-reports');
/** Cases run at once (each has its own double and state bucket; the organization is shared and read-only but for its own tag). */
const PARALLEL = Math.max(1, Number(process.env.CRASH_MATRIX_PARALLEL ?? 3));
/** Polls of one CloudFormation operation before the Provider framework's timeout is taken to have come. */
const MAX_POLLS = 6;
/** Deployments, re-runs or deletions a user makes before giving up. */
const MAX_ATTEMPTS = 4;
/** What the CDK Provider framework answers for a resource whose Create failed in onEvent: its Delete never reaches the handler. */
const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';
/** How long Prowler's discovery takes on the double's clock. */
const DISCOVERY_MS = 4_000;
/**
 * How far each poll of a discovery moves the double's clock on: `running` at the first poll and
 * `succeeded` at the second, whatever the wall clock does; or `succeeded` at the first.
 */
const DISCOVERY_STEP_MS: Record<Step, number> = { create: 2_500, update: 2_500, sync: DISCOVERY_MS, terraform: DISCOVERY_MS };

const REMAINING_MS: Record<string, number> = Object.fromEntries([...onboardingFunctions('cloudformation'), ...onboardingFunctions('terraform')]
  .map((f) => [f.handler.replace(/^index\./, ''), f.timeoutSeconds * 1000]));

type Step = 'create' | 'update' | 'sync' | 'terraform';
type OuName = 'Workloads' | 'Dev' | 'Parking' | 'Joining';

/**
 * The organization: 6 member accounts in 3 OUs (Dev inside Workloads), the management account (not
 * selected), and Joining, where each sync case has an OU of its own for the account that joins.
 */
interface World {
  readonly moto: Moto;
  readonly s3: S3Client;
  readonly organizations: OrganizationsClient;
  readonly secretArn: string;
  readonly stackId: string;
  readonly organizationId: string;
  readonly ous: Record<OuName, string>;
  /** Account id by name: prod-1, prod-2 (Workloads), dev-1, dev-2 (Workloads/Dev), park-1, park-2 (Parking). */
  readonly accounts: Record<string, string>;
  readonly names: Map<string, string>;
  /** What Prowler's discovery sees: the organization as moto answers it (read again when an account joins). */
  view: CloudOrganizationView;
}

interface HandMade {
  readonly id: string;
  readonly uid: string;
  readonly alias: string;
  /** Its own credentials (kept: keep-credentials), or none (the apply links it). */
  readonly secret?: Record<string, unknown>;
}

interface Case {
  readonly name: string;
  readonly step: Step;
  readonly k: number;
  readonly double: ProwlerApiDouble;
  readonly bucket: string;
  readonly environment: Record<string, string>;
  readonly handMade: readonly HandMade[];
  /** Provider id → account id, for every provider an apply made (it did not exist before the apply). */
  readonly created: Map<string, string>;
  /** Account id → every provider id it had during the lifecycle. */
  readonly idsOf: Map<string, Set<string>>;
  readonly kill: { armed: boolean; seen: number; fired?: string };
  /** The Prowler requests of the armed step, in order (the kill's numbering). */
  readonly armedRequests: string[];
  /** The double's clock, ahead of the wall clock by this much (moved on by each discovery poll). */
  clockSkew: number;
  child?: ChildProcess;
  readonly story: string[];
  readonly problems: string[];
  /** The step completed (deployed, synced, applied): its report is the last one. */
  completed: boolean;
  /** The sync step: the account that joined the organization after the Create. */
  joined?: string;
  recordBeforeDelete?: { created?: Record<string, string>; linked?: Record<string, string>; creating?: Record<string, number> };
  reportBeforeDelete?: { edition?: string; outcome?: string };
  /** Accounts with a provider linked to the Prowler organization, and accounts with any provider, before the deletion. */
  linkedBeforeDelete?: Set<string>;
  providersBeforeDelete?: Set<string>;
}

interface Figures {
  cases: number;
  kills: number;
  invocations: number;
  readonly started: number;
  readonly time: Record<string, { n: number; ms: number; runMs: number }>;
  readonly mismatches: string[];
  readonly kinds: Map<string, { count: number; example: string }>;
  readonly perStep: Record<string, { cases: number; kills: number; mismatched: number; maxK: number }>;
  /** Per step, the Prowler requests of the run that went through without a kill (what k counts). */
  readonly sequences: Record<string, string[]>;
  /** Per mismatched case, every Prowler request it made with its status (written to the report file). */
  readonly requestLogs: string[];
}

const figures: Figures = {
  cases: 0, kills: 0, invocations: 0, started: Date.now(), time: {}, mismatches: [], kinds: new Map(), perStep: {}, sequences: {}, requestLogs: [],
};

function tally(step: string, at: string, messages: readonly string[]): void {
  for (const m of messages) {
    const kind = `${step}: ${m.replace(/\b\d+ later\b/, 'N later').replace(/\(\d+ ids\b/, '(N ids').replace(/ \(answered \d+\)/, '')}`;
    const seen = figures.kinds.get(kind);
    if (seen) seen.count++;
    else figures.kinds.set(kind, { count: 1, example: at });
  }
}

const told = (story: readonly string[]) => story
  .reduce<Array<[string, number]>>((acc, line) => {
    const last = acc[acc.length - 1];
    if (last && last[0] === line) last[1]++;
    else acc.push([line, 1]);
    return acc;
  }, [])
  .map(([line, n]) => (n > 1 ? `${line} ×${n}` : line)).join(' | ') || 'no failure';

const short = (path: string) => path.replace(/^\/api\/v1/, '').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}');
const CASCADE = /^\/api\/v1\/organization(?:s|-nodes)\/[^/]+\/?$/;
const DISCOVERY_POLL = /^\/api\/v1\/organizations\/[^/]+\/discoveries\/[^/]+$/;
const APPLY = /^\/api\/v1\/organizations\/[^/]+\/discoveries\/[^/]+\/apply$/;

const SUITE = 'crash matrix on Prowler Cloud: the shipped bundle killed at every Prowler request of each lifecycle step, then deleted with destroy';

describeWith(MOTO_SERVER, SUITE, () => {
  let world: World;
  let undoEndpoint: () => void;

  beforeAll(async () => {
    const moto = await startMoto();
    undoEndpoint = useMotoEndpoint(moto.url);
    const organizations = new OrganizationsClient({ region: 'us-east-1' });
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const root = (await organizations.send(new ListRootsCommand({}))).Roots![0];
    const ous = {} as Record<OuName, string>;
    for (const [name, parent] of [['Workloads', undefined], ['Dev', 'Workloads'], ['Parking', undefined], ['Joining', undefined]] as const) {
      const created = await organizations.send(new CreateOrganizationalUnitCommand({ ParentId: parent ? ous[parent] : root.Id!, Name: name }));
      ous[name] = created.OrganizationalUnit!.Id!;
    }
    const accounts: Record<string, string> = {};
    for (const [name, ou] of [['prod-1', 'Workloads'], ['prod-2', 'Workloads'], ['dev-1', 'Dev'], ['dev-2', 'Dev'], ['park-1', 'Parking'], ['park-2', 'Parking']] as const) {
      const id = (await organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }))).CreateAccountStatus!.AccountId!;
      await organizations.send(new MoveAccountCommand({ AccountId: id, SourceParentId: root.Id!, DestinationParentId: ous[ou] }));
      accounts[name] = id;
    }
    const s3 = new S3Client({ forcePathStyle: true });
    const secretArn = (await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: 'prowler/crash-matrix-cloud-key', SecretString: KEY }))).ARN!;
    const stackId = (await new CloudFormationClient({}).send(new CreateStackCommand({
      StackName: 'crash-matrix-cloud', TemplateBody: JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }),
    }))).StackId!;
    const names = new Map(Object.entries(accounts).map(([name, id]) => [id, name]));
    const view = await organizationView(organizations);
    names.set(view.managementAccountId, 'management');
    world = { moto, s3, organizations, secretArn, stackId, organizationId: view.organizationId, ous, accounts, names, view };
  }, 120_000);

  /** Reads the organization again (one read at a time: the last to finish is the last to start, and sees every account made before it). */
  let reading: Promise<unknown> = Promise.resolve();
  function readOrganizationAgain(): Promise<void> {
    const read = reading.then(async () => { world.view = await organizationView(world.organizations); });
    reading = read.catch(() => undefined);
    return read;
  }

  afterAll(async () => {
    const steps = Object.entries(figures.perStep)
      .map(([step, f]) => `${step}: ${f.cases} cases, ${f.kills} kills (k up to ${f.maxK}), ${f.mismatched} mismatched`).join('; ');
    const lines = [
      '',
      `CRASH MATRIX (Prowler Cloud): ${figures.cases} cases, ${figures.kills} kills, ${figures.mismatches.length} mismatches, `
        + `${figures.invocations} bundle invocations, ${Math.round((Date.now() - figures.started) / 1000)} s`,
      `  per step: ${steps}`,
      `  invocations (count, mean ms of the process, of the handler): ${Object.entries(figures.time)
        .map(([entry, t]) => `${entry} ${t.n}, ${Math.round(t.ms / t.n)}, ${Math.round(t.runMs / t.n)}`).join('; ')}`,
      `  bundle: ${BUNDLE_PATH} ${bundleStaleness()}`,
      '  mismatches by kind (cases showing it, first case):',
      ...[...figures.kinds].map(([kind, { count, example }]) => `    ${count}× ${kind} (first: ${example})`),
      ...figures.mismatches.slice(0, 3).map((m, i) => `  mismatch ${i + 1}: ${m}`),
      ...(figures.mismatches.length > 3 ? [`  … and ${figures.mismatches.length - 3} more, each with its story, in test-reports/crash-matrix-cloud.txt`] : []),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    try {
      mkdirSync(REPORT_DIR, { recursive: true });
      const sequences = Object.entries(figures.sequences).map(([step, requests]) => `  ${step}: ${requests.map((r, i) => `${i + 1} ${r}`).join('; ')}`);
      writeFileSync(join(REPORT_DIR, 'crash-matrix-cloud.txt'), [
        ...lines, 'the requests k counts, per step (its run without a kill):', ...sequences, 'every mismatch:', ...figures.mismatches,
        'every Prowler request of each mismatched case, with its status:', ...figures.requestLogs, '',
      ].join('\n'));
    } catch (error) {
      process.stdout.write(`could not write ${REPORT_DIR}/crash-matrix-cloud.txt: ${(error as Error).message}\n`);
    }
    undoEndpoint?.();
    await world?.moto.stop();
  });

  // ---- The specs ----

  const base = (extra: object = {}) => ({
    // Workloads and Dev inside it: prod-1 (a user's, plain: linked), prod-2 (created), dev-1 (a
    // user's, with its own credentials: kept), dev-2 (created).
    selection: { targets: [world.ous.Workloads], includeManagementAccount: false },
    scanMode: 'daily',
    connection: { retryRounds: 0 },
    // One request at a time: the k-th request is the same one from run to run.
    concurrency: 1,
    ...extra,
  });
  /** The Update: Dev leaves the selection (dev-1 a user's, dev-2 the onboarding's), Parking joins; destroy from now on. */
  const updated = () => ({
    ...base(),
    selection: { targets: [world.ous.Workloads, world.ous.Parking], excludeOus: [world.ous.Dev], includeManagementAccount: false },
    removal: 'destroy',
  });

  // ---- One case ----

  async function newCase(step: Step, k: number): Promise<Case> {
    const name = `cloud-${step}-k${k}`;
    let c: Case | undefined;
    const double = await new ProwlerApiDouble({
      apiKeys: [KEY],
      connectionRule: () => ({ connected: true }),
      now: () => Date.now() + (c?.clockSkew ?? 0),
      cloud: { organization: () => world.view, discoveryMs: DISCOVERY_MS },
      fault: (request) => {
        if (!c) return undefined;
        if (request.method === 'GET' && DISCOVERY_POLL.test(request.path)) c.clockSkew += DISCOVERY_STEP_MS[step];
        if (c.kill.armed && !c.kill.fired && c.child) {
          c.kill.seen++;
          c.armedRequests.push(`${request.method} ${short(request.path)}`);
          if (c.kill.seen === k) {
            c.kill.fired = `${request.method} ${short(request.path)}`;
            c.child.kill('SIGKILL'); // before the answer is written: the request is served, its answer never read
          }
        }
        return undefined;
      },
    }).start();
    // A user's earlier manual onboarding: prod-1 plain (no credentials), dev-1 with its own role.
    const ownSecret = { role_arn: `arn:aws:iam::${world.accounts['dev-1']}:role/TeamAudit`, external_id: 'team-b-own-id' };
    const plain = double.seedProvider(world.accounts['prod-1'], { alias: 'hand-made-plain' });
    const own = double.seedProvider(world.accounts['dev-1'], { alias: 'hand-made-own', connected: true, secret: ownSecret });
    const bucket = `${name}-${randomUUID().slice(0, 8)}`.toLowerCase();
    await world.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const aws = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('AWS_'))) as Record<string, string>;
    c = {
      name,
      step,
      k,
      double,
      bucket,
      environment: { ...aws, ...onboardingEnvironment({ apiUrl: double.url, apiKeySecretArn: world.secretArn, stateBucket: bucket, logLevel: 'WARN' }) },
      handMade: [
        { id: plain.id, uid: plain.uid, alias: plain.alias! },
        { id: own.id, uid: own.uid, alias: own.alias!, secret: ownSecret },
      ],
      created: new Map(),
      idsOf: new Map([[plain.uid, new Set([plain.id])], [own.uid, new Set([own.id])]]),
      kill: { armed: false, seen: 0 },
      armedRequests: [],
      clockSkew: 0,
      story: [],
      problems: [],
      completed: false,
    };
    const theCase = c;
    // Every provider an apply made, with its id (the request log has no answers).
    const dispatch = double.dispatch.bind(double);
    double.dispatch = (method, url, headers, raw) => {
      const before = new Set(double.providers.keys());
      const answer = dispatch(method, url, headers, raw);
      const ids: string[] = [];
      if (method === 'POST' && APPLY.test(url.pathname) && answer.status === 200) {
        ids.push(...(JSON.parse(answer.body!).data.relationships.providers.data as Array<{ id: string }>).map((p) => p.id));
      }
      if (method === 'POST' && url.pathname === '/api/v1/providers' && answer.status === 201) ids.push(JSON.parse(answer.body!).data.id as string);
      for (const id of ids) {
        const uid = double.providers.get(id)?.uid;
        if (uid === undefined) continue;
        if (!before.has(id)) theCase.created.set(id, uid);
        if (!theCase.idsOf.has(uid)) theCase.idsOf.set(uid, new Set());
        theCase.idsOf.get(uid)!.add(id);
      }
      return answer;
    };
    return c;
  }

  const accountName = (uid: string) => world.names.get(uid) ?? uid;

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
      const leaseNote = !lease.found ? 'no lease object' : lease.changed.length ? `its lease expired (${lease.changed.join(', ')} set to 0)` : 'the lease was released already';
      c.story.push(`${entry} ${result.outcome}${result.outcome === 'killed' ? ` at ${c.kill.fired}` : ''}; ${leaseNote}`);
      if (result.outcome !== 'killed') c.problems.push(`${entry} ${result.outcome}: ${result.output.slice(-600)}`);
    } else if (result.outcome === 'threw') {
      c.story.push(`${entry} threw: ${result.error.slice(0, 300)}`);
    }
    return result;
  }

  const described = (r: Invocation) => (r.outcome === 'returned' ? `returned ${JSON.stringify(r.value).slice(0, 200)}` : r.outcome === 'threw' ? `threw ${r.error.slice(0, 300)}` : r.outcome);

  // ---- CloudFormation, as the CDK Provider framework drives it ----

  const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:crash-matrix-cloud-framework-onEvent';
  const props = (spec: object) => ({ ServiceToken: SERVICE_TOKEN, [SPEC_PROPERTY]: JSON.stringify(spec) });

  function cfnEvent(type: 'Create' | 'Update' | 'Delete', spec: object, extra: Record<string, unknown> = {}) {
    return {
      RequestType: type,
      ServiceToken: SERVICE_TOKEN,
      ResponseURL: 'https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/crash-matrix-cloud',
      StackId: world.stackId,
      RequestId: randomUUID(),
      LogicalResourceId: 'Onboarding',
      ResourceType: CUSTOM_RESOURCE_TYPE,
      ResourceProperties: props(spec),
      ...extra,
    };
  }

  type Operation = { ok: boolean; physicalId?: string; why?: string };
  /** onEvent, then isComplete with the same event until complete; a failed onEvent fails the operation, a failed isComplete is polled again. */
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

  async function deployUpdate(c: Case, physicalId: string, from: object, to: object): Promise<boolean> {
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

  /** What the step left: the record and the last report, read before the deletion. */
  async function beforeDelete(c: Case): Promise<void> {
    c.recordBeforeDelete = await loadJson(c.bucket, STATE_KEYS.record);
    c.reportBeforeDelete = await loadJson(c.bucket, STATE_KEYS.latestReport);
    const organization = c.double.cloud.organizations().find((o) => o.externalId === world.organizationId);
    c.linkedBeforeDelete = new Set(organization ? c.double.cloud.providersOf(organization.id).map((p) => p.uid) : []);
    c.providersBeforeDelete = new Set([...c.double.providers.values()].map((p) => p.uid));
  }

  async function deleteStack(c: Case, physicalId: string, spec: object): Promise<void> {
    await beforeDelete(c);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const deletion = await cfnOperation(c, cfnEvent('Delete', spec, { PhysicalResourceId: physicalId }));
      if (deletion.ok) return;
      c.story.push(`Delete failed (${deletion.why})`);
    }
    c.problems.push(`the Delete never succeeded in ${MAX_ATTEMPTS} attempts`);
  }

  async function syncUntilDone(c: Case): Promise<boolean> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const r = await invoke(c, 'sync', { 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'time': new Date().toISOString(), 'detail': {} });
      if (r.outcome === 'returned') return true;
    }
    c.problems.push(`the sync never succeeded in ${MAX_ATTEMPTS} runs`);
    return false;
  }

  async function terraformUntilDone(c: Case, payload: object, done: (value: any) => boolean): Promise<boolean> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const r = await invoke(c, 'terraform', payload);
      if (r.outcome === 'returned' && done(r.value)) return true;
      if (r.outcome === 'returned') c.story.push(`terraform ${described(r)}`);
    }
    c.problems.push(`terraform ${JSON.stringify((payload as { tf: unknown }).tf)} never completed in ${MAX_ATTEMPTS} runs`);
    return false;
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
      if (!physicalId) return;
      c.completed = true;
      await deleteStack(c, physicalId, spec);
    },
    update: async (c) => {
      const physicalId = await deployCreate(c, base());
      if (!physicalId) return;
      c.completed = await armed(c, () => deployUpdate(c, physicalId, base(), updated()));
      await deleteStack(c, physicalId, updated());
    },
    sync: async (c) => {
      // The case's own OU is in its selection: empty at the Create; then an account joins it, and the next scheduled sync onboards it.
      const unit = await world.organizations.send(new CreateOrganizationalUnitCommand({ ParentId: world.ous.Joining, Name: c.name }));
      const ou = unit.OrganizationalUnit!.Id!;
      const spec = base({ selection: { targets: [world.ous.Workloads, ou], includeManagementAccount: false }, removal: 'destroy' });
      const physicalId = await deployCreate(c, spec);
      if (!physicalId) return;
      const name = `join-${c.name}`;
      const id = (await world.organizations.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }))).CreateAccountStatus!.AccountId!;
      const root = world.view.roots[0].id;
      await world.organizations.send(new MoveAccountCommand({ AccountId: id, SourceParentId: root, DestinationParentId: ou }));
      world.names.set(id, name);
      c.joined = id;
      await readOrganizationAgain();
      c.completed = await armed(c, () => syncUntilDone(c));
      await deleteStack(c, physicalId, spec);
    },
    terraform: async (c) => {
      const Spec = JSON.stringify(base({ removal: 'destroy' }));
      c.completed = await armed(c, () => terraformUntilDone(c, { Spec, [TERRAFORM_KEY]: { action: 'create', prev_input: null } }, (v) => v?.status === 'complete'));
      await beforeDelete(c);
      await terraformUntilDone(c, { Spec, [TERRAFORM_KEY]: { action: 'delete', prev_input: { Spec } } }, (v) => v?.status === 'destroyed');
    },
  };

  // ---- The invariants ----

  /** What a completed step leaves: the accounts linked to the Prowler organization (dev-1 keeps its own credentials), and those gone. */
  const afterStep: Record<Step, { linked: string[]; gone: string[] }> = {
    create: { linked: ['prod-1', 'prod-2', 'dev-2'], gone: [] },
    update: { linked: ['prod-1', 'prod-2', 'park-1', 'park-2'], gone: ['dev-2'] },
    sync: { linked: ['prod-1', 'prod-2', 'dev-2'], gone: [] },
    terraform: { linked: ['prod-1', 'prod-2', 'dev-2'], gone: [] },
  };

  function mismatches(c: Case): string[] {
    const out: string[] = [...c.problems];
    const { double } = c;
    // Never a cascade: an organization's or a node's DELETE takes every provider under it.
    for (const r of double.requests) {
      if (r.method === 'DELETE' && CASCADE.test(r.path)) out.push(`DELETE ${short(r.path)} was sent (answered ${r.status})`);
    }
    for (const d of double.cloud.deletions()) out.push(`${accountName(d.uid)}'s provider went in a cascade (${short(d.cause)})`);
    // One Prowler organization for the AWS organization.
    const organizations = double.cloud.organizations().filter((o) => o.externalId === world.organizationId);
    if (organizations.length > 1) out.push(`${organizations.length} Prowler organizations for ${world.organizationId}`);
    const organizationId = organizations[0]?.id;
    // No duplicate, no re-creation.
    const byUid = new Map<string, string[]>();
    for (const p of double.providers.values()) byUid.set(p.uid, [...(byUid.get(p.uid) ?? []), p.id]);
    for (const [uid, ids] of byUid) if (ids.length > 1) out.push(`duplicate providers for ${accountName(uid)}: ${ids.length}`);
    for (const [uid, ids] of c.idsOf) {
      if (ids.size > 1) out.push(`${accountName(uid)}'s provider was re-created under a new id (${ids.size} ids during the lifecycle)`);
    }
    // Every provider an apply created is gone after the destroy.
    const handMade = new Set(c.handMade.map((h) => h.id));
    for (const [id, uid] of c.created) {
      if (!double.providers.has(id)) continue;
      const record = c.recordBeforeDelete;
      const recorded = record?.created?.[id] ? 'recorded as created' : record?.linked?.[id] ? 'recorded as LINKED'
        : record?.creating?.[uid] !== undefined ? 'only its account in record.creating' : 'NOT in the record';
      const deletes = double.requests.filter((r) => r.method === 'DELETE' && r.path === `/api/v1/providers/${id}`).map((r) => r.status);
      out.push(`${accountName(uid)}'s provider, created by an apply, survived the destroy (before the deletion it was ${recorded}; `
        + `DELETE sent ${deletes.length} times${deletes.length ? `, answered ${deletes.join(', ')}` : ''})`);
    }
    // The hand-made ones are there, as they were, and never sent a DELETE.
    for (const h of c.handMade) {
      const p = double.providers.get(h.id);
      if (!p) {
        out.push(`hand-made provider of ${accountName(h.uid)} (${h.alias}) was deleted`);
        continue;
      }
      if (p.alias !== h.alias) out.push(`hand-made provider of ${accountName(h.uid)} lost its alias: ${h.alias} → ${p.alias}`);
      if (h.secret) {
        const secret = p.secretId ? double.secrets.get(p.secretId)?.secret : undefined;
        if (JSON.stringify(secret) !== JSON.stringify(h.secret)) out.push(`hand-made provider of ${accountName(h.uid)} lost its own credentials: ${JSON.stringify(secret)}`);
        if (p.organizationId) out.push(`hand-made provider of ${accountName(h.uid)} with its own credentials was linked to the organization (not kept)`);
      } else if (c.completed && (!organizationId || p.organizationId !== organizationId)) {
        out.push(`hand-made plain provider of ${accountName(h.uid)} was not linked to the Prowler organization by the completed step`);
      }
    }
    for (const r of double.requests) {
      const id = r.path.match(/^\/api\/v1\/providers\/([^/]+)$/)?.[1];
      if (r.method === 'DELETE' && id && handMade.has(id)) out.push(`DELETE ${short(r.path)} of a hand-made provider was sent (answered ${r.status})`);
    }
    // The credential never changes in these cycles: never PATCHed (each PATCH re-authenticates every provider).
    const patches = double.cloud.credentialPatches();
    const patchAt = double.requests.flatMap((r, i) => (r.method === 'PATCH' && r.path.startsWith('/api/v1/organization-secrets/') ? [i] : []));
    if (patches > 0 || patchAt.length > 0) {
      const before = patchAt.length ? double.requests.slice(Math.max(0, patchAt[0] - 3), patchAt[0]).map((r) => `${r.method} ${short(r.path)}`).join(', ') : '';
      out.push(`the organization credential was PATCHed ${patches} times (${patchAt.length} PATCH requests${before ? `, the first after ${before}` : ''}), `
        + 'its role and external ID unchanged');
    }
    // A completed step did its work (else the case tests nothing), and its last report is Prowler Cloud's.
    if (c.completed) {
      const expected = afterStep[c.step];
      const linked = [...expected.linked.map((name) => world.accounts[name]), ...(c.joined ? [c.joined] : [])];
      const unlinked = linked.filter((id) => !c.linkedBeforeDelete?.has(id)).map(accountName);
      if (unlinked.length > 0) out.push(`after the completed step, no provider linked to the Prowler organization for ${unlinked.join(', ')}`);
      const left = expected.gone.filter((name) => c.providersBeforeDelete?.has(world.accounts[name]));
      if (left.length > 0) out.push(`after the completed step, ${left.join(', ')} (left the selection, created by the onboarding, removal destroy) still has a provider`);
      const report = c.reportBeforeDelete;
      if (!report) out.push('no reports/latest.json after the completed step');
      else if (report.edition !== 'cloud') out.push(`the completed step's last report has edition ${JSON.stringify(report.edition)} (outcome ${report.outcome}), not 'cloud'`);
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
      if (!fired) figures.sequences[step] = c.armedRequests;
      if (fired) {
        f.kills++;
        figures.kills++;
        f.maxK = Math.max(f.maxK, k);
      }
      const at = fired ? `killed at request ${k} (${c.kill.fired})` : `k=${k} not reached (no kill)`;
      const lines = found.map((m) => `${step} ${at}: ${m} [story: ${told(c.story)}]`);
      if (found.length > 0) {
        f.mismatched++;
        figures.requestLogs.push(`${step} ${at}: ${c.double.requests.map((r) => `${r.method} ${short(r.path)} ${r.status}`).join('; ')}`);
      }
      figures.mismatches.push(...lines);
      tally(step, at, found);
      return { fired, mismatches: lines };
    } finally {
      await c.double.stop();
    }
  }

  async function matrix(step: Step): Promise<void> {
    for (let k = 1; ; k += PARALLEL) {
      const batch = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => runCase(step, k + i)));
      if (!batch[batch.length - 1].fired) break;
      if (k > 300) throw new Error(`${step}: still killing at k=${k}: a run that never ends?`);
    }
  }

  const kindsOf = (step: string) => [...figures.kinds]
    .filter(([kind]) => kind.startsWith(`${step}: `))
    .map(([kind, { count, example }]) => `${count} of ${figures.perStep[step]?.cases ?? 0} cases: ${kind.slice(step.length + 2)} (first: ${example})`);

  for (const step of ['create', 'update', 'sync', 'terraform'] as const) {
    test(`${step}: killed at each Prowler request, finished, then deleted with destroy: never a cascading DELETE, one organization, `
      + 'no duplicate, every created provider deleted, every hand-made one kept, the credential never rewritten', async () => {
      await matrix(step);
      expect(kindsOf(step)).toEqual([]); // every case's story: test-reports/crash-matrix-cloud.txt
    }, 30 * 60_000);
  }
});

/** How the bundle's age compares with the handler's sources (a stale bundle tests old code). */
function bundleStaleness(): string {
  try {
    const bundle = statSync(BUNDLE_PATH).mtimeMs;
    const dir = join(__dirname, '..', '..', 'src', 'handler');
    const newest = Math.max(...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
    return newest > bundle
      ? `(OLDER than src/handler by ${Math.round((newest - bundle) / 1000)} s: run node build-tools/bundle.js handler)`
      : `(built ${new Date(bundle).toISOString()}, after the last change to src/handler)`;
  } catch (error) {
    return `(not readable: ${(error as Error).message})`;
  }
}

/** The organization as moto holds it, as Prowler's discovery reads it with the management account's role. */
async function organizationView(organizations: OrganizationsClient): Promise<CloudOrganizationView> {
  const organization = (await organizations.send(new DescribeOrganizationCommand({}))).Organization!;
  const roots = (await organizations.send(new ListRootsCommand({}))).Roots!.map((r) => ({ id: r.Id!, name: r.Name! }));
  const units: Array<{ id: string; name: string; parentId: string }> = [];
  for (let parents = roots.map((r) => r.id); parents.length > 0;) {
    const children: string[] = [];
    for (const parentId of parents) {
      for await (const page of paginateListOrganizationalUnitsForParent({ client: organizations }, { ParentId: parentId })) {
        for (const u of page.OrganizationalUnits ?? []) {
          units.push({ id: u.Id!, name: u.Name!, parentId });
          children.push(u.Id!);
        }
      }
    }
    parents = children;
  }
  const accounts: CloudAccountView[] = [];
  for await (const page of paginateListAccounts({ client: organizations }, {})) {
    for (const a of page.Accounts ?? []) {
      accounts.push({
        id: a.Id!,
        name: a.Name!,
        email: a.Email!,
        status: a.Status!,
        parentId: (await organizations.send(new ListParentsCommand({ ChildId: a.Id! }))).Parents![0].Id!,
        joinedMethod: a.JoinedMethod as CloudAccountView['joinedMethod'],
        joinedTimestamp: a.JoinedTimestamp?.toISOString(),
      });
    }
  }
  return { organizationId: organization.Id!, managementAccountId: organization.MasterAccountId!, roots, units, accounts };
}
