/**
 * The Prowler API client (open-source Prowler App and Prowler Cloud alike): JSON:API over fetch,
 * every answer parsed with zod, transient failures retried with backoff and jitter (honouring
 * Retry-After), creates retried only after re-checking whether they happened. Errors say what to
 * fix and never carry the credential.
 */

import { realClock, type Clock } from './clock';
import { apiUrlProblems, PROWLER_CLOUD_API_URL, shown } from '../core/spec';
import * as z from '../core/zod';

export { PROWLER_CLOUD_API_URL };
const JSON_API = 'application/vnd.api+json';
/** Prowler's page size limit. */
export const MAX_PAGE_SIZE = 100;

export type ProwlerAuth = { readonly apiKey: string } | { readonly token: string };

export { realClock, type Clock } from './clock';

export interface ProwlerClientOptions {
  /** e.g. https://api.prowler.com/api/v1 or http://prowler.internal:8080/api/v1 */
  readonly baseUrl: string;
  readonly auth: ProwlerAuth;
  /** Attempts per request for transient failures (429, 5xx, network, timeout). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly timeoutMs?: number;
  /** A request with its retries ends within this (the Lambda keeps 150 s for work in flight). */
  readonly requestBudgetMs?: number;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  /** Other secrets this client sends (self-hosted static credentials): redacted like the key. */
  readonly secrets?: readonly string[];
}

/** A Prowler API failure, with what to fix. */
export class ProwlerApiError extends Error {
  constructor(
    message: string,
    public readonly status?: number,
    public readonly code?: string,
    /** Prowler's own words (redacted), and the JSON pointer they are about. */
    public readonly detail?: string,
    public readonly pointer?: string,
  ) {
    super(message);
    this.name = 'ProwlerApiError';
  }
}

/** A failure worth retrying: 429, 5xx, network errors, timeouts. */
export class TransientError extends ProwlerApiError {
  constructor(message: string, status?: number, public readonly retryAfterMs?: number) {
    super(message, status);
    this.name = 'TransientError';
  }
}

// ---- What the API answers (only the fields we use; extra fields are allowed) ----

const ref = z.object({ id: z.string(), type: z.string() });

export const providerSchema = z.object({
  id: z.string(),
  type: z.literal('providers'),
  attributes: z.object({
    provider: z.string(),
    uid: z.string(),
    alias: z.optional(z.nullable(z.string())),
    connection: z.optional(z.nullable(z.partial(z.object({ connected: z.nullable(z.boolean()), last_checked_at: z.nullable(z.string()) })))),
  }),
  relationships: z.optional(z.partial(z.object({
    secret: z.optional(z.object({ data: z.nullable(ref) })),
    provider_groups: z.optional(z.object({ data: z.array(ref) })),
    // Prowler Cloud: the organization and OU node the provider is linked to.
    organization: z.optional(z.object({ data: z.nullable(ref) })),
    organization_node: z.optional(z.object({ data: z.nullable(ref) })),
  }))),
});
export type Provider = z.infer<typeof providerSchema>;

const pagination = z.object({ pagination: z.object({ page: z.number(), pages: z.number(), count: z.number() }) });
const listOf = <T extends z.ZodMiniType>(item: T) => z.object({ data: z.array(item), meta: z.optional(pagination) });

export const providerGroupSchema = z.object({
  id: z.string(),
  type: z.literal('provider-groups'),
  attributes: z.object({ name: z.string() }),
  relationships: z.optional(z.partial(z.object({ providers: z.optional(z.object({ data: z.array(ref) })) }))),
});
export type ProviderGroup = z.infer<typeof providerGroupSchema>;

export const taskSchema = z.object({
  id: z.string(),
  type: z.literal('tasks'),
  attributes: z.object({
    name: z.optional(z.string()),
    state: z.enum(['available', 'scheduled', 'executing', 'completed', 'failed', 'cancelled']),
    result: z.optional(z.unknown()),
    completed_at: z.optional(z.nullable(z.string())),
  }),
});
export type Task = z.infer<typeof taskSchema>;

const secretSchema = z.object({ id: z.string(), type: z.literal('provider-secrets') });

// ---- Prowler Cloud's organizations (FACTS §3b: read from its UI client; any 2xx, read the body) ----

export const cloudOrganizationSchema = z.object({
  id: z.string(),
  type: z.literal('organizations'),
  attributes: z.object({ name: z.optional(z.string()), org_type: z.string(), external_id: z.string() }),
});
export type CloudOrganization = z.infer<typeof cloudOrganizationSchema>;

const organizationSecretSchema = z.object({ id: z.string(), type: z.literal('organization-secrets') });

export const organizationNodeSchema = z.object({
  id: z.string(),
  type: z.literal('organization-nodes'),
  attributes: z.object({ external_id: z.nullable(z.string()), kind: z.optional(z.string()), name: z.optional(z.nullable(z.string())) }),
  relationships: z.optional(z.partial(z.object({ organization: z.optional(z.object({ data: z.nullable(ref) })) }))),
});
export type OrganizationNode = z.infer<typeof organizationNodeSchema>;

