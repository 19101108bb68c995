/**
 * A Prowler API double: a real HTTP server on 127.0.0.1 with Prowler's semantics for the
 * endpoints onboarding uses (JSON:API envelopes and errors, 400 on unknown filters, 409 on
 * duplicate providers and schedules, async connection tasks). Connection outcomes come from a
 * pluggable rule; latency, 429 bursts and faults can be injected. Used by the tests, the demo and
 * the benchmarks; never shipped.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

type Json = any;

export interface StoredProvider {
  id: string;
  uid: string;
  alias: string | null;
  connected: boolean | null;
  lastCheckedAt: string | null;
  secretId: string | null;
  insertedAt: string;
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
}

/** An answer of the API, as the HTTP server writes it (or an in-process fetch returns it). */
export interface DispatchedAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const JSON_API = 'application/vnd.api+json';
const API = '/api/v1';

/** Known filters per list endpoint: any other filter[...] key is a 400, as in Prowler. */
const PROVIDER_FILTERS = new Set(['provider', 'provider__in', 'uid', 'uid__in', 'id', 'id__in', 'alias', 'provider_groups', 'provider_groups__in', 'connected']);
const GROUP_FILTERS = new Set(['name', 'name__in', 'id', 'id__in']);

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

  /** Connection tasks change their provider's state when they complete. */
  private settleTasks(): void {
    const now = this.now();
    for (let i = this.settlements.length - 1; i >= 0; i--) {
      if (this.settlements[i].at <= now) {
        this.settlements[i].apply();
        this.settlements.splice(i, 1);
      }
    }
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
      },
      links: { self: `${API}/providers/${p.id}` },
    };
  }

  private listProviders(query: Record<string, string>) {
    const f = this.filters(query, PROVIDER_FILTERS);
    let items = [...this.providers.values()].filter((p) => this.sees(p));
    if (f.provider && f.provider !== 'aws') items = [];
    if (f.uid) items = items.filter((p) => p.uid === f.uid);
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
