/**
 * A Prowler API double: a real HTTP server on 127.0.0.1 with Prowler's semantics for the
 * endpoints onboarding uses (JSON:API envelopes and errors, 400 on unknown filters, 409 on
 * duplicate providers and schedules, async connection tasks). Connection outcomes come from a
 * pluggable rule; latency, 429 bursts and faults can be injected. Used by the tests, the demo and
 * the benchmarks; never shipped.
 *
 * Two dialects. Without `cloud` it is the self-hosted Prowler App (api/v1/views.py): no
 * `/organizations…` route at all (Django's HTML 404, before authentication). With `cloud` it is
 * Prowler Cloud as its UI client code shows it (FACTS §3b): organizations, their credential,
 * discovery and apply, organization nodes, per-provider schedules and organization-wide scans — see
 * "Prowler Cloud mode" below for what the double decides where that code is silent.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SimOrganization } from './organization';

type Json = any;

export interface StoredProvider {
  id: string;
  uid: string;
  alias: string | null;
  connected: boolean | null;
  lastCheckedAt: string | null;
  secretId: string | null;
  insertedAt: string;
  /** Prowler Cloud: the organization the provider is linked to (`relationships.organization`). */
  organizationId?: string | null;
  /** Prowler Cloud: the organization node it is grouped under (`relationships.organization_node`). */
  organizationNodeId?: string | null;
}

export interface StoredGroup {
  id: string;
  name: string;
  providerIds: Set<string>;
}

export interface StoredSecret {
  id: string;
  providerId: string;
  secretType: string;
  secret: Record<string, unknown>;
}

export interface SeedOptions {
  readonly alias?: string;
  readonly connected?: boolean;
  readonly secret?: Record<string, unknown>;
  /** A provider group the provider belongs to (e.g. another organization's). */
  readonly groupName?: string;
}

export interface ConnectionOutcome {
  readonly connected: boolean;
  readonly error?: string;
  /**
   * The task itself fails (Celery's FAILURE: state `failed`, the exception in `result`), e.g.
   * `{ type: 'ClientError', message: '…' }`; the provider's connection state stays as it was.
   */
  readonly taskFailure?: { readonly type: string; readonly message: string };
}

/** What a Prowler user role allows (RBAC): the API key's or token's user has it in the tenant. */
export interface DoubleRole {
  readonly name: string;
  readonly manageProviders: boolean;
  readonly manageScans: boolean;
  /** Sees every provider; without it, only the providers of `providerGroups`. */
  readonly unlimitedVisibility: boolean;
  /** Names of the provider groups a role without unlimited visibility sees. */
  readonly providerGroups: string[];
}

/** An admin role: what onboarding needs. */
export const ADMIN_ROLE: DoubleRole = { name: 'admin', manageProviders: true, manageScans: true, unlimitedVisibility: true, providerGroups: [] };

/** Decides a connection test: e.g. "is the role deployed in this account?". */
export type ConnectionRule = (provider: StoredProvider, secret: StoredSecret | undefined, attempt: number) => ConnectionOutcome;

/**
 * A fault for one request: a status; `reset` drops the connection before the request is served;
 * `drop-answer` serves it (its effect happens) and drops the connection instead of answering;
 * `hang` never answers; `garbage` answers HTML. A status answers Prowler's error document, or
 * `body` (a hostile answer, say); either way the request has no effect.
 */
export type Fault = { status: number; retryAfterSeconds?: number; body?: string; headers?: Record<string, string> } | 'reset' | 'drop-answer' | 'hang' | 'garbage';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body?: Json;
  readonly status: number;
}

export interface ProwlerApiDoubleOptions {
  /** Accepted API keys (`Authorization: Api-Key <key>`). */
  readonly apiKeys?: string[];
  /** Accepted JWTs (`Authorization: Bearer <jwt>`, from `POST /tokens`). */
  readonly tokens?: string[];
  /** The role of each key or token; the admin role for those not listed. */
  readonly roles?: Record<string, Partial<DoubleRole>>;
  readonly tenantId?: string;
  /** Added to every answer. */
  readonly latencyMs?: number;
  /** How long a connection task runs before it completes. */
  readonly connectionTaskMs?: number;
  readonly connectionRule?: ConnectionRule;
  /** Called for every request; a returned fault is served instead of the real answer. */
  readonly fault?: (request: { method: string; path: string; index: number; headers: IncomingHttpHeaders }) => Fault | undefined;
  /** The double's clock (task completion); a virtual one for simulations. */
  readonly now?: () => number;
  /**
   * Serve Prowler Cloud's dialect (FACTS §3b) as well: organizations, organization secrets,
   * discovery and apply, organization nodes, `/schedules/{id}`, `/schedules/bulk`, `/scans/bulk`.
   * @default - Prowler App: those paths answer as the open-source server does
   */
  readonly cloud?: CloudModeOptions;
}

/** An answer of the API, as the HTTP server writes it (or an in-process fetch returns it). */
export interface DispatchedAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

// ---- Prowler Cloud mode: options, stored state, inspection (FACTS §3b) ----

/** An account as Prowler Cloud's discovery reads it from AWS Organizations. */
export interface CloudAccountView {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  /** The account's state in Organizations: ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED. */
  readonly status: string;
  /** A root (`r-…`) or an OU (`ou-…`). */
  readonly parentId: string;
  /** @default 'CREATED' */
  readonly joinedMethod?: 'CREATED' | 'INVITED';
  /** ISO 8601. @default - null in the discovery result */
  readonly joinedTimestamp?: string;
}

/** What Prowler's discovery sees in AWS when it assumes the organization credential's role. */
export interface CloudOrganizationView {
  /** `o-…`. */
  readonly organizationId: string;
  readonly managementAccountId: string;
  /** For the ARNs in the result. @default 'aws' */
  readonly partition?: string;
  readonly roots: ReadonlyArray<{ readonly id: string; readonly name: string }>;
  readonly units: ReadonlyArray<{ readonly id: string; readonly name: string; readonly parentId: string }>;
  readonly accounts: ReadonlyArray<CloudAccountView>;
}

/** An organization credential's values (`secret_type: role`). Never answered by the double. */
export interface CloudRoleCredential {
  readonly role_arn: string;
  readonly external_id: string;
}

/** What decides a discovery's outcome, when it finishes. */
export interface CloudDiscoveryContext {
  /** The organization's credential at that moment; undefined when it has none. */
  readonly credential: CloudRoleCredential | undefined;
  /** What AWS shows. */
  readonly organization: CloudOrganizationView;
  /** The Prowler organization being discovered. */
  readonly prowlerOrganization: StoredOrganization;
  /** The tenant's id: the external ID the ProwlerScan role trusts. */
  readonly tenantId: string;
}

/** A failed discovery's `error` (machine code) and `error_message` (human words). */
export interface CloudDiscoveryError {
  readonly error: string;
  readonly error_message: string;
}

export interface CloudModeOptions {
  /** What discovery sees in AWS; called when a discovery finishes (a live view). */
  readonly organization: () => CloudOrganizationView;
  /**
   * How long a discovery takes on the double's `now()` clock: `pending` the first half, then
   * `running`, then `succeeded` or `failed`.
   * @default 2000
   */
  readonly discoveryMs?: number;
  /**
   * Decides whether a discovery fails, and how.
   * @default defaultCloudDiscoveryFailure - the authentication failure unless the credential is a
   * role of the management account trusting the tenant's id, and the organization is the one AWS shows
   */
  readonly discoveryFailure?: (context: CloudDiscoveryContext) => CloudDiscoveryError | undefined;
  /**
   * Whether Prowler Cloud also serves the App's `POST /schedules/daily` (its UI's legacy launch calls
   * it; whether the server still serves it is unknown).
   * @default false - 404
   */
  readonly schedulesDaily?: boolean;
  /**
   * More `blocked_reasons` for an account (e.g. `['Account is suspended']`, as Prowler's UI fixtures
   * show), on top of the ones the double derives.
   * @default - none
   */
  readonly blockedReasons?: (account: CloudAccountView, provider: StoredProvider | undefined) => string[];
  /**
   * A `/schedules/bulk` failure for one provider (its `failed[].error`), e.g. refusing providers whose
   * last connection test failed.
   * @default - none: only unknown or invisible providers fail
   */
  readonly scheduleFailure?: (provider: StoredProvider) => string | undefined;
}

export interface StoredOrganization {
  id: string;
  name: string;
  orgType: 'aws';
  /** `o-…`: immutable. */
  externalId: string;
  /** The root's id once a discovery has succeeded. */
  rootExternalId: string | null;
  insertedAt: string;
  updatedAt: string;
}

export interface StoredOrganizationSecret {
  id: string;
  organizationId: string;
  secretType: string;
  secret: CloudRoleCredential;
  insertedAt: string;
  updatedAt: string;
  /** PATCHes served for it (each re-authenticates the organization's providers). */
  patches: number;
}

export interface StoredOrganizationNode {
  id: string;
  organizationId: string;
  kind: 'organizational-unit';
  /** `ou-…`. */
  externalId: string;
  name: string;
  /** The parent node; null at the top level (under the root, which is not a node). */
  parentId: string | null;
  insertedAt: string;
}

export type CloudDiscoveryStatus = 'pending' | 'running' | 'succeeded' | 'failed';

/** `result.accounts[].registration`, FACTS §3b item 4. */
export interface CloudRegistration {
  readonly provider_exists: boolean;
  readonly provider_id: string | null;
  readonly organization_relation: 'already_linked' | 'link_required' | 'linked_to_other_organization';
  readonly organization_node_relation: 'not_applicable' | 'already_linked' | 'link_required' | 'linked_to_other_node';
  readonly provider_secret_state: 'will_create' | 'will_replace';
  readonly apply_status: 'ready' | 'blocked';
  readonly blocked_reasons: string[];
}

export interface CloudDiscoveredAccount {
  readonly id: string;
  readonly name: string;
  readonly arn: string;
  readonly email: string;
  readonly status: string;
  readonly joined_method: string;
  readonly joined_timestamp: string | null;
  readonly parent_id: string;
  readonly registration: CloudRegistration;
}

export interface CloudDiscoveryResult {
  readonly roots: Array<{ readonly id: string; readonly arn: string; readonly name: string; readonly policy_types: unknown[] }>;
  readonly organizational_units: Array<{ readonly id: string; readonly name: string; readonly arn: string; readonly parent_id: string }>;
  readonly accounts: CloudDiscoveredAccount[];
}

export interface StoredDiscovery {
  id: string;
  organizationId: string;
  createdAt: number;
  readyAt: number;
  /** Set when it finished, or was discarded by a credential PATCH. */
  outcome?: {
    status: 'succeeded' | 'failed';
    result?: CloudDiscoveryResult;
    error: string | null;
    errorMessage: string | null;
    at: number;
  };
}

/** A Prowler Cloud schedule (one per provider, its id the provider's). */
export interface CloudScheduleAttributes {
  readonly scan_enabled: boolean;
  readonly scan_frequency: 'DAILY' | 'INTERVAL' | 'WEEKLY' | 'MONTHLY';
  readonly scan_hour: number;
  readonly scan_timezone: string;
  readonly scan_interval_hours: number | null;
  readonly scan_day_of_week: number | null;
  readonly scan_day_of_month: number | null;
}

