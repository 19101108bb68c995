/**
 * Test harness: the engine wired to a simulated organization (aws-sdk-client-mock) and the
 * Prowler API double, with a clock whose sleeps return at once.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { generateOrganization, mockOrganizations, type SimOrganization } from './organization';
import { cloudOrganizationFromSimulation, ProwlerApiDouble, type CloudModeOptions, type ConnectionRule } from './prowler-api-double';
import { onboard, type OnboardingRequest } from '../src/handler/engine';
import { ProwlerClient, type Clock } from '../src/handler/prowler-api';
import { emptyRecord, type OnboardingRecord } from '../src/handler/record';

export const HARNESS_API_KEY = 'pk_test.ENGINE-SECRET-KEY';

/** A clock whose sleeps return at once and are recorded; `now` advances by what was slept. */
export function fakeClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  let now = 0;
  return { slept, now: () => now, sleep: async (ms) => { slept.push(ms); now += ms; } };
}

export interface Harness {
  org: SimOrganization;
  double: ProwlerApiDouble;
  clock: ReturnType<typeof fakeClock>;
  logs: string[];
  /** The Organizations operations called, in order. */
  organizationsCalls: string[];
  prowler: ProwlerClient;
  /** What the onboarding created and linked, kept across runs as the Lambda keeps it (`undefined`: none, as the CLI). */
  record: OnboardingRecord | undefined;
  run(request?: Partial<OnboardingRequest>, extra?: Partial<Parameters<typeof onboard>[1]>): ReturnType<typeof onboard>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  readonly connectionRule?: ConnectionRule;
  readonly org?: SimOrganization;
  /** Each Organizations call takes this long on the clock (default 0). */
  readonly organizationsLatencyMs?: number;
  /** The double is Prowler Cloud (organizations), seeing the simulated organization; default Prowler App. */
  readonly cloud?: boolean | Partial<CloudModeOptions>;
}

/**
 * Requests that delete an organization or an organization node: in Prowler Cloud they delete
 * every provider under it with its history. This package never sends one.
 */
export const CASCADE = /^\/api\/v1\/organization(s|-nodes)\/[^/]+\/?$/;
export function cascadeRequests(double: ProwlerApiDouble): string[] {
  return double.requests.filter((r) => r.method === 'DELETE' && CASCADE.test(r.path)).map((r) => `${r.method} ${r.path}`);
}

export async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const org = options.org ?? generateOrganization({ accounts: 20, ous: 6, depth: 3, suspended: 1, closed: 1, seed: 11 });
  const clock = fakeClock();
  const cloud: CloudModeOptions | undefined = options.cloud
    ? { organization: () => cloudOrganizationFromSimulation(org), ...(options.cloud === true ? {} : options.cloud) }
    : undefined;
  const double = await new ProwlerApiDouble({
    apiKeys: [HARNESS_API_KEY], connectionRule: options.connectionRule, ...(cloud ? { cloud, now: clock.now } : {}),
  }).start();
  const organizationsCalls: string[] = [];
  const mock = mockOrganizations(org, undefined, async (operation) => {
    organizationsCalls.push(operation);
    if (options.organizationsLatencyMs) await clock.sleep(options.organizationsLatencyMs);
  });
  const logs: string[] = [];
  const record = (m: string, e?: object) => logs.push(`${m} ${JSON.stringify(e ?? {})}`);
  const prowler = new ProwlerClient({ baseUrl: double.url, auth: { apiKey: HARNESS_API_KEY }, clock });
  const h: Harness = {
    org,
    double,
    clock,
    logs,
    organizationsCalls,
    prowler,
    record: emptyRecord(),
    run: async (request = {}, extra = {}) => {
      const report = await onboard({ selection: {}, ...request }, {
        organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
        prowler,
        clock,
        log: { info: record, warn: record },
        record: h.record,
        ...extra,
      });
      if (report.record) h.record = report.record;
      return report;
    },
    stop: async () => {
      mock.restore();
      await double.stop();
      // Every lifecycle test: never a request that deletes an organization or a node with all under it.
      const cascades = cascadeRequests(double);
      if (cascades.length > 0) throw new Error(`sent a request that deletes every provider under it: ${cascades.join(', ')}`);
    },
  };
  return h;
}

/** The ACTIVE accounts of a simulated organization. */
export const activeAccounts = (org: SimOrganization) => org.accounts.filter((a) => a.status === 'ACTIVE');
