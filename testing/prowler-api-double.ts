/**
 * A Prowler API double: a real HTTP server on 127.0.0.1 with Prowler's semantics for the
 * endpoints onboarding uses (JSON:API envelopes and errors, 400 on unknown filters, 409 on
 * duplicate providers and schedules, async connection tasks). Connection outcomes come from a
 * pluggable rule; latency, 429 bursts and faults can be injected. Used by the tests, the demo and
 * the benchmarks; never shipped.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
}

/** Decides a connection test: e.g. "is the role deployed in this account?". */
export type ConnectionRule = (provider: StoredProvider, secret: StoredSecret | undefined, attempt: number) => ConnectionOutcome;

/**
 * A fault for one request: a status; `reset` drops the connection before the request is served;
 * `drop-answer` serves it (its effect happens) and drops the connection instead of answering;
 * `hang` never answers; `garbage` answers HTML.
 */
export type Fault = { status: number; retryAfterSeconds?: number } | 'reset' | 'drop-answer' | 'hang' | 'garbage';

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
  readonly tenantId?: string;
  /** Added to every answer. */
  readonly latencyMs?: number;
  /** How long a connection task runs before it completes. */
  readonly connectionTaskMs?: number;
  readonly connectionRule?: ConnectionRule;
  /** Called for every request; a returned fault is served instead of the real answer. */
  readonly fault?: (request: { method: string; path: string; index: number }) => Fault | undefined;
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

class HttpError extends Error {
  constructor(public readonly status: number, public readonly detail: string, public readonly pointer?: string, public readonly code?: string) {
    super(detail);
  }
}

export class ProwlerApiDouble {
  readonly tenantId: string;
  readonly providers = new Map<string, StoredProvider>();
  readonly secrets = new Map<string, StoredSecret>();
  readonly groups = new Map<string, StoredGroup>();
  readonly schedules = new Set<string>();
  readonly scans: string[] = [];
  readonly tasks = new Map<string, { id: string; name: string; providerId: string; readyAt: number; outcome?: ConnectionOutcome }>();
  readonly requests: RecordedRequest[] = [];
  /** Connection tests per provider. */
  readonly connectionAttempts = new Map<string, number>();
  private readonly apiKeys: Set<string>;
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

    const fault = this.options.fault?.({ method, path, index });
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
      const headers: Record<string, string> = { 'Content-Type': JSON_API };
      if (fault.retryAfterSeconds !== undefined) headers['Retry-After'] = String(fault.retryAfterSeconds);
      this.requests.push({ method, path, query, status: fault.status });
      res.writeHead(fault.status, headers).end(JSON.stringify({ errors: [{ detail: `injected ${fault.status}`, status: String(fault.status) }] }));
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
    try {
      const body = raw ? parseBody(raw) : undefined;
      if (raw && headers.contentType !== JSON_API) throw new HttpError(415, `Unsupported media type "${headers.contentType}" in request.`);
      this.authenticate(headers.authorization);
      const answer = this.route(method, path, query, body);
      this.requests.push({ method, path, query, body, status: answer.status });
      return {
        status: answer.status,
        headers: { 'Content-Type': JSON_API, ...(answer.headers ?? {}) },
        body: answer.body === undefined ? undefined : JSON.stringify(answer.body),
      };
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, (error as Error).message);
      this.requests.push({ method, path, query, status: e.status });
      const source = e.pointer ? { source: { pointer: e.pointer } } : {};
      const detail = { detail: e.detail, status: String(e.status), ...source, ...(e.code ? { code: e.code } : {}) };
      return { status: e.status, headers: { 'Content-Type': JSON_API }, body: JSON.stringify({ errors: [detail] }) };
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