/** What Prowler would do with an account of its discovery (`registration`). */
export const registrationSchema = z.object({
  provider_exists: z.optional(z.boolean()),
  provider_id: z.optional(z.nullable(z.string())),
  organization_relation: z.optional(z.string()),
  organization_node_relation: z.optional(z.string()),
  provider_secret_state: z.optional(z.string()),
  apply_status: z.optional(z.nullable(z.string())),
  blocked_reasons: z.optional(z.nullable(z.array(z.string()))),
});
export type Registration = z.infer<typeof registrationSchema>;

export const discoverySchema = z.object({
  id: z.string(),
  attributes: z.object({
    status: z.enum(['pending', 'running', 'succeeded', 'failed']),
    error: z.optional(z.nullable(z.string())),
    error_message: z.optional(z.nullable(z.string())),
    result: z.optional(z.nullable(z.object({
      roots: z.optional(z.array(z.unknown())),
      organizational_units: z.optional(z.array(z.object({
        id: z.string(), name: z.optional(z.string()), parent_id: z.optional(z.nullable(z.string())),
      }))),
      accounts: z.optional(z.array(z.object({
        id: z.string(),
        name: z.optional(z.nullable(z.string())),
        status: z.optional(z.nullable(z.string())),
        parent_id: z.optional(z.nullable(z.string())),
        registration: z.optional(z.nullable(registrationSchema)),
      }))),
    }))),
  }),
});
export type Discovery = z.infer<typeof discoverySchema>;

/** Prowler Cloud's schedule attributes: all seven are sent, null for the unused. */
export interface CloudSchedule {
  readonly scan_enabled: boolean;
  readonly scan_frequency: 'DAILY' | 'INTERVAL' | 'WEEKLY' | 'MONTHLY';
  readonly scan_hour: number;
  readonly scan_timezone: string;
  readonly scan_interval_hours: number | null;
  readonly scan_day_of_week: number | null;
  readonly scan_day_of_month: number | null;
}

const userSchema = z.object({
  data: z.object({
    id: z.string(),
    relationships: z.optional(z.partial(z.object({
      memberships: z.object({ data: z.array(z.extend(ref, { meta: z.optional(z.partial(z.object({ active: z.boolean() }))) })) }),
      roles: z.object({ data: z.array(ref) }),
    }))),
  }),
  included: z.optional(z.array(z.object({
    id: z.string(),
    type: z.string(),
    // A role's permissions (RBAC), when roles are included.
    attributes: z.optional(z.partial(z.object({ manage_providers: z.boolean(), manage_scans: z.boolean(), unlimited_visibility: z.boolean() }))),
    relationships: z.optional(z.partial(z.object({ tenant: z.object({ data: ref }) }))),
  }))),
});

/** What the onboarding needs the credential's role to allow, and why (README: "The Prowler API key"). */
const REQUIRED_PERMISSIONS = [
  ['unlimited_visibility', 'Unlimited visibility (without it the key sees only its provider groups\' providers: lists come back short and creates answer 409)'],
  ['manage_providers', 'Manage Providers (providers, their secrets, connection tests, provider groups)'],
  ['manage_scans', 'Manage Scans (daily schedules and scans)'],
] as const;

/** Why a connection task failed, from Celery's exception in its result. */
export function taskFailureReason(result: unknown): string | undefined {
  const r = result as { exc_type?: unknown; exc_message?: unknown } | null | undefined;
  if (!r || typeof r.exc_type !== 'string') return undefined;
  const message = Array.isArray(r.exc_message) ? r.exc_message.map(String).join(' ') : typeof r.exc_message === 'string' ? r.exc_message : '';
  return `${r.exc_type}${message ? `: ${message}` : ''}`;
}

/** The role secret Prowler stores for a provider. */
export interface RoleSecret {
  readonly role_arn: string;
  readonly external_id: string;
  readonly role_session_name?: string;
  readonly session_duration?: number;
  readonly aws_access_key_id?: string;
  readonly aws_secret_access_key?: string;
  readonly aws_session_token?: string;
}

interface RequestOptions {
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  /** Retry transient failures (safe for reads and idempotent writes). */
  readonly retry?: boolean;
  /** Statuses that are an answer here, not a failure (409 "already scheduled", …). */
  readonly tolerate?: readonly number[];
}

interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly json: unknown;
}

export class ProwlerClient {
  private readonly baseUrl: string;
  private readonly authorization: string;
  private readonly secret: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly requestBudgetMs: number;
  private readonly clock: Clock;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  private readonly authKind: ProwlerAuth;
  /** Every value never to show: the key and the secrets given. */
  private readonly secrets: string[];
  private user?: Promise<z.infer<typeof userSchema>>;
  /** Requests sent, retries included. */
  public requests = 0;

