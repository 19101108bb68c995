'use strict';
// Prints one plain closing line, "N passed, N failed[, N skipped]", after jest's own summary,
// so any CI that reads closing lines can count the tests without parsing jest's format.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : '');
    process.stdout.write(`\ntests: ${line}\n`);
  }
}
module.exports = SummaryReporter;
