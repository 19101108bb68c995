/**
 * A simulated AWS Organization: a deterministic generator, the Organizations operations over it,
 * and two ways to plug it into an OrganizationsClient:
 * - `mockOrganizations` (aws-sdk-client-mock): commands answered in-process;
 * - `organizationsTransport`: the real SDK (paginators, adaptive retry, error parsing) over a
 *   fake HTTP handler with latency and throttling (TooManyRequestsException), for throttling
 *   tests and the discovery benchmark.
 */
import { Readable } from 'node:stream';
import {
  DescribeAccountCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { mockClient } from 'aws-sdk-client-mock';

type Json = any;

export interface SimAccount {
  id: string;
  name: string;
  email: string;
  status: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED';
  joinedMethod: 'CREATED' | 'INVITED';
  parentId: string;
  tags: Record<string, string>;
}

export interface SimOrganization {
  id: string;
  managementAccountId: string;
  roots: Array<{ id: string; name: string }>;
  ous: Array<{ id: string; name: string; parentId: string }>;
  accounts: SimAccount[];
}

export interface GenerateOptions {
  readonly accounts: number;
  readonly ous: number;
  /** Deepest OU level (1: OUs directly under the root only). */
  readonly depth: number;
  readonly seed?: number;
  readonly suspended?: number;
  readonly pendingClosure?: number;
  readonly closed?: number;
}

/** A small deterministic PRNG (mulberry32). */
/* eslint-disable no-bitwise */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/* eslint-enable no-bitwise */

const OU_NAMES = ['Security', 'Workloads', 'Sandbox', 'Infrastructure', 'Platform', 'Data', 'Payments', 'Identity', 'Shared', 'Legacy'];
const ENVS = ['prod', 'staging', 'dev', 'test'];

/** An organization with exactly `ous` OUs spread over `depth` levels and `accounts` accounts. */
export function generateOrganization(o: GenerateOptions): SimOrganization {
  const random = prng(o.seed ?? 42);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 36).toString(36)).join('');
  const orgSuffix = hex(10);
  const root = { id: `r-${hex(4)}`, name: 'Root' };
  const ous: SimOrganization['ous'] = [];
  const levels: string[][] = [[root.id]];
  const perLevel = Math.max(1, Math.floor(o.ous / o.depth));
  for (let level = 1; level <= o.depth && ous.length < o.ous; level++) {
    const count = level === o.depth ? o.ous - ous.length : Math.min(perLevel, o.ous - ous.length);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const parents = levels[level - 1];
      const parentId = parents[Math.floor(random() * parents.length)];
      const id = `ou-${root.id.slice(2)}-${hex(8)}`;
      ous.push({ id, name: `${OU_NAMES[(ous.length) % OU_NAMES.length]}-${level}-${i}`, parentId });
      ids.push(id);
    }
    levels.push(ids);
  }
  const parents = [root.id, ...ous.map((u) => u.id)];
  const accounts: SimAccount[] = [];
  const used = new Set<string>();
  const accountId = () => {
    for (;;) {
      const id = String(100000000000 + Math.floor(random() * 899999999999));
      if (!used.has(id)) {
        used.add(id);
        return id;
      }
    }
  };
  for (let i = 0; i < o.accounts; i++) {
    const id = accountId();
    const env = ENVS[i % ENVS.length];
    accounts.push({
      id,
      name: i === 0 ? 'management' : `${env}-account-${i}`,
      email: `aws+${id}@example.com`,
      status: 'ACTIVE',
      joinedMethod: i % 7 === 0 ? 'INVITED' : 'CREATED',
      parentId: i === 0 ? root.id : parents[Math.floor(random() * parents.length)],
      tags: { environment: env, ...(i > 0 && i % 5 === 0 ? { 'prowler-scan': 'false' } : {}) },
    });
  }
  let next = accounts.length - 1;
  for (const [status, n] of [['SUSPENDED', o.suspended ?? 0], ['PENDING_CLOSURE', o.pendingClosure ?? 0], ['CLOSED', o.closed ?? 0]] as const) {
    for (let i = 0; i < n; i++) accounts[next--].status = status;
  }
  return { id: `o-${orgSuffix}`, managementAccountId: accounts[0].id, roots: [root], ous, accounts };
}

