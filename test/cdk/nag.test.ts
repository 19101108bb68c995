import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ProwlerOrganizationRoles } from '../../src/cdk';
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
    expect(findings).toHaveLength(32);
    for (const finding of findings) Validations.of(roles.managementRole).acknowledge(finding);
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
