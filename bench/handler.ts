// The onboarding Lambda as it ships (lib/handler-bundle, after `npx projen bundle:handler`): its
// size, and how long `node` takes to load it, against the baselines the issue set: an empty `node`
// (target: at most 2×) and a bundle of just the Organizations and STS clients, built with the same
// esbuild options. Size target: at most 600 KB minified. Load is the median of RUNS, the three
// programs interleaved so that a busy machine slows them alike.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(__dirname, '..');
const RUNS = Number(process.env.RUNS ?? 21);
const SIZE_TARGET_KB = 600;
const LOAD_TARGET = 2;
const bundle = join(ROOT, 'lib', 'handler-bundle', 'index.js');
const archive = join(ROOT, 'lib', 'handler-bundle.zip');
if (!existsSync(bundle)) throw new Error('lib/handler-bundle is missing: run `npx projen bundle:handler` first');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { COMMON } = require('../build-tools/bundle.js') as { COMMON: Record<string, unknown> };

// Decimal kilobytes, the stricter reading of the target.
const kb = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB`;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'handler-bench-'));
  try {
    const baseline = join(work, 'organizations-sts.js');
    const { metafile } = await build({
      ...COMMON,
      stdin: {
        contents: "export { OrganizationsClient } from '@aws-sdk/client-organizations';\nexport { STSClient } from '@aws-sdk/client-sts';\n",
        resolveDir: ROOT,
        loader: 'ts',
      },
      outfile: baseline,
      target: 'node22',
      absWorkingDir: ROOT,
    });
    if (!metafile) throw new Error('esbuild gave no metafile');
    const empty = join(work, 'empty.js');
    writeFileSync(empty, '');

    const programs = { empty, baseline, bundle };
    const times: Record<keyof typeof programs, number[]> = { empty: [], baseline: [], bundle: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const [name, file] of Object.entries(programs) as Array<[keyof typeof programs, string]>) {
        const started = process.hrtime.bigint();
        const child = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
        times[name].push(Number(process.hrtime.bigint() - started) / 1e6);
        if (child.status !== 0) throw new Error(`${file}: ${child.stderr}`);
      }
    }
    const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
    const [emptyMs, baselineMs, bundleMs] = [median(times.empty), median(times.baseline), median(times.bundle)];

    const size = statSync(bundle).size;
    const zipped = readFileSync(archive).length;
    const baselineSize = statSync(baseline).size;
    console.log(`handler bundle: ${kb(size)} minified (${size.toLocaleString('en')} bytes), ${kb(zipped)} zipped (target ≤ ${SIZE_TARGET_KB} KB: ${size <= SIZE_TARGET_KB * 1000 ? 'met' : 'missed'}); `
      + `${(size / baselineSize).toFixed(2)}× the Organizations + STS clients alone (${kb(baselineSize)})`);
    console.log(`load (median of ${RUNS}): ${bundleMs.toFixed(0)} ms; an empty node ${emptyMs.toFixed(0)} ms: ${(bundleMs / emptyMs).toFixed(2)}× `
      + `(target ≤ ${LOAD_TARGET}×: ${bundleMs / emptyMs <= LOAD_TARGET ? 'met' : 'missed'}); the Organizations + STS clients alone ${baselineMs.toFixed(0)} ms (${(baselineMs / emptyMs).toFixed(2)}×)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