/** A provider a cascade took with it (an organization's or a node's DELETE). */
export interface CloudDeletion {
  readonly providerId: string;
  readonly uid: string;
  /** The request that caused it, e.g. `DELETE /organizations/<id>`. */
  readonly cause: string;
}

/** Seeding and inspection of the Cloud dialect's state, for tests (`double.cloud`). */
export interface CloudInspection {
  organizations(): StoredOrganization[];
  /** Every node, or one organization's. */
  nodes(organizationId?: string): StoredOrganizationNode[];
  credential(organizationId: string): StoredOrganizationSecret | undefined;
  /** Credential PATCHes served, for one organization or all. */
  credentialPatches(organizationId?: string): number;
  /** Provider id → its schedule. */
  schedules(): Map<string, CloudScheduleAttributes>;
  /** Discoveries with their status now, oldest first. */
  discoveries(organizationId?: string): Array<StoredDiscovery & { status: CloudDiscoveryStatus }>;
  /** Providers deleted by a cascade, in order. */
  deletions(): CloudDeletion[];
  /** The providers linked to an organization. */
  providersOf(organizationId: string): StoredProvider[];
  /** An organization as if created in Prowler Cloud's UI, with its credential if given. */
  seedOrganization(externalId: string, options?: { readonly name?: string; readonly credential?: CloudRoleCredential }): StoredOrganization;
  /** A node of an organization (`parentId`: another node's id). */
  seedNode(
    organizationId: string,
    externalId: string,
    options?: { readonly name?: string; readonly parentId?: string | null },
  ): StoredOrganizationNode;
  /** Links a provider to an organization (and a node of it), as an earlier apply would have. */
  linkProvider(providerId: string, organizationId: string, nodeId?: string | null): StoredProvider;
}

/** A failed AWS discovery as Prowler Cloud words an authentication failure. */
export const CLOUD_AUTHENTICATION_FAILURE: CloudDiscoveryError = {
  error: 'organization_discovery_failed',
  error_message: 'Authentication failed. Please verify the StackSet deployment and Role ARN',
};

/**
 * The default discovery outcome: the authentication failure when the organization has no
 * credential, when the credential's role is not in the management account, or when its external
 * ID is not the tenant's id (the ProwlerScan role trusts that one only); `organization_discovery_failed`
 * when the role's organization is not the Prowler organization's `external_id`; else success.
 */
export function defaultCloudDiscoveryFailure(context: CloudDiscoveryContext): CloudDiscoveryError | undefined {
  const { credential, organization, prowlerOrganization, tenantId } = context;
  if (!credential) return CLOUD_AUTHENTICATION_FAILURE;
  const account = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):role\/.+$/.exec(credential.role_arn)?.[1];
  if (account !== organization.managementAccountId || credential.external_id !== tenantId) return CLOUD_AUTHENTICATION_FAILURE;
  if (prowlerOrganization.externalId !== organization.organizationId) {
    return {
      error: 'organization_discovery_failed',
      error_message: `The role's organization is ${organization.organizationId}, not ${prowlerOrganization.externalId}.`,
    };
  }
  return undefined;
}

/** The Cloud view of a simulated organization (`testing/organization.ts`); call it in `organization` for a live view. */
export function cloudOrganizationFromSimulation(org: SimOrganization, partition = 'aws'): CloudOrganizationView {
  return {
    organizationId: org.id,
    managementAccountId: org.managementAccountId,
    partition,
    roots: org.roots.map((r) => ({ id: r.id, name: r.name })),
    units: org.ous.map((u) => ({ id: u.id, name: u.name, parentId: u.parentId })),
    // The simulation's Organizations API answers this JoinedTimestamp for every account.
    accounts: org.accounts.map((a) => ({
      id: a.id, name: a.name, email: a.email, status: a.status, parentId: a.parentId, joinedMethod: a.joinedMethod, joinedTimestamp: '2024-01-01T00:00:00.000Z',
    })),
  };
}

const JSON_API = 'application/vnd.api+json';
const API = '/api/v1';

/** Known filters per list endpoint: any other filter[...] key is a 400, as in Prowler. */
const PROVIDER_FILTERS = new Set(['provider', 'provider__in', 'uid', 'uid__in', 'id', 'id__in', 'alias', 'provider_groups', 'provider_groups__in', 'connected']);
const GROUP_FILTERS = new Set(['name', 'name__in', 'id', 'id__in']);
/**
 * Prowler Cloud's list filters: only those its UI is seen sending (FACTS §3b), so that a client
 * relying on an unverified one fails here first. `/organization-nodes` is read whole and grouped
 * client-side; the UI says `/schedules` has no multi-provider filter.
 */
const ORGANIZATION_FILTERS = new Set(['external_id', 'org_type']);
const ORGANIZATION_SECRET_FILTERS = new Set(['organization_id']);
const NODE_FILTERS = new Set<string>();
const SCHEDULE_FILTERS = new Set(['configured']);
const SCHEDULE_KEYS = ['scan_enabled', 'scan_frequency', 'scan_hour', 'scan_timezone', 'scan_interval_hours', 'scan_day_of_week', 'scan_day_of_month'] as const;

/** Paths Prowler App has no route for: Django's own 404 page, before authentication. */
const CLOUD_ONLY_PATH = /^\/api\/v1\/organization(?:s|-secrets|-nodes)(?:\/.*)?$/;
const DJANGO_NOT_FOUND = '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1>'
  + '<p>The requested resource was not found on this server.</p>\n</body>\n</html>\n';

/** What a route answers. */
interface Answer {
  status: number;
  body?: Json;
  headers?: Record<string, string>;
}

interface StoredTask {
  id: string;
  name: string;
  providerId: string;
  createdAt: number;
  readyAt: number;
  outcome?: ConnectionOutcome;
}

class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly detail: string,
    public readonly pointer?: string,
    public readonly code?: string,
    /** DJA renders a view's own `Response({"detail": …}, 400)` as `{"errors": {"detail": …}}`: an object, not a list. */
    public readonly errorsObject = false,
  ) {
    super(detail);
  }
}

