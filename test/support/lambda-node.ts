/**
 * The Node the shipped Lambda bundle runs on in the tests: the functions' runtime (nodejs22.x,
 * ONBOARDING_FUNCTION_SETTINGS), from the `node` dev dependency at node_modules/.bin/node, whatever
 * Node the machine has. Missing or of another major, it fails under CI (`CI=true`); elsewhere the
 * tests run the bundle on this process's Node and say so once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inCi } from './oracles';
import { ONBOARDING_FUNCTION_SETTINGS } from '../../src/core/onboarding';

/** The Lambda runtime's Node major (22 for nodejs22.x). */
export const LAMBDA_NODE_MAJOR = Number(/^nodejs(\d+)\.x$/.exec(ONBOARDING_FUNCTION_SETTINGS.runtime)![1]);

/** Where `npm install` puts the `node` dev dependency's binary. */
export const PACKAGED_NODE = join(__dirname, '..', '..', 'node_modules', '.bin', 'node');

/** The major version of a Node binary. */
export function nodeMajor(binary: string): number {
  if (binary === process.execPath) return Number(process.versions.node.split('.')[0]);
  const result = spawnSync(binary, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`${binary} -p process.versions.node failed (exit ${result.status}): ${result.stderr}`);
  return Number(result.stdout.trim().split('.')[0]);
}

let chosen: string | undefined;

/**
 * The Node binary to run the bundle with: node_modules/.bin/node when it is there and of the
 * Lambda's major; this process's own when that is the Lambda's major. Otherwise an error under CI,
 * and elsewhere this process's Node with a note on stderr.
 */
export function lambdaNode(): string {
  if (chosen) return chosen;
  const candidates = [PACKAGED_NODE, process.execPath].filter((binary) => existsSync(binary));
  const found = candidates.find((binary) => nodeMajor(binary) === LAMBDA_NODE_MAJOR);
  if (found) return (chosen = found);
  const problem = `the shipped bundle runs on Node ${LAMBDA_NODE_MAJOR} (${ONBOARDING_FUNCTION_SETTINGS.runtime}), but `
    + (existsSync(PACKAGED_NODE) ? `${PACKAGED_NODE} is Node ${nodeMajor(PACKAGED_NODE)}` : `${PACKAGED_NODE} is missing`)
    + ` and this process is Node ${process.versions.node}: run \`npm install --no-audit --no-fund\` (the \`node\` dev dependency)`;
  if (inCi()) throw new Error(problem);
  process.stderr.write(`\n*** ${problem}; running it on Node ${process.versions.node} ***\n\n`);
  return (chosen = process.execPath);
}