/** An Organizations error as the SDK would raise it. */
export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

const PAGE = 20;

function paginate<T>(items: T[], input: Json, key: string) {
  const start = Number(input?.NextToken ?? 0);
  const size = Math.min(input?.MaxResults ?? PAGE, PAGE);
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? String(start + size) : undefined;
  return { [key]: page, ...(next ? { NextToken: next } : {}) };
}

/** The Organizations operations over a simulated organization. */
export function organizationsApi(org: SimOrganization) {
  const arnPrefix = `arn:aws:organizations::${org.managementAccountId}`;
  const account = (a: SimAccount) => ({
    Id: a.id,
    Arn: `${arnPrefix}:account/${org.id}/${a.id}`,
    Email: a.email,
    Name: a.name,
    Status: a.status === 'PENDING_CLOSURE' || a.status === 'CLOSED' ? 'SUSPENDED' : a.status,
    State: a.status,
    JoinedMethod: a.joinedMethod,
    JoinedTimestamp: new Date('2024-01-01T00:00:00Z'),
  });
  const parentExists = (id: string) => org.roots.some((r) => r.id === id) || org.ous.some((u) => u.id === id);
  return (operation: string, input: Json): Json => {
    switch (operation) {
      case 'DescribeOrganization':
        return { Organization: { Id: org.id, Arn: `${arnPrefix}:organization/${org.id}`, FeatureSet: 'ALL', MasterAccountId: org.managementAccountId, MasterAccountArn: `${arnPrefix}:account/${org.id}/${org.managementAccountId}` } };
      case 'ListRoots':
        return paginate(org.roots.map((r) => ({ Id: r.id, Name: r.name, Arn: `${arnPrefix}:root/${org.id}/${r.id}`, PolicyTypes: [] })), input, 'Roots');
      case 'ListOrganizationalUnitsForParent':
        if (!parentExists(input.ParentId)) throw awsError('ParentNotFoundException', `parent ${input.ParentId} not found`);
        return paginate(org.ous.filter((u) => u.parentId === input.ParentId).map((u) => ({ Id: u.id, Name: u.name, Arn: `${arnPrefix}:ou/${org.id}/${u.id}` })), input, 'OrganizationalUnits');
      case 'ListAccountsForParent':
        if (!parentExists(input.ParentId)) throw awsError('ParentNotFoundException', `parent ${input.ParentId} not found`);
        return paginate(org.accounts.filter((a) => a.parentId === input.ParentId).map(account), input, 'Accounts');
      case 'ListAccounts':
        return paginate(org.accounts.map(account), input, 'Accounts');
      case 'DescribeAccount': {
        const a = org.accounts.find((x) => x.id === input.AccountId);
        if (!a) throw awsError('AccountNotFoundException', 'You specified an account that doesn\'t exist.');
        return { Account: account(a) };
      }
      case 'ListParents': {
        const a = org.accounts.find((x) => x.id === input.ChildId);
        if (!a) throw awsError('ChildNotFoundException', 'We can\'t find an organizational unit (OU) or AWS account with the ChildId that you specified.');
        return { Parents: [{ Id: a.parentId, Type: a.parentId.startsWith('r-') ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }] };
      }
      case 'ListTagsForResource': {
        const a = org.accounts.find((x) => x.id === input.ResourceId);
        if (!a) throw awsError('TargetNotFoundException', `no resource ${input.ResourceId}`);
        return paginate(Object.entries(a.tags).map(([Key, Value]) => ({ Key, Value })), input, 'Tags');
      }
      default:
        throw awsError('UnsupportedAPIEndpointException', `the simulated organization does not implement ${operation}`);
    }
  };
}