const NOT_PERMITTED = 'You do not have permission to perform this action.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class ProwlerApiDouble {
  readonly tenantId: string;
  readonly providers = new Map<string, StoredProvider>();
  readonly secrets = new Map<string, StoredSecret>();
  readonly groups = new Map<string, StoredGroup>();
  readonly schedules = new Set<string>();
  readonly scans: string[] = [];
  readonly tasks = new Map<string, StoredTask>();
  /** Celery Beat periodic tasks by name (`scan-perform-scheduled-<provider>`), with their interval in hours. */
  readonly periodicTasks = new Map<string, number>();
  readonly requests: RecordedRequest[] = [];
  /** Connection tests per provider. */
  readonly connectionAttempts = new Map<string, number>();
  /** Prowler Cloud's state: seeding and inspection (served in `cloud` mode only). */
  readonly cloud: CloudInspection;
  private readonly orgs = new Map<string, StoredOrganization>();
  private readonly orgSecrets = new Map<string, StoredOrganizationSecret>();
  private readonly orgNodes = new Map<string, StoredOrganizationNode>();
  private readonly orgDiscoveries = new Map<string, StoredDiscovery>();
  private readonly cloudSchedules = new Map<string, { attributes: CloudScheduleAttributes; insertedAt: string; updatedAt: string }>();
  /** Provider secrets written from an organization's credential: secret id → organization id. */
  private readonly managedSecrets = new Map<string, string>();
  private readonly cascadeDeletions: CloudDeletion[] = [];
  private readonly apiKeys: Set<string>;
  private readonly tokens: Set<string>;
  /** The role of the request being served. */
  private caller: DoubleRole = ADMIN_ROLE;
  /** Provider state changes due when their connection task completes. */
  private readonly settlements: Array<{ at: number; apply: () => void }> = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private index = 0;
  options: ProwlerApiDoubleOptions;

  constructor(options: ProwlerApiDoubleOptions = {}) {
    this.options = options;
    this.tenantId = options.tenantId ?? randomUUID();
    this.apiKeys = new Set(options.apiKeys ?? ['pk_test.double-key']);
    this.tokens = new Set(options.tokens ?? []);
    this.cloud = this.cloudInspection();
  }

  /** The base URL (…/api/v1) once started. */
  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('the double is not started');
    return `http://127.0.0.1:${address.port}${API}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ---- Seeding and inspection ----

  /** Adds a provider as if a user had created it by hand. */
  seedProvider(uid: string, options: SeedOptions = {}): StoredProvider {
    const provider: StoredProvider = {
      id: randomUUID(),
      uid,
      alias: options.alias ?? null,
      connected: options.connected ?? null,
      lastCheckedAt: options.connected === undefined ? null : new Date().toISOString(),
      secretId: null,
      insertedAt: new Date().toISOString(),
    };
    this.providers.set(provider.id, provider);
    if (options.secret) {
      const secret: StoredSecret = { id: randomUUID(), providerId: provider.id, secretType: 'role', secret: options.secret };
      this.secrets.set(secret.id, secret);
      provider.secretId = secret.id;
    }
    if (options.groupName) this.groupNamed(options.groupName).providerIds.add(provider.id);
    return provider;
  }

  groupNamed(name: string) {
    const existing = [...this.groups.values()].find((g) => g.name === name);
    if (existing) return existing;
    const group = { id: randomUUID(), name, providerIds: new Set<string>() };
    this.groups.set(group.id, group);
    return group;
  }

  /** A Celery Beat task with the name the daily schedule of this provider would take, at another interval. */
  seedPeriodicTask(providerId: string, everyHours: number): void {
    this.periodicTasks.set(`scan-perform-scheduled-${providerId}`, everyHours);
  }

  providerByUid(uid: string): StoredProvider | undefined {
    return [...this.providers.values()].find((p) => p.uid === uid);
  }

  secretOf(uid: string): StoredSecret | undefined {
    const provider = this.providerByUid(uid);
    return provider?.secretId ? this.secrets.get(provider.secretId) : undefined;
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const raw = await new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (chunk) => (data += chunk));
      req.on('end', () => resolve(data));
    });
    const index = this.index++;
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (this.options.latencyMs) await delay(this.options.latencyMs);

    const fault = this.options.fault?.({ method, path, index, headers: req.headers });
    if (fault === 'reset') {
      this.requests.push({ method, path, query, status: 0 });
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') {
      this.requests.push({ method, path, query, status: -1 });
      return; // never answers; the client times out
    }
    if (fault === 'garbage') {
      this.requests.push({ method, path, query, status: 200 });
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>not the API</html>');
      return;
    }
    if (fault && fault !== 'drop-answer') {
      const headers: Record<string, string> = { 'Content-Type': JSON_API, ...fault.headers };
      if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
      this.requests.push({ method, path, query, status: fault.status });
      res.writeHead(fault.status, headers).end(fault.body ?? JSON.stringify({ errors: [{ detail: `injected ${fault.status}`, status: String(fault.status) }] }));
      return;
    }

    const answer = this.dispatch(method, url, { authorization: req.headers.authorization, contentType: req.headers['content-type'] }, raw);
    if (fault === 'drop-answer') {
      this.requests[this.requests.length - 1] = { ...this.requests[this.requests.length - 1], status: 0 };
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  /** Serves one request in-process (the HTTP server calls this; so can a simulation's fetch). */
  dispatch(method: string, url: URL, headers: { authorization?: string; contentType?: string }, raw: string): DispatchedAnswer {
    const query = Object.fromEntries(url.searchParams.entries());
    const path = url.pathname;
    this.settleTasks();
    if (!this.options.cloud && CLOUD_ONLY_PATH.test(path)) {
      // Prowler App's URLconf has no such route: Django answers its HTML page, authenticated or not.
      this.requests.push({ method, path, query, status: 404 });
      return { status: 404, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: DJANGO_NOT_FOUND };
    }
    let body: Json;
    try {
      body = raw ? parseBody(raw) : undefined;
      if (raw && headers.contentType !== JSON_API) throw new HttpError(415, `Unsupported media type "${headers.contentType}" in request.`);
      this.caller = this.authenticate(headers.authorization);
      const answer = this.route(method, path, query, body);
      this.requests.push({ method, path, query, body, status: answer.status });
      return {
        status: answer.status,
        headers: { 'Content-Type': JSON_API, ...(answer.headers ?? {}) },
        body: answer.body === undefined ? undefined : JSON.stringify(answer.body),
      };
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, (error as Error).message);
      this.requests.push({ method, path, query, body, status: e.status });
      const source = e.pointer ? { source: { pointer: e.pointer } } : {};
      const detail = { detail: e.detail, status: String(e.status), ...source, ...(e.code ? { code: e.code } : {}) };
      const errors = e.errorsObject ? { detail: e.detail } : [detail];
      return { status: e.status, headers: { 'Content-Type': JSON_API }, body: JSON.stringify({ errors }) };
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Connection tasks change their provider's state when they complete; discoveries finish. */
  private settleTasks(): void {
    const now = this.now();
    for (let i = this.settlements.length - 1; i >= 0; i--) {
      if (this.settlements[i].at <= now) {
        this.settlements[i].apply();
        this.settlements.splice(i, 1);
      }
    }
    this.settleDiscoveries(now);
  }

  /** `Api-Key <key>` or `Bearer <jwt>`: the caller's role in the tenant. */
  private authenticate(header: string | undefined): DoubleRole {
    const key = header?.match(/^Api-Key (.+)$/)?.[1];
    const token = header?.match(/^Bearer (.+)$/)?.[1];
    const credential = key !== undefined && this.apiKeys.has(key) ? key : token !== undefined && this.tokens.has(token) ? token : undefined;
    if (credential === undefined) throw new HttpError(401, 'Authentication credentials were not provided or are invalid.', undefined, 'not_authenticated');
    return { ...ADMIN_ROLE, ...(this.options.roles?.[credential] ?? {}) };
  }

  /** RBAC: a write needs its permission (any of the user's roles in the tenant). */
  private require(permission: 'manageProviders' | 'manageScans'): void {
    if (!this.caller[permission]) throw new HttpError(403, NOT_PERMITTED, undefined, 'permission_denied');
  }

  /** What the caller's role sees: everything, or the providers of its provider groups. */
  private sees(provider: StoredProvider): boolean {
    if (this.caller.unlimitedVisibility) return true;
    return [...this.groups.values()].some((g) => this.caller.providerGroups.includes(g.name) && g.providerIds.has(provider.id));
  }

  private seesGroup(group: StoredGroup): boolean {
    return this.caller.unlimitedVisibility || this.caller.providerGroups.includes(group.name);
  }

  /** A provider by id, as the caller's queryset has it (404 otherwise). */
  private visibleProvider(id: string): StoredProvider {
    const provider = this.providers.get(id);
    if (!provider || !this.sees(provider)) throw new HttpError(404, 'No Provider matches the given query.');
    return provider;
  }

  private route(method: string, path: string, query: Record<string, string>, body: Json): Answer {
    if (!path.startsWith(API)) throw new HttpError(404, 'Not found.');
    const p = path.slice(API.length);
    if (p.endsWith('/') && p !== '/') throw new HttpError(404, 'Not found.');
    if (this.options.cloud) {
      const answer = this.cloudRoute(method, p, query, body);
      if (answer) return answer;
    }
    let m: RegExpMatchArray | null;
    if (method === 'GET' && p === '/users/me') return this.me(query);
    if (method === 'GET' && p === '/providers') return this.listProviders(query);
    if (method === 'POST' && p === '/providers') return this.createProvider(body);
    if (method === 'POST' && p === '/providers/secrets') return this.createSecret(body);
    if ((m = p.match(/^\/providers\/secrets\/([^/]+)$/)) && method === 'PATCH') return this.updateSecret(m[1], body);
    if ((m = p.match(/^\/providers\/([^/]+)\/connection$/)) && method === 'POST') return this.testConnection(m[1]);
    if ((m = p.match(/^\/providers\/([^/]+)$/))) {
      const provider = this.visibleProvider(m[1]);
      if (method === 'GET') return { status: 200, body: { data: this.providerResource(provider) } };
      if (method !== 'GET') this.require('manageProviders');
      if (method === 'PATCH') return this.updateProvider(provider, body);
      if (method === 'DELETE') {
        this.providers.delete(provider.id);
        for (const g of this.groups.values()) g.providerIds.delete(provider.id);
        return { status: 202, body: { data: this.newTask('provider-deletion', provider.id, 0) } };
      }
    }
    if ((m = p.match(/^\/tasks\/([^/]+)$/)) && method === 'GET') return this.getTask(m[1]);
    if (method === 'POST' && p === '/schedules/daily') return this.scheduleDaily(body);
    if (method === 'POST' && p === '/scans') return this.startScan(body);
    if (method === 'GET' && p === '/provider-groups') return this.listGroups(query);
    if (method === 'POST' && p === '/provider-groups') return this.createGroup(body);
    if ((m = p.match(/^\/provider-groups\/([^/]+)\/relationships\/providers$/))) return this.groupMembership(method, m[1], body);
    if ((m = p.match(/^\/provider-groups\/([^/]+)$/))) {
      const group = this.groups.get(m[1]);
      if (!group || !this.seesGroup(group)) throw new HttpError(404, 'No ProviderGroup matches the given query.');
      if (method === 'GET') return { status: 200, body: { data: this.groupResource(group) } };
      this.require('manageProviders');
      if (method === 'DELETE') {
        this.groups.delete(group.id);
        return { status: 204 };
      }
    }
    throw new HttpError(405, `Method "${method}" not allowed.`);
  }

  private me(query: Record<string, string>) {
    const membership = { id: randomUUID(), type: 'memberships', meta: { active: true } };
    const role = { type: 'roles', id: randomUUID() };
    const include = new Set((query.include ?? '').split(',').filter(Boolean));
    const included = [
      ...(include.has('memberships')
        ? [{ type: 'memberships', id: membership.id, attributes: { role: 'owner' }, relationships: { tenant: { data: { type: 'tenants', id: this.tenantId } } } }]
        : []),
      ...(include.has('roles') ? [{
        ...role,
        attributes: {
          name: this.caller.name,
          manage_users: false,
          manage_account: false,
          manage_integrations: false,
          manage_providers: this.caller.manageProviders,
          manage_scans: this.caller.manageScans,
          unlimited_visibility: this.caller.unlimitedVisibility,
          permission_state: this.caller.manageProviders && this.caller.manageScans ? 'unlimited' : 'limited',
        },
      }] : []),
    ];
    return {
      status: 200,
      body: {
        data: {
          type: 'users',
          id: 'user-1',
          attributes: { name: 'Double', email: 'double@example.com' },
          relationships: { memberships: { data: [membership] }, roles: { data: [role] } },
        },
        ...(included.length > 0 ? { included } : {}),
      },
    };
  }

  private page<T>(items: T[], query: Record<string, string>) {
    const size = Number(query['page[size]'] ?? 10);
    const number = Number(query['page[number]'] ?? 1);
    if (!Number.isInteger(size) || size < 1 || size > 100) throw new HttpError(400, 'Invalid page size.', '/page[size]');
    const pages = Math.max(1, Math.ceil(items.length / size));
    if (number > pages && items.length > 0) throw new HttpError(404, 'Invalid page.');
    return { data: items.slice((number - 1) * size, number * size), meta: { pagination: { page: number, pages, count: items.length } } };
  }

  private filters(query: Record<string, string>, known: Set<string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(query)) {
      const m = k.match(/^filter\[(.+)\]$/);
      if (!m) continue;
      if (!known.has(m[1])) throw new HttpError(400, `invalid filter: ${m[1]}`, `/filter[${m[1]}]`, 'invalid');
      out[m[1]] = v;
    }
    return out;
  }

  private providerResource(p: StoredProvider) {
    const groups = [...this.groups.values()].filter((g) => g.providerIds.has(p.id)).map((g) => ({ type: 'provider-groups', id: g.id }));
    return {
      type: 'providers',
      id: p.id,
      attributes: {
        inserted_at: p.insertedAt,
        updated_at: p.insertedAt,
        provider: 'aws',
        uid: p.uid,
        alias: p.alias,
        connection: { connected: p.connected, last_checked_at: p.lastCheckedAt },
      },
      relationships: {
        secret: { data: p.secretId ? { type: 'provider-secrets', id: p.secretId } : null },
        provider_groups: { data: groups, meta: { count: groups.length } },
        ...(this.options.cloud ? {
          organization: { data: p.organizationId ? { type: 'organizations', id: p.organizationId } : null },
          organization_node: { data: p.organizationNodeId ? { type: 'organization-nodes', id: p.organizationNodeId } : null },
        } : {}),
      },
      links: { self: `${API}/providers/${p.id}` },
    };
  }

  private listProviders(query: Record<string, string>) {
    const f = this.filters(query, PROVIDER_FILTERS);
    let items = [...this.providers.values()].filter((p) => this.sees(p));
    if (f.provider && f.provider !== 'aws') items = [];
    if (f.uid) items = items.filter((p) => p.uid === f.uid);
    if (f.id) items = items.filter((p) => p.id === f.id);
    if (f.id__in) {
      // django-filter's UUIDInFilter: every value a UUID.
      const ids = f.id__in.split(',');
      const invalid = ids.find((id) => !UUID.test(id));
      if (invalid !== undefined) throw new HttpError(400, 'Enter a valid UUID.', '/filter[id__in]', 'invalid');
      items = items.filter((p) => ids.includes(p.id));
    }
    if (f.uid__in) {
      const uids = f.uid__in.split(',');
      if (uids.length > 100) throw new HttpError(400, 'Ensure this value has at most 100 elements.', '/filter[uid__in]');
      items = items.filter((p) => uids.includes(p.uid));
    }
    if (f.provider_groups) items = items.filter((p) => this.groups.get(f.provider_groups)?.providerIds.has(p.id));
    items.sort((a, b) => a.insertedAt.localeCompare(b.insertedAt) || a.uid.localeCompare(b.uid));
    const page = this.page(items, query);
    return { status: 200, body: { ...page, data: page.data.map((p) => this.providerResource(p)) } };
  }

  private createProvider(body: Json) {
    this.require('manageProviders');
    const data = body?.data;
    if (data?.type !== 'providers') throw new HttpError(409, "The resource object's type (undefined) is not the type that constitute the collection represented by the endpoint (providers).", '/data');
    const { provider, uid, alias } = data.attributes ?? {};
    if (provider !== 'aws') throw new HttpError(400, `"${provider}" is not a valid choice.`, '/data/attributes/provider', 'invalid_choice');
    if (typeof uid !== 'string' || !/^\d{12}$/.test(uid)) throw new HttpError(400, 'The AWS account ID must be 12 digits.', '/data/attributes/uid', 'aws-uid');
    if (alias !== undefined && alias !== null && (typeof alias !== 'string' || alias.length < 3 || alias.length > 100)) {
      throw new HttpError(400, 'Ensure this field has between 3 and 100 characters.', '/data/attributes/alias', 'min_length');
    }
    if (this.providerByUid(uid)) throw new HttpError(409, 'Provider already exists.', '/data/attributes/uid', 'unique');
    const stored: StoredProvider = {
      id: randomUUID(), uid, alias: alias ?? null, connected: null, lastCheckedAt: null, secretId: null, insertedAt: new Date().toISOString(),
    };
    this.providers.set(stored.id, stored);
    // The create serializer answers these fields only (no connection, no relationships).
    return { status: 201, body: { data: { type: 'providers', id: stored.id, attributes: { alias: stored.alias, provider: 'aws', uid: stored.uid } } } };
  }

  private updateProvider(provider: StoredProvider, body: Json) {
    const alias = body?.data?.attributes?.alias;
    if (body?.data?.id !== provider.id) throw new HttpError(409, 'The resource object\'s id does not match the URL.', '/data/id');
    if (alias !== undefined) {
      if (typeof alias !== 'string' || alias.length < 3 || alias.length > 100) throw new HttpError(400, 'Ensure this field has between 3 and 100 characters.', '/data/attributes/alias');
      provider.alias = alias;
    }
    return { status: 200, body: { data: this.providerResource(provider) } };
  }

  private validateSecret(type: unknown, secret: Json) {
    if (type !== 'role') throw new HttpError(400, 'The double only implements role secrets.', '/data/attributes/secret_type');
    if (!secret || typeof secret.role_arn !== 'string' || !/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/.+/.test(secret.role_arn)) {
      throw new HttpError(400, 'Enter a valid role ARN.', '/data/attributes/secret/role_arn');
    }
    if (typeof secret.external_id !== 'string' || secret.external_id.length === 0) throw new HttpError(400, 'This field is required.', '/data/attributes/secret/external_id');
    if (secret.session_duration !== undefined && (secret.session_duration < 900 || secret.session_duration > 43200)) {
      throw new HttpError(400, 'Ensure this value is between 900 and 43200.', '/data/attributes/secret/session_duration');
    }
  }

  private createSecret(body: Json) {
    this.require('manageProviders');
    const data = body?.data;
    const providerId = data?.relationships?.provider?.data?.id;
    const candidate = providerId ? this.providers.get(providerId) : undefined;
    const provider = candidate && this.sees(candidate) ? candidate : undefined;
    if (!provider) throw new HttpError(400, 'Invalid pk - object does not exist.', '/data/relationships/provider');
    this.validateSecret(data.attributes?.secret_type, data.attributes?.secret);
    // ProviderSecret.provider is a OneToOneField: DRF's unique validator, in Django's words.
    if (provider.secretId) throw new HttpError(400, 'Provider secret with this provider already exists.', '/data/relationships/provider', 'unique');
    const { secret_type: secretType, secret: values } = data.attributes;
    const secret: StoredSecret = { id: randomUUID(), providerId: provider.id, secretType, secret: values };
    this.secrets.set(secret.id, secret);
    provider.secretId = secret.id;
    // The provider's connection state changes only when a connection task completes.
    return { status: 201, body: { data: { type: 'provider-secrets', id: secret.id, attributes: { secret_type: secret.secretType, name: null } } } };
  }

  private updateSecret(id: string, body: Json) {
    this.require('manageProviders');
    const secret = this.secrets.get(id);
    const owner = secret ? this.providers.get(secret.providerId) : undefined;
    if (!secret || (owner && !this.sees(owner))) throw new HttpError(404, 'No ProviderSecret matches the given query.');
    this.validateSecret(body?.data?.attributes?.secret_type ?? secret.secretType, body?.data?.attributes?.secret ?? secret.secret);
    secret.secretType = body.data.attributes.secret_type ?? secret.secretType;
    secret.secret = body.data.attributes.secret ?? secret.secret;
    return { status: 200, body: { data: { type: 'provider-secrets', id, attributes: { secret_type: secret.secretType } } } };
  }

  private newTask(name: string, providerId: string, durationMs: number, outcome?: ConnectionOutcome) {
    const now = this.now();
    const task: StoredTask = { id: randomUUID(), name, providerId, createdAt: now, readyAt: now + durationMs, outcome };
    this.tasks.set(task.id, task);
    return this.taskResource(task);
  }

  /**
   * Celery's states as Prowler maps them: PENDING → available (queued), STARTED → executing, then
   * SUCCESS → completed or FAILURE → failed. `result` is empty until then; a failed task's is the
   * exception. The first half of a task's time it waits in the queue.
   */
  private taskResource(task: StoredTask) {
    const now = this.now();
    const done = now >= task.readyAt;
    const failure = task.outcome?.taskFailure;
    const state = done ? (failure ? 'failed' : 'completed') : now < task.createdAt + (task.readyAt - task.createdAt) / 2 ? 'available' : 'executing';
    const result = !done
      ? {}
      : failure
        ? { exc_type: failure.type, exc_message: [failure.message], exc_module: 'botocore.exceptions' }
        : task.outcome ? { connected: task.outcome.connected, error: task.outcome.error ?? null } : null;
    return {
      type: 'tasks',
      id: task.id,
      attributes: {
        inserted_at: new Date(task.createdAt).toISOString(),
        name: task.name,
        state,
        completed_at: done ? new Date(task.readyAt).toISOString() : null,
        result,
        task_args: {},
      },
    };
  }

  private testConnection(providerId: string) {
    const provider = this.visibleProvider(providerId);
    this.require('manageProviders');
    const attempt = (this.connectionAttempts.get(provider.uid) ?? 0) + 1;
    this.connectionAttempts.set(provider.uid, attempt);
    const secret = provider.secretId ? this.secrets.get(provider.secretId) : undefined;
    const outcome = !secret
      ? { connected: false, error: 'Provider has no secret.' }
      : (this.options.connectionRule ?? (() => ({ connected: true })))(provider, secret, attempt);
    const task = this.newTask('provider-connection-check', provider.id, this.options.connectionTaskMs ?? 0, outcome);
    // The provider's connection state changes when the task completes (a failed task changes nothing).
    const settle = () => {
      if ('taskFailure' in outcome && outcome.taskFailure) return;
      provider.connected = outcome.connected;
      provider.lastCheckedAt = new Date(this.now()).toISOString();
    };
    if (!this.options.connectionTaskMs) settle();
    else this.settlements.push({ at: this.now() + this.options.connectionTaskMs, apply: settle });
    return { status: 202, body: { data: task }, headers: { 'Content-Location': `${API}/tasks/${task.id}` } };
  }

  private getTask(id: string) {
    const task = this.tasks.get(id);
    if (!task) throw new HttpError(404, 'No Task matches the given query.');
    return { status: 200, body: { data: this.taskResource(task) } };
  }

  private scheduleDaily(body: Json) {
    this.require('manageScans');
    const providerId = body?.data?.attributes?.provider_id;
    if (body?.data?.type !== 'daily-schedules') throw new HttpError(409, "The resource object's type is not daily-schedules.", '/data/type');
    const provider = this.providers.get(providerId);
    if (!provider || !this.sees(provider)) throw new HttpError(400, 'Invalid pk - object does not exist.', '/data/attributes/provider_id');
    if (this.schedules.has(providerId)) throw new HttpError(409, 'There is already a scheduled scan for this provider.', '/data/attributes/provider_id', 'conflict');
    // django-celery-beat: a periodic task of that name with another interval is an integrity error.
    const name = `scan-perform-scheduled-${providerId}`;
    const interval = this.periodicTasks.get(name);
    if (interval !== undefined && interval !== 24) throw new HttpError(500, 'A server error occurred.');
    this.periodicTasks.set(name, 24);
    this.schedules.add(providerId);
    this.scans.push(providerId);
    return { status: 202, body: { data: this.newTask('scan-perform-scheduled', providerId, 0) } };
  }

  private startScan(body: Json) {
    this.require('manageScans');
    const providerId = body?.data?.relationships?.provider?.data?.id;
    const provider = this.providers.get(providerId);
    if (!provider || !this.sees(provider)) throw new HttpError(400, 'Invalid pk - object does not exist.', '/data/relationships/provider');
    this.scans.push(providerId);
    return { status: 202, body: { data: this.newTask('scan-perform', providerId, 0) } };
  }

  private groupResource(g: { id: string; name: string; providerIds: Set<string> }) {
    return {
      type: 'provider-groups',
      id: g.id,
      attributes: { name: g.name },
      relationships: { providers: { data: [...g.providerIds].map((id) => ({ type: 'providers', id })) } },
    };
  }

  private listGroups(query: Record<string, string>) {
    const f = this.filters(query, GROUP_FILTERS);
    let items = [...this.groups.values()].filter((g) => this.seesGroup(g));
    if (f.name) items = items.filter((g) => g.name === f.name);
    const page = this.page(items, query);
    return { status: 200, body: { ...page, data: page.data.map((g) => this.groupResource(g)) } };
  }

  private createGroup(body: Json) {
    this.require('manageProviders');
    const name = body?.data?.attributes?.name;
    if (typeof name !== 'string' || !name) throw new HttpError(400, 'This field is required.', '/data/attributes/name');
    // ProviderGroupSerializer.validate: a 400 on the name, whoever can see the other group.
    if ([...this.groups.values()].some((g) => g.name === name)) throw new HttpError(400, 'A provider group with this name already exists.', '/data/attributes/name', 'invalid');
    const group = { id: randomUUID(), name, providerIds: new Set<string>() };
    this.groups.set(group.id, group);
    return { status: 201, body: { data: this.groupResource(group) } };
  }

  /**
   * `/provider-groups/{id}/relationships/providers`, as Prowler's ProviderGroupProvidersRelationshipView
   * (api/v1/views.py) behind DJA's JSONParser: a body of resource identifier linkage
   * (`{"data": [{"type": "provider", "id": "<uuid>"}]}`) for POST (add: any provider already a
   * member rejects the whole request) and PATCH (the membership becomes exactly the list);
   * DELETE clears every member, whatever the body. Answers 204.
   */
  private groupMembership(method: string, groupId: string, body: Json): Answer {
    if (!['POST', 'PATCH', 'DELETE'].includes(method)) throw new HttpError(405, `Method "${method}" not allowed.`);
    this.require('manageProviders');
    const group = this.groups.get(groupId);
    if (!group || !this.seesGroup(group)) throw new HttpError(404, 'No ProviderGroup matches the given query.');
    if (method === 'DELETE') {
      group.providerIds.clear();
      return { status: 204 };
    }
    const data = linkage(body);
    if (!Array.isArray(data)) {
      // A single identifier passes the parser; the view then iterates it as a list.
      if (method === 'POST') throw new HttpError(500, 'A server error occurred.');
      throw new HttpError(400, 'Expected a list of items but got type "dict".', '/data/attributes/providers', 'not_a_list');
    }
    const ids: string[] = data.map((item) => String(item.id));
    if (method === 'POST' && ids.some((id) => group.providerIds.has(id))) {
      throw new HttpError(400, 'One or more providers are already associated with the provider_group.', undefined, undefined, true);
    }
    const invalid = ids.find((id) => !UUID.test(id));
    if (invalid) throw new HttpError(400, `"${invalid}" is not a valid UUID.`, '/data/attributes/providers', 'invalid');
    const accessible = ids.every((id) => {
      const provider = this.providers.get(id);
      return provider !== undefined && this.sees(provider);
    });
    if (!accessible) throw new HttpError(400, 'One or more providers do not exist or are not accessible.', '/data/attributes/providers', 'invalid');
    if (method === 'PATCH') group.providerIds.clear();
    for (const id of ids) group.providerIds.add(id);
    return { status: 204 };
  }

  // ---- Prowler Cloud mode (FACTS §3b) ----
  //
  // What the double decides where Prowler Cloud's UI code is silent (its backend is private):
  //
  // Registration, per discovered account, from the provider store when the discovery finishes
  // (the provider is the one whose uid is the account id):
  // - organization_relation: `already_linked` when the provider is linked to this organization,
  //   `linked_to_other_organization` when to another one, else (no provider, or an unlinked one)
  //   `link_required`.
  // - organization_node_relation: for an account directly under a root, `not_applicable` unless
  //   its provider sits under a node (then `linked_to_other_node`); for an account in an OU,
  //   `already_linked` when its provider sits under this organization's node for that OU,
  //   `linked_to_other_node` when under any other node (another organization's, or an OU the
  //   account has left), else `link_required`.
  // - provider_secret_state: `will_replace` when the provider has a secret that this
  //   organization's credential did not write (its own, or another organization's), else
  //   `will_create`.
  // - blocked_reasons: `organization_conflict` for linked_to_other_organization,
  //   `organization_node_conflict` for linked_to_other_node when the node is another
  //   organization's (Prowler's UI fixtures pair the two), then `blockedReasons(account)`. A
  //   provider of this organization under another of its nodes (the account moved to another OU)
  //   is `linked_to_other_node` and ready: the apply moves it. Prowler's server is private: should
  //   it block a moved account, the engine reports that verdict as it reports every other.
  //   The double stores AWS providers only, so `provider_type_conflict` comes from that hook
  //   alone. apply_status: `blocked` when there is any reason, else `ready`.
  //
  // Apply judges "blocked" again against the store at apply time, so a conflict that arose
  // after the discovery still stops it. It refuses (400) an account or OU not in the result, and
  // an `organizational_units` list that is not closed under ancestors: every OU above a selected
  // account, and the parent of every OU sent, must be in it (or already be a node). It uses the
  // discovered hierarchy, not the live one. Linked providers keep their id, history and connection
  // state; an alias given replaces theirs. A created provider's alias is the given one, else the
  // account's name (its id when the name is not 3–100 characters).
  //
  // A credential PATCH re-authenticates every provider linked to the organization (their role
  // secrets become the new credential's, `connection.connected` null) even when the values are
  // the same, and fails a pending or running discovery of the organization with the error code
  // `discovery_discarded`.
  //
  // DELETE /organizations/{id} and /organization-nodes/{id} answer 202 with a deletion task, as
  // Prowler's UI fixtures do, after deleting every provider under them (a node's subtree) with
  // their secrets, schedules and scans: see `double.cloud.deletions()`.
  //
  // Schedules and scans need manage-scans, as Prowler App's do; everything else manage-providers.
  // A Cloud schedule with `scan_enabled` also puts its provider in `double.schedules`.

  private cloudInspection(): CloudInspection {
    const iso = () => new Date(this.now()).toISOString();
    return {
      organizations: () => [...this.orgs.values()],
      nodes: (organizationId) => [...this.orgNodes.values()].filter((n) => organizationId === undefined || n.organizationId === organizationId),
      credential: (organizationId) => this.credentialOf(organizationId),
      credentialPatches: (organizationId) => [...this.orgSecrets.values()]
        .filter((s) => organizationId === undefined || s.organizationId === organizationId)
        .reduce((sum, s) => sum + s.patches, 0),
      schedules: () => new Map([...this.cloudSchedules].map(([id, s]) => [id, s.attributes])),
      discoveries: (organizationId) => {
        this.settleDiscoveries(this.now());
        return [...this.orgDiscoveries.values()]
          .filter((d) => organizationId === undefined || d.organizationId === organizationId)
          .map((d) => ({ ...d, status: this.discoveryStatus(d) }));
      },
      deletions: () => [...this.cascadeDeletions],
      providersOf: (organizationId) => this.providersOf(organizationId),
      seedOrganization: (externalId, options = {}) => {
        const organization: StoredOrganization = {
          id: randomUUID(), name: options.name ?? externalId, orgType: 'aws', externalId, rootExternalId: null, insertedAt: iso(), updatedAt: iso(),
        };
        this.orgs.set(organization.id, organization);
        if (options.credential) {
          const secret: StoredOrganizationSecret = {
            id: randomUUID(), organizationId: organization.id, secretType: 'role', secret: { ...options.credential }, insertedAt: iso(), updatedAt: iso(), patches: 0,
          };
          this.orgSecrets.set(secret.id, secret);
        }
        return organization;
      },
      seedNode: (organizationId, externalId, options = {}) => {
        if (!this.orgs.has(organizationId)) throw new Error(`no organization ${organizationId}`);
        const node: StoredOrganizationNode = {
          id: randomUUID(), organizationId, kind: 'organizational-unit', externalId, name: options.name ?? externalId, parentId: options.parentId ?? null, insertedAt: iso(),
        };
        this.orgNodes.set(node.id, node);
        return node;
      },
      linkProvider: (providerId, organizationId, nodeId = null) => {
        const provider = this.providers.get(providerId);
        if (!provider) throw new Error(`no provider ${providerId}`);
        if (!this.orgs.has(organizationId)) throw new Error(`no organization ${organizationId}`);
        provider.organizationId = organizationId;
        provider.organizationNodeId = nodeId;
        return provider;
      },
    };
  }

  /** Prowler Cloud's routes; undefined for a path that is not one of them (the App's routes serve it). */
  private cloudRoute(method: string, p: string, query: Record<string, string>, body: Json): Answer | undefined {
    let m: RegExpMatchArray | null;
    if (p === '/organizations') {
      if (method === 'GET') return this.listOrganizations(query);
      if (method === 'POST') return this.createOrganization(body);
      throw notAllowed(method);
    }
    if ((m = p.match(/^\/organizations\/([^/]+)\/discover$/))) {
      if (method === 'POST') return this.discover(m[1]);
      throw notAllowed(method);
    }
    if ((m = p.match(/^\/organizations\/([^/]+)\/discoveries\/([^/]+)\/apply$/))) {
      if (method === 'POST') return this.applyDiscovery(m[1], m[2], query, body);
      throw notAllowed(method);
    }
    if ((m = p.match(/^\/organizations\/([^/]+)\/discoveries\/([^/]+)$/))) {
      if (method === 'GET') return { status: 200, body: { data: this.discoveryResource(this.discoveryOf(this.organizationById(m[1]), m[2])) } };
      throw notAllowed(method);
    }
    if ((m = p.match(/^\/organizations\/([^/]+)$/))) {
      const organization = this.organizationById(m[1]);
      if (method === 'GET') return { status: 200, body: { data: this.organizationResource(organization) } };
      if (method === 'PATCH') return this.updateOrganization(organization, body);
      if (method === 'DELETE') return this.deleteOrganization(organization);
      throw notAllowed(method);
    }
    if (p === '/organization-secrets') {
      if (method === 'GET') return this.listOrganizationSecrets(query);
      if (method === 'POST') return this.createOrganizationSecret(body);
      throw notAllowed(method);
    }
    if ((m = p.match(/^\/organization-secrets\/([^/]+)$/))) {
      const secret = this.orgSecrets.get(m[1]);
      if (!secret) throw new HttpError(404, 'No OrganizationSecret matches the given query.');
      if (method === 'GET') return { status: 200, body: { data: this.organizationSecretResource(secret) } };
      if (method === 'PATCH') return this.updateOrganizationSecret(secret, body);
      throw notAllowed(method);
    }
    if (p === '/organization-nodes') {
      if (method === 'GET') return this.listNodes(query);
      throw notAllowed(method);
    }
    if ((m = p.match(/^\/organization-nodes\/([^/]+)$/))) {
      const node = this.orgNodes.get(m[1]);
      if (!node) throw new HttpError(404, 'No OrganizationNode matches the given query.');
      if (method === 'GET') return { status: 200, body: { data: this.nodeResource(node) } };
      if (method === 'DELETE') return this.deleteNode(node);
      throw notAllowed(method);
    }
    if (p === '/schedules/daily' && !this.options.cloud?.schedulesDaily) throw new HttpError(404, 'Not found.');
    if (p === '/schedules/bulk') {
      if (method === 'POST') return this.schedulesBulk(body);
      throw notAllowed(method);
    }
    if (p === '/schedules') {
      if (method === 'GET') return this.listSchedules(query);
      throw notAllowed(method);
    }
    if ((m = p.match(/^\/schedules\/([^/]+)$/)) && m[1] !== 'daily') {
      if (method === 'GET') return this.getSchedule(m[1], query);
      if (method === 'PATCH') return this.patchSchedule(m[1], body);
      if (method === 'DELETE') return this.deleteSchedule(m[1]);
      throw notAllowed(method);
    }
    if (p === '/scans/bulk') {
      if (method === 'POST') return this.scansBulk(body);
      throw notAllowed(method);
    }
    return undefined;
  }

  private organizationById(id: string): StoredOrganization {
    const organization = this.orgs.get(id);
    if (!organization) throw new HttpError(404, 'No Organization matches the given query.');
    return organization;
  }

  private credentialOf(organizationId: string): StoredOrganizationSecret | undefined {
    return [...this.orgSecrets.values()].find((s) => s.organizationId === organizationId);
  }

  private providersOf(organizationId: string): StoredProvider[] {
    return [...this.providers.values()].filter((p) => p.organizationId === organizationId);
  }

  private nodeOf(organizationId: string, externalId: string): StoredOrganizationNode | undefined {
    return [...this.orgNodes.values()].find((n) => n.organizationId === organizationId && n.externalId === externalId);
  }

  private organizationResource(o: StoredOrganization) {
    const providers = this.providersOf(o.id).filter((p) => this.sees(p));
    const nodes = [...this.orgNodes.values()].filter((n) => n.organizationId === o.id);
    return {
      type: 'organizations',
      id: o.id,
      attributes: {
        name: o.name,
        org_type: o.orgType,
        external_id: o.externalId,
        metadata: {},
        root_external_id: o.rootExternalId,
        inserted_at: o.insertedAt,
        updated_at: o.updatedAt,
      },
      relationships: {
        providers: { data: providers.map((p) => ({ type: 'providers', id: p.id })) },
        organization_nodes: { data: nodes.map((n) => ({ type: 'organization-nodes', id: n.id })) },
      },
      links: { self: `${API}/organizations/${o.id}` },
    };
  }

  private listOrganizations(query: Record<string, string>): Answer {
    const f = this.filters(query, ORGANIZATION_FILTERS);
    let items = [...this.orgs.values()];
    if (f.external_id !== undefined) items = items.filter((o) => o.externalId === f.external_id);
    if (f.org_type !== undefined) items = items.filter((o) => o.orgType === f.org_type);
    const page = this.page(items, query);
    return { status: 200, body: { ...page, data: page.data.map((o) => this.organizationResource(o)) } };
  }

  private createOrganization(body: Json): Answer {
    this.require('manageProviders');
    const data = body?.data;
    if (data?.type !== 'organizations') throw typeMismatch(data?.type, 'organizations');
    const { name, org_type: orgType, external_id: externalId } = data.attributes ?? {};
    if (typeof name !== 'string' || name.trim() === '') throw new HttpError(400, 'This field is required.', '/data/attributes/name', 'required');
    if (orgType === 'azure' || orgType === 'gcp') throw new HttpError(400, `The double implements AWS organizations only, got "${orgType}".`, '/data/attributes/org_type', 'invalid_choice');
    if (orgType !== 'aws') throw new HttpError(400, `"${orgType}" is not a valid choice.`, '/data/attributes/org_type', 'invalid_choice');
    if (typeof externalId !== 'string' || !/^o-[a-z0-9]{10,32}$/.test(externalId)) {
      throw new HttpError(400, `Enter a valid AWS Organization ID (o-[a-z0-9]{10,32}), got "${externalId}".`, '/data/attributes/external_id', 'invalid');
    }
    if ([...this.orgs.values()].some((o) => o.orgType === orgType && o.externalId === externalId)) {
      throw new HttpError(400, 'An organization with this external ID already exists.', '/data/attributes/external_id', 'unique');
    }
    const now = new Date(this.now()).toISOString();
    const organization: StoredOrganization = { id: randomUUID(), name, orgType, externalId, rootExternalId: null, insertedAt: now, updatedAt: now };
    this.orgs.set(organization.id, organization);
    return { status: 201, body: { data: this.organizationResource(organization) } };
  }

  /** Only the name changes: `org_type` and `external_id` are immutable (the same value is accepted). */
  private updateOrganization(organization: StoredOrganization, body: Json): Answer {
    this.require('manageProviders');
    const data = body?.data;
    if (data?.type !== 'organizations') throw typeMismatch(data?.type, 'organizations');
    if (data.id !== organization.id) throw new HttpError(409, 'The resource object\'s id does not match the URL.', '/data/id');
    const attributes = data.attributes ?? {};
    if (attributes.org_type !== undefined && attributes.org_type !== organization.orgType) {
      throw new HttpError(400, 'This field cannot be changed.', '/data/attributes/org_type', 'immutable');
    }
    if (attributes.external_id !== undefined && attributes.external_id !== organization.externalId) {
      throw new HttpError(400, 'This field cannot be changed.', '/data/attributes/external_id', 'immutable');
    }
    if (attributes.name !== undefined) {
      if (typeof attributes.name !== 'string' || attributes.name.trim() === '') throw new HttpError(400, 'This field may not be blank.', '/data/attributes/name', 'blank');
      organization.name = attributes.name;
      organization.updatedAt = new Date(this.now()).toISOString();
    }
    return { status: 200, body: { data: this.organizationResource(organization) } };
  }

  private deleteOrganization(organization: StoredOrganization): Answer {
    this.require('manageProviders');
    const cause = `DELETE /organizations/${organization.id}`;
    for (const provider of this.providersOf(organization.id)) this.destroyProvider(provider, cause);
    for (const node of [...this.orgNodes.values()]) if (node.organizationId === organization.id) this.orgNodes.delete(node.id);
    for (const secret of [...this.orgSecrets.values()]) if (secret.organizationId === organization.id) this.orgSecrets.delete(secret.id);
    for (const d of [...this.orgDiscoveries.values()]) if (d.organizationId === organization.id) this.orgDiscoveries.delete(d.id);
    this.orgs.delete(organization.id);
    return { status: 202, body: { data: this.newTask('organization-deletion', organization.id, 0) } };
  }

  /** A cascade: the provider, with its secret, schedules, periodic task, scans and group memberships. */
  private destroyProvider(provider: StoredProvider, cause: string): void {
    this.providers.delete(provider.id);
    if (provider.secretId) {
      this.secrets.delete(provider.secretId);
      this.managedSecrets.delete(provider.secretId);
    }
    for (const g of this.groups.values()) g.providerIds.delete(provider.id);
    this.schedules.delete(provider.id);
    this.cloudSchedules.delete(provider.id);
    this.periodicTasks.delete(`scan-perform-scheduled-${provider.id}`);
    for (let i = this.scans.length - 1; i >= 0; i--) if (this.scans[i] === provider.id) this.scans.splice(i, 1);
    this.cascadeDeletions.push({ providerId: provider.id, uid: provider.uid, cause });
  }

  private organizationSecretResource(s: StoredOrganizationSecret) {
    // The secret's values are never answered.
    return {
      type: 'organization-secrets',
      id: s.id,
      attributes: { secret_type: s.secretType, inserted_at: s.insertedAt, updated_at: s.updatedAt },
      relationships: { organization: { data: { type: 'organizations', id: s.organizationId } } },
    };
  }

  private listOrganizationSecrets(query: Record<string, string>): Answer {
    const f = this.filters(query, ORGANIZATION_SECRET_FILTERS);
    let items = [...this.orgSecrets.values()];
    if (f.organization_id !== undefined) items = items.filter((s) => s.organizationId === f.organization_id);
    const page = this.page(items, query);
    return { status: 200, body: { ...page, data: page.data.map((s) => this.organizationSecretResource(s)) } };
  }

  private createOrganizationSecret(body: Json): Answer {
    this.require('manageProviders');
    const data = body?.data;
    if (data?.type !== 'organization-secrets') throw typeMismatch(data?.type, 'organization-secrets');
    const organizationId = data.relationships?.organization?.data?.id;
    const organization = typeof organizationId === 'string' ? this.orgs.get(organizationId) : undefined;
    if (!organization) throw new HttpError(400, `Invalid pk "${organizationId}" - object does not exist.`, '/data/relationships/organization', 'does_not_exist');
    this.validateSecret(data.attributes?.secret_type, data.attributes?.secret);
    if (this.credentialOf(organization.id)) {
      throw new HttpError(409, 'A secret for this organization already exists.', '/data/relationships/organization', 'conflict');
    }
    const now = new Date(this.now()).toISOString();
    const secret: StoredOrganizationSecret = {
      id: randomUUID(),
      organizationId: organization.id,
      secretType: data.attributes.secret_type,
      secret: { ...data.attributes.secret },
      insertedAt: now,
      updatedAt: now,
      patches: 0,
    };
    this.orgSecrets.set(secret.id, secret);
    return { status: 201, body: { data: this.organizationSecretResource(secret) } };
  }

  /**
   * Any PATCH (even with the same values) re-authenticates every provider of the organization and
   * discards its pending or running discoveries.
   */
  private updateOrganizationSecret(secret: StoredOrganizationSecret, body: Json): Answer {
    this.require('manageProviders');
    const data = body?.data;
    if (data?.type !== 'organization-secrets') throw typeMismatch(data?.type, 'organization-secrets');
    if (data.id !== undefined && data.id !== secret.id) throw new HttpError(409, 'The resource object\'s id does not match the URL.', '/data/id');
    const secretType = data.attributes?.secret_type ?? secret.secretType;
    const values = data.attributes?.secret ?? secret.secret;
    this.validateSecret(secretType, values);
    const now = this.now();
    secret.secretType = secretType;
    secret.secret = { ...values };
    secret.updatedAt = new Date(now).toISOString();
    secret.patches++;
    for (const provider of this.providersOf(secret.organizationId)) {
      this.writeOrganizationSecret(provider, secret);
      provider.connected = null;
    }
    for (const d of this.orgDiscoveries.values()) {
      if (d.organizationId === secret.organizationId && !d.outcome) {
        d.outcome = {
          status: 'failed',
          error: 'discovery_discarded',
          errorMessage: 'The organization credential changed while this discovery was running. Start a new discovery.',
          at: now,
        };
      }
    }
    return { status: 200, body: { data: this.organizationSecretResource(secret) } };
  }

  /** The provider's role secret becomes the organization credential's, for its own account. */
  private writeOrganizationSecret(provider: StoredProvider, credential: StoredOrganizationSecret): void {
    const role = /^arn:([^:]+):iam::\d{12}:role\/(.+)$/.exec(credential.secret.role_arn);
    const values = { role_arn: role ? `arn:${role[1]}:iam::${provider.uid}:role/${role[2]}` : credential.secret.role_arn, external_id: credential.secret.external_id };
    const existing = provider.secretId ? this.secrets.get(provider.secretId) : undefined;
    if (existing) {
      existing.secretType = 'role';
      existing.secret = values;
    } else {
      const secret: StoredSecret = { id: randomUUID(), providerId: provider.id, secretType: 'role', secret: values };
      this.secrets.set(secret.id, secret);
      provider.secretId = secret.id;
    }
    this.managedSecrets.set(provider.secretId!, credential.organizationId);
  }

  private discover(organizationId: string): Answer {
    const organization = this.organizationById(organizationId);
    this.require('manageProviders');
    const now = this.now();
    const readyAt = now + (this.options.cloud?.discoveryMs ?? 2000);
    const discovery: StoredDiscovery = { id: randomUUID(), organizationId: organization.id, createdAt: now, readyAt };
    this.orgDiscoveries.set(discovery.id, discovery);
    return { status: 202, body: { data: this.discoveryResource(discovery) } };
  }

  private discoveryOf(organization: StoredOrganization, id: string): StoredDiscovery {
    const discovery = this.orgDiscoveries.get(id);
    if (!discovery || discovery.organizationId !== organization.id) throw new HttpError(404, 'No OrganizationDiscovery matches the given query.');
    return discovery;
  }

  private discoveryStatus(d: StoredDiscovery): CloudDiscoveryStatus {
    if (d.outcome) return d.outcome.status;
    const now = this.now();
    return now <= d.createdAt || now < d.createdAt + (d.readyAt - d.createdAt) / 2 ? 'pending' : 'running';
  }

  private discoveryResource(d: StoredDiscovery) {
    return {
      type: 'organization-discoveries',
      id: d.id,
      attributes: {
        status: this.discoveryStatus(d),
        result: d.outcome?.result ?? {},
        error: d.outcome?.error ?? null,
        error_message: d.outcome?.errorMessage ?? null,
        inserted_at: new Date(d.createdAt).toISOString(),
        updated_at: new Date(d.outcome?.at ?? d.createdAt).toISOString(),
      },
    };
  }

  /** Discoveries due finish now, against the organization and the provider store as they are. */
  private settleDiscoveries(now: number): void {
    const cloud = this.options.cloud;
    if (!cloud) return;
    for (const d of this.orgDiscoveries.values()) {
      if (d.outcome || d.readyAt > now) continue;
      const organization = this.orgs.get(d.organizationId)!;
      const view = cloud.organization();
      const failure = (cloud.discoveryFailure ?? defaultCloudDiscoveryFailure)({
        credential: this.credentialOf(organization.id)?.secret, organization: view, prowlerOrganization: organization, tenantId: this.tenantId,
      });
      if (failure) {
        d.outcome = { status: 'failed', error: failure.error, errorMessage: failure.error_message, at: d.readyAt };
        continue;
      }
      d.outcome = { status: 'succeeded', result: this.discoveryResult(organization, view), error: null, errorMessage: null, at: d.readyAt };
      organization.rootExternalId = view.roots[0]?.id ?? null;
    }
  }

  private discoveryResult(organization: StoredOrganization, view: CloudOrganizationView): CloudDiscoveryResult {
    const arn = (kind: string, id: string) => `arn:${view.partition ?? 'aws'}:organizations::${view.managementAccountId}:${kind}/${view.organizationId}/${id}`;
    const rootIds = new Set(view.roots.map((r) => r.id));
    return {
      roots: view.roots.map((r) => ({ id: r.id, arn: arn('root', r.id), name: r.name, policy_types: [] })),
      organizational_units: view.units.map((u) => ({ id: u.id, name: u.name, arn: arn('ou', u.id), parent_id: u.parentId })),
      accounts: view.accounts.map((a) => ({
        id: a.id,
        name: a.name,
        arn: arn('account', a.id),
        email: a.email,
        status: a.status,
        joined_method: a.joinedMethod ?? 'CREATED',
        joined_timestamp: a.joinedTimestamp ?? null,
        parent_id: a.parentId,
        registration: this.registration(organization, a, rootIds.has(a.parentId)),
      })),
    };
  }

  /** The derivation rules are at the top of this section. */
  private registration(organization: StoredOrganization, account: CloudAccountView, underRoot: boolean): CloudRegistration {
    const provider = this.providerByUid(account.id);
    const organizationRelation = !provider?.organizationId ? 'link_required'
      : provider.organizationId === organization.id ? 'already_linked' : 'linked_to_other_organization';
    const current = provider?.organizationNodeId ? this.orgNodes.get(provider.organizationNodeId) : undefined;
    const expected = underRoot ? undefined : this.nodeOf(organization.id, account.parentId);
    const nodeRelation = !current ? (underRoot ? 'not_applicable' : 'link_required')
      : expected && current.id === expected.id ? 'already_linked' : 'linked_to_other_node';
    const ownSecret = provider?.secretId !== undefined && provider?.secretId !== null && this.secrets.has(provider.secretId)
      && this.managedSecrets.get(provider.secretId) !== organization.id;
    const reasons = [
      ...(organizationRelation === 'linked_to_other_organization' ? ['organization_conflict'] : []),
      ...(nodeRelation === 'linked_to_other_node' && current?.organizationId !== organization.id ? ['organization_node_conflict'] : []),
      ...(this.options.cloud?.blockedReasons?.(account, provider) ?? []),
    ];
    return {
      provider_exists: provider !== undefined,
      provider_id: provider?.id ?? null,
      organization_relation: organizationRelation,
      organization_node_relation: nodeRelation,
      provider_secret_state: ownSecret ? 'will_replace' : 'will_create',
      apply_status: reasons.length > 0 ? 'blocked' : 'ready',
      blocked_reasons: reasons,
    };
  }

  private applyDiscovery(organizationId: string, discoveryId: string, query: Record<string, string>, body: Json): Answer {
    this.require('manageProviders');
    if (query.include !== undefined) throw new HttpError(400, 'This endpoint does not support the include parameter.', undefined, 'invalid');
    const organization = this.organizationById(organizationId);
    const discovery = this.discoveryOf(organization, discoveryId);
    const data = body?.data;
    if (data?.type !== 'organization-discoveries') throw typeMismatch(data?.type, 'organization-discoveries');
    const status = this.discoveryStatus(discovery);
    const result = discovery.outcome?.result;
    if (status !== 'succeeded' || !result) throw new HttpError(400, `The discovery is ${status}: only a succeeded discovery can be applied.`, '/data', 'invalid');
    const credential = this.credentialOf(organization.id);
    if (!credential) throw new HttpError(400, 'The organization has no credential.', '/data', 'invalid');
    const attributes = data.attributes ?? {};
    if (!Array.isArray(attributes.accounts) || attributes.accounts.length === 0) {
      throw new HttpError(400, 'This list may not be empty.', '/data/attributes/accounts', 'empty');
    }
    const sentUnits = attributes.organizational_units ?? [];
    if (!Array.isArray(sentUnits)) throw new HttpError(400, 'Expected a list of items.', '/data/attributes/organizational_units', 'not_a_list');

    const units = new Map(result.organizational_units.map((u) => [u.id, u]));
    const rootIds = new Set(result.roots.map((r) => r.id));
    const selectedUnits = new Set<string>();
    sentUnits.forEach((item: Json, i: number) => {
      if (typeof item?.id !== 'string' || !units.has(item.id)) {
        throw new HttpError(400, `Organizational unit "${item?.id}" is not in this discovery's result.`, `/data/attributes/organizational_units/${i}/id`, 'invalid');
      }
      selectedUnits.add(item.id);
    });
    for (const id of selectedUnits) {
      const parent = units.get(id)!.parent_id;
      if (units.has(parent) && !selectedUnits.has(parent) && !this.nodeOf(organization.id, parent)) {
        throw new HttpError(400, `Organizational unit ${parent}, the parent of ${id}, is missing from organizational_units.`, '/data/attributes/organizational_units', 'invalid');
      }
    }
    const choices = new Map<string, { account: CloudDiscoveredAccount; alias?: string }>();
    attributes.accounts.forEach((item: Json, i: number) => {
      const account = typeof item?.id === 'string' ? result.accounts.find((a) => a.id === item.id) : undefined;
      if (!account) throw new HttpError(400, `Account "${item?.id}" is not in this discovery's result.`, `/data/attributes/accounts/${i}/id`, 'invalid');
      const alias = item.alias;
      if (alias !== undefined && alias !== null && (typeof alias !== 'string' || alias.length < 3 || alias.length > 100)) {
        throw new HttpError(400, 'Ensure this field has between 3 and 100 characters.', `/data/attributes/accounts/${i}/alias`, 'invalid');
      }
      const registration = this.registration(organization, accountView(account), rootIds.has(account.parent_id));
      if (registration.apply_status === 'blocked') {
        throw new HttpError(400, `Account ${account.id} cannot be applied: ${registration.blocked_reasons.join(', ')}.`, `/data/attributes/accounts/${i}/id`, 'blocked');
      }
      let parent = account.parent_id;
      for (let depth = 0; units.has(parent) && depth < 100; depth++, parent = units.get(parent)!.parent_id) {
        if (!selectedUnits.has(parent)) {
          throw new HttpError(400, `Organizational unit ${parent}, above account ${account.id}, is missing from organizational_units.`, '/data/attributes/organizational_units', 'invalid');
        }
      }
      choices.set(account.id, { account, alias: alias ?? undefined });
    });

    // Nodes, parents first; an existing node takes the OU's current name and place.
    const depthOf = (id: string) => {
      let depth = 0;
      for (let p = units.get(id)?.parent_id; p !== undefined && units.has(p) && depth < 100; p = units.get(p)!.parent_id) depth++;
      return depth;
    };
    const iso = new Date(this.now()).toISOString();
    const createdNodes: StoredOrganizationNode[] = [];
    for (const id of [...selectedUnits].sort((a, b) => depthOf(a) - depthOf(b))) {
      const unit = units.get(id)!;
      const parentId = this.nodeOf(organization.id, unit.parent_id)?.id ?? null;
      const existing = this.nodeOf(organization.id, id);
      if (existing) {
        existing.name = unit.name;
        existing.parentId = parentId;
        continue;
      }
      const node: StoredOrganizationNode = { id: randomUUID(), organizationId: organization.id, kind: 'organizational-unit', externalId: id, name: unit.name, parentId, insertedAt: iso };
      this.orgNodes.set(node.id, node);
      createdNodes.push(node);
    }

    let created = 0;
    let linked = 0;
    const applied: StoredProvider[] = [];
    for (const { account, alias } of choices.values()) {
      let provider = this.providerByUid(account.id);
      if (provider) {
        linked++;
        if (alias) provider.alias = alias;
      } else {
        created++;
        const name = account.name.length >= 3 && account.name.length <= 100 ? account.name : account.id;
        const insertedAt = new Date().toISOString();
        provider = { id: randomUUID(), uid: account.id, alias: alias ?? name, connected: null, lastCheckedAt: null, secretId: null, insertedAt };
        this.providers.set(provider.id, provider);
      }
      provider.organizationId = organization.id;
      provider.organizationNodeId = this.nodeOf(organization.id, account.parent_id)?.id ?? null;
      this.writeOrganizationSecret(provider, credential);
      applied.push(provider);
    }
    return {
      status: 200,
      body: {
        data: {
          type: 'organization-discovery-apply-results',
          id: randomUUID(),
          attributes: {
            providers_created_count: created,
            providers_linked_count: linked,
            providers_applied_count: applied.length,
            organization_nodes_created_count: createdNodes.length,
          },
          relationships: {
            providers: { data: applied.map((p) => ({ type: 'providers', id: p.id })), meta: { count: applied.length } },
            organization_nodes: { data: createdNodes.map((n) => ({ type: 'organization-nodes', id: n.id })), meta: { count: createdNodes.length } },
          },
        },
      },
    };
  }

  private nodeResource(n: StoredOrganizationNode) {
    const providers = [...this.providers.values()].filter((p) => p.organizationNodeId === n.id && this.sees(p));
    return {
      type: 'organization-nodes',
      id: n.id,
      attributes: { name: n.name, kind: n.kind, external_id: n.externalId, metadata: {}, inserted_at: n.insertedAt, updated_at: n.insertedAt },
      relationships: {
        organization: { data: { type: 'organizations', id: n.organizationId } },
        parent: { data: n.parentId ? { type: 'organization-nodes', id: n.parentId } : null },
        providers: { data: providers.map((p) => ({ type: 'providers', id: p.id })) },
      },
    };
  }

  private listNodes(query: Record<string, string>): Answer {
    this.filters(query, NODE_FILTERS);
    const page = this.page([...this.orgNodes.values()], query);
    return { status: 200, body: { ...page, data: page.data.map((n) => this.nodeResource(n)) } };
  }

  /** Deletes the node's subtree and every provider under it. */
  private deleteNode(node: StoredOrganizationNode): Answer {
    this.require('manageProviders');
    const subtree = new Set([node.id]);
    for (let grew = true; grew;) {
      grew = false;
      for (const n of this.orgNodes.values()) {
        if (n.parentId && subtree.has(n.parentId) && !subtree.has(n.id)) {
          subtree.add(n.id);
          grew = true;
        }
      }
    }
    const cause = `DELETE /organization-nodes/${node.id}`;
    for (const provider of [...this.providers.values()]) {
      if (provider.organizationNodeId && subtree.has(provider.organizationNodeId)) this.destroyProvider(provider, cause);
    }
    for (const id of subtree) this.orgNodes.delete(id);
    return { status: 202, body: { data: this.newTask('organization-node-deletion', node.id, 0) } };
  }

  private scheduleResource(providerId: string) {
    const s = this.cloudSchedules.get(providerId)!;
    return {
      type: 'schedules',
      id: providerId,
      attributes: { ...s.attributes, inserted_at: s.insertedAt, updated_at: s.updatedAt },
      relationships: { provider: { data: { type: 'providers', id: providerId } } },
    };
  }

  private upsertSchedule(providerId: string, attributes: CloudScheduleAttributes): void {
    const now = new Date(this.now()).toISOString();
    this.cloudSchedules.set(providerId, { attributes, insertedAt: this.cloudSchedules.get(providerId)?.insertedAt ?? now, updatedAt: now });
    if (attributes.scan_enabled) this.schedules.add(providerId);
    else this.schedules.delete(providerId);
  }

  /** `include=provider` or nothing. */
  private scheduleIncluded(query: Record<string, string>, providerIds: string[]) {
    if (query.include === undefined) return {};
    if (query.include !== 'provider') throw new HttpError(400, `This endpoint does not support the include parameter for path ${query.include}`, undefined, 'invalid');
    return { included: providerIds.map((id) => this.providers.get(id)).filter((p) => p !== undefined).map((p) => this.providerResource(p)) };
  }

  private listSchedules(query: Record<string, string>): Answer {
    const f = this.filters(query, SCHEDULE_FILTERS);
    let ids = [...this.cloudSchedules.keys()].filter((id) => {
      const provider = this.providers.get(id);
      return provider !== undefined && this.sees(provider);
    });
    if (f.configured === 'false') ids = [];
    const page = this.page(ids, query);
    return { status: 200, body: { ...page, data: page.data.map((id) => this.scheduleResource(id)), ...this.scheduleIncluded(query, page.data) } };
  }

  private getSchedule(providerId: string, query: Record<string, string>): Answer {
    const provider = this.providers.get(providerId);
    if (!provider || !this.sees(provider) || !this.cloudSchedules.has(providerId)) throw new HttpError(404, 'No Schedule matches the given query.');
    return { status: 200, body: { data: this.scheduleResource(providerId), ...this.scheduleIncluded(query, [providerId]) } };
  }

  /** An upsert: a PATCH of an existing schedule may send some attributes; a new one needs all seven. */
  private patchSchedule(providerId: string, body: Json): Answer {
    this.require('manageScans');
    const provider = this.visibleProvider(providerId);
    const data = body?.data;
    if (data?.type !== 'schedules') throw typeMismatch(data?.type, 'schedules');
    if (data.id !== undefined && data.id !== providerId) throw new HttpError(409, 'The resource object\'s id does not match the URL.', '/data/id');
    const merged = { ...(this.cloudSchedules.get(providerId)?.attributes ?? {}), ...(data.attributes ?? {}) };
    this.upsertSchedule(provider.id, validateSchedule(merged, '/data/attributes'));
    return { status: 200, body: { data: this.scheduleResource(provider.id) } };
  }

  private deleteSchedule(providerId: string): Answer {
    this.require('manageScans');
    const provider = this.providers.get(providerId);
    if (!provider || !this.sees(provider) || !this.cloudSchedules.has(providerId)) throw new HttpError(404, 'No Schedule matches the given query.');
    this.cloudSchedules.delete(providerId);
    this.schedules.delete(providerId);
    return { status: 204 };
  }

  /** 200 `{data: {updated, failed}}`, the lists straight under `data` (no attributes, no type), as the UI reads it. */
  private schedulesBulk(body: Json): Answer {
    this.require('manageScans');
    const data = body?.data;
    if (data?.type !== 'schedules-bulk') throw typeMismatch(data?.type, 'schedules-bulk');
    const attributes = data.attributes ?? {};
    const schedule = validateSchedule(attributes.schedule, '/data/attributes/schedule');
    const ids = attributes.provider_ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw new HttpError(400, 'Expected a non-empty list of provider ids.', '/data/attributes/provider_ids', 'invalid');
    }
    const updated: string[] = [];
    const failed: Array<{ id: string; error: string }> = [];
    for (const id of new Set<string>(ids)) {
      const provider = this.providers.get(id);
      if (!provider || !this.sees(provider)) {
        failed.push({ id, error: 'No Provider matches the given query.' });
        continue;
      }
      const error = this.options.cloud?.scheduleFailure?.(provider);
      if (error) {
        failed.push({ id, error });
        continue;
      }
      this.upsertSchedule(id, schedule);
      updated.push(id);
    }
    return { status: 200, body: { data: { updated, failed } } };
  }

  /** 202 with one scan resource per provider of the organization (each a scan started now). */
  private scansBulk(body: Json): Answer {
    this.require('manageScans');
    const data = body?.data;
    if (data?.type !== 'scans-bulk') throw typeMismatch(data?.type, 'scans-bulk');
    const organizationId = data.relationships?.organization?.data?.id;
    const organization = typeof organizationId === 'string' ? this.orgs.get(organizationId) : undefined;
    if (!organization) throw new HttpError(400, `Invalid pk "${organizationId}" - object does not exist.`, '/data/relationships/organization', 'does_not_exist');
    const scans = this.providersOf(organization.id).filter((p) => this.sees(p)).map((provider) => {
      this.scans.push(provider.id);
      const task = this.newTask('scan-perform', provider.id, 0);
      return {
        type: 'scans',
        id: randomUUID(),
        attributes: { trigger: 'manual', state: 'available', inserted_at: new Date(this.now()).toISOString() },
        relationships: { provider: { data: { type: 'providers', id: provider.id } }, task: { data: { type: 'tasks', id: task.id } } },
      };
    });
    return { status: 202, body: { data: scans } };
  }
}

