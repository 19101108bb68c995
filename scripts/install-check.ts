/**
 * Installs the packed package as users do, one fresh project per flavour, and checks what each
 * gets (the `test:install` task; CI runs it after the build, it needs the npm registry):
 *
 * - the CLI alone (`npx --package=prowler-org-onboarding`): at most 20 MB, and the command runs;
 * - a CDK app: no cdktf installed; the README's quick start type-checks under the tsconfig of
 *   `cdk init` (CommonJS, node10 resolution) and under NodeNext, synthesizes,
 *   and passes cdk-nag's AwsSolutionsChecks with no acknowledgement of the user's;
 * - a CDKTF app: no aws-cdk-lib installed; its quick start type-checks under the tsconfig of
 *   `cdktf init` and synthesizes.
 *
 * Prints the installed size of each (what the closing notes and the README quote).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const CLI_LIMIT_MB = 20;

/** The version this repository develops against, so a warm npm cache serves the install. */
const devVersion = (name: string) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version as string;

function run(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 900_000 });
  if (result.status !== 0) {
    throw new Error(`'${command} ${args.join(' ')}' failed in ${cwd} (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

function sizeOf(path: string): number {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) total += sizeOf(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}
const mb = (bytes: number) => Math.round((bytes / 1e6) * 10) / 10;

/**
 * `tsconfig.json` as `cdk init app --language typescript` writes it (CommonJS: TypeScript resolves
 * as node10, without `exports`). It skips the libraries' own checks, as it must: aws-cdk-lib's
 * declarations use lib types (Disposable) that its `lib` does not include.
 */
const CDK_INIT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2020',
    module: 'commonjs',
    lib: ['es2020'],
    declaration: true,
    strict: true,
    noImplicitAny: true,
    strictNullChecks: true,
    noImplicitThis: true,
    alwaysStrict: true,
    noImplicitReturns: true,
    inlineSourceMap: true,
    inlineSources: true,
    experimentalDecorators: true,
    strictPropertyInitialization: false,
    skipLibCheck: true,
    typeRoots: ['./node_modules/@types'],
    outDir: 'dist',
  },
  include: ['*.ts'],
};
/** The same with Node's own resolution (`exports`), as newer templates and many apps use. */
const NODENEXT_TSCONFIG = { ...CDK_INIT_TSCONFIG, compilerOptions: { ...CDK_INIT_TSCONFIG.compilerOptions, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['es2022'] } };
/** `tsconfig.json` as `cdktf init --template=typescript` writes it. */
const CDKTF_INIT_TSCONFIG = {
  compilerOptions: {
    alwaysStrict: true,
    declaration: true,
    experimentalDecorators: true,
    inlineSourceMap: true,
    inlineSources: true,
    lib: ['es2018'],
    module: 'CommonJS',
    noEmitOnError: true,
    noFallthroughCasesInSwitch: true,
    noImplicitAny: true,
    noImplicitReturns: true,
    noImplicitThis: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    resolveJsonModule: true,
    strict: true,
    strictNullChecks: true,
    strictPropertyInitialization: true,
    stripInternal: true,
    target: 'ES2018',
    incremental: true,
    skipLibCheck: true,
    outDir: 'dist',
  },
  include: ['*.ts'],
};

interface Flavour {
  name: string;
  dependencies: string[];
  /** Packages this flavour must not get. */
  absent: string[];
  files?: Record<string, string>;
  tsconfigs?: Record<string, object>;
  check(dir: string): string;
}

const cdkApp = readFileSync(join(ROOT, 'examples', 'cdk', 'app.ts'), 'utf8');
const nagApp = cdkApp
  .replace("import { App, Stack } from 'aws-cdk-lib';", "import { App, Stack, Validations } from 'aws-cdk-lib';\nimport { AwsSolutionsChecks } from 'cdk-nag';")
  .replace('const app = new App();', 'const app = new App();\nValidations.of(app).addPlugins(new AwsSolutionsChecks(app));');
if (nagApp === cdkApp) throw new Error('examples/cdk/app.ts changed shape: update the cdk-nag variant in scripts/install-check.ts');

const FLAVOURS: Flavour[] = [
  {
    name: 'CLI only (npx)',
    dependencies: [],
    absent: ['aws-cdk-lib', 'constructs', 'cdktf', '@cdktf/provider-aws'],
    check: (dir) => {
      cpSync(join(ROOT, 'examples', 'gitops', 'prowler-onboarding.yaml'), join(dir, 'prowler-onboarding.yaml'));
      const out = run(dir, join(dir, 'node_modules', '.bin', 'prowler-org'), ['validate', 'prowler-onboarding.yaml']);
      const size = sizeOf(join(dir, 'node_modules'));
      if (size > CLI_LIMIT_MB * 1e6) throw new Error(`the CLI installs ${mb(size)} MB, over ${CLI_LIMIT_MB} MB`);
      return `prowler-org validate: ${out.trim().split('\n')[0]}`;
    },
  },
  {
    name: 'AWS CDK app',
    dependencies: [`aws-cdk-lib@${devVersion('aws-cdk-lib')}`, `constructs@${devVersion('constructs')}`, `cdk-nag@${devVersion('cdk-nag')}`, `typescript@${devVersion('typescript')}`],
    absent: ['cdktf', '@cdktf/provider-aws'],
    files: { 'app.ts': cdkApp, 'nag.ts': nagApp },
    tsconfigs: { 'cdk init (commonjs)': CDK_INIT_TSCONFIG, 'NodeNext': NODENEXT_TSCONFIG },
    check: (dir) => {
      run(dir, 'node', ['dist/app.js'], { CDK_OUTDIR: join(dir, 'cdk.out') });
      const template = JSON.parse(readFileSync(join(dir, 'cdk.out', 'ProwlerOrganization.template.json'), 'utf8'));
      const resources = Object.keys(template.Resources).length;
      run(dir, 'node', ['dist/nag.js'], { CDK_OUTDIR: join(dir, 'cdk.out.nag') });
      const report = JSON.parse(readFileSync(join(dir, 'cdk.out.nag', 'validation-report.json'), 'utf8'));
      const acknowledged = report.pluginReports.flatMap((p: any) => p.suppressedViolations ?? []).length;
      return `synth: ${resources} resources; cdk-nag AwsSolutions: passed, ${acknowledged} findings acknowledged by the constructs`;
    },
  },
  {
    name: 'CDKTF app',
    dependencies: [`cdktf@${devVersion('cdktf')}`, `@cdktf/provider-aws@${devVersion('@cdktf/provider-aws')}`, `constructs@${devVersion('constructs')}`, `typescript@${devVersion('typescript')}`],
    absent: ['aws-cdk-lib'],
    files: { 'main.ts': readFileSync(join(ROOT, 'examples', 'cdktf', 'main.ts'), 'utf8') },
    tsconfigs: { 'cdktf init': CDKTF_INIT_TSCONFIG },
    check: (dir) => {
      run(dir, 'node', ['dist/main.js'], { CDKTF_OUTDIR: join(dir, 'cdktf.out') });
      const stacks = join(dir, 'cdktf.out', 'stacks');
      const [stack] = readdirSync(stacks);
      const config = JSON.parse(readFileSync(join(stacks, stack, 'cdk.tf.json'), 'utf8'));
      const resources = Object.values<Record<string, unknown>>(config.resource).reduce((n, r) => n + Object.keys(r).length, 0);
      return `synth: ${resources} Terraform resources in stack '${stack}'`;
    },
  },
];

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'install-check-'));
  const keep = process.env.KEEP_INSTALL_CHECK === '1';
  try {
    const packed = JSON.parse(run(ROOT, 'npm', ['pack', '--json', '--pack-destination', work]))[0];
    const tarball = join(work, packed.filename);
    console.log(`packed ${packed.filename}: ${mb(packed.size)} MB (${mb(packed.unpackedSize)} MB unpacked, ${packed.entryCount} files)`);
    const rows: string[] = [];
    for (const flavour of FLAVOURS) {
      const dir = join(work, flavour.name.replace(/\W+/g, '-').toLowerCase());
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-app', version: '0.0.0', private: true }));
      const started = Date.now();
      run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...flavour.dependencies]);
      const seconds = (Date.now() - started) / 1000;
      const present = flavour.absent.filter((name) => existsSync(join(dir, 'node_modules', name)));
      if (present.length > 0) throw new Error(`${flavour.name}: installing it also installed ${present.join(', ')}`);
      const size = mb(sizeOf(join(dir, 'node_modules')));
      for (const [name, text] of Object.entries(flavour.files ?? {})) writeFileSync(join(dir, name), text);
      const typeChecked: string[] = [];
      for (const [name, tsconfig] of Object.entries(flavour.tsconfigs ?? {})) {
        writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
        rmSync(join(dir, 'dist'), { recursive: true, force: true });
        run(dir, join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']);
        typeChecked.push(name);
      }
      const checked = flavour.check(dir);
      rows.push(`| ${flavour.name} | ${size} MB | ${seconds.toFixed(0)} s | ${typeChecked.join(', ') || '-'} | ${checked} |`);
      console.log(`${flavour.name}: ${size} MB in ${seconds.toFixed(0)} s; ${checked}`);
    }
    console.log(['', '| Project | node_modules | npm install | type-checks under | checked |', '|---|---|---|---|---|', ...rows].join('\n'));
  } finally {
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main();
