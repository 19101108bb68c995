/**
 * The Lambda entry points, thin adapters over the engine:
 * - `onEvent` / `isComplete`: the custom resource, served by the CDK Provider framework. The first
 *   call discovers and plans; each poll continues the run for a few minutes at most, its state in
 *   S3, so a large organization onboards within CloudFormation's hour without any invocation near
 *   Lambda's 15 minutes.
 * - `sync`: the same onboarding on a schedule and on AWS Organizations events, with the spec of
 *   the last successful deployment.
 */
import { createHash } from 'node:crypto';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import {
  continueRun, offboard, ORGANIZATION_ID, requestFromSpec, startRun, toReport,
  type AssumeCredentials, type EngineDependencies, type Logger, type OnboardingRequest, type RunState,
} from './engine';
import { acquireLease, describeHolder, HEARTBEAT_MS, holdLease, LEASE_TTL_MS, type HeldLease } from './lease';
import { organizationsClient, organizationsRegion } from './organizations';
import { parseCustomResourceEvent, parseSyncEvent, parseTerraformPayload, type CustomResourceEvent } from './payloads';
import { ProwlerClient, realClock, type Clock } from './prowler-api';
import { emptyRecord, type OnboardingRecord } from './record';
import { reportJson } from './report';
import { readAssumeCredentials, readProwlerAuth } from './secrets';
import { stackInstanceStatuses } from './stackset';
import { S3JsonStore, type JsonStore } from './store';
import { emptyTagCache, forgetTags, type TagCache } from './tag-cache';
import { checkOrganizationEventsTrail } from './trail';
import { recordTrigger, servedTriggers, unservedTriggers, type Trigger } from './triggers';
import { CUSTOM_RESOURCE_TYPE, ONBOARDING_OUTPUTS, onboardingFunctions, readOnboardingEnvironment, SPEC_PROPERTY, STATE_KEYS, TERRAFORM_KEY } from '../core/onboarding';
import type { StackSetDeploymentTargets } from '../core/options';
import { partitionProblems } from '../core/partition';
import { RemovalBehaviour, parseOnboardingSpec, shown, SpecError, type OnboardingSpec } from '../core/spec';

/** Everything the handlers need from outside, injectable for tests. */
export interface LambdaEnvironment {
  readonly prowlerApiUrl: string;
  readonly apiKeySecretArn: string;
  readonly assumeCredentialsSecretArn?: string;
  readonly partition: string;
  readonly store: JsonStore;
  readonly organizations: OrganizationsClient;
  readonly secrets: SecretsManagerClient;
  readonly sts?: STSClient;
  readonly clock: Clock;
  readonly log: Logger;
  /** Reads the custom resource's own stack (a Delete looks for the resource that took its place). */
  readonly cloudformation?: CloudFormationClient;
  /**
   * CloudTrail in the Organizations region, when the sync runs on Organizations events: a
   * deployment warns when no trail records them.
   */
  readonly cloudtrail?: CloudTrailClient;
  /** The HTTP client for the Prowler API (default: the global fetch). */
  readonly fetch?: typeof fetch;
  /** The member StackSet whose instances connection tests wait for. */
  readonly stackSet?: {
    readonly name: string;
    readonly callAs: 'SELF' | 'DELEGATED_ADMIN';
    readonly client: CloudFormationClient;
    /** Where it deploys the role: connection tests do not wait for accounts elsewhere. */
    readonly targets?: StackSetDeploymentTargets;
  };
}

/** Time kept back from an invocation's remaining time for the work in flight at the deadline. */
export const IN_FLIGHT_MARGIN_MS = 150_000;
/** When an invocation stops starting work: its end, less the margin for the work in flight. */
const deadlineOf = (remainingMs: number, env: LambdaEnvironment) => env.clock.now() + Math.max(30_000, remainingMs - IN_FLIGHT_MARGIN_MS);

/** onEvent's timeout (core): what a caller that does not say how much time is left gets. */
const ONBOARDING_FUNCTION_TIMEOUT_MS = onboardingFunctions('cloudformation').find((f) => f.handler === 'index.onEvent')!.timeoutSeconds * 1000;

/** Connection tasks are polled at most this long inside a Lambda (must fit the margin). */
const TASK_TIMEOUT_SECONDS = 120;

export const CURRENT_SPEC_KEY = STATE_KEYS.currentSpec;
export const LATEST_REPORT_KEY = STATE_KEYS.latestReport;
const SYNC_RUN_KEY = `${STATE_KEYS.runsPrefix}sync.json`;
/** What a Terraform destroy that did not fit in one invocation onboarded, for the next one. */
const TERRAFORM_DESTROY_KEY = `${STATE_KEYS.runsPrefix}terraform-destroy.json`;
const runKey = (requestId: string) => `${STATE_KEYS.runsPrefix}${requestId}.json`;

const PHYSICAL_ID_PREFIX = 'prowler-org-onboarding';
/**
 * `prowler-org-onboarding/<organization>/<tenant>[/<instance>]`: a new organization or tenant is a
 * new resource; the instance (from the stack and the logical id) keeps two onboarding resources,
 * or a renamed one and its predecessor, from sharing an id. Ids without it are from before it.
 */
