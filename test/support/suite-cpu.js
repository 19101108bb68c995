'use strict';
// Loaded in every test file (setupFilesAfterEnv): writes the CPU time the file took, its own
// process's and that of the child processes it waited for (terraform, cfn-lint, the bundle's
// `node`), for test/support/suite-times-reporter.js. Wall time alone misleads on a busy machine.
const { appendFileSync, readFileSync } = require('node:fs');

const dir = process.env.SUITE_TIMES_DIR;
if (dir) {
  // utime, stime, cutime, cstime (clock ticks, 100 a second on Linux): children's only once waited for.
  const ticks = () => {
    try {
      const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
      return { own: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]) };
    } catch {
      const { user, system } = process.cpuUsage();
      return { own: (user + system) / 10_000, children: 0 };
    }
  };
  const start = ticks();
  afterAll(() => {
    const end = ticks();
    const line = { path: expect.getState().testPath, project: globalThis.SUITE_PROJECT ?? '', cpuMs: (end.own - start.own) * 10, childCpuMs: (end.children - start.children) * 10 };
    appendFileSync(`${dir}/cpu.jsonl`, `${JSON.stringify(line)}\n`);
  });
}