  constructor(options: ProwlerClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const problems = apiUrlProblems(this.baseUrl);
    if (problems.length > 0) throw new ProwlerApiError(problems.join('; '));
    this.authKind = options.auth;
    this.secret = 'apiKey' in options.auth ? options.auth.apiKey : options.auth.token;
    this.secrets = [this.secret, ...(options.secrets ?? [])].filter((x) => x.length >= MIN_SECRET_LENGTH);
    this.authorization = 'apiKey' in options.auth ? `Api-Key ${options.auth.apiKey}` : `Bearer ${options.auth.token}`;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 20_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.requestBudgetMs = options.requestBudgetMs ?? 120_000;
    this.clock = options.clock ?? realClock;
    this.fetchImpl = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
  }

  // ---- Tenant ----

  /** The tenant of the credential: the External ID Prowler expects in the role's trust. */
  async tenantId(): Promise<string> {
    if (this.authorization.startsWith('Bearer ')) {
      const claims = decodeJwtClaims(this.secret);
      if (typeof claims?.tenant_id === 'string') return claims.tenant_id;
    }
    const user = await this.me();
    const memberships = user.data.relationships?.memberships?.data ?? [];
    const active = memberships.find((m) => m.meta?.active) ?? (memberships.length === 1 ? memberships[0] : undefined);
    const included = user.included?.find((i) => i.type === 'memberships' && i.id === active?.id);
    const tenant = included?.relationships?.tenant?.data.id;
    if (!tenant) {
      throw new ProwlerApiError('Prowler did not say which tenant the API key belongs to (no active membership in GET /users/me): give externalId explicitly');
    }
    return tenant;
  }

  /**
   * Fails, before anything is written, when the credential's role cannot do what onboarding does:
   * unlimited visibility, Manage Providers, and (unless no scan is started) Manage Scans. A role
   * without unlimited visibility sees only some providers, and every later answer misleads.
   */
  async verifyAccess(options: { readonly writes: boolean; readonly scans: boolean }): Promise<void> {
    const user = await this.me();
    const roleIds = new Set((user.data.relationships?.roles?.data ?? []).map((r) => r.id));
    const roles = (user.included ?? []).filter((i) => i.type === 'roles' && (roleIds.size === 0 || roleIds.has(i.id)));
    if (roles.length === 0) return; // this Prowler does not say: the writes will tell
    const missing = REQUIRED_PERMISSIONS
      .filter(([permission]) => permission === 'unlimited_visibility' || options.writes)
      .filter(([permission]) => permission !== 'manage_scans' || options.scans)
      .filter(([permission]) => !roles.some((role) => role.attributes?.[permission] === true))
      .map(([, what]) => what);
    if (missing.length > 0) {
      throw new ProwlerApiError(`The Prowler ${'apiKey' in this.authKind ? 'API key' : 'token'}'s role lacks ${missing.join('; ')}. `
        + 'In Prowler, give the key\'s user a role with these permissions (Settings → Roles), or use a key of a user who has one; nothing was changed');
    }
  }

  /** `GET /users/me` with the memberships (tenant) and roles (permissions), read once. */
  private me(): Promise<z.infer<typeof userSchema>> {
    this.user ??= this.request('GET', '/users/me', { query: { include: 'memberships,roles' }, retry: true })
      .then((res) => this.parse(userSchema, res.json, 'GET /users/me'))
      .catch((error) => {
        this.user = undefined;
        throw error;
      });
    return this.user;
  }

  // ---- Providers ----

  /** AWS providers by account id, looked up 100 at a time with filter[uid__in]. */
  async findAwsProviders(accountIds: readonly string[]): Promise<Map<string, Provider>> {
    const found = new Map<string, Provider>();
    for (let i = 0; i < accountIds.length; i += MAX_PAGE_SIZE) {
      const batch = accountIds.slice(i, i + MAX_PAGE_SIZE);
      const providers = await this.listAll('/providers', providerSchema, { 'filter[provider]': 'aws', 'filter[uid__in]': batch.join(',') });
      for (const p of providers) found.set(p.attributes.uid, p);
    }
    return found;
  }

  async getProvider(id: string): Promise<Provider> {
    const res = await this.request('GET', `/providers/${encodeURIComponent(id)}`, { retry: true });
    return this.parse(z.object({ data: providerSchema }), res.json, 'GET /providers/{id}').data;
  }

  /**
   * Creates the AWS provider for an account, or returns the one that exists (a 409, or a create
   * that went through although its answer was lost): never a duplicate.
   */
  async createAwsProvider(accountId: string, alias: string): Promise<{ provider: Provider; created: boolean }> {
    const body = { data: { type: 'providers', attributes: { provider: 'aws', uid: accountId, alias } } };
    return this.createOnce<{ provider: Provider; created: boolean }>(
      async () => {
        const res = await this.request('POST', '/providers', { body });
        return { provider: this.parse(z.object({ data: providerSchema }), res.json, 'POST /providers').data, created: true };
      },
      async () => {
        const existing = (await this.findAwsProviders([accountId])).get(accountId);
        return existing ? { provider: existing, created: false } : undefined;
      },
    );
  }

