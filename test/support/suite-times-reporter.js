'use strict';
// Prints how long each test file took (wall, and CPU: the jest process's and its children's, from
// test/support/suite-cpu.js), slowest first, with the machine's load, and writes them all to
// test-reports/suite-times.json. SUITE_TIMES_TOP sets how many are printed (default 15; 0: all).
const { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { cpus, loadavg, tmpdir } = require('node:os');
const { join, relative } = require('node:path');

class SuiteTimesReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    this.top = Number(process.env.SUITE_TIMES_TOP ?? 15);
    // The workers inherit the variable: they are started after the reporters.
    this.dir = mkdtempSync(join(tmpdir(), 'suite-times-'));
    process.env.SUITE_TIMES_DIR = this.dir;
  }

  onRunStart() {
    this.started = Date.now();
    this.load = loadavg()[0];
  }

  onRunComplete(_contexts, results) {
    const cpu = new Map();
    try {
      for (const line of readFileSync(join(this.dir, 'cpu.jsonl'), 'utf8').split('\n').filter(Boolean)) {
        const { path, project, cpuMs, childCpuMs } = JSON.parse(line);
        cpu.set(`${project} ${path}`, { cpuMs, childCpuMs });
      }
    } catch { /* no suite wrote one (setup file not configured) */ }
    rmSync(this.dir, { recursive: true, force: true });
    const suites = results.testResults.map((r) => ({
      suite: [r.displayName?.name, relative(this.rootDir, r.testFilePath)].filter(Boolean).join(' '),
      wallMs: r.perfStats.end - r.perfStats.start,
      ...(cpu.get(`${r.displayName?.name ?? ''} ${r.testFilePath}`) ?? {}),
      tests: r.testResults.length,
      failed: r.numFailingTests,
    })).sort((a, b) => b.wallMs - a.wallMs);
    const wallMs = Date.now() - this.started;
    const load = `load ${this.load.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end, ${cpus().length} cores`;
    const report = { wallMs, load, suites };
    const out = join(this.rootDir, 'test-reports');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'suite-times.json'), `${JSON.stringify(report, null, 1)}\n`);

    const s = (ms) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
    const shown = this.top > 0 ? suites.slice(0, this.top) : suites;
    const rows = shown.map((x) => `${s(x.wallMs).padStart(7)} ${s(x.cpuMs).padStart(7)} ${s(x.childCpuMs).padStart(7)}  ${x.suite} (${x.tests})`);
    const sum = (key) => suites.reduce((n, x) => n + (x[key] ?? 0), 0);
    process.stdout.write([
      '',
      `suite times (s), slowest ${shown.length} of ${suites.length}; all in test-reports/suite-times.json`,
      '   wall     cpu   child  suite (tests)',
      ...rows,
      `${s(wallMs).padStart(7)} ${s(sum('cpuMs')).padStart(7)} ${s(sum('childCpuMs')).padStart(7)}  the run (${load})`,
      '',
    ].join('\n'));
  }
}
module.exports = SuiteTimesReporter;