  private authenticate(header: string | undefined): void {
    const key = header?.match(/^Api-Key (.+)$/)?.[1];
    if (!key || !this.apiKeys.has(key)) throw new HttpError(401, 'Authentication credentials were not provided or are invalid.', undefined, 'not_authenticated');
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
      const provider = this.providers.get(m[1]);
      if (!provider) throw new HttpError(404, 'No Provider matches the given query.');
      if (method === 'GET') return { status: 200, body: { data: this.providerResource(provider) } };
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
    if ((m = p.match(/^\/provider-groups\/([^/]+)\/relationships\/providers$/)) && method === 'POST') return this.addToGroup(m[1], body);
    if ((m = p.match(/^\/provider-groups\/([^/]+)\/relationships\/providers$/)) && method === 'PATCH') return this.setGroupMembers(m[1], body);
    if ((m = p.match(/^\/provider-groups\/([^/]+)$/))) {
      const group = this.groups.get(m[1]);
      if (!group) throw new HttpError(404, 'No ProviderGroup matches the given query.');
      if (method === 'GET') return { status: 200, body: { data: this.groupResource(group) } };
      if (method === 'DELETE') {
        this.groups.delete(group.id);
        return { status: 204 };
      }
    }
    throw new HttpError(405, `Method "${method}" not allowed.`);
  }

