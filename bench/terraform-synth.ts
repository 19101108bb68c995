// The synth cost of the Terraform flavours' quick starts on the compiled package, as a user's app
// loads it (lib/, after `npx projen compile`; plain node, so the figures are the package's and not
// a TypeScript compiler's), against the baseline the issue set: an empty stack with the AWS
// provider, in the same framework. Target: at most 1.5× that baseline. What a user's `cdktf synth`
// / `cdktn synth` costs with ts-node type-checking is measured by `npx projen test:install`.
// A third figure shows how much of that the framework takes anyway: the same resources and data
// sources as the quick start synthesizes, made through the provider bindings alone (empty
// configurations, no package). The three programs run interleaved, so a busy machine slows them alike.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ts from 'typescript';

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 7);
const TARGET = 1.5;
if (!existsSync(join(ROOT, 'lib', 'cdktf', 'index.js'))) throw new Error('lib/ is missing: run `npx projen compile` first');

const work = mkdtempSync(join(tmpdir(), 'terraform-synth-'));
/** The example as the JavaScript a user's app runs, loading this package from lib/. */
function compiledExample(flavour: 'cdktf' | 'cdktn'): string {
  const source = readFileSync(join(ROOT, 'examples', flavour, 'main.ts'), 'utf8')
    .replace(`'prowler-org-onboarding/${flavour}'`, JSON.stringify(join(ROOT, 'lib', flavour, 'index.js')));
  const file = join(work, `${flavour}-main.js`);
  writeFileSync(file, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);
  return file;
}
function emptyStack(flavour: 'cdktf' | 'cdktn'): string {
  const file = join(work, `${flavour}-empty.js`);
  writeFileSync(file, [
    `const { AwsProvider } = require('@${flavour}/provider-aws/lib/provider');`,
    `const { App, TerraformStack } = require('${flavour}');`,
    'const app = new App();',
    "new AwsProvider(new TerraformStack(app, 'empty'), 'aws', { region: 'us-east-1' });",
    'app.synth();',
  ].join('\n'));
  return file;
}

/**
 * The same resources and data sources as the example's synthesized stack, through the provider
 * bindings alone: what the framework costs for them, whatever builds them.
 */
function sameResources(flavour: 'cdktf' | 'cdktn', example: string): { file: string; count: number } {
  const outdir = mkdtempSync(join(work, 'example-'));
  run(example, outdir);
  const [stack] = readdirSync(join(outdir, 'stacks'));
  const synthesized = JSON.parse(readFileSync(join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
  const made: string[] = [];
  for (const [kind, prefix] of [['resource', ''], ['data', 'data_aws_']] as const) {
    for (const [type, instances] of Object.entries<Record<string, unknown>>(synthesized[kind] ?? {})) {
      const module = `${prefix}${type.replace(/^aws_/, '')}`.replace(/_/g, '-');
      const binding = `Object.values(require('@${flavour}/provider-aws/lib/${module}')).find((v) => typeof v === 'function' && v.tfResourceType)`;
      for (const name of Object.keys(instances)) made.push(`new (${binding})(stack, ${JSON.stringify(`${type}-${name}`)}, {});`);
    }
  }
  const file = join(work, `${flavour}-same-resources.js`);
  writeFileSync(file, [
    `const { AwsProvider } = require('@${flavour}/provider-aws/lib/provider');`,
    `const { App, AssetType, TerraformAsset, TerraformStack } = require('${flavour}');`,
    'const app = new App();',
    "const stack = new TerraformStack(app, 'same');",
    "new AwsProvider(stack, 'aws', { region: 'us-east-1' });",
    `new TerraformAsset(stack, 'bundle', { path: ${JSON.stringify(join(ROOT, 'lib', 'handler-bundle.zip'))}, type: AssetType.FILE });`,
    ...made,
    'app.synth();',
  ].join('\n'));
  rmSync(outdir, { recursive: true, force: true });
  return { file, count: made.length };
}

/** Wall time and peak RSS of one `node <file>`, writing into `outdir`. */
function run(file: string, outdir: string): { ms: number; mb: number } {
  const started = process.hrtime.bigint();
  const child = spawnSync('/usr/bin/time', ['-f', 'RSS %M', process.execPath, file], {
    cwd: work, encoding: 'utf8', env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), CDKTF_OUTDIR: outdir },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`${file}: ${child.stderr}`);
  return { ms, mb: Number(child.stderr.match(/RSS (\d+)/)![1]) / 1024 };
}

/** Median wall time and peak RSS of each `node <file>` over RUNS rounds, the files interleaved, each run in a fresh output folder. */
function measure(files: string[]): Array<{ ms: number; mb: number }> {
  const runs = files.map(() => [] as Array<{ ms: number; mb: number }>);
  for (let round = 0; round < RUNS; round++) {
    files.forEach((file, i) => {
      const outdir = mkdtempSync(join(work, 'out-'));
      runs[i].push(run(file, outdir));
      rmSync(outdir, { recursive: true, force: true });
    });
  }
  return runs.map((list) => list.sort((a, b) => a.ms - b.ms)[Math.floor(list.length / 2)]);
}

try {
  for (const flavour of ['cdktf', 'cdktn'] as const) {
    const exampleFile = compiledExample(flavour);
    const same = sameResources(flavour, exampleFile);
    const [empty, example, bindings] = measure([emptyStack(flavour), exampleFile, same.file]);
    const ratio = example.ms / empty.ms;
    console.log(`${flavour}: examples/${flavour}/main.ts ${example.ms.toFixed(0)} ms, ${example.mb.toFixed(0)} MB; `
      + `an empty stack with the AWS provider ${empty.ms.toFixed(0)} ms, ${empty.mb.toFixed(0)} MB: ${ratio.toFixed(2)}× `
      + `(target ≤ ${TARGET}×: ${ratio <= TARGET ? 'met' : 'MISSED'}; median of ${RUNS}); `
      + `its ${same.count} resources and data sources through the bindings alone ${bindings.ms.toFixed(0)} ms (${(bindings.ms / empty.ms).toFixed(2)}×)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
