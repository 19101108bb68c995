'use strict';
// The order the suites start in. Jest's own order (failed first, then by the time each took last
// time, from its cache) when it knows every suite's time; on a fresh clone, where it knows none,
// the suites known to be slow first (measured: test-reports/suite-times.json after a run), then
// the rest by file size, as jest does. With a worker per core, a slow suite that started last
// would run alone at the end while the other core idles.
const Sequencer = require('@jest/test-sequencer').default;

/** Slowest first: wall time of a suite alone (child processes, sockets and timers included). */
const SLOW = [
  'test/oracles/crash-matrix.test.ts',
  'test/oracles/crash-matrix-cloud.test.ts',
  'cdktn test/oracles/terraform.test.ts',
  'test/oracles/terraform.test.ts',
  'test/oracles/terraform-module.test.ts',
  'cdk-floor test/oracles/cfn-lint.test.ts',
  'test/oracles/cfn-lint.test.ts',
  'test/handler/reliability.test.ts',
  'test/cli/plan-equals-apply.test.ts',
  'test/handler/budget.test.ts',
];

class SlowFirst extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    if (sorted.every((test) => test.duration != null)) return sorted;
    const rank = (test) => {
      const project = test.context.config.displayName?.name;
      const path = test.path.slice(test.context.config.rootDir.length + 1);
      const at = SLOW.indexOf(project ? `${project} ${path}` : path);
      return at < 0 ? SLOW.length : at;
    };
    return sorted.map((test, i) => ({ test, i, rank: rank(test) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map(({ test }) => test);
  }
}
module.exports = SlowFirst;
