'use strict';
// Prints one plain closing line, "N passed, N failed[, N skipped]", after jest's own summary,
// so any CI that reads closing lines can count the tests without parsing jest's format.
// Skipped is not passed: the suites that did not run (an external checker missing) are named.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : '');
    const notRun = new Set();
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (test.status === 'pending' && test.ancestorTitles[0]?.startsWith('NOT RUN')) notRun.add(test.ancestorTitles[0]);
      }
    }
    const warning = [...notRun].map((title) => `\n*** ${title} ***`).join('');
    process.stdout.write(`\ntests: ${line}${warning}\n`);
  }
}
module.exports = SummaryReporter;