  async updateProviderAlias(id: string, alias: string): Promise<void> {
    await this.request('PATCH', `/providers/${encodeURIComponent(id)}`, {
      body: { data: { type: 'providers', id, attributes: { alias } } },
      retry: true,
    });
  }

  /** Deletes a provider and its scan history (asynchronously, in Prowler). Only on explicit request. */
  async deleteProvider(id: string): Promise<void> {
    await this.request('DELETE', `/providers/${encodeURIComponent(id)}`, { retry: true, tolerate: [404] });
  }

  // ---- Secrets ----

  /** Creates the provider's role secret, or replaces the one it has (one secret per provider). */
  async putRoleSecret(provider: Provider, secret: RoleSecret): Promise<'created' | 'updated'> {
    const existing = provider.relationships?.secret?.data?.id;
    const attributes = { secret_type: 'role', secret };
    if (existing) {
      await this.request('PATCH', `/providers/secrets/${encodeURIComponent(existing)}`, {
        body: { data: { type: 'provider-secrets', id: existing, attributes } },
        retry: true,
      });
      return 'updated';
    }
    const body = { data: { type: 'provider-secrets', attributes, relationships: { provider: { data: { type: 'providers', id: provider.id } } } } };
    const outcome = await this.createOnce(
      async () => {
        const res = await this.request('POST', '/providers/secrets', { body });
        this.parse(z.object({ data: secretSchema }), res.json, 'POST /providers/secrets');
        return 'created' as const;
      },
      async () => ((await this.getProvider(provider.id)).relationships?.secret?.data?.id ? 'recheck' as const : undefined),
      // One secret per provider: another writer's (or our lost) create is a 400 "already exists".
      (e) => e.status === 409 || (e.status === 400 && /already exists/i.test(e.detail ?? '')),
    );
    if (outcome === 'recheck') {
      // The create went through (or another writer made one): make sure it holds our values.
      return this.putRoleSecret(await this.getProvider(provider.id), secret);
    }
    return outcome;
  }

  // ---- Connection tests and tasks ----

  /** Starts a connection test; returns the task id. */
  async testConnection(providerId: string): Promise<string> {
    const res = await this.request('POST', `/providers/${encodeURIComponent(providerId)}/connection`, { retry: true });
    return this.taskIdOf(res, 'POST /providers/{id}/connection');
  }

  async getTask(id: string): Promise<Task> {
    const res = await this.request('GET', `/tasks/${encodeURIComponent(id)}`, { retry: true });
    return this.parse(z.object({ data: taskSchema }), res.json, 'GET /tasks/{id}').data;
  }

  // ---- Scans ----

  /** A daily schedule (Prowler also queues a first scan). `exists` when one is already there. */
  async scheduleDaily(providerId: string): Promise<'scheduled' | 'exists'> {
    const res = await this.request('POST', '/schedules/daily', {
      body: { data: { type: 'daily-schedules', attributes: { provider_id: providerId } } },
      retry: true,
      tolerate: [409],
    });
    return res.status === 409 ? 'exists' : 'scheduled';
  }

  /** One scan now. */
  async startScan(providerId: string): Promise<void> {
    await this.request('POST', '/scans', {
      body: { data: { type: 'scans', attributes: {}, relationships: { provider: { data: { type: 'providers', id: providerId } } } } },
    });
  }

  // ---- Prowler Cloud: organizations, their credential, discovery and apply, bulk schedules ----

  /**
   * The Prowler organization of an AWS organization, found by `external_id` + `org_type`; `served`
   * is false when this Prowler has no organizations (a self-hosted Prowler App answers 404).
   */
  async findOrganization(externalId: string): Promise<{ served: false } | { served: true; organization?: CloudOrganization }> {
    const res = await this.request('GET', '/organizations', {
      query: { 'filter[external_id]': externalId, 'filter[org_type]': 'aws', 'page[size]': String(MAX_PAGE_SIZE) },
      retry: true,
      tolerate: [404],
    });
    if (res.status === 404) return { served: false };
    const list = this.parse(listOf(cloudOrganizationSchema), res.json, 'GET /organizations');
    return { served: true, organization: list.data.find((o) => o.attributes.external_id === externalId && o.attributes.org_type === 'aws') };
  }

  /** Creates the Prowler organization (or finds the one a lost answer or another writer made). */
  async createOrganization(externalId: string, name: string): Promise<CloudOrganization> {
    const body = { data: { type: 'organizations', attributes: { name, org_type: 'aws', external_id: externalId } } };
    const find = async () => {
      const found = await this.findOrganization(externalId);
      return found.served ? found.organization : undefined;
    };
    return this.createOnce(async () => {
      const res = await this.request('POST', '/organizations', { body });
      return this.parse(z.object({ data: cloudOrganizationSchema }), res.json, 'POST /organizations').data;
    }, find, (e) => e.status === 409 || (e.status === 400 && (e.pointer ?? '').endsWith('/external_id')));
  }

  /** The organization's credential (its values are never returned). */
  async findOrganizationSecret(organizationId: string): Promise<{ id: string } | undefined> {
    return (await this.listAll('/organization-secrets', organizationSecretSchema, { 'filter[organization_id]': organizationId }))[0];
  }

