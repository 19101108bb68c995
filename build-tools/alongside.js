'use strict';
// node build-tools/alongside.js "<side command>" -- <main command...>
//
// Runs the main command (the tests) with the terminal, and the side command (the checks that do
// not need it: type-check, lint, the jsii flavours) at the same time with its output kept in a
// file, printed once the main one has ended. Exits with the first failure of the two. On two
// cores, the side checks take the time the test run leaves idle (suites that wait on sockets,
// child processes and timers, the last suite running alone).
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, openSync, closeSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const args = process.argv.slice(2);
const split = args.indexOf('--');
if (split !== 1 || args.length < 3) {
  process.stderr.write('usage: node build-tools/alongside.js "<side command>" -- <main command...>\n');
  process.exit(2);
}
const side = args[0];
const main = args.slice(2);

const dir = mkdtempSync(join(tmpdir(), 'alongside-'));
const log = join(dir, 'side.log');
const fd = openSync(log, 'w');
const started = Date.now();
const run = (command, argv, stdio) => new Promise((resolve) => {
  const child = spawn(command, argv, { stdio, shell: argv.length === 0 });
  child.on('error', (error) => resolve({ code: 1, error }));
  child.on('close', (code, signal) => resolve({ code: code ?? 1, signal, ms: Date.now() - started }));
});

const sideRun = run(side, [], ['ignore', fd, fd]);
const mainRun = run(main[0], main.slice(1), 'inherit');

(async () => {
  const mainResult = await mainRun;
  const sideResult = await sideRun;
  closeSync(fd);
  const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;
  process.stdout.write(`\n--- ${side} (ran alongside; ${sideResult.code === 0 ? 'passed' : `failed, exit ${sideResult.code}`} after ${seconds(sideResult.ms ?? 0)}) ---\n`);
  process.stdout.write(readFileSync(log, 'utf8'));
  if (sideResult.error) process.stdout.write(`${sideResult.error.message}\n`);
  process.stdout.write(`--- end of ${side} ---\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(mainResult.code !== 0 ? mainResult.code : sideResult.code);
})();