const COMMANDS = [
  ['DescribeOrganization', DescribeOrganizationCommand],
  ['ListRoots', ListRootsCommand],
  ['ListOrganizationalUnitsForParent', ListOrganizationalUnitsForParentCommand],
  ['ListAccountsForParent', ListAccountsForParentCommand],
  ['ListAccounts', ListAccountsCommand],
  ['ListTagsForResource', ListTagsForResourceCommand],
  ['DescribeAccount', DescribeAccountCommand],
  ['ListParents', ListParentsCommand],
] as const;

/**
 * Mocks every OrganizationsClient (aws-sdk-client-mock) with the simulated organization.
 * `intercept` may answer (or throw) instead, e.g. to deny an operation.
 */
export function mockOrganizations(
  org: SimOrganization,
  intercept?: (operation: string, input: Json) => Json | undefined,
  /** Awaited before each call (latency, a rate limit). */
  before?: (operation: string) => Promise<void>,
) {
  const api = organizationsApi(org);
  const mock = mockClient(OrganizationsClient);
  for (const [name, command] of COMMANDS) {
    mock.on(command as any).callsFake(async (input: Json) => {
      await before?.(name);
      return intercept?.(name, input) ?? api(name, input);
    });
  }
  return mock;
}

export interface TransportOptions {
  readonly latencyMs?: number;
  /** Requests per second served; beyond it, TooManyRequestsException. */
  readonly ratePerSecond?: number;
}

export interface TransportStats {
  served: number;
  throttled: number;
  maxInFlight: number;
}

/**
 * An SDK request handler that serves the simulated organization over the awsJson1_1 protocol,
 * with latency and a sliding-window throttle: the real client, paginators and retry run above it.
 */
export function organizationsTransport(org: SimOrganization, options: TransportOptions = {}) {
  const api = organizationsApi(org);
  const stats: TransportStats = { served: 0, throttled: 0, maxInFlight: 0 };
  const accepted: number[] = [];
  let inFlight = 0;
  const respond = (statusCode: number, body: Json) => ({
    response: new HttpResponse({
      statusCode,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'sim' },
      // awsJson1_1 sends timestamps as epoch seconds.
      body: Readable.from([Buffer.from(JSON.stringify(body, function (this: Json, key, value) {
        return this[key] instanceof Date ? this[key].getTime() / 1000 : value;
      }))]),
    }),
  });
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: HttpRequest) {
      inFlight++;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      try {
        const operation = String(request.headers['x-amz-target'] ?? '').split('.').pop()!;
        const body = request.body as Uint8Array | string | undefined;
        const text = body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : body;
        const input = text ? JSON.parse(text) : {};
        if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
        const now = Date.now();
        while (accepted.length > 0 && accepted[0] <= now - 1000) accepted.shift();
        if (options.ratePerSecond && accepted.length >= options.ratePerSecond) {
          stats.throttled++;
          return respond(400, { __type: 'TooManyRequestsException', Message: 'AWS Organizations can\'t complete your request because another request is already in progress. Try again later.' });
        }
        accepted.push(now);
        stats.served++;
        try {
          return respond(200, api(operation, input));
        } catch (error) {
          return respond(400, { __type: (error as Error).name, Message: (error as Error).message });
        }
      } finally {
        inFlight--;
      }
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {},
  };
  return { handler, stats };
}

/** A real OrganizationsClient over the simulated transport, as discovery configures it. */
export function simulatedOrganizationsClient(org: SimOrganization, options: TransportOptions = {}) {
  const { handler, stats } = organizationsTransport(org, options);
  const client = new OrganizationsClient({
    region: 'us-east-1',
    retryMode: 'adaptive',
    maxAttempts: 12,
    credentials: { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated' },
    requestHandler: handler as any,
  });
  return { client, stats };
}
