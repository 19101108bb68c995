/**
 * The Lambda handlers wired to a simulated organization (aws-sdk-client-mock), the Prowler API
 * double, an in-memory state bucket and a clock whose sleeps return at once: what the handler
 * tests share.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import type { LambdaEnvironment } from '../../src/handler/lambda';
import { MemoryJsonStore } from '../../src/handler/store';
import { fakeClock } from '../../testing/harness';
import { generateOrganization, mockOrganizations, type SimOrganization } from '../../testing/organization';
import { cloudOrganizationFromSimulation, ProwlerApiDouble, type CloudModeOptions, type ConnectionRule, type ProwlerApiDoubleOptions } from '../../testing/prowler-api-double';

export type FaultRule = (request: { method: string; path: string; index: number }) => ReturnType<NonNullable<ProwlerApiDoubleOptions['fault']>>;

export interface LambdaSetup {
  org: SimOrganization;
  double: ProwlerApiDouble;
  env: LambdaEnvironment;
  store: MemoryJsonStore;
  logs: string[];
  /** Replaces the double's fault rule (undefined: none). */
  fault(rule?: FaultRule): void;
  /** Answers Organizations operations instead of the simulated organization (undefined: let it answer). */
  intercept(rule?: (operation: string, input: any) => any): void;
  stop(): Promise<void>;
}

/** An organization of 12 accounts (one suspended) in 4 OUs, and the API key `key` in Secrets Manager at `secretArn`. */
export async function lambdaSetup(
  key: string,
  secretArn: string,
  options: { connectionRule?: ConnectionRule; cloud?: boolean | Partial<CloudModeOptions> } = {},
): Promise<LambdaSetup> {
  const org = generateOrganization({ accounts: 12, ous: 4, depth: 2, suspended: 1, seed: 31 });
  let faultRule: FaultRule | undefined;
  const clock = fakeClock();
  // Prowler Cloud (organizations) when asked, on the Lambda's clock; else a self-hosted Prowler App.
  const given = options.cloud === true ? {} : options.cloud;
  const cloud = given ? { organization: () => cloudOrganizationFromSimulation(org), ...given } : undefined;
  const double = await new ProwlerApiDouble({
    apiKeys: [key], connectionRule: options.connectionRule, fault: (r) => faultRule?.(r), ...(cloud ? { cloud, now: clock.now } : {}),
  }).start();
  let organizationsRule: ((operation: string, input: any) => any) | undefined;
  const orgMock = mockOrganizations(org, (operation, input) => organizationsRule?.(operation, input));
  const sm = mockClient(SecretsManagerClient);
  sm.on(GetSecretValueCommand, { SecretId: secretArn }).resolves({ SecretString: key });
  const store = new MemoryJsonStore();
  const logs: string[] = [];
  const log = (m: string, e?: object) => logs.push(`${m} ${JSON.stringify(e ?? {})}`);
  const env: LambdaEnvironment = {
    prowlerApiUrl: double.url,
    apiKeySecretArn: secretArn,
    partition: 'aws',
    store,
    organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
    secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    clock,
    log: { info: log, warn: log },
  };
  return {
    org,
    double,
    env,
    store,
    logs,
    fault: (rule) => { faultRule = rule; },
    intercept: (rule) => { organizationsRule = rule; },
    stop: async () => {
      orgMock.restore();
      sm.restore();
      await double.stop();
    },
  };
}