  private me(query: Record<string, string>) {
    const membership = { id: randomUUID(), type: 'memberships', meta: { active: true } };
    return {
      status: 200,
      body: {
        data: { type: 'users', id: 'user-1', attributes: { name: 'Double', email: 'double@example.com' }, relationships: { memberships: { data: [membership] } } },
        ...(query.include === 'memberships' ? {
          included: [{ type: 'memberships', id: membership.id, attributes: { role: 'owner' }, relationships: { tenant: { data: { type: 'tenants', id: this.tenantId } } } }],
        } : {}),
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
    let items = [...this.providers.values()];
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
    return { status: 201, body: { data: this.providerResource(stored) } };
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
    const data = body?.data;
    const providerId = data?.relationships?.provider?.data?.id;
    const provider = providerId ? this.providers.get(providerId) : undefined;
    if (!provider) throw new HttpError(400, 'Invalid pk - object does not exist.', '/data/relationships/provider');
    this.validateSecret(data.attributes?.secret_type, data.attributes?.secret);
    if (provider.secretId) throw new HttpError(400, 'This provider already has a secret: update it instead.', '/data/relationships/provider', 'unique');
    const { secret_type: secretType, secret: values } = data.attributes;
    const secret: StoredSecret = { id: randomUUID(), providerId: provider.id, secretType, secret: values };
    this.secrets.set(secret.id, secret);
    provider.secretId = secret.id;
    provider.connected = null;
    return { status: 201, body: { data: { type: 'provider-secrets', id: secret.id, attributes: { secret_type: secret.secretType, name: null } } } };
  }

  private updateSecret(id: string, body: Json) {
    const secret = this.secrets.get(id);
    if (!secret) throw new HttpError(404, 'No ProviderSecret matches the given query.');
    this.validateSecret(body?.data?.attributes?.secret_type ?? secret.secretType, body?.data?.attributes?.secret ?? secret.secret);
    secret.secretType = body.data.attributes.secret_type ?? secret.secretType;
    secret.secret = body.data.attributes.secret ?? secret.secret;
    const provider = this.providers.get(secret.providerId);
    if (provider) provider.connected = null;
    return { status: 200, body: { data: { type: 'provider-secrets', id, attributes: { secret_type: secret.secretType } } } };
  }

  private newTask(name: string, providerId: string, durationMs: number, outcome?: ConnectionOutcome) {
    const task = { id: randomUUID(), name, providerId, readyAt: this.now() + durationMs, outcome };
    this.tasks.set(task.id, task);
    return this.taskResource(task);
  }

  private taskResource(task: { id: string; name: string; readyAt: number; outcome?: ConnectionOutcome }) {
    const done = this.now() >= task.readyAt;
    return {
      type: 'tasks',
      id: task.id,
      attributes: {
        name: task.name,
        state: done ? 'completed' : 'executing',
        completed_at: done ? new Date(task.readyAt).toISOString() : null,
        result: done && task.outcome ? { connected: task.outcome.connected, error: task.outcome.error ?? null } : null,
        task_args: {},
      },
    };
  }

  private testConnection(providerId: string) {
    const provider = this.providers.get(providerId);
    if (!provider) throw new HttpError(404, 'No Provider matches the given query.');
    const attempt = (this.connectionAttempts.get(provider.uid) ?? 0) + 1;
    this.connectionAttempts.set(provider.uid, attempt);
    const secret = provider.secretId ? this.secrets.get(provider.secretId) : undefined;
    const outcome = !secret
      ? { connected: false, error: 'Provider has no secret.' }
      : (this.options.connectionRule ?? (() => ({ connected: true })))(provider, secret, attempt);
    const task = this.newTask('provider-connection-check', provider.id, this.options.connectionTaskMs ?? 0, outcome);
    // The provider's connection state changes when the task completes.
    const settle = () => {
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
    const providerId = body?.data?.attributes?.provider_id;
    if (body?.data?.type !== 'daily-schedules') throw new HttpError(409, "The resource object's type is not daily-schedules.", '/data/type');
    const provider = this.providers.get(providerId);
    if (!provider) throw new HttpError(400, 'Invalid pk - object does not exist.', '/data/attributes/provider_id');
    if (this.schedules.has(providerId)) throw new HttpError(409, 'There is already a scheduled scan for this provider.', '/data/attributes/provider_id', 'conflict');
    this.schedules.add(providerId);
    this.scans.push(providerId);
    return { status: 202, body: { data: this.newTask('scan-perform-scheduled', providerId, 0) } };
  }

  private startScan(body: Json) {
    const providerId = body?.data?.relationships?.provider?.data?.id;
    if (!this.providers.get(providerId)) throw new HttpError(400, 'Invalid pk - object does not exist.', '/data/relationships/provider');
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
    let items = [...this.groups.values()];
    if (f.name) items = items.filter((g) => g.name === f.name);
    const page = this.page(items, query);
    return { status: 200, body: { ...page, data: page.data.map((g) => this.groupResource(g)) } };
  }

  private createGroup(body: Json) {
    const name = body?.data?.attributes?.name;
    if (typeof name !== 'string' || !name) throw new HttpError(400, 'This field is required.', '/data/attributes/name');
    if ([...this.groups.values()].some((g) => g.name === name)) throw new HttpError(409, 'Provider group with this name already exists.', '/data/attributes/name', 'unique');
    const group = { id: randomUUID(), name, providerIds: new Set<string>() };
    this.groups.set(group.id, group);
    return { status: 201, body: { data: this.groupResource(group) } };
  }

  /** A provider_groups-provider request: the group and the provider ids, both checked to exist. */
  private membershipRequest(groupId: string, body: Json): { group: StoredGroup; ids: string[] } {
    const group = this.groups.get(groupId);
    if (!group) throw new HttpError(404, 'No ProviderGroup matches the given query.');
    if (body?.data?.type !== 'provider_groups-provider') throw new HttpError(409, "The resource object's type is not provider_groups-provider.", '/data/type');
    const ids: string[] = (body.data.attributes?.providers ?? []).map((p: Json) => p.id);
    const missing = ids.find((id) => !this.providers.has(id));
    if (missing) throw new HttpError(400, `Invalid pk "${missing}" - object does not exist.`, '/data/attributes/providers');
    return { group, ids };
  }

  /** PATCH: the membership becomes exactly these providers. */
  private setGroupMembers(groupId: string, body: Json) {
    const { group, ids } = this.membershipRequest(groupId, body);
    group.providerIds = new Set(ids);
    return { status: 204 };
  }

  /** POST: these providers join (400 when all of them already are members). */
  private addToGroup(groupId: string, body: Json) {
    const { group, ids } = this.membershipRequest(groupId, body);
    const already = ids.filter((id) => group.providerIds.has(id));
    for (const id of ids) group.providerIds.add(id);
    if (already.length > 0 && already.length === ids.length) throw new HttpError(400, 'Relationship already exists.', '/data/attributes/providers');
    return { status: 204 };
  }
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