  /**
   * Writes the organization's credential: a POST when it has none, else a PATCH, which
   * re-authenticates every provider of the organization: the caller sends one only on a change.
   */
  async putOrganizationSecret(organizationId: string, existingId: string | undefined, secret: RoleSecret): Promise<'created' | 'updated'> {
    const attributes = { secret_type: 'role', secret };
    if (existingId) {
      await this.request('PATCH', `/organization-secrets/${encodeURIComponent(existingId)}`, {
        body: { data: { type: 'organization-secrets', id: existingId, attributes } },
        retry: true,
      });
      return 'updated';
    }
    const body = { data: { type: 'organization-secrets', attributes, relationships: { organization: { data: { type: 'organizations', id: organizationId } } } } };
    const outcome = await this.createOnce<'created' | { id: string }>(async () => {
      const res = await this.request('POST', '/organization-secrets', { body });
      this.parse(z.object({ data: organizationSecretSchema }), res.json, 'POST /organization-secrets');
      return 'created' as const;
    }, async () => this.findOrganizationSecret(organizationId));
    // Made by a lost answer, or by another writer: it must hold these values.
    if (outcome !== 'created') return this.putOrganizationSecret(organizationId, outcome.id, secret);
    return outcome;
  }

  /** Starts Prowler's discovery of the organization, with its credential; returns its id. */
  async startDiscovery(organizationId: string): Promise<string> {
    const res = await this.request('POST', `/organizations/${encodeURIComponent(organizationId)}/discover`, {});
    return this.parse(z.object({ data: z.object({ id: z.string() }) }), res.json, 'POST /organizations/{id}/discover').data.id;
  }

  async getDiscovery(organizationId: string, discoveryId: string): Promise<Discovery> {
    const res = await this.request('GET', `/organizations/${encodeURIComponent(organizationId)}/discoveries/${encodeURIComponent(discoveryId)}`, { retry: true });
    return this.parse(z.object({ data: discoverySchema }), res.json, 'GET /organizations/{id}/discoveries/{id}').data;
  }

  /**
   * Applies a selection of a discovery: creates or links the accounts' providers, with the OU
   * nodes of `organizationalUnits`, and gives them the organization's credential. Never with
   * `include` (the view rejects it). Applying the same selection again changes nothing, so a lost
   * answer is retried. Returns the ids of the providers applied.
   */
  async applyDiscovery(
    organizationId: string,
    discoveryId: string,
    accounts: ReadonlyArray<{ id: string; alias?: string }>,
    organizationalUnits: readonly string[],
  ): Promise<string[]> {
    const body = {
      data: {
        type: 'organization-discoveries',
        attributes: {
          accounts: accounts.map((a) => (a.alias ? { id: a.id, alias: a.alias } : { id: a.id })),
          organizational_units: organizationalUnits.map((id) => ({ id })),
        },
      },
    };
    const res = await this.request('POST', `/organizations/${encodeURIComponent(organizationId)}/discoveries/${encodeURIComponent(discoveryId)}/apply`, { body, retry: true });
    const applied = this.parse(z.object({
      data: z.object({ relationships: z.optional(z.partial(z.object({ providers: z.object({ data: z.array(ref) }) }))) }),
    }), res.json, 'POST /organizations/{id}/discoveries/{id}/apply');
    return (applied.data.relationships?.providers?.data ?? []).map((p) => p.id);
  }

  /** Providers by id, 100 at a time. */
  async providersById(ids: readonly string[]): Promise<Provider[]> {
    const out: Provider[] = [];
    for (let i = 0; i < ids.length; i += MAX_PAGE_SIZE) {
      for (const p of await this.listAll('/providers', providerSchema, { 'filter[id__in]': ids.slice(i, i + MAX_PAGE_SIZE).join(',') })) out.push(p);
    }
    return out;
  }

  /** The organization's OU nodes. */
  async organizationNodes(organizationId: string): Promise<OrganizationNode[]> {
    // No filter is known for this list (an unknown one is a 400): the organization's are picked here.
    const nodes = await this.listAll('/organization-nodes', organizationNodeSchema, {});
    return nodes.filter((n) => (n.relationships?.organization?.data?.id ?? organizationId) === organizationId);
  }

  /**
   * Every provider's schedule, 100 a page (Prowler Cloud: one per provider, its id the
   * provider's); undefined when this Prowler has no such list (Prowler App answers 405 or 404).
   */
  async listSchedules(): Promise<Map<string, CloudSchedule> | undefined> {
    const schedule = z.object({
      id: z.string(),
      attributes: z.object({
        scan_enabled: z.boolean(),
        scan_frequency: z.enum(['DAILY', 'INTERVAL', 'WEEKLY', 'MONTHLY']),
        scan_hour: z.number(),
        scan_timezone: z.string(),
        scan_interval_hours: z.optional(z.nullable(z.number())),
        scan_day_of_week: z.optional(z.nullable(z.number())),
        scan_day_of_month: z.optional(z.nullable(z.number())),
      }),
    });
    try {
      const list = await this.listAll('/schedules', schedule, {});
      return new Map(list.map((item) => [item.id, {
        scan_enabled: item.attributes.scan_enabled,
        scan_frequency: item.attributes.scan_frequency,
        scan_hour: item.attributes.scan_hour,
        scan_timezone: item.attributes.scan_timezone,
        scan_interval_hours: item.attributes.scan_interval_hours ?? null,
        scan_day_of_week: item.attributes.scan_day_of_week ?? null,
        scan_day_of_month: item.attributes.scan_day_of_month ?? null,
      }]));
    } catch (error) {
      if (error instanceof ProwlerApiError && (error.status === 404 || error.status === 405)) return undefined;
      throw error;
    }
  }

