// The main job, offline: (1) synthesizes examples/cdk/app.ts and prints what it deploys, and
// where; (2) onboards a simulated organization against the Prowler API double.
import './self-reference';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onboardingDemo } from './demo-onboarding';
import { MAX_TEMPLATE_BODY_BYTES } from '../src/core/defaults';
import { quickCreateLink } from '../src/core/quick-create';

const outdir = mkdtempSync(join(tmpdir(), 'prowler-demo-'));
process.env.CDK_OUTDIR = outdir;
const started = Date.now();
// The example is a CDK app script: importing it synthesizes it (into CDK_OUTDIR).
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../examples/cdk/app');
const elapsed = Date.now() - started;

type Json = any;
const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8'));

/** A string the way CloudFormation will see it: partition pseudo-parameter shown as `aws`. */
function text(value: Json): string {
  if (typeof value === 'string') return value;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(text).join(value['Fn::Join'][0]);
  if (value?.Ref === 'AWS::Partition') return 'aws';
  if (value?.Ref) return `<${value.Ref}>`;
  return JSON.stringify(value);
}
const list = (v: Json) => [v].flat();
const actionsOf = (doc: Json) => doc.Statement.flatMap((s: Json) => list(s.Action));

console.log('prowler-org-onboarding: offline demo (no AWS account, no network)\n');
console.log(`1. What the CDK quick start deploys (examples/cdk/app.ts, synthesized in ${elapsed} ms)\n`);

for (const file of templates) {
  const stackName = file.replace('.template.json', '');
  const env = manifest.artifacts[stackName]?.environment ?? 'aws://unknown/unknown';
  const template = JSON.parse(readFileSync(join(outdir, file), 'utf8'));
  const resources = Object.values<Json>(template.Resources);
  console.log(`Stack ${stackName} → ${env.replace('aws://', 'account/region ')}`);

  for (const role of resources.filter((r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === 'ProwlerScan')) {
    const p = role.Properties;
    const trust = p.AssumeRolePolicyDocument.Statement[0];
    console.log(`\n  In this account (management): IAM role ${p.RoleName}`);
    console.log(`    trusted:   ${text(trust.Principal.AWS)}`);
    console.log(`               when aws:PrincipalArn like ${text(trust.Condition.StringLike['aws:PrincipalArn'])}`);
    console.log(`               and sts:ExternalId = ${text(trust.Condition.StringEquals['sts:ExternalId'])}`);
    console.log(`    managed:   ${p.ManagedPolicyArns.map((a: Json) => text(a).split('/').pop()).join(', ')}`);
    for (const policy of p.Policies) {
      const actions = actionsOf(policy.PolicyDocument);
      const scoped = policy.PolicyDocument.Statement.filter((s: Json) => list(s.Resource).some((r: Json) => text(r) !== '*'));
      console.log(`    inline:    ${policy.PolicyName}: ${actions.length} actions${scoped.length ? `, ${scoped.flatMap((s: Json) => list(s.Action)).length} of them on scoped resources` : ''}`);
    }
  }

  for (const set of resources.filter((r) => r.Type === 'AWS::CloudFormation::StackSet')) {
    const p = set.Properties;
    const group = p.StackInstancesGroup[0];
    const member = JSON.parse(p.TemplateBody);
    const memberRole = member.Resources.ProwlerScan.Properties;
    const memberActions = memberRole.Policies.filter((x: Json) => !x['Fn::If']).flatMap((x: Json) => actionsOf(x.PolicyDocument));
    const bytes = Buffer.byteLength(p.TemplateBody);
    console.log(`\n  In every member account below ${group.DeploymentTargets.OrganizationalUnitIds.join(', ')}: StackSet (${p.PermissionModel}, CallAs ${p.CallAs})`);
    console.log(`    regions:   ${group.Regions.map(text).join(', ')} (IAM is global: one is enough)`);
    console.log(`    accounts:  ${group.DeploymentTargets.AccountFilterType ? `${group.DeploymentTargets.AccountFilterType} ${group.DeploymentTargets.Accounts.join(', ')}` : 'all, and new ones as they join (auto-deployment)'}`);
    console.log(`    role:      ProwlerScan with ${memberActions.length} scan actions, ${memberActions.filter((a: string) => a.startsWith('organizations:')).length} Organizations actions`);
    console.log(`    options:   failure tolerance ${p.OperationPreferences.FailureTolerancePercentage}%, retain on removal ${p.AutoDeployment.RetainStacksOnAccountRemoval}, managed execution ${p.ManagedExecution.Active}`);
    console.log(`    template:  ${(bytes / 1024).toFixed(1)} KiB inline (limit ${MAX_TEMPLATE_BODY_BYTES / 1024} KiB)`);
  }
  for (const onboarding of resources.filter((r) => r.Type === 'Custom::ProwlerOrganizationOnboarding')) {
    const spec = JSON.parse(typeof onboarding.Properties.Spec === 'string' ? onboarding.Properties.Spec : '{}');
    const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description ?? '').startsWith('prowler-org-onboarding'));
    const rules = resources.filter((r) => r.Type === 'AWS::Events::Rule');
    console.log('\n  In this account: the onboarding (custom resource, run on every deploy)');
    console.log(`    functions: ${functions.map((f) => `${f.Properties.Handler} (${f.Properties.Runtime}, ${f.Properties.Architectures.join()}, ${f.Properties.Timeout} s)`).join(', ')}`);
    console.log(`    spec:      ${JSON.stringify(spec)}`);
    console.log(`    sync:      ${rules.map((r) => r.Properties.ScheduleExpression ?? 'on Organizations events').join(', ')}`);
  }
  console.log('');
}

console.log('Without CDK: templates/prowler-scan-role.yaml is a drop-in for Prowler\'s template. Host it, then open:');
console.log(`  ${quickCreateLink({
  region: 'us-east-1',
  templateUrl: 'https://YOUR-BUCKET.s3.amazonaws.com/prowler-scan-role.yaml',
  stackName: 'Prowler',
  parameters: { ExternalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', EnableOrganizations: 'true', DeployStackSet: 'true', AWSOrganizationalUnitId: 'r-ab12' },
})}`);
rmSync(outdir, { recursive: true, force: true });

// Prowler Cloud (the default prowlerApiUrl), then the same organization on a self-hosted Prowler App.
(async () => (await onboardingDemo('cloud', 2)) && onboardingDemo('app', 3))().then((ok) => process.exit(ok ? 0 : 1), (error) => {
  console.error(error);
  process.exit(1);
});
