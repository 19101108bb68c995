import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  ProwlerOrganization, ProwlerOrganizationEventForwarder, ProwlerOrganizationOnboarding, ProwlerOrganizationRoles, ProwlerScanRole,
} from '../../src/cdk';
import { candidateFindings, flattenCfnReference, NAG_ACKNOWLEDGEMENTS, nagReason } from '../../src/cdk/nag';
import { RemovalBehaviour } from '../../src/core';
import { SCAN_MANAGED_POLICY_ARNS } from '../../src/core/defaults';
import { SCAN_READ_ONLY_ACTIONS } from '../../src/core/policy';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const ORGANIZATION_ID = 'o-abc123def4';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';

interface Violation {
  ruleName: string;
  reason?: string;
  violatingConstructs: Array<{ constructPath: string }>;
}
interface Report { pluginReports: Array<{ pluginName: string; conclusion: string; violations: Violation[]; suppressedViolations?: Violation[] }> }

/**
 * Synthesizes a user's app with cdk-nag's AwsSolutions checks registered the way cdk-nag 3
 * documents it, and returns aws-cdk-lib's validation report (written whether or not it fails).
 */
function nag(build: (stack: Stack) => void, region = 'us-east-1'): { report: Report; error?: Error } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-'));
  const app = new App({ outdir });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  build(new Stack(app, 'ProwlerOrganization', { env: { account: '111111111111', region } }));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { report, error };
}
const violations = (r: Report) => r.pluginReports.flatMap((p) => p.violations);
const suppressed = (r: Report) => r.pluginReports.flatMap((p) => p.suppressedViolations ?? []);

/** The README's quick start, as a user writes it (examples/cdk/app.ts). */
function quickStart(stack: Stack) {
  new ProwlerOrganization(stack, 'Prowler', {
    externalId: EXTERNAL_ID,
    organizationId: ORGANIZATION_ID,
    targets: ['r-ab12'],
    apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ProwlerApiKey', API_KEY_ARN),
  });
}

describe('cdk-nag (AwsSolutions) on a user\'s app', () => {
  test('the README quick start passes with no acknowledgement of the user\'s: every finding is acknowledged by the constructs, with its reason', () => {
    const { report, error } = nag(quickStart);
    expect(error).toBeUndefined();
    expect(violations(report)).toEqual([]);
    const acknowledged = suppressed(report);
    // 54 findings on the quick start with cdk-nag 3.0.2 and aws-cdk-lib 2.276 (what the issue counted as 56 with the former).
    expect(acknowledged.length).toBeGreaterThan(50);
    for (const v of acknowledged) {
      expect(v.reason).toBe(nagReason(v.ruleName));
      for (const c of v.violatingConstructs) expect(c.constructPath).toMatch(/^ProwlerOrganization\/Prowler\//);
    }
  });

  test.each([
    ['the roles alone, without organization scoping', (stack: Stack) => {
      new ProwlerOrganizationRoles(stack, 'Prowler', { externalId: EXTERNAL_ID, targets: ['r-ab12'] });
    }],
    ['a single scan role', (stack: Stack) => {
      new ProwlerScanRole(stack, 'Prowler', { externalId: EXTERNAL_ID, organizationDiscovery: true });
    }],
    ['removal destroy (the auto-delete provider) and functions in a VPC', (stack: Stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      Validations.of(vpc).acknowledge({ id: 'AwsSolutions::AwsSolutions-VPC7', reason: 'The test\'s own VPC, not the package\'s.' });
      new ProwlerOrganizationOnboarding(stack, 'Prowler', {
        apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ProwlerApiKey', API_KEY_ARN),
        removal: RemovalBehaviour.DESTROY,
        vpc,
      });
    }],
    ['the event forwarder of a delegated administrator', (stack: Stack) => {
      new ProwlerOrganizationEventForwarder(stack, 'Prowler', { delegatedAdministratorAccountId: '222222222222', onboardingRegion: 'eu-west-1' });
    }],
  ])('%s: passes', (_name, build) => {
    const { report, error } = nag(build);
    expect(violations(report)).toEqual([]);
    expect(error).toBeUndefined();
  });

  test('a finding on the user\'s own resource still fails the synth (only the constructs\' own resources are acknowledged)', () => {
    const { report, error } = nag((stack) => {
      quickStart(stack);
      const own = new Construct(stack, 'Mine');
      new iam.Role(own, 'Admin', { assumedBy: new iam.AccountRootPrincipal(), inlinePolicies: { all: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })] }) } });
    });
    expect(error?.message).toMatch(/AwsSolutions-IAM5\[Action::s3:\*\]/);
    expect(violations(report).map((v) => [v.ruleName, v.violatingConstructs.map((c) => c.constructPath)]).sort()).toEqual([
      ['AwsSolutions-IAM5[Action::s3:*]', ['ProwlerOrganization/Mine/Admin/Resource']],
      ['AwsSolutions-IAM5[Resource::*]', ['ProwlerOrganization/Mine/Admin/Resource']],
    ]);
  });

  test('a function role the user passes in keeps its findings: the grants on it are the user\'s to acknowledge', () => {
    const { report } = nag((stack) => {
      const functionRole = new iam.Role(stack, 'MyRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      new ProwlerOrganizationOnboarding(stack, 'Prowler', {
        externalId: EXTERNAL_ID,
        organizationId: ORGANIZATION_ID,
        apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ProwlerApiKey', API_KEY_ARN),
        functionRole,
      });
    });
    const paths = violations(report).flatMap((v) => v.violatingConstructs.map((c) => c.constructPath));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.every((p) => p.startsWith('ProwlerOrganization/MyRole/'))).toBe(true);
  });

  test('every acknowledged category is one the constructs need (no reason is dead)', () => {
    const used = new Set<string>();
    for (const build of [quickStart, (stack: Stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
      Validations.of(vpc).acknowledge({ id: 'AwsSolutions::AwsSolutions-VPC7', reason: 'The test\'s own VPC.' });
      new ProwlerOrganizationOnboarding(stack, 'Prowler', {
        externalId: EXTERNAL_ID,
        organizationId: ORGANIZATION_ID,
        apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ProwlerApiKey', API_KEY_ARN),
        vpc,
      });
    }]) {
      for (const v of suppressed(nag(build).report)) used.add(nagReason(v.ruleName) ?? `not ours: ${v.ruleName}`);
    }
    expect(NAG_ACKNOWLEDGEMENTS.filter((a) => !used.has(a.reason)).map((a) => a.finding.source)).toEqual([]);
    expect([...used].filter((r) => r.startsWith('not ours'))).toEqual(['not ours: AwsSolutions-VPC7']);
  });
});