export const physicalIdOf = (organizationId: string, tenantId: string, instance?: string) =>
  `${PHYSICAL_ID_PREFIX}/${organizationId}/${tenantId}${instance ? `/${instance}` : ''}`;
const PHYSICAL_ID = new RegExp(`^${PHYSICAL_ID_PREFIX}/(${ORGANIZATION_ID})/([^/]+)(/[a-z0-9]+)?$`);
function parsePhysicalId(id: string | undefined): { organizationId: string; tenantId: string } | undefined {
  const m = id?.match(PHYSICAL_ID);
  return m ? { organizationId: m[1], tenantId: m[2] } : undefined;
}
/**
 * Another onboarding resource of the same stack, organization and tenant that is not being
 * deleted; when the stack cannot be read, the answer is "maybe", and nothing is removed.
 */
async function successorOf(
  event: { StackId: string; LogicalResourceId: string },
  ours: { organizationId: string; tenantId: string },
  env: LambdaEnvironment,
): Promise<string | undefined> {
  if (!env.cloudformation) return undefined;
  try {
    for await (const page of paginateListStackResources({ client: env.cloudformation }, { StackName: event.StackId })) {
      const other = (page.StackResourceSummaries ?? []).find((r) => {
        const id = parsePhysicalId(r.PhysicalResourceId);
        return r.ResourceType === CUSTOM_RESOURCE_TYPE && r.LogicalResourceId !== event.LogicalResourceId && !String(r.ResourceStatus).startsWith('DELETE')
          && id?.organizationId === ours.organizationId && id.tenantId === ours.tenantId;
      });
      if (other) return other.LogicalResourceId;
    }
    return undefined;
  } catch (error) {
    env.log.warn(`could not read stack ${event.StackId} to see whether another onboarding took this one's place (${(error as Error).name}): nothing removed`);
    return 'unknown (the stack could not be read)';
  }
}

/** One custom resource among all: its stack and logical id. */
const instanceOf = (event: { StackId: string; LogicalResourceId: string }) =>
  createHash('sha256').update(`${event.StackId}|${event.LogicalResourceId}`).digest('hex').slice(0, 12);

/** The last successful deployment: what the sync runs, and what a rollback to it answers. */
interface DeployedSpec {
  readonly physicalId: string;
  readonly spec: unknown;
  readonly attributes?: Record<string, string>;
}

/** JSON with sorted keys: two specs are the same whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
    : v));
}

export interface OnEventResponse {
  PhysicalResourceId?: string;
  Data?: Record<string, string>;
}

export interface IsCompleteResponse {
  IsComplete: boolean;
  Data?: Record<string, string>;
}

/** The custom resource's properties: the onboarding spec as one JSON string. */
function specOf(properties: Record<string, unknown>): OnboardingSpec {
  const raw = properties[SPEC_PROPERTY];
  if (typeof raw !== 'string') throw new Error(`The custom resource has no ${SPEC_PROPERTY} property: deploy it with the ProwlerOrganizationOnboarding construct`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`The custom resource's ${SPEC_PROPERTY} property is not JSON, got ${shown(raw)}: deploy it with the ProwlerOrganizationOnboarding construct`);
  }
  try {
    return parseOnboardingSpec(json);
  } catch (error) {
    if (error instanceof SpecError) throw new Error(`Invalid onboarding spec: ${error.message}`);
    throw error;
  }
}

function requestOf(spec: OnboardingSpec, env: LambdaEnvironment, assumeCredentials?: AssumeCredentials): OnboardingRequest {
  // Before anything is written: Prowler Cloud can register accounts of another partition, never scan them.
  const [wrongApi] = partitionProblems(env.partition, { api: { prowlerApiUrl: env.prowlerApiUrl } });
  if (wrongApi) throw new Error(wrongApi);
  return requestFromSpec(spec, { partition: env.partition, assumeCredentials, connectionTaskTimeoutSeconds: TASK_TIMEOUT_SECONDS });
}

async function dependencies(env: LambdaEnvironment): Promise<{ deps: EngineDependencies; assumeCredentials?: AssumeCredentials }> {
  const auth = await readProwlerAuth(env.secrets, env.apiKeySecretArn, { longLived: true });
  const assumeCredentials = env.assumeCredentialsSecretArn ? await readAssumeCredentials(env.secrets, env.assumeCredentialsSecretArn) : undefined;
  const secrets = assumeCredentials ? [assumeCredentials.accessKeyId, assumeCredentials.secretAccessKey, assumeCredentials.sessionToken ?? ''] : [];
  const prowler = new ProwlerClient({ baseUrl: env.prowlerApiUrl, auth, clock: env.clock, fetch: env.fetch, secrets });
  const stackSet = env.stackSet;
  const stackInstances = stackSet ? () => stackInstanceStatuses(stackSet.client, stackSet.name, stackSet.callAs) : undefined;
  // Read here, under the run's lease: every writer saves it as it goes (checkpoint), so this is the latest.
  const record = (await env.store.load<OnboardingRecord>(STATE_KEYS.record)) ?? emptyRecord();
  const tags = (await env.store.load<TagCache>(STATE_KEYS.tags)) ?? emptyTagCache();
  // Events recorded while another run held the lease: the accounts they name are read again.
  forgetTags(tags, retagged(await unservedTriggers(env.store, 0)));
  let tagsSaved = JSON.stringify(tags);
  /** The tag cache, saved with the record when discovery changed it. */
  const saveTags = async () => {
    const now = JSON.stringify(tags);
    if (now === tagsSaved) return;
    await env.store.save(STATE_KEYS.tags, tags);
    tagsSaved = now;
  };
  return {
    deps: {
      organizations: env.organizations,
      prowler,
      clock: env.clock,
      log: env.log,
      sts: env.sts,
      stackInstances,
      stackSetTargets: stackSet?.targets,
      record,
      tags,
      checkpoint: async (r) => {
        await saveRecord(env, r);
        await saveTags();
      },
    },
    assumeCredentials,
  };
}

