import { App, Stack, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ProwlerOrganization, ProwlerOrganizationRoles } from '../../src/cdk';
import { SCAN_MANAGED_POLICY_ARNS } from '../../src/core/defaults';
import { organizationsPolicy, SCAN_POLICY, SCAN_READ_ONLY_ACTIONS } from '../../src/core/policy';

const ORGANIZATION_ID = 'o-abc123def4';
/** cdk-nag writes the partition token as <AWS::Partition>. */
const nagArn = (arn: string) => arn.replace('${Partition}', '<AWS::Partition>').replace('${OrganizationId}', ORGANIZATION_ID);

/** Every finding the management role is expected to have, with the reason it is acknowledged. */
function expectedFindings(): Array<{ id: string; reason: string }> {
  const managed = SCAN_MANAGED_POLICY_ARNS.map((arn) => ({
    id: `AwsSolutions::AwsSolutions-IAM4[Policy::${nagArn(arn)}]`,
    reason: 'SecurityAudit and ViewOnlyAccess are the read-only baseline Prowler documents; AWS keeps them current as services are added, which a customer-managed copy would not.',
  }));
  const wildcardActions = SCAN_READ_ONLY_ACTIONS.filter((a) => a.includes('*')).map((a) => ({
    id: `AwsSolutions::AwsSolutions-IAM5[Action::${a}]`,
    reason: "Prowler's own read-only additions; test/core/policy.test.ts expands every wildcard against IAM's service authorization data and fails on any action that is not List/Read and not acknowledged there.",
  }));
  const anyResource = {
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'A security scanner reads every resource of the account; the actions on * are read-only, and DescribeOrganization, ListAccounts and ListRoots accept no resource ARN in IAM.',
  };
  const apiGateway = SCAN_POLICY.statements.find((s) => s.Sid === 'AllowAPIGatewayReadOnly')!.Resource.map((r) => ({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(r)}]`,
    reason: 'apigateway:GET on every REST/HTTP API and domain name of the account: read-only, as in Prowler\'s template.',
  }));
  const organizations = organizationsPolicy({ scopeToOrganization: true, stackSetManagement: false })
    .statements.find((s) => s.Sid === 'AllowOrganizationsReadOnly')!.Resource.map((r) => ({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(r)}]`,
    reason: 'Organizations discovery reads every account, OU and root of this one organization: already scoped to its id.',
  }));
  return [...managed, ...wildcardActions, anyResource, ...apiGateway, ...organizations];
}

describe('cdk-nag (AwsSolutions)', () => {
  test('the organization roles pass, with a written reason for each acknowledged finding', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag', { env: { account: '111111111111', region: 'eu-west-1' } });
    const roles = new ProwlerOrganizationRoles(stack, 'Prowler', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', organizationId: ORGANIZATION_ID, targets: ['r-ab12'] });
    const findings = expectedFindings();
    expect(findings).toHaveLength(31); // backup:List* is spelled out: one wildcard finding fewer
    for (const finding of findings) Validations.of(roles.managementRole!).acknowledge(finding);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  test('an unacknowledged finding still fails (the check is live)', () => {
    const app = new App();
    const stack = new Stack(app, 'Nag', { env: { account: '111111111111', region: 'eu-west-1' } });
    new ProwlerOrganizationRoles(stack, 'Prowler', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', targets: ['r-ab12'] });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM4/);
  });
});

/**
 * The whole ProwlerOrganization (roles, StackSet, onboarding with CDK's Provider framework):
 * every finding is acknowledged with the reason of its category; a finding no category covers
 * fails the test.
 */
const ONBOARDING_REASONS: Array<[RegExp, string]> = [
  [/IAM4\[Policy::.*\/(SecurityAudit|job-function\/ViewOnlyAccess)\]/, 'The scan role\'s read-only baseline that Prowler documents; AWS keeps it current.'],
  [/IAM4\[Policy::.*\/AWSLambdaBasicExecutionRole\]/, 'The CDK Provider framework\'s and S3 auto-delete functions use AWS\'s logs-only basic execution policy, as aws-cdk-lib builds them.'],
  [new RegExp(`IAM5\\[Action::(${SCAN_READ_ONLY_ACTIONS.filter((a) => a.includes('*')).map((a) => a.replace(/[.*]/g, (c) => `\\${c}`)).join('|')})\\]`),
    'Prowler\'s read-only additions; test/core/policy.test.ts checks every wildcard against IAM\'s data.'],
  [/IAM5\[Resource::arn:<AWS::Partition>:s3:::<[A-Za-z0-9]*State[A-Za-z0-9]*>\/\*\]/, 'Objects of the onboarding\'s own state bucket (run state under runs/, reports under reports/).'],
  [/IAM5\[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<[A-Za-z0-9]*Logs[A-Za-z0-9]*>:\*\]/, 'The log streams of the onboarding functions\' own log groups.'],
  [/IAM5\[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stackset\/[A-Za-z0-9-]+:\*\]/, 'ListStackInstances on the member StackSet only; :* is the random id CloudFormation appends to its name.'],
  [/IAM5\[Resource::\*\]/, 'Organizations discovery actions accept only * in IAM; the scan role reads every resource of its account.'],
  [/IAM5\[Resource::<.*\.Arn>:\*\]/, 'The Provider framework invokes the handler functions by ARN and version (…:*), as aws-cdk-lib grants it.'],
  [/IAM5\[Resource::arn:<AWS::Partition>:apigateway:/, 'apigateway:GET on the account\'s APIs and domain names: read-only, as in Prowler\'s template.'],
  [/IAM5\[Resource::arn:<AWS::Partition>:organizations::\*:(account|ou|root)\/o-/, 'Organizations discovery, already scoped to this organization.'],
  [/AwsSolutions-S1$/, 'The state bucket holds only this construct\'s run state (expiring after 7 days) and latest report; an access-log bucket would add a bucket to protect for no audit value.'],
  [/AwsSolutions-L1$/, 'The onboarding functions run nodejs22.x, the runtime this package targets; the Provider framework\'s and auto-delete functions\' runtimes are aws-cdk-lib\'s.'],
  [/AwsSolutions-SF[12]$/, 'The Provider framework\'s waiter state machine is aws-cdk-lib\'s; its executions are 30-second polls whose outcome the functions log as JSON.'],
];

function organizationApp() {
  const app = new App();
  const stack = new Stack(app, 'Nag', { env: { account: '111111111111', region: 'us-east-1' } });
  new ProwlerOrganization(stack, 'Prowler', {
    externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f',
    organizationId: ORGANIZATION_ID,
    targets: ['r-ab12'],
    apiKeySecret: secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'prowler/api-key'),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

describe('cdk-nag (AwsSolutions) on ProwlerOrganization', () => {
  test('every finding has a written reason, and with them acknowledged the app passes', () => {
    const first = organizationApp();
    let report = '';
    try {
      first.app.synth();
    } catch (error) {
      report = (error as Error).message;
    }
    const findings = [...new Set([...report.matchAll(/Acknowledge with '([^']+)'/g)].map((m) => m[1]))];
    expect(findings.length).toBeGreaterThan(32);
    const unexplained = findings.filter((id) => !ONBOARDING_REASONS.some(([pattern]) => pattern.test(id)));
    expect(unexplained).toEqual([]);

    const second = organizationApp();
    for (const id of findings) {
      Validations.of(second.stack).acknowledge({ id, reason: ONBOARDING_REASONS.find(([pattern]) => pattern.test(id))![1] });
    }
    expect(() => second.app.synth()).not.toThrow();
  });
});
