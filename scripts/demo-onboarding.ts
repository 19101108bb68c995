// Part 2 of the demo: a simulated organization onboarded against the Prowler API double, with
// the cases the wizard handles: suspended and closed accounts, an account already in Prowler,
// one linked to another organization, a role still deploying (smart retry), a role missing (skip).
import { ConnectionFailurePolicy, ScanMode } from '../src/core/spec';
import { onboard, organizationGroupName } from '../src/handler/engine';
import { ProwlerClient, realClock } from '../src/handler/prowler-api';
import { renderSummary } from '../src/handler/report';
import { generateOrganization, simulatedOrganizationsClient } from '../testing/organization';
import { cloudOrganizationFromSimulation, ProwlerApiDouble } from '../testing/prowler-api-double';

const API_KEY = 'pk_demo.not-a-real-key';

/**
 * `edition`: the double as Prowler Cloud (organizations, its discovery and scheduler: the default
 * target) or as a self-hosted Prowler App (providers in a group).
 */
export async function onboardingDemo(edition: 'cloud' | 'app' = 'cloud', part = 2): Promise<boolean> {
  const org = generateOrganization({ accounts: 60, ous: 14, depth: 4, suspended: 2, pendingClosure: 1, closed: 1, seed: 2026 });
  const active = org.accounts.filter((a) => a.status === 'ACTIVE');
  const [, registered, blocked, deploying, missing] = active;

  const double = await new ProwlerApiDouble({
    apiKeys: [API_KEY],
    ...(edition === 'cloud' ? { cloud: { organization: () => cloudOrganizationFromSimulation(org), discoveryMs: 1_500 } } : {}),
    latencyMs: 2,
    connectionTaskMs: 300,
    connectionRule: (provider, secret, attempt) => {
      if (provider.uid === missing.id) {
        return { connected: false, error: `AWSAssumeRoleError[1012]: An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:sts::232136659152:assumed-role/prowler-worker/prowler is not authorized to perform: sts:AssumeRole on resource: ${String(secret?.secret.role_arn)}` };
      }
      if (provider.uid === deploying.id && attempt < 2) {
        return { connected: false, error: 'AWSAssumeRoleError[1012]: An error occurred (AccessDenied) when calling the AssumeRole operation (the StackSet instance is still being created)' };
      }
      return { connected: true };
    },
  }).start();
  // Already in Prowler, added by hand with its own alias and credentials: linked, nothing lost.
  double.seedProvider(registered.id, { alias: 'Payments (added by hand)', connected: true, secret: { role_arn: `arn:aws:iam::${registered.id}:role/ProwlerScan`, external_id: double.tenantId } });
  // Already onboarded through another organization: blocked, untouched.
  if (edition === 'cloud') {
    const acquired = double.cloud.seedOrganization('o-acquired001');
    double.cloud.linkProvider(double.seedProvider(blocked.id, { alias: 'Acquired company' }).id, acquired.id);
  } else {
    double.seedProvider(blocked.id, { alias: 'Acquired company', groupName: organizationGroupName('o-acquired001') });
  }

  const which = edition === 'cloud' ? 'Prowler Cloud (organizations)' : 'a self-hosted Prowler App';
  console.log(`\n${part}. Onboarding a simulated organization (${org.accounts.length} accounts, ${org.ous.length} OUs, depth 4) against the Prowler API double as ${which}, at ${double.url}\n`);
  const started = Date.now();
  const report = await onboard({
    selection: { excludeTags: [{ key: 'prowler-scan', value: 'false' }] },
    scanMode: ScanMode.DAILY,
    connection: { failurePolicy: ConnectionFailurePolicy.SKIP, retryRounds: 2, retryDelaySeconds: 2 },
  }, {
    organizations: simulatedOrganizationsClient(org, { latencyMs: 5 }).client,
    prowler: new ProwlerClient({ baseUrl: double.url, auth: { apiKey: API_KEY } }),
    clock: realClock,
    log: {
      info: (message) => console.log(`  [${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`),
      warn: (message) => console.log(`  [${((Date.now() - started) / 1000).toFixed(1)} s] warning: ${message}`),
    },
  });
  console.log(`\n${renderSummary(report)}\n`);
  console.log('What happened:');
  console.log(`  - smart retry: ${deploying.id} failed its first test (role still deploying) and connected on the re-test; accounts that connected were not re-tested`);
  console.log(`  - skip policy: ${missing.id} never connected (role missing), so it is reported with a hint and left out of the scans; the others go on`);
  if (edition === 'cloud') {
    const organization = double.cloud.organizations().find((o) => o.externalId === org.id)!;
    console.log(`  - Prowler Cloud's Organizations page shows "${organization.name}" (${organization.externalId}): ${double.cloud.nodes(organization.id).length} OU nodes, `
      + `${double.cloud.providersOf(organization.id).length} accounts under them, one credential (the management account's ProwlerScan role), their schedules`);
    console.log(`  - ${registered.id} was already in Prowler with credentials of its own: left out and reported (replaceCredentials: true gives it the organization's)`);
    console.log(`  - ${blocked.id} is under another Prowler organization: Prowler's verdict is organization_conflict, so it is blocked and left alone`);
  } else {
    console.log(`  - ${registered.id} was already in Prowler: linked, its alias, credentials and history kept`);
    console.log(`  - ${blocked.id} belongs to another organization in Prowler: blocked and left alone`);
  }
  console.log('  - accounts tagged prowler-scan=false, and every account that is not ACTIVE, were not selected');
  await double.stop();
  return report.outcome === 'succeeded';
}