describe('the finding ids the constructs compute match cdk-nag\'s', () => {
  test('CloudFormation references are flattened as cdk-nag flattens them', () => {
    expect(flattenCfnReference('arn:${AWS::Partition}:s3:::b/*')).toBe('arn:<AWS::Partition>:s3:::b/*');
    expect(flattenCfnReference({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'Bucket' }, '/*']] }))
      .toBe('arn:<AWS::Partition>:s3:::<Bucket>/*');
    expect(flattenCfnReference({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Fn', 'Arn'] }, ':*']] })).toBe('<Fn.Arn>:*');
    expect(flattenCfnReference({ 'Fn::Sub': 'arn:${AWS::Partition}:x' })).toBe('arn:<AWS::Partition>:x');
    expect(flattenCfnReference({ 'Fn::ImportValue': 'Exported' })).toBe('Exported');
    expect(flattenCfnReference({ 'Fn::If': ['c', 'a', 'b'] })).toBe('{"Fn::If":["c","a","b"]}');
    expect(flattenCfnReference(undefined)).toBe('');
  });

  test('the scan role\'s managed policies and wildcard actions are each a category with a reason', () => {
    const findings = candidateFindings('AWS::IAM::Role', {
      ManagedPolicyArns: SCAN_MANAGED_POLICY_ARNS.map((arn) => ({ 'Fn::Sub': arn.replace('${Partition}', '${AWS::Partition}') })),
      Policies: [{ PolicyDocument: { Statement: [{ Effect: 'Allow', Action: SCAN_READ_ONLY_ACTIONS, Resource: '*' }, { Effect: 'Deny', Action: 'x:*', Resource: '*' }] } }],
    });
    expect(findings.filter((f) => nagReason(f) === undefined)).toEqual([]);
    expect(findings).not.toContain('AwsSolutions-IAM5[Action::x:*]');
    // An action or a resource this package does not grant is not acknowledged.
    expect(nagReason('AwsSolutions-IAM5[Action::s3:*]')).toBeUndefined();
    expect(nagReason('AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::*]')).toBeUndefined();
    expect(nagReason('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AdministratorAccess]')).toBeUndefined();
    expect(candidateFindings('AWS::SNS::Topic', {})).toEqual([]);
  });
});