function notAllowed(method: string): HttpError {
  return new HttpError(405, `Method "${method}" not allowed.`);
}

/** DJA's answer to a resource object of another type. */
function typeMismatch(type: unknown, collection: string): HttpError {
  return new HttpError(409, `The resource object's type (${type}) is not the type that constitute the collection represented by the endpoint (${collection}).`, '/data');
}

/** A discovered account back as the view it came from (for `blockedReasons` at apply time). */
function accountView(a: CloudDiscoveredAccount): CloudAccountView {
  return {
    id: a.id,
    name: a.name,
    email: a.email,
    status: a.status,
    parentId: a.parent_id,
    joinedMethod: a.joined_method as CloudAccountView['joinedMethod'],
    ...(a.joined_timestamp ? { joinedTimestamp: a.joined_timestamp } : {}),
  };
}

/** An IANA zone name (not an offset such as "+01:00", which newer ICU accepts) the runtime knows. */
function isIanaZone(zone: unknown): boolean {
  if (typeof zone !== 'string' || !/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A Cloud schedule as FACTS §3b gives it: all seven attributes; DAILY, INTERVAL, WEEKLY or MONTHLY;
 * hour 0–23; an IANA zone; the interval (≥ 24) for INTERVAL only, the weekday (0–6, Sunday 0) for
 * WEEKLY only, the day of the month (1–28) for MONTHLY only, null otherwise. A 400 names the attribute.
 */
function validateSchedule(schedule: Json, base: string): CloudScheduleAttributes {
  if (schedule === null || typeof schedule !== 'object' || Array.isArray(schedule)) throw new HttpError(400, 'This field is required.', base, 'required');
  for (const key of SCHEDULE_KEYS) {
    if (!(key in schedule)) throw new HttpError(400, 'This field is required.', `${base}/${key}`, 'required');
  }
  const fail = (key: string, detail: string) => new HttpError(400, detail, `${base}/${key}`, 'invalid');
  const integer = (value: unknown) => typeof value === 'number' && Number.isInteger(value);
  const s = schedule;
  if (typeof s.scan_enabled !== 'boolean') throw fail('scan_enabled', 'Must be a valid boolean.');
  if (!['DAILY', 'INTERVAL', 'WEEKLY', 'MONTHLY'].includes(s.scan_frequency)) throw fail('scan_frequency', `"${s.scan_frequency}" is not a valid choice.`);
  if (!integer(s.scan_hour) || s.scan_hour < 0 || s.scan_hour > 23) throw fail('scan_hour', 'Ensure this value is an integer between 0 and 23.');
  if (!isIanaZone(s.scan_timezone)) throw fail('scan_timezone', `"${s.scan_timezone}" is not a valid IANA time zone.`);
  const only = (key: string, frequency: string, valid: (v: number) => boolean, range: string) => {
    if (s.scan_frequency === frequency) {
      if (!integer(s[key]) || !valid(s[key])) throw fail(key, `Ensure this value is an integer ${range} for ${frequency} schedules.`);
    } else if (s[key] !== null) {
      throw fail(key, `Must be null unless scan_frequency is ${frequency}.`);
    }
  };
  only('scan_interval_hours', 'INTERVAL', (v) => v >= 24, 'of at least 24');
  only('scan_day_of_week', 'WEEKLY', (v) => v >= 0 && v <= 6, 'between 0 (Sunday) and 6');
  only('scan_day_of_month', 'MONTHLY', (v) => v >= 1 && v <= 28, 'between 1 and 28');
  return {
    scan_enabled: s.scan_enabled,
    scan_frequency: s.scan_frequency,
    scan_hour: s.scan_hour,
    scan_timezone: s.scan_timezone,
    scan_interval_hours: s.scan_interval_hours,
    scan_day_of_week: s.scan_day_of_week,
    scan_day_of_month: s.scan_day_of_month,
  };
}

/** DJA's JSONParser for a RelationshipView: linkage or a 400, as it words it. */
function linkage(body: Json): Json[] | Record<string, Json> {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('data' in body)) {
    throw new HttpError(400, 'Received document does not contain primary data');
  }
  const data = body.data;
  if (Array.isArray(data)) {
    if (!data.every((item) => item && typeof item === 'object' && item.id && item.type)) {
      throw new HttpError(400, 'Received data contains one or more malformed JSON:API Resource Identifier Object(s)');
    }
    return data;
  }
  if (data === null || typeof data !== 'object' || !data.id || !data.type) {
    throw new HttpError(400, 'Received data is not a valid JSON:API Resource Identifier Object');
  }
  return data;
}

function parseBody(raw: string): Json {
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'JSON parse error.');
  }
}

function delay(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