  /**
   * One schedule for many providers (an upsert). Prowler answers 2xx even when some fail: their
   * ids and Prowler's words come back in `failed`.
   */
  async scheduleBulk(
    schedule: CloudSchedule,
    providerIds: readonly string[],
  ): Promise<{ updated: string[]; failed: Array<{ id: string; error: string }> }> {
    const res = await this.request('POST', '/schedules/bulk', {
      body: { data: { type: 'schedules-bulk', attributes: { schedule, provider_ids: providerIds } } },
      retry: true,
    });
    const answer = this.parse(z.object({
      data: z.object({
        updated: z.optional(z.array(z.union([z.string(), z.object({ id: z.string() })]))),
        failed: z.optional(z.array(z.object({ id: z.string(), error: z.optional(z.unknown()) }))),
      }),
    }), res.json, 'POST /schedules/bulk').data;
    return {
      updated: (answer.updated ?? []).map((u) => (typeof u === 'string' ? u : u.id)),
      failed: (answer.failed ?? []).map((f) => ({ id: f.id, error: this.redact(typeof f.error === 'string' ? f.error : JSON.stringify(f.error ?? 'failed')) })),
    };
  }

  // ---- Provider groups (one per organization records which providers belong to it) ----

  async listProviderGroups(): Promise<ProviderGroup[]> {
    return this.listAll('/provider-groups', providerGroupSchema, {});
  }

  async findOrCreateProviderGroup(name: string): Promise<ProviderGroup> {
    const find = async () => (await this.listAll('/provider-groups', providerGroupSchema, { 'filter[name]': name }))[0];
    const existing = await find();
    if (existing) return existing;
    return this.createOnce(async () => {
      const res = await this.request('POST', '/provider-groups', { body: { data: { type: 'provider-groups', attributes: { name } } } });
      return this.parse(z.object({ data: providerGroupSchema }), res.json, 'POST /provider-groups').data;
    }, find, isDuplicateName);
  }

  /**
   * Adds providers to a group. Prowler's relationship endpoint takes resource identifier linkage
   * and rejects a whole POST in which any provider already is a member: the callers pass the ones
   * they found outside it, and when another writer (or a POST whose answer was lost) got there
   * first, the membership is read again and only the rest is added.
   */
  async addToProviderGroup(groupId: string, providerIds: readonly string[]): Promise<void> {
    let joining = [...new Set(providerIds)];
    for (let attempt = 1; joining.length > 0; attempt++) {
      try {
        await this.request('POST', this.membershipPath(groupId), { body: linkage(joining) });
        return;
      } catch (error) {
        const alreadyMember = error instanceof ProwlerApiError && error.status === 400 && /already associated/i.test(error.detail ?? '');
        const unknownOutcome = error instanceof TransientError;
        if ((!alreadyMember && !unknownOutcome) || attempt >= this.maxAttempts) throw error;
        if (unknownOutcome) await this.clock.sleep(this.backoff(attempt, (error as TransientError).retryAfterMs));
        const members = new Set((await this.providersInGroup(groupId)).map((p) => p.id));
        joining = joining.filter((id) => !members.has(id));
      }
    }
  }

  /** The providers of a group. */
  async providersInGroup(groupId: string): Promise<Provider[]> {
    return this.listAll('/providers', providerSchema, { 'filter[provider_groups]': groupId });
  }

  /**
   * Removes providers from a group (the providers and their history stay). The endpoint's DELETE
   * clears every member, so the remaining membership is written whole (PATCH).
   */
  async removeFromProviderGroup(groupId: string, providerIds: readonly string[]): Promise<void> {
    if (providerIds.length === 0) return;
    const leaving = new Set(providerIds);
    const res = await this.request('GET', `/provider-groups/${encodeURIComponent(groupId)}`, { retry: true, tolerate: [404] });
    if (res.status === 404) return; // already gone
    const group = this.parse(z.object({ data: providerGroupSchema }), res.json, 'GET /provider-groups/{id}').data;
    const staying = (group.relationships?.providers?.data ?? []).map((p) => p.id).filter((id) => !leaving.has(id));
    await this.request('PATCH', this.membershipPath(groupId), { body: linkage(staying), retry: true });
  }

  private membershipPath(groupId: string): string {
    return `/provider-groups/${encodeURIComponent(groupId)}/relationships/providers`;
  }

