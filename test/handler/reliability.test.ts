import type { IncomingHttpHeaders } from 'node:http';
import { onboard, organizationGroupName, type OnboardingReport } from '../../src/handler/engine';
import { ProwlerClient, type Clock } from '../../src/handler/prowler-api';
import { generateOrganization, simulatedOrganizationsClient, type SimOrganization } from '../../testing/organization';
import { ProwlerApiDouble, type Fault } from '../../testing/prowler-api-double';

const KEY = 'pk_test.reliability';
const ORG = generateOrganization({ accounts: 200, ous: 20, depth: 4, suspended: 3, closed: 2, seed: 21 });
const SELECTED = ORG.accounts.filter((a) => a.status === 'ACTIVE');

/** Sleeps are instant (backoff and retry delays). */
const clock: Clock = { now: () => Date.now(), sleep: async () => {} };

/**
 * Request timeouts on demand. The client's own timeout is long, so a loaded machine never times out
 * a request the test did not fault (each such timeout is a lost answer of its own, and the re-sent
 * create is refused); the request a scenario hangs is timed out as soon as the double has it.
 */
class Timeouts {
  private static readonly HEADER = 'x-test-request';
  private next = 0;
  private readonly inFlight = new Map<string, AbortController>();

  readonly fetch: typeof fetch = async (input, init) => {
    const id = String(this.next++);
    const controller = new AbortController();
    this.inFlight.set(id, controller);
    try {
      const headers = { ...(init?.headers as Record<string, string>), [Timeouts.HEADER]: id };
      return await fetch(input, { ...init, headers, signal: controller.signal });
    } finally {
      this.inFlight.delete(id);
    }
  };

