// The synth cost of the Terraform flavours' quick starts on the compiled package, as a user's app
// loads it (lib/, after `npx projen compile`; plain node, so the figures are the package's and not
// a TypeScript compiler's), against the baseline the issue set: an empty stack with the AWS
// provider, in the same framework. Target: at most 1.5× that baseline. What a user's `cdktf synth`
// / `cdktn synth` costs with ts-node type-checking is measured by `npx projen test:install`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** Median wall time and peak RSS of `node <file>` over RUNS runs, each in a fresh output folder. */
function measure(file: string): { ms: number; mb: number } {
  const runs = Array.from({ length: RUNS }, () => {
    const outdir = mkdtempSync(join(work, 'out-'));
    const started = process.hrtime.bigint();
    const child = spawnSync('/usr/bin/time', ['-f', 'RSS %M', process.execPath, file], {
      cwd: work, encoding: 'utf8', env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), CDKTF_OUTDIR: outdir },
    });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (child.status !== 0) throw new Error(`${file}: ${child.stderr}`);
    rmSync(outdir, { recursive: true, force: true });
    return { ms, mb: Number(child.stderr.match(/RSS (\d+)/)![1]) / 1024 };
  }).sort((a, b) => a.ms - b.ms);
  return runs[Math.floor(runs.length / 2)];
}

try {
  for (const flavour of ['cdktf', 'cdktn'] as const) {
    const empty = measure(emptyStack(flavour));
    const example = measure(compiledExample(flavour));
    const ratio = example.ms / empty.ms;
    console.log(`${flavour}: examples/${flavour}/main.ts ${example.ms.toFixed(0)} ms, ${example.mb.toFixed(0)} MB; `
      + `an empty stack with the AWS provider ${empty.ms.toFixed(0)} ms, ${empty.mb.toFixed(0)} MB: ${ratio.toFixed(2)}× `
      + `(target ≤ ${TARGET}×: ${ratio <= TARGET ? 'met' : 'MISSED'}; median of ${RUNS})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