/** A deployment that syncs on Organizations events, with no trail recording them, says so in its report and log. */
async function warnWithoutTrail(state: RunState, env: LambdaEnvironment): Promise<void> {
  if (!env.cloudtrail) return;
  const check = await checkOrganizationEventsTrail(env.cloudtrail);
  if (check.recorded === false) {
    state.warnings.push(check.warning);
    env.log.warn(check.warning);
  } else if (check.recorded === 'unknown') {
    env.log.info(`whether a trail records Organizations events is not known here: ${check.reason}`);
  }
}

/** Keeps what the run recorded it created and linked (before anything else is saved). */
async function saveRecord(env: LambdaEnvironment, record: OnboardingRecord | undefined): Promise<void> {
  if (record) await env.store.save(STATE_KEYS.record, record);
}

/** What the custom resource exposes (Fn::GetAtt): counts and the External ID used. */
function attributes(state: RunState): Record<string, string> {
  const { counts } = toReport(state, state.startedAt);
  const out = ONBOARDING_OUTPUTS;
  return {
    [out.externalId]: state.externalId,
    [out.organizationId]: state.organization.id,
    [out.selected]: String(counts.selected),
    [out.registered]: String(counts.created + counts.linked + counts.updated + counts.unchanged),
    [out.connected]: String(counts.connected),
    [out.failed]: String(counts.failed),
    [out.blocked]: String(counts.blocked),
  };
}

/** A deployment's run, as saved between its polls. */
type DeployRun = RunState & {
  /** Planned while this deployment held the lease: no other run wrote to Prowler since. */
  plannedUnderLease?: boolean;
  /** Runs started again to serve triggers that arrived while it ran. */
  replans?: number;
};

/** How often one deployment starts its run again for triggers that arrived while it ran. */
const MAX_REPLANS = 5;

/**
 * The custom resource's first call: validate, discover and plan as far as this invocation allows;
 * the polls do the rest (a large organization's discovery too). It plans holding the lease when
 * it is free, and keeps it for its polls; otherwise the first poll that gets the lease plans again.
 */
export async function handleOnEvent(
  rawEvent: unknown,
  env: LambdaEnvironment,
  remainingMs = ONBOARDING_FUNCTION_TIMEOUT_MS,
): Promise<OnEventResponse> {
  const event = parseCustomResourceEvent(rawEvent);
  env.log.info(`${event.RequestType} ${event.LogicalResourceId}`, { requestId: event.RequestId });
  if (event.RequestType === 'Delete') return handleDelete(event, env, remainingMs);

  const spec = specOf(event.ResourceProperties);
  if (event.RequestType === 'Update') {
    // CloudFormation's rollback sends the properties of the last successful deployment: they are
    // in place already, and re-running them against a Prowler that is down or a revoked key would
    // leave the stack in UPDATE_ROLLBACK_FAILED. The sync reconciles them later.
    const deployed = await env.store.load<DeployedSpec>(CURRENT_SPEC_KEY);
    if (deployed && deployed.physicalId === event.PhysicalResourceId && deployed.attributes && canonical(deployed.spec) === canonical(spec)) {
      env.log.info('the spec is the one last deployed (a rollback): nothing to do');
      await env.store.save(runKey(event.RequestId), { unchanged: deployed.attributes });
      return { PhysicalResourceId: deployed.physicalId };
    }
  }
  const owner = `deploy:${event.RequestId}`;
  const lease = await acquireLease(env.store, owner, 'deploy', env.clock.now());
  const held = lease.acquired ? holdLease(env.store, owner, 'deploy', env.clock.now) : undefined;
  let state: DeployRun;
  try {
    const { deps, assumeCredentials } = await dependencies(env);
    state = await startRun(requestOf(spec, env, assumeCredentials), deps, { deadline: deadlineOf(remainingMs, env) });
    await warnWithoutTrail(state, env);
    state.plannedUnderLease = held !== undefined && !held.lost();
    // The tags its discovery read are kept (with the record, as every checkpoint does), under the lease.
    if (state.plannedUnderLease && state.record) await deps.checkpoint?.(state.record);
    await env.store.save(runKey(event.RequestId), state);
  } catch (error) {
    await held?.release();
    throw error;
  }
  // Kept for the polls (each renews it): only stop its timer, do not give it up.
  if (held) await held.keep();
  if (!lease.acquired) env.log.info(`${describeHolder(lease.holder)}: the first poll that gets it plans again`);
  // An Update keeps its id while the organization and tenant stay (ids from before the instance part too).
  const existing = event.RequestType === 'Update' ? event.PhysicalResourceId : undefined;
  const previous = parsePhysicalId(existing);
  const physicalId = existing && previous?.organizationId === state.organization.id && previous.tenantId === state.tenantId
    ? existing
    : physicalIdOf(state.organization.id, state.tenantId, instanceOf(event));
  if (event.RequestType === 'Update' && event.PhysicalResourceId !== physicalId) {
    env.log.info(`the organization or the Prowler tenant changed: ${event.PhysicalResourceId} → ${physicalId} (CloudFormation deletes the old one)`);
  }
  env.log.info(state.phase === 'discover' ? 'discovery continues in the next poll' : state.selectionSummary, { organizationId: state.organization.id, physicalId });
  return { PhysicalResourceId: physicalId };
}