  async deleteProviderGroup(groupId: string): Promise<void> {
    await this.request('DELETE', `/provider-groups/${encodeURIComponent(groupId)}`, { retry: true, tolerate: [404] });
  }

  // ---- Plumbing ----

  /**
   * Every item of a list, page by page. A server that keeps announcing pages is stopped: more
   * pages than the count it reported first allows, or a page that brings nothing new, is an error
   * naming the endpoint (a loop would otherwise send requests until the function times out).
   */
  private async listAll<T extends z.ZodMiniType>(path: string, item: T, query: Record<string, string>): Promise<z.infer<T>[]> {
    const out: z.infer<T>[] = [];
    const seen = new Set<string>();
    let allowed: number | undefined;
    for (let page = 1; ; page++) {
      const res = await this.request('GET', path, { query: { ...query, 'page[size]': String(MAX_PAGE_SIZE), 'page[number]': String(page) }, retry: true });
      const list = this.parse(listOf(item), res.json, `GET ${path}`);
      const fresh = (list.data as Array<{ id?: unknown }>).filter((x) => typeof x.id !== 'string' || !seen.has(x.id));
      if (list.data.length > 0 && fresh.length === 0) {
        throw new ProwlerApiError(`Prowler API GET ${path} answered page ${page} with only items of earlier pages: stopped paginating (is a proxy caching the first page?)`);
      }
      for (const x of fresh) {
        if (typeof (x as { id?: unknown }).id === 'string') seen.add((x as { id: string }).id);
        out.push(x as z.infer<T>); // one by one: a spread of a huge page overflows the stack
      }
      const announced = list.meta?.pagination;
      // One page more than the first count needs: items may be added while we page.
      allowed ??= announced ? Math.max(1, Math.ceil(announced.count / MAX_PAGE_SIZE)) + 1 : 1;
      if (page >= (announced?.pages ?? 1) || list.data.length === 0) return out;
      if (page >= allowed) {
        throw new ProwlerApiError(`Prowler API GET ${path} announced page ${page + 1} of ${announced?.pages} after reporting ${announced?.count} items: stopped paginating`);
      }
    }
  }

