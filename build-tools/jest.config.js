'use strict';
// The build's one jest run (`npx projen test`): the main suites (package.json's jest config), the
// CDK suites at the aws-cdk-lib floor (cdk-floor/jest.config.json) and the cdktf suites on cdktn
// (cdktn/jest.config.json) as jest projects, so that one pool of workers, a core each, takes them
// all and no suite waits for another run to end. The three configs stay as they are, each usable on
// its own (`npx jest`, `npx projen test:cdk-floor`, `npx projen test:cdktn`); the options jest takes
// only once for a run (reporters, workers, order, coverage) come from package.json's.
const { readFileSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const ROOT = join(__dirname, '..');
/** What a project config may not hold: jest warns about these and takes them from the run's config. */
const RUN_ONLY = ['coverageReporters', 'maxWorkers', 'reporters', 'testSequencer'];
const GLOBAL = [...RUN_ONLY, 'collectCoverage', 'collectCoverageFrom', 'coverageDirectory', 'coverageProvider'];

const read = (file) => JSON.parse(readFileSync(join(ROOT, file), 'utf8'));
const pick = (config, keys) => Object.fromEntries(Object.entries(config).filter(([key]) => keys.includes(key)));
/** A project: its config without the run's options, its rootDir made absolute. */
const project = (file, config) => ({
  ...Object.fromEntries(Object.entries(config).filter(([key]) => !RUN_ONLY.includes(key) && key !== '//')),
  rootDir: resolve(ROOT, dirname(file), config.rootDir ?? '.'),
});

const main = read('package.json').jest;
module.exports = {
  ...pick(main, GLOBAL),
  rootDir: ROOT,
  projects: ['package.json', 'build-tools/cdk-floor/jest.config.json', 'build-tools/cdktn/jest.config.json']
    .map((file) => project(file, file === 'package.json' ? main : read(file))),
};
