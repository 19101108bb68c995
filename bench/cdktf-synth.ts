// The CDKTF example's synth cost (what `cdktf synth` runs: the app, transpiled, in a fresh Node):
// wall time and peak RSS of a child process. Target: under 3 s and 300 MB.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const runs = Number(process.env.RUNS ?? 3);
const results: Array<{ ms: number; rssMb: number }> = [];
for (let i = 0; i < runs; i++) {
  const outdir = mkdtempSync(join(tmpdir(), 'cdktf-synth-'));
  const script = [
    "require('ts-node').register({ transpileOnly: true, project: 'test/tsconfig.json' });",
    "require('./scripts/self-reference');",
    'const t = Date.now();',
    "require('./examples/cdktf/main');",
    'process.stdout.write(JSON.stringify({ ms: Date.now() - t, rss: process.resourceUsage().maxRSS }));',
  ].join('\n');
  const started = Date.now();
  const child = spawnSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, CDKTF_OUTDIR: outdir }, encoding: 'utf8' });
  const wall = Date.now() - started;
  if (child.status !== 0) throw new Error(child.stderr);
  const measured = JSON.parse(child.stdout.trim().split('\n').pop()!);
  const stacks = readdirSync(join(outdir, 'stacks'));
  results.push({ ms: wall, rssMb: measured.rss / 1024 });
  console.log(`run ${i + 1}: ${wall} ms in all (${measured.ms} ms to construct and synthesize), peak RSS ${(measured.rss / 1024).toFixed(0)} MB, stacks: ${stacks.join(', ')}`);
  rmSync(outdir, { recursive: true, force: true });
}
const best = results.reduce((a, b) => (a.ms < b.ms ? a : b));
console.log(`cdktf synth of examples/cdktf/main.ts: best ${best.ms} ms, peak RSS ${Math.max(...results.map((r) => r.rssMb)).toFixed(0)} MB (target: under 3,000 ms and 300 MB)`);