  /**
   * Runs a create; when it fails in a way that leaves its outcome unknown (timeout, 5xx, a lost
   * answer), re-checks with `find` before trying again, and a 409 means it already exists.
   */
  private async createOnce<T>(
    create: () => Promise<T>,
    find: () => Promise<T | undefined>,
    isConflict: (error: ProwlerApiError) => boolean = (e) => e.status === 409,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await create();
      } catch (error) {
        const conflict = error instanceof ProwlerApiError && !(error instanceof TransientError) && isConflict(error);
        const unknownOutcome = error instanceof TransientError;
        if (!conflict && !unknownOutcome) throw error;
        const existing = await find();
        if (existing !== undefined) return existing;
        if (conflict || attempt >= this.maxAttempts) throw error;
        await this.clock.sleep(this.backoff(attempt, (error as TransientError).retryAfterMs));
      }
    }
  }

  private backoff(attempt: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.maxDelayMs * 3);
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(cap / 2 + this.random() * (cap / 2)); // "equal jitter"
  }

  private async request(method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
    const until = this.clock.now() + this.requestBudgetMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(method, path, options);
      } catch (error) {
        const retryable = error instanceof TransientError && (options.retry || error.status === 429);
        if (!retryable || attempt >= this.maxAttempts) throw error;
        const wait = this.backoff(attempt, (error as TransientError).retryAfterMs);
        // Retries stop within the budget: a request never outlasts the Lambda's margin for work in flight.
        if (this.clock.now() + wait + this.timeoutMs > until) throw error;
        await this.clock.sleep(wait);
      }
    }
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<RawResponse> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const where = `${method} ${url.pathname}`;
    this.requests++;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers: { Authorization: this.authorization, Accept: JSON_API, ...(options.body !== undefined ? { 'Content-Type': JSON_API } : {}) },
        body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
        // A redirect would re-send the key (and a secret's body) to wherever it points.
        redirect: 'manual',
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : this.redact(describeNetworkError(error));
      throw new TransientError(`Prowler API ${where}: ${reason} (is ${this.baseUrl} reachable from here?)`);
    }
    let json: unknown = undefined;
    let text: string;
    try {
      text = await response.text(); // under the same timeout as the headers
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError'
        ? `its answer did not arrive whole within ${this.timeoutMs / 1000} s` : `its answer broke off (${this.redact(describeNetworkError(error))})`;
      throw new TransientError(`Prowler API ${where}: ${reason}`, response.status);
    }
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    const status = response.status;
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location') ?? '';
      throw new ProwlerApiError(`Prowler API ${where} answered ${status}, a redirect${location ? ` to ${this.redact(location.split('?')[0])}` : ''}, which is not followed `
        + '(it would carry the API key and the request body elsewhere): set prowlerApiUrl to the API\'s final address', status);
    }
    if (status < 400 || options.tolerate?.includes(status)) {
      if (status < 400 && status !== 204 && status !== 202 && text && json === undefined) {
        throw new ProwlerApiError(`Prowler API ${where} answered ${status} with a body that is not JSON: check prowlerApiUrl points at the API (…/api/v1), not the web app`, status);
      }
      return { status, headers: response.headers, json };
    }
    throw this.failure(where, status, response.headers, json, text);
  }

  private failure(where: string, status: number, headers: Headers, json: unknown, text: string): ProwlerApiError {
    // JSON:API errors are a list; a view's own Response({"detail": …}) comes as one object.
    const error = z.partial(z.object({
      detail: z.optional(z.unknown()), code: z.optional(z.string()), source: z.optional(z.partial(z.object({ pointer: z.optional(z.string()) }))),
    }));
    const errors = z.object({ errors: z.union([z.array(error), error]) }).safeParse(json);
    const first = errors.success ? (Array.isArray(errors.data.errors) ? errors.data.errors[0] : errors.data.errors) : undefined;
    const said = first && first.detail !== undefined ? this.redact(typeof first.detail === 'string' ? first.detail : JSON.stringify(first.detail)) : undefined;
    const pointer = first?.source?.pointer;
    // Redact, then cut: a cut first could leave most of a secret at its end.
    const detail = said !== undefined ? `${said}${pointer ? ` (${pointer})` : ''}` : cut(this.redact(text), 200);
    const code = first?.code;
    if (status === 429 || status >= 500) {
      return new TransientError(`Prowler API ${where}: ${status}${detail ? ` ${detail}` : ''}`, status, retryAfter(headers.get('retry-after'), this.clock.now()));
    }
    const fix: Record<number, string> = {
      401: 'the API key was rejected: put a current Prowler API key (pk_…) for this tenant in the Secrets Manager secret',
      403: 'the API key is not allowed to do this: its role needs the "Manage Providers" and "Manage Scans" permissions',
      404: `not found: check that prowlerApiUrl is the API's base URL (${PROWLER_CLOUD_API_URL}, or http://<host>:8080/api/v1 self-hosted)`,
      409: 'it already exists',
    };
    return new ProwlerApiError(`Prowler API ${where}: ${status} ${fix[status] ?? ''}${detail ? `${fix[status] ? ' — ' : ''}Prowler said: ${detail}` : ''}`.trim(), status, code, said, pointer);
  }

  /** Never let the credential reach a message. */
  /** An answer in the shape this client relies on; else what was where, redacted and cut. */
  private parse<T extends z.ZodMiniType>(schema: T, json: unknown, where: string): z.infer<T> {
    const result = schema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      const at = issue.path.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey], json);
      const got = at === undefined ? 'nothing' : cut(this.redact(shown(at)), 100);
      // zod/mini's own message is only "Invalid input" (no locale is loaded): say what was expected.
      const expected = issue.code === 'invalid_type' ? `expected ${issue.expected}`
        : issue.code === 'invalid_value' ? `expected ${issue.values.map((v) => shown(v)).join(' or ')}`
          : issue.message;
      throw new ProwlerApiError(`Prowler API ${where} answered something unexpected (${issue.path.join('.') || 'body'}: ${expected}, got ${got}): is this a Prowler API of version 1.x?`);
    }
    return result.data;
  }

  private taskIdOf(res: RawResponse, where: string): string {
    const location = res.headers.get('content-location');
    const fromHeader = location?.match(/\/tasks\/([^/?#]+)/)?.[1];
    if (fromHeader) return fromHeader;
    return this.parse(z.object({ data: taskSchema }), res.json, where).data.id;
  }

  private redact(text: string): string {
    return this.secrets.reduce((out, secret) => redactSecret(out, secret), text);
  }
}

/** Secrets shorter than this are not worth hiding (and would hide ordinary words). */
const MIN_SECRET_LENGTH = 8;

/**
 * `text` without `secret`: whole, or any part of it of 8 or more characters that starts it (an
 * echo cut by a server) or ends it.
 */
export function redactSecret(text: string, secret: string): string {
  if (secret.length < MIN_SECRET_LENGTH) return text;
  let out = text.split(secret).join('[redacted]');
  for (let n = secret.length - 1; n >= MIN_SECRET_LENGTH; n--) {
    out = out.split(secret.slice(0, n)).join('[redacted]').split(secret.slice(secret.length - n)).join('[redacted]');
  }
  return out;
}

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** A relationship body: resource identifier linkage, the only form Prowler's relationship views take. */
const linkage = (providerIds: readonly string[]) => ({ data: providerIds.map((id) => ({ type: 'providers', id })) });

/** Prowler's 400 for a provider group whose name is taken (its serializer's validate). */
const isDuplicateName = (e: ProwlerApiError) => e.status === 409 || (e.status === 400 && e.pointer === '/data/attributes/name' && /already exists/i.test(e.detail ?? ''));

/** Retry-After in seconds or as an HTTP date, in ms. */
export function retryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${cause.code} ${cause.message ?? ''}`.trim() : (error as Error).message ?? String(error);
}

function decodeJwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