/** A Delete that continues in the polls: waiting for the lease, or a removal that did not fit. */
interface PendingOffboarding {
  readonly offboarding: {
    readonly organizationId: string;
    readonly tenantId: string;
    readonly removal: RemovalBehaviour;
    readonly concurrency?: number;
  };
}

/**
 * A Delete: under the lease (a running sync finishes first, and none runs after it), the sync
 * stops (the deployed spec is removed) and removal goes as far as the record allows. When the
 * lease is held by another run, or the removal does not fit, the polls go on with it.
 */
async function handleDelete(event: CustomResourceEvent, env: LambdaEnvironment, remainingMs: number): Promise<OnEventResponse> {
  const ours = parsePhysicalId(event.PhysicalResourceId);
  if (!ours) {
    env.log.info(`nothing to remove: ${event.PhysicalResourceId} was never an onboarding (its creation failed)`);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  let removal: RemovalBehaviour = RemovalBehaviour.RETAIN;
  let concurrency: number | undefined;
  try {
    const spec = specOf(event.ResourceProperties);
    removal = (spec.removal as RemovalBehaviour | undefined) ?? RemovalBehaviour.RETAIN;
    concurrency = spec.concurrency;
  } catch (error) {
    env.log.warn(`the deleted resource's spec does not parse, so its providers are retained: ${(error as Error).message}`);
  }
  const pending: PendingOffboarding = { offboarding: { organizationId: ours.organizationId, tenantId: ours.tenantId, removal, concurrency } };
  const done = await offboardUnderLease(event, pending, remainingMs, env);
  if (!done) await env.store.save(runKey(event.RequestId), pending);
  return { PhysicalResourceId: event.PhysicalResourceId };
}

/** A Delete's poll: goes on with a removal that did not fit, or that waits for the lease (nothing to do otherwise). */
async function continueDelete(event: CustomResourceEvent, remainingMs: number, env: LambdaEnvironment): Promise<IsCompleteResponse> {
  const key = runKey(event.RequestId);
  const pending = await env.store.load<PendingOffboarding>(key);
  if (!pending?.offboarding) return { IsComplete: true };
  if (!(await offboardUnderLease(event, pending, remainingMs, env))) return { IsComplete: false };
  await env.store.delete(key);
  return { IsComplete: true };
}

/**
 * One step of a Delete, holding the lease: `true` when it is done. The deployed spec goes first
 * (no sync runs after it), then removal as far as the record allows, within the deadline.
 */
async function offboardUnderLease(
  event: CustomResourceEvent,
  pending: PendingOffboarding,
  remainingMs: number,
  env: LambdaEnvironment,
): Promise<boolean> {
  const deadline = deadlineOf(remainingMs, env);
  const owner = `deploy:${event.RequestId}`;
  const lease = await acquireLease(env.store, owner, 'deploy', env.clock.now());
  if (!lease.acquired) {
    env.log.info(`waiting: ${describeHolder(lease.holder)}`);
    return false;
  }
  const held = holdLease(env.store, owner, 'deploy', env.clock.now);
  try {
    const { organizationId, tenantId, removal, concurrency } = pending.offboarding;
    const current = await env.store.load<{ physicalId: string }>(CURRENT_SPEC_KEY);
    if (current?.physicalId === event.PhysicalResourceId) await env.store.delete(CURRENT_SPEC_KEY); // the sync stops
    if (removal === RemovalBehaviour.RETAIN) {
      env.log.info(`onboarding of ${organizationId} deleted: its providers, credentials and scan history stay in Prowler (removal: retain)`);
      return true;
    }
    // A renamed or moved construct: the resource that took this one's place onboards the same
    // organization and tenant, and manages these providers now.
    const successor = await successorOf(event, { organizationId, tenantId }, env);
    if (successor) {
      env.log.info(`onboarding resource ${successor} of this stack onboards ${organizationId} into the same tenant: it keeps the providers (nothing removed)`);
      return true;
    }
    const { deps } = await dependencies(env);
    const tenant = await deps.prowler.tenantId();
    if (tenant !== tenantId) {
      env.log.warn(`not removing anything: this resource onboarded Prowler tenant ${tenantId}, the API key now belongs to ${tenant}`);
      return true;
    }
    const stop = () => env.clock.now() >= deadline || held.lost();
    const report = await offboard(organizationId, removal, deps.prowler, env.log, deps.record, { stop, concurrency });
    await saveRecord(env, deps.record);
    if (report.outcome === 'failed') throw new Error(`${report.failure}. Retry the deletion, or set removal to retain`);
    if (report.outcome === 'incomplete') {
      env.log.info(`${report.remaining} providers still to remove: the next poll goes on`);
      return false;
    }
    return true;
  } finally {
    await held.release();
  }
}

/** A poll: continue the run until shortly before this invocation's end. */
export async function handleIsComplete(
  rawEvent: unknown,
  remainingMs: number,
  env: LambdaEnvironment,
): Promise<IsCompleteResponse> {
  const event = parseCustomResourceEvent(rawEvent);
  if (event.RequestType === 'Delete') return continueDelete(event, remainingMs, env);
  const key = runKey(event.RequestId);
  const saved = await env.store.load<DeployRun | { unchanged: Record<string, string> }>(key);
  if (!saved) throw new Error(`The onboarding run's state is missing from the state bucket (${key}): retry the deployment`);
  if ('unchanged' in saved) {
    await env.store.delete(key);
    return { IsComplete: true, Data: saved.unchanged };
  }
  let state = saved;
  const spec = specOf(event.ResourceProperties);
  // One run at a time: a sync that holds the lease finishes first (the next poll looks again).
  const owner = `deploy:${event.RequestId}`;
  const lease = await acquireLease(env.store, owner, 'deploy', env.clock.now());
  if (!lease.acquired) {
    env.log.info(`waiting: ${describeHolder(lease.holder)}`);
    return { IsComplete: false };
  }
  const held = holdLease(env.store, owner, 'deploy', env.clock.now);
  let finished = false;
  try {
    const deadline = deadlineOf(remainingMs, env);
    const { deps, assumeCredentials } = await dependencies(env);
    const request = requestOf(spec, env, assumeCredentials);
    if (!state.plannedUnderLease) {
      // Planned while another run held the lease: what it wrote since is planned again.
      env.log.info('planning again, holding the lease');
      state = Object.assign(await startRun(request, deps, { deadline }), { plannedUnderLease: true, replans: state.replans });
    } else {
      state.record = deps.record; // the latest, saved by every run as it went
      state.invocations++;
    }
    await continueRun(state, request, deps, { deadline, whileWaiting: 'return', stop: held.lost });
    if (state.phase === 'done' && state.outcome === 'succeeded') {
      // Triggers that arrived while it ran (an account that joined after its discovery): served now.
      const unserved = await unservedTriggers(env.store, state.startedAt);
      if (unserved.length > 0 && (state.replans ?? 0) < MAX_REPLANS) {
        env.log.info(`${unserved.length} ${unserved.length === 1 ? 'trigger' : 'triggers'} arrived during the deployment (${unserved[0].what}): running again`);
        await servedTriggers(env.store, state.startedAt);
        forgetTags(deps.tags, retagged(unserved));
        state = Object.assign(await startRun(request, deps, { deadline }), { plannedUnderLease: true, replans: (state.replans ?? 0) + 1 });
        if (!held.lost()) await continueRun(state, request, deps, { deadline, whileWaiting: 'return', stop: held.lost });
      }
    }
    await env.store.save(key, state);
    if (state.phase !== 'done') {
      env.log.info(`onboarding in progress (${state.phase})`, { invocation: state.invocations });
      return { IsComplete: false };
    }
    finished = true;
    const report = toReport(state, env.clock.now());
    await env.store.save(LATEST_REPORT_KEY, reportJson(report));
    env.log.info(`onboarding ${report.outcome}`, { counts: report.counts, invocations: state.invocations, durationMs: report.durationMs });
    if (report.outcome === 'failed') throw new Error(truncate(report.failure ?? 'the onboarding failed', 3000));
    const deployed: DeployedSpec = {
      physicalId: event.PhysicalResourceId ?? physicalIdOf(state.organization.id, state.tenantId), spec, attributes: attributes(state),
    };
    await env.store.save(CURRENT_SPEC_KEY, deployed);
    await servedTriggers(env.store, state.startedAt);
    await env.store.delete(SYNC_RUN_KEY); // a paused sync's plan is older than this deployment's
    await env.store.delete(key);
    return { IsComplete: true, Data: attributes(state) };
  } catch (error) {
    finished = true;
    throw error;
  } finally {
    // Between polls the lease stays with the deployment (the next poll renews it within 2 minutes).
    if (finished) await held.release();
    else await held.keep();
  }
}

/**
 * Runs `fn` holding the lease, waiting (up to `waitMs`) for the run that holds it: for the
 * synchronous adapters (Terraform), which cannot come back later. A dead holder's lease ends
 * within `LEASE_TTL_MS`.
 */
async function withLease<T>(env: LambdaEnvironment, owner: string, waitMs: number, fn: (held: HeldLease) => Promise<T>): Promise<T> {
  const until = env.clock.now() + waitMs;
  for (;;) {
    const lease = await acquireLease(env.store, owner, 'deploy', env.clock.now());
    if (lease.acquired) break;
    if (env.clock.now() >= until) {
      throw new Error(`${describeHolder(lease.holder)}; still so after ${Math.round(waitMs / 1000)} s of waiting: retry when it has finished`);
    }
    env.log.info(`waiting: ${describeHolder(lease.holder)}`);
    await env.clock.sleep(LEASE_POLL_MS);
  }
  const held = holdLease(env.store, owner, 'deploy', env.clock.now);
  try {
    return await fn(held);
  } finally {
    await held.release();
  }
}

const LEASE_POLL_MS = 15_000;
/** How long Terraform's invocation (15 minutes) waits for a running sync (a dead one's lease ends sooner). */
const TERRAFORM_LEASE_WAIT_MS = 6 * 60_000;
/** A holder whose last renewal is older than this is probably dead: a sync waits for its lease to end. */
const STALE_HEARTBEAT_MS = 2 * HEARTBEAT_MS;

/**
 * A scheduled or Organizations-event sync with the deployed spec, read under the lease. A trigger
 * that finds the lease held is recorded: its holder serves it before it finishes; a holder that
 * stopped renewing (dead) is waited out, within this invocation.
 */
export async function handleSync(rawEvent: unknown, remainingMs: number, env: LambdaEnvironment): Promise<void> {
  const event = parseSyncEvent(rawEvent);
  const trigger = event.source === 'aws.organizations' ? `Organizations event ${event.detail?.eventName}` : 'schedule';
  const happenedAt = event.time ? Date.parse(event.time) : env.clock.now();
  // A burst of events becomes one run: an event older than the last sync's start is already covered.
  const last = await env.store.load<{ startedAt: number }>(STATE_KEYS.lastSync);
  const paused = await env.store.load<RunState & { physicalId?: string }>(SYNC_RUN_KEY);
  if (event.time && last && happenedAt < last.startedAt && !(paused && paused.phase !== 'done')) {
    env.log.info(`sync (${trigger}): already covered by the sync that started at ${new Date(last.startedAt).toISOString()}`);
    return;
  }
  const deadline = deadlineOf(remainingMs, env);
  const owner = `sync:${env.clock.now()}:${Math.random().toString(36).slice(2, 10)}`;
  let recorded = false;
  for (;;) {
    const lease = await acquireLease(env.store, owner, 'sync', env.clock.now());
    if (lease.acquired) break;
    if (!recorded) {
      // Recorded, then the lease looked at again: a holder that finished meanwhile did not see it.
      const accounts = tagsNamedBy(event);
      const at = Number.isFinite(happenedAt) ? Math.min(happenedAt, env.clock.now()) : env.clock.now();
      await recordTrigger(env.store, { what: trigger, at, ...(accounts.length ? { accounts } : {}) });
      recorded = true;
      continue;
    }
    const holder = lease.holder;
    const alive = env.clock.now() - (holder.heartbeatAt ?? holder.expiresAt - LEASE_TTL_MS) < STALE_HEARTBEAT_MS;
    if (alive || holder.expiresAt >= deadline) {
      env.log.info(`sync (${trigger}): ${describeHolder(holder)}; the trigger is recorded, and that run serves it before it finishes`);
      return;
    }
    env.log.info(`sync (${trigger}): waiting for a lease its holder stopped renewing (${describeHolder(holder)})`);
    await env.clock.sleep(Math.max(1_000, Math.min(LEASE_POLL_MS, holder.expiresAt - env.clock.now() + 1)));
  }
  const held = holdLease(env.store, owner, 'sync', env.clock.now);
  try {
    // Under the lease: the spec of the deployment that finished last, never one it replaced.
    const current = await env.store.load<{ physicalId: string; spec: unknown }>(CURRENT_SPEC_KEY);
    if (!current) {
      env.log.info(`sync (${trigger}): no onboarding is deployed yet; the trigger stays recorded for the deployment`);
      return;
    }
    const spec = parseOnboardingSpec(current.spec);
    const resumed = await env.store.load<RunState & { physicalId?: string }>(SYNC_RUN_KEY);
    const resume = resumed !== undefined && resumed.phase !== 'done' && resumed.physicalId === current.physicalId ? resumed : undefined;
    await runSync(trigger, current, spec, resume, deadline, held, env, tagsNamedBy(event));
  } finally {
    await held.release();
  }
}

/** The accounts recorded triggers name: their tags are read again. */
const retagged = (triggers: readonly Trigger[]) => triggers.flatMap((t) => t.accounts ?? []);

/** The accounts whose tags an Organizations event may have changed (tagged, untagged, moved). */
function tagsNamedBy(event: ReturnType<typeof parseSyncEvent>): string[] {
  const name = event.detail?.eventName ?? '';
  const named = event.detail?.requestParameters;
  const id = name === 'MoveAccount' ? named?.accountId : ['TagResource', 'UntagResource'].includes(name) ? named?.resourceId : undefined;
  return id !== undefined && /^\d{12}$/.test(id) ? [id] : [];
}

async function runSync(
  trigger: string,
  current: { physicalId: string },
  spec: OnboardingSpec,
  paused: (RunState & { physicalId?: string }) | undefined,
  deadline: number,
  held: HeldLease,
  env: LambdaEnvironment,
  retag: readonly string[] = [],
): Promise<void> {
  const { deps, assumeCredentials } = await dependencies(env);
  // Read again by this run: an event says their tags (or place) changed.
  forgetTags(deps.tags, retag);
  const request = requestOf(spec, env, assumeCredentials);
  let state = paused;
  for (let runs = 0; ; runs++) {
    if (!state) {
      await env.store.save(STATE_KEYS.lastSync, { startedAt: env.clock.now() });
      state = Object.assign(await startRun(request, deps, { deadline }), { physicalId: current.physicalId });
    } else {
      state.record = deps.record; // the latest, saved by every run as it went
      state.invocations++;
    }
    env.log.info(`sync (${trigger}): ${state.selectionSummary}`);
    await continueRun(state, request, deps, { deadline, whileWaiting: 'sleep', stop: held.lost });
    if (state.phase !== 'done') {
      await env.store.save(SYNC_RUN_KEY, state);
      env.log.info('sync paused at its deadline: the next trigger continues it');
      return;
    }
    await env.store.delete(SYNC_RUN_KEY);
    await servedTriggers(env.store, state.startedAt);
    const report = toReport(state, env.clock.now());
    await env.store.save(LATEST_REPORT_KEY, reportJson(report));
    env.log.info(`sync ${report.outcome}`, { counts: report.counts, departures: report.departures.length, failure: report.failure });
    // Lambda counts the error (the constructs' sync-failure metric); the next trigger runs the sync again.
    if (report.outcome === 'failed') throw new Error(`The sync failed: ${truncate(report.failure ?? 'the onboarding failed', 3000)}`);
    // Triggers that arrived while it ran (recorded by syncs that found the lease held): served now.
    const unserved = await unservedTriggers(env.store, state.startedAt);
    if (unserved.length === 0 || runs >= MAX_REPLANS || held.lost() || env.clock.now() >= deadline) return;
    env.log.info(`${unserved.length} ${unserved.length === 1 ? 'trigger' : 'triggers'} arrived during the sync (${unserved[0].what}): running again`);
    forgetTags(deps.tags, retagged(unserved));
    state = undefined;
  }
}

/** The payload of `aws_lambda_invocation` with `lifecycle_scope = "CRUD"`: our input plus the action. */
export interface TerraformPayload {
  readonly [SPEC_PROPERTY]?: unknown;
  readonly [TERRAFORM_KEY]?: { readonly action?: string; readonly prev_input?: { readonly [SPEC_PROPERTY]?: unknown } | null };
}

/**
 * Terraform's analogue of the custom resource: one synchronous invocation per create, update or
 * destroy. What does not fit in it is saved as the sync's run and reported as pending: the
 * scheduled sync finishes it. Destroy retains by default, as the custom resource does.
 */
export async function handleTerraform(rawPayload: unknown, remainingMs: number, env: LambdaEnvironment): Promise<Record<string, unknown>> {
  const payload = parseTerraformPayload(rawPayload);
  const lifecycle = payload[TERRAFORM_KEY];
  const action = lifecycle?.action ?? 'create';
  const props = { [SPEC_PROPERTY]: action === 'delete' ? payload[SPEC_PROPERTY] ?? lifecycle?.prev_input?.[SPEC_PROPERTY] : payload[SPEC_PROPERTY] };
  env.log.info(`terraform ${action}`);
  const deadline = deadlineOf(remainingMs, env); // counted from now: waiting for the lease uses it up
  const wait = Math.max(0, Math.min(TERRAFORM_LEASE_WAIT_MS, remainingMs - 2 * IN_FLIGHT_MARGIN_MS));
  // A sync may be writing: wait for it (an invocation cannot come back later, as the custom resource does).
  return withLease(env, `deploy:terraform:${env.clock.now()}:${Math.random().toString(36).slice(2, 10)}`, wait, async (held) => {
    if (action === 'delete') {
      let removal = RemovalBehaviour.RETAIN;
      let organizationId: string | undefined;
      let concurrency: number | undefined;
      try {
        const spec = specOf(props);
        removal = (spec.removal as RemovalBehaviour | undefined) ?? RemovalBehaviour.RETAIN;
        organizationId = spec.organizationId;
        concurrency = spec.concurrency;
      } catch (error) {
        env.log.warn(`the destroyed onboarding's spec does not parse, so its providers are retained: ${(error as Error).message}`);
      }
      // A destroy that did not fit in one invocation left what it onboarded for the next one.
      const deployed = (await env.store.load<{ physicalId: string }>(CURRENT_SPEC_KEY))
        ?? (await env.store.load<{ physicalId: string }>(TERRAFORM_DESTROY_KEY));
      await env.store.delete(CURRENT_SPEC_KEY);
      await env.store.delete(SYNC_RUN_KEY); // nothing of this onboarding runs after its destroy
      if (removal === RemovalBehaviour.RETAIN) return { status: 'retained' };
      const { deps } = await dependencies(env);
      // As the custom resource's Delete: never act on another tenant than the one onboarded.
      const onboarded = parsePhysicalId(deployed?.physicalId);
      const tenant = await deps.prowler.tenantId();
      if (onboarded && onboarded.tenantId !== tenant) {
        env.log.warn(`not removing anything: this onboarding registered Prowler tenant ${onboarded.tenantId}, the API key now belongs to ${tenant}`);
        return { status: 'retained', reason: `the API key belongs to another Prowler tenant (${tenant}) than the one onboarded (${onboarded.tenantId})` };
      }
      const org = organizationId ?? (await env.organizations.send(new DescribeOrganizationCommand({}))).Organization!.Id!;
      const stop = () => env.clock.now() >= deadline || held.lost();
      const report = await offboard(org, removal, deps.prowler, env.log, deps.record, { stop, concurrency });
      await saveRecord(env, deps.record);
      if (report.outcome === 'failed') throw new Error(`${report.failure}. Retry the destroy, or set removal to retain`);
      if (report.outcome === 'incomplete') {
        if (deployed) await env.store.save(TERRAFORM_DESTROY_KEY, deployed);
        throw new Error(`${report.remaining} of the organization's providers were still to remove when this invocation's time ran out: `
          + 'run terraform destroy again, it goes on where this one stopped');
      }
      await env.store.delete(TERRAFORM_DESTROY_KEY);
      return { status: removal === RemovalBehaviour.UNLINK ? 'unlinked' : 'destroyed', providers: report.providers.length };
    }
    const spec = specOf(props);
    const { deps, assumeCredentials } = await dependencies(env);
    const request = requestOf(spec, env, assumeCredentials);
    let state = await startRun(request, deps, { deadline });
    await warnWithoutTrail(state, env);
    const physicalId = physicalIdOf(state.organization.id, state.tenantId);
    await env.store.save(CURRENT_SPEC_KEY, { physicalId, spec });
    await continueRun(state, request, deps, { deadline, whileWaiting: 'sleep', stop: held.lost });
    // Triggers that arrived while it ran (an account that joined after its discovery): served now.
    for (let replans = 0; state.phase === 'done' && state.outcome === 'succeeded' && replans < MAX_REPLANS && !held.lost(); replans++) {
      const unserved = await unservedTriggers(env.store, state.startedAt);
      if (unserved.length === 0 || env.clock.now() >= deadline) break;
      env.log.info(`${unserved.length} ${unserved.length === 1 ? 'trigger' : 'triggers'} arrived during the apply (${unserved[0].what}): running again`);
      await servedTriggers(env.store, state.startedAt);
      forgetTags(deps.tags, retagged(unserved));
      state = await startRun(request, deps, { deadline });
      await continueRun(state, request, deps, { deadline, whileWaiting: 'sleep', stop: held.lost });
    }
    if (state.phase !== 'done') {
      await env.store.save(SYNC_RUN_KEY, { ...state, physicalId });
      env.log.info('onboarding continues in the scheduled sync (it did not fit in one invocation)');
      return { status: 'pending', ...attributes(state) };
    }
    await servedTriggers(env.store, state.startedAt);
    const report = toReport(state, env.clock.now());
    await env.store.save(LATEST_REPORT_KEY, reportJson(report));
    if (report.outcome === 'failed') throw new Error(truncate(report.failure ?? 'the onboarding failed', 3000));
    return { status: 'complete', ...attributes(state) };
  });
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---- The Lambda runtime's entry points ----

let cached: LambdaEnvironment | undefined;

/**
 * The environment the construct configures (core's `ONBOARDING_ENV`, read by core's
 * `readOnboardingEnvironment`) and real AWS clients.
 */
export function environmentFromProcess(invokedFunctionArn: string, variables: NodeJS.ProcessEnv = process.env): LambdaEnvironment {
  const partition = invokedFunctionArn.split(':')[1] || 'aws';
  const config = readOnboardingEnvironment(variables);
  const logger = new PowertoolsLogger({ serviceName: 'prowler-org-onboarding', logLevel: config.logLevel as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined });
  return {
    prowlerApiUrl: config.apiUrl,
    apiKeySecretArn: config.apiKeySecretArn,
    assumeCredentialsSecretArn: config.assumeCredentialsSecretArn,
    partition,
    store: new S3JsonStore(new S3Client({}), config.stateBucket),
    organizations: organizationsClient(partition),
    secrets: new SecretsManagerClient({}),
    sts: config.localPrecheck ? new STSClient({}) : undefined,
    cloudformation: new CloudFormationClient({}),
    cloudtrail: config.organizationEvents ? new CloudTrailClient({ region: organizationsRegion(partition) }) : undefined,
    clock: realClock,
    log: { info: (m, e) => logger.info(m, e ?? {}), warn: (m, e) => logger.warn(m, e ?? {}) },
    stackSet: config.stackSet
      ? {
        name: config.stackSet.name,
        callAs: config.stackSet.callAs as 'SELF' | 'DELEGATED_ADMIN',
        targets: config.stackSet.targets,
        client: new CloudFormationClient(config.stackSet.region ? { region: config.stackSet.region } : {}),
      }
      : undefined,
  };
}

const env = (context: Context) => (cached ??= environmentFromProcess(context.invokedFunctionArn));

export const onEvent = (event: CloudFormationCustomResourceEvent, context: Context) =>
  handleOnEvent(event, env(context), context.getRemainingTimeInMillis());
export const isComplete = (event: CloudFormationCustomResourceEvent, context: Context) =>
  handleIsComplete(event, context.getRemainingTimeInMillis(), env(context));
export const sync = (event: Parameters<typeof handleSync>[0], context: Context) =>
  handleSync(event, context.getRemainingTimeInMillis(), env(context));
export const terraform = (payload: TerraformPayload, context: Context) =>
  handleTerraform(payload, context.getRemainingTimeInMillis(), env(context));
