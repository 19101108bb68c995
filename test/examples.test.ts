import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { withoutHeader } from '../scripts/cdktn-flavour';
import { core } from '../src';
import { ProwlerOrganizationOnboarding, ProwlerOrganizationRoles } from '../src/cdk';

const ROOT = join(__dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced block of a language that follows a heading. */
function block(heading: string, language: string): string {
  const section = readme.slice(readme.indexOf(`## ${heading}`));
  const match = section.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'));
  if (!match) throw new Error(`no ${language} block under '${heading}'`);
  return match[1];
}

describe('README and examples/', () => {
  test('the README opens with exactly two commands: the demo and every test', () => {
    const first = readme.match(/^```sh\n([\s\S]*?)```/)![1].trim().split('\n');
    expect(first).toHaveLength(2);
    expect(first[0]).toMatch(/^npm install --no-audit --no-fund && npx projen demo\s/);
    expect(first[1]).toMatch(/^npm install --no-audit --no-fund && npx projen build\s/);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toContain('npm install --no-audit --no-fund && npx projen build');
  });

  test('the CDK quick start is exactly examples/cdk/app.ts', () => {
    expect(block('CDK quick start', 'ts')).toBe(readFileSync(join(ROOT, 'examples', 'cdk', 'app.ts'), 'utf8'));
  });

  test('examples/cdk/app.ts synthesizes the management role, the member StackSet and the onboarding', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'example-'));
    const before = process.env.CDK_OUTDIR;
    process.env.CDK_OUTDIR = outdir;
    try {
      // The example runs as a script (app.synth() at import): require it, isolated from other tests.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require('../examples/cdk/app'));
      const template = JSON.parse(readFileSync(join(outdir, 'ProwlerOrganization.template.json'), 'utf8'));
      const types = Object.values<any>(template.Resources).map((r) => r.Type).sort();
      expect(types).toEqual(expect.arrayContaining(['AWS::CloudFormation::StackSet', 'AWS::IAM::Role', 'Custom::ProwlerOrganizationOnboarding', 'AWS::Events::Rule']));
      expect(Object.values<any>(template.Resources).filter((r) => r.Properties?.RoleName === 'ProwlerScan')).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.CDK_OUTDIR; // assigning undefined would set the string 'undefined'
      else process.env.CDK_OUTDIR = before;
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('the error shown in the README is the one synth gives', () => {
    const shown = readme.slice(readme.indexOf('## Configuration')).match(/```\n(ProwlerOrganizationRoles at[\s\S]*?)\n```/)![1];
    const stack = new Stack(new App(), 'ProwlerOrganization');
    expect(() => new ProwlerOrganizationRoles(stack, 'Prowler', {
      externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f',
      organizationId: 'O-ABC123DEF4',
      targets: ['Production'],
    })).toThrow(shown);
  });

  test('the GitOps section shows exactly examples/gitops: the spec file and the workflow', () => {
    const section = readme.slice(readme.indexOf('## GitOps'), readme.indexOf('## Onboarding: what happens'));
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toEqual([
      readFileSync(join(ROOT, 'examples', 'gitops', 'prowler-onboarding.yaml'), 'utf8'),
      readFileSync(join(ROOT, 'examples', 'gitops', 'prowler-onboarding.workflow.yml'), 'utf8'),
    ]);
  });

  test('the example spec file is valid, and drives a construct with the same spec', () => {
    const values = core.SpecFile.load(join(ROOT, 'examples', 'gitops', 'prowler-onboarding.yaml'));
    expect(values).toEqual({
      selection: { targets: ['r-ab12'], excludeOus: ['ou-ab12-sandbox01'], excludeTags: [{ key: 'prowler-scan', value: 'false' }], aliases: { 222222222222: 'Payments production' } },
      organizationId: 'o-abc123def4',
      scanMode: 'daily',
      connection: { failurePolicy: 'skip', retryRounds: 3 },
      removal: 'retain',
      prowlerApiUrl: 'https://api.prowler.com/api/v1',
    });
    const stack = new Stack(new App(), 'FromFile', { env: { account: '111111111111', region: 'us-east-1' } });
    new ProwlerOrganizationOnboarding(stack, 'Onboarding', { ...values, apiKeySecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Key', 'prowler/api-key') });
    const resource = Object.values(Template.fromStack(stack).findResources('Custom::ProwlerOrganizationOnboarding'))[0];
    expect(JSON.parse(resource.Properties.Spec)).toMatchObject({ selection: values.selection, organizationId: 'o-abc123def4', scanMode: 'daily', removal: 'retain' });
  });

  test('a bad spec file fails the construct\'s synth with every problem', () => {
    const bad = join(tmpdir(), `bad-spec-${process.pid}.yaml`);
    writeFileSync(bad, 'selection:\n  targets: [Production]\nscanMode: weekly\n');
    expect(() => core.SpecFile.load(bad)).toThrow(/bad-spec-\d+\.yaml: 2 problems:\n {2}- selection.targets\[0\]: Must be an OU id/);
  });

  test('the CDK Terrain quick start is exactly examples/cdktn/main.ts (rendered from the CDKTF one; test:cdktn synthesizes and validates it)', () => {
    expect(block('CDK Terrain (cdktn) quick start', 'ts')).toBe(withoutHeader(readFileSync(join(ROOT, 'examples', 'cdktn', 'main.ts'), 'utf8')));
    expect(block('CDK Terrain (cdktn) quick start', 'sh')).toMatch(/^npm install prowler-org-onboarding cdktn@0\.24 @cdktn\/provider-aws@25 constructs@10\.7\n$/);
  });

  test('the CDKTF quick start is exactly examples/cdktf/main.ts, and it synthesizes', () => {
    expect(block('CDKTF (Terraform) quick start', 'ts')).toBe(readFileSync(join(ROOT, 'examples', 'cdktf', 'main.ts'), 'utf8'));
    const outdir = mkdtempSync(join(tmpdir(), 'cdktf-example-'));
    const before = process.env.CDKTF_OUTDIR;
    process.env.CDKTF_OUTDIR = outdir;
    try {
      // The example runs as a script (app.synth() at import): require it, isolated from other tests.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      jest.isolateModules(() => require('../examples/cdktf/main'));
      const config = JSON.parse(readFileSync(join(outdir, 'stacks', 'prowler-organization', 'cdk.tf.json'), 'utf8'));
      expect(Object.keys(config.resource)).toEqual(expect.arrayContaining([
        'aws_iam_role', 'aws_cloudformation_stack_set', 'aws_cloudformation_stack_instances', 'aws_lambda_function', 'aws_lambda_invocation',
      ]));
    } finally {
      if (before === undefined) delete process.env.CDKTF_OUTDIR;
      else process.env.CDKTF_OUTDIR = before;
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