  /** Times out the request the double received with these headers, as the client's timer would. */
  timeOut(headers: IncomingHttpHeaders): void {
    const controller = this.inFlight.get(String(headers[Timeouts.HEADER]));
    setImmediate(() => controller?.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')));
  }
}

const client = (double: ProwlerApiDouble, timeouts = new Timeouts(), maxAttempts = 4) =>
  new ProwlerClient({ baseUrl: double.url, auth: { apiKey: KEY }, clock, timeoutMs: 30_000, maxAttempts, fetch: timeouts.fetch });

/** The kind of a request: method and path with ids folded. */
const kindOf = (method: string, path: string) => `${method} ${path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id')}`;

/**
 * One onboarding. Organizations is served through the simulated transport (one per client), not
 * aws-sdk-client-mock (which patches every client), so scenarios can run concurrently.
 */
async function run(double: ProwlerApiDouble, timeouts?: Timeouts, org: SimOrganization = ORG): Promise<OnboardingReport | Error> {
  try {
    return await onboard({ selection: {}, connection: { retryRounds: 1, retryDelaySeconds: 0 }, concurrency: 20 }, {
      organizations: simulatedOrganizationsClient(org).client,
      prowler: client(double, timeouts),
      clock,
    });
  } catch (error) {
    return error as Error;
  }
}

/** What must hold after any interrupted run followed by a clean one. */
function expectConverged(double: ProwlerApiDouble, report: OnboardingReport | Error) {
  if (report instanceof Error) throw report;
  expect(report.outcome).toBe('succeeded');
  expect(report.failure).toBeUndefined();
  const uids = [...double.providers.values()].map((p) => p.uid);
  expect(uids.sort()).toEqual(SELECTED.map((a) => a.id).sort()); // one provider per account: none missing, none duplicated
  const group = double.groupNamed(organizationGroupName(ORG.id));
  for (const a of SELECTED) {
    const provider = double.providerByUid(a.id)!;
    expect(double.secretOf(a.id)?.secret).toEqual({ role_arn: `arn:aws:iam::${a.id}:role/ProwlerScan`, external_id: double.tenantId });
    expect(group.providerIds.has(provider.id)).toBe(true);
    expect(double.schedules.has(provider.id)).toBe(true);
  }
  expect([...double.groups.values()].filter((g) => g.name === organizationGroupName(ORG.id))).toHaveLength(1);
  expect(double.requests.some((r) => r.method === 'DELETE')).toBe(false);
}

/** The kinds of call a clean 200-account onboarding makes, and how many of each. */
const CALLS: Array<[kind: string, count: number]> = [
  ['GET /api/v1/users/me', 1],
  // Which Prowler: a self-hosted Prowler App answers 404 (Prowler Cloud serves its organizations).
  ['GET /api/v1/organizations', 1],
  ['GET /api/v1/provider-groups', 2],
  ['GET /api/v1/providers', 2],
  ['POST /api/v1/providers', 195],
  ['POST /api/v1/providers/secrets', 195],
  ['POST /api/v1/provider-groups', 1],
  ['POST /api/v1/provider-groups/:id/relationships/providers', 2],
  ['POST /api/v1/providers/:id/connection', 195],
  ['GET /api/v1/tasks/:id', 195],
  ['POST /api/v1/schedules/daily', 195],
];

const FAULTS: Array<[name: string, fault: Fault]> = [
  ['connection reset', 'reset'],
  ['timeout', 'hang'],
  ['500', { status: 500 }],
  ['answer lost after the change', 'drop-answer'],
];

/** Every (call, fault) pair, at a rotating position: the first, a middle or the last such call. */
const SCENARIOS = CALLS.flatMap(([kind, count], k) => FAULTS.map(([name, fault], f) => {
  const positions = [1, Math.ceil(count / 2), count];
  return { kind, occurrence: positions[(k + f) % 3], name, fault };
}));

describe('a clean 200-account onboarding', () => {
  test('makes exactly the calls the fault matrix walks through', async () => {
    const double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
    const report = await run(double);
    const kinds = new Map<string, number>();
    for (const r of double.requests) kinds.set(kindOf(r.method, r.path), (kinds.get(kindOf(r.method, r.path)) ?? 0) + 1);
    expect([...kinds.entries()].sort()).toEqual([...CALLS].sort());
    expectConverged(double, report);
    await double.stop();
  }, 60_000);
});

/**
 * Requests the API refused as a client error (a duplicate provider or secret, a member already in
 * the group...): the client must not lean on the server to stay idempotent, since after a lost
 * answer it re-reads before it re-sends. Daily schedules are the exception: the API has no read
 * for them, and its 409 for the same provider is the only way to learn one exists.
 */
const refused = (double: ProwlerApiDouble) => double.requests
  .filter((r) => r.status >= 400 && r.status < 500 && !(r.status === 409 && r.path === '/api/v1/schedules/daily'))
  .filter((r) => !(r.status === 404 && r.path === '/api/v1/organizations')) // the answer that says "Prowler App"
  .map((r) => `${r.status} ${kindOf(r.method, r.path)}`);

describe('fault injection: each kind of call fails once; the client absorbs it, without leaning on the server to refuse duplicates', () => {
  test.concurrent.each(SCENARIOS)('$kind #$occurrence: $name', async ({ kind, occurrence, fault }) => {
    let seen = 0;
    const timeouts = new Timeouts();
    const double = await new ProwlerApiDouble({
      apiKeys: [KEY],
      fault: ({ method, path, headers }) => {
        if (kindOf(method, path) !== kind || ++seen !== occurrence) return undefined;
        if (fault === 'hang') timeouts.timeOut(headers);
        return fault;
      },
    }).start();
    try {
      const first = await run(double, timeouts);
      expect(seen).toBeGreaterThanOrEqual(occurrence); // the fault was served
      // One transient fault is retried: the first run itself completes, and nothing was refused.
      expectConverged(double, first);
      expect(refused(double)).toEqual([]);
      double.options = { ...double.options, fault: undefined };
      expectConverged(double, await run(double));
    } finally {
      await double.stop();
    }
  }, 60_000);

  test.concurrent.each([50, 300, 500, 700, 950])('the API goes down after request %i: the run fails with a reason, or reports the accounts that failed; a re-run converges', async (after) => {
    const double = await new ProwlerApiDouble({ apiKeys: [KEY], fault: ({ index }) => (index >= after ? { status: 503 } : undefined) }).start();
    try {
      const first = await run(double);
      // Before anything was scheduled the run fails; after some were, the others are each reported.
      const reason = first instanceof Error
        ? first.message
        : first.failure ?? [...first.warnings, ...first.accounts.map((a) => a.error ?? a.connection?.error ?? '')].join('\n');
      expect(reason).toMatch(/503/);
      double.options = { ...double.options, fault: undefined };
      expectConverged(double, await run(double));
    } finally {
      await double.stop();
    }
  }, 60_000);
});

describe('throttling on both sides', () => {
  test('Organizations answering TooManyRequestsException and Prowler answering 429 bursts: the onboarding completes', async () => {
    let index = 0;
    // Prowler: every 25th request starts a burst of three 429s (Retry-After: 0).
    const burst = (): Fault | undefined => (index++ % 25 < 3 ? { status: 429, retryAfterSeconds: 0 } : undefined);
    const double = await new ProwlerApiDouble({ apiKeys: [KEY], fault: burst }).start();
    const organizations = simulatedOrganizationsClient(ORG, { ratePerSecond: 30 });
    try {
      const report = await onboard({ selection: {}, concurrency: 20 }, {
        organizations: organizations.client,
        prowler: client(double, undefined, 6),
        clock,
      });
      expect(organizations.stats.throttled).toBeGreaterThan(0);
      expect(double.requests.filter((r) => r.status === 429).length).toBeGreaterThan(100);
      expectConverged(double, report);
    } finally {
      await double.stop();
    }
  }, 60_000);
});
