/**
 * Installs the packed package as users do, one fresh project per flavour, and checks what each
 * gets (the `test:install` task; CI runs it after the build, it needs the npm registry):
 *
 * - the CLI alone (`npx --package=prowler-org-onboarding`): at most 20 MB, and the command runs;
 * - a CDK app, a CDKTF app and a CDK Terrain app, each installed with the README's own command:
 *   no other flavour's framework installed; the README's quick start type-checks under the
 *   tsconfig its framework's `init` writes (and the CDK one under NodeNext too), and synthesizes
 *   as that framework's CLI runs it (ts-node), timed against an empty stack; the CDK app passes
 *   cdk-nag's AwsSolutionsChecks with no acknowledgement of the user's.
 *
 * Prints the installed size and synth cost of each (what the closing notes and the README quote).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withoutHeader } from './cdktn-flavour';

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

/** A command's wall time and peak memory, measured by GNU time as the user's shell would run it. */
function timed(cwd: string, command: string[], env: NodeJS.ProcessEnv = {}): { seconds: number; mb: number } {
  const result = spawnSync('/usr/bin/time', ['-f', 'TIMED %e %M', ...command], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 900_000 });
  const figures = result.stderr.match(/TIMED ([\d.]+) (\d+)/);
  if (result.status !== 0 || !figures) {
    throw new Error(`'${command.join(' ')}' failed in ${cwd} (exit ${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
  return { seconds: Number(figures[1]), mb: Math.round(Number(figures[2]) / 1024) };
}
/** The best of three runs (the first warms the file cache), by time; its memory with it. */
function best(cwd: string, command: string[], env: NodeJS.ProcessEnv = {}) {
  return [1, 2, 3].map(() => timed(cwd, command, env)).sort((a, b) => a.seconds - b.seconds)[0];
}

/**
 * The project that each framework's `init` generates, read from the CLI package users run it from
 * (fetched from the npm registry at the version below, not transcribed): its tsconfig.json, and
 * the TypeScript tooling it installs. `cdktf init` installs `typescript` unpinned, which is now 7,
 * a compiler without the JavaScript API ts-node needs; its users pin 5.x, as `cdktn init` does.
 */
const INIT_CLIS = { cdk: 'aws-cdk@3.0.0', cdktf: 'cdktf-cli@0.21.0', cdktn: 'cdktn-cli@0.24.0' } as const;
interface InitTemplate { cli: string; tsconfig: object; tooling: string[] }

function initTemplates(work: string): Record<keyof typeof INIT_CLIS, InitTemplate> {
  const dir = join(work, 'init-templates');
  mkdirSync(dir);
  const read = (spec: string, file: string) => {
    const tarball = JSON.parse(run(dir, 'npm', ['pack', '--json', spec]))[0].filename;
    return run(dir, 'tar', ['-xzOf', tarball, `package/${file}`]);
  };
  const cdkTemplate = 'lib/init-templates/app/typescript';
  const cdkDev = JSON.parse(read(INIT_CLIS.cdk, `${cdkTemplate}/package.json`)).devDependencies as Record<string, string>;
  const terraform = (cli: string) => {
    const hooks = read(cli, 'bundle/templates/typescript/.hooks.sscaff.js');
    const dev = hooks.match(/installDeps\(\s*\[([^\]]*)\],\s*true/)![1].match(/"[^"]+"/g)!.map((spec) => JSON.parse(spec) as string);
    return {
      cli,
      tsconfig: JSON.parse(read(cli, 'bundle/templates/typescript/tsconfig.json')),
      tooling: dev.filter((spec) => /^(typescript|ts-node|@types\/node)(@|$)/.test(spec)).map((spec) => (spec === 'typescript' ? 'typescript@5.x' : spec)),
    };
  };
  return {
    cdk: {
      cli: INIT_CLIS.cdk,
      tsconfig: JSON.parse(read(INIT_CLIS.cdk, `${cdkTemplate}/tsconfig.json`)),
      tooling: ['typescript', 'ts-node', '@types/node'].map((name) => `${name}@${cdkDev[name]}`),
    },
    cdktf: terraform(INIT_CLIS.cdktf),
    cdktn: terraform(INIT_CLIS.cdktn),
  };
}

/** The README's install command under a heading, as the packages it names. */
function readmeInstall(heading: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`## ${heading}`));
  const command = section.match(/```sh\n(npm install [^\n]+)\n```/)![1];
  return command.split(/\s+/).slice(2);
}

interface Flavour {
  name: string;
  /** The README section whose install command this project runs (else only the package). */
  readme?: string;
  init?: keyof typeof INIT_CLIS;
  /** Installed beside the README's command (not counted in the size). */
  extra?: string[];
  /** Packages this flavour must not get. */
  absent: string[];
  files?: Record<string, string>;
  /** The app as its framework's CLI runs it (`cdk.json`'s / `cdktf.json`'s `app`) and an empty one to compare with. */
  synth?: { app: string[]; empty: string[]; env: (dir: string) => NodeJS.ProcessEnv };
  /** Further tsconfigs the files must type-check under, beside the init template's. */
  tsconfigs?(template: object): Record<string, object>;
  check(dir: string): string;
}

const cdkApp = readFileSync(join(ROOT, 'examples', 'cdk', 'app.ts'), 'utf8');
const nagApp = cdkApp
  .replace("import { App, Stack } from 'aws-cdk-lib';", "import { App, Stack, Validations } from 'aws-cdk-lib';\nimport { AwsSolutionsChecks } from 'cdk-nag';")
  .replace('const app = new App();', 'const app = new App();\nValidations.of(app).addPlugins(new AwsSolutionsChecks(app));');
if (nagApp === cdkApp) throw new Error('examples/cdk/app.ts changed shape: update the cdk-nag variant in scripts/install-check.ts');
const emptyCdkApp = "import { App, Stack } from 'aws-cdk-lib';\n\nconst app = new App();\nnew Stack(app, 'Empty');\napp.synth();\n";
/** An empty stack with the AWS provider: the baseline a Terraform flavour's synth is compared with. */
const emptyTerraformApp = (framework: 'cdktf' | 'cdktn') => [
  `import { AwsProvider } from '@${framework}/provider-aws/lib/provider';`,
  `import { App, TerraformStack } from '${framework}';`,
  '',
  'const app = new App();',
  "new AwsProvider(new TerraformStack(app, 'empty'), 'aws', { region: 'us-east-1' });",
  'app.synth();',
  '',
].join('\n');

/** A Terraform flavour's project: the README's command, its quick start, synthesized as `<cli> synth` runs it. */
function terraformFlavour(framework: 'cdktf' | 'cdktn', readme: string): Flavour {
  return {
    name: framework === 'cdktf' ? 'CDKTF app' : 'CDK Terrain (cdktn) app',
    readme,
    init: framework,
    absent: ['aws-cdk-lib', framework === 'cdktf' ? 'cdktn' : 'cdktf'],
    files: { 'main.ts': withoutHeader(readFileSync(join(ROOT, 'examples', framework, 'main.ts'), 'utf8')), 'empty.ts': emptyTerraformApp(framework) },
    synth: { app: ['npx', 'ts-node', 'main.ts'], empty: ['npx', 'ts-node', 'empty.ts'], env: (dir) => ({ CDKTF_OUTDIR: join(dir, `${framework}.out`) }) },
    check: (dir) => {
      const stacks = join(dir, `${framework}.out`, 'stacks');
      const stack = 'prowler-organization';
      const config = JSON.parse(readFileSync(join(stacks, stack, 'cdk.tf.json'), 'utf8'));
      const resources = Object.values<Record<string, unknown>>(config.resource).reduce((n, r) => n + Object.keys(r).length, 0);
      return `${resources} Terraform resources in stack '${stack}'`;
    },
  };
}

const FLAVOURS: Flavour[] = [
  {
    name: 'CLI only (npx)',
    absent: ['aws-cdk-lib', 'constructs', 'cdktf', '@cdktf/provider-aws', 'cdktn', '@cdktn/provider-aws'],
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
    readme: 'CDK quick start',
    init: 'cdk',
    extra: [`cdk-nag@${devVersion('cdk-nag')}`],
    absent: ['cdktf', '@cdktf/provider-aws', 'cdktn', '@cdktn/provider-aws'],
    files: { 'app.ts': cdkApp, 'nag.ts': nagApp, 'empty.ts': emptyCdkApp },
    // Node's own resolution (`exports`), as newer templates and many apps use.
    tsconfigs: (template: any) => ({ NodeNext: { ...template, compilerOptions: { ...template.compilerOptions, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext' } } }),
    synth: { app: ['npx', 'ts-node', '--prefer-ts-exts', 'app.ts'], empty: ['npx', 'ts-node', '--prefer-ts-exts', 'empty.ts'], env: (dir) => ({ CDK_OUTDIR: join(dir, 'cdk.out') }) },
    check: (dir) => {
      const template = JSON.parse(readFileSync(join(dir, 'cdk.out', 'ProwlerOrganization.template.json'), 'utf8'));
      const resources = Object.keys(template.Resources).length;
      run(dir, 'npx', ['ts-node', '--prefer-ts-exts', 'nag.ts'], { CDK_OUTDIR: join(dir, 'cdk.out.nag') });
      const report = JSON.parse(readFileSync(join(dir, 'cdk.out.nag', 'validation-report.json'), 'utf8'));
      const acknowledged = report.pluginReports.flatMap((p: any) => p.suppressedViolations ?? []).length;
      return `${resources} resources; cdk-nag AwsSolutions: passed, ${acknowledged} findings acknowledged by the constructs`;
    },
  },
  terraformFlavour('cdktf', 'CDKTF (Terraform) quick start'),
  terraformFlavour('cdktn', 'CDK Terrain (cdktn) quick start'),
];

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'install-check-'));
  const keep = process.env.KEEP_INSTALL_CHECK === '1';
  try {
    const packed = JSON.parse(run(ROOT, 'npm', ['pack', '--json', '--pack-destination', work]))[0];
    const tarball = join(work, packed.filename);
    console.log(`packed ${packed.filename}: ${mb(packed.size)} MB (${mb(packed.unpackedSize)} MB unpacked, ${packed.entryCount} files)`);
    const templates = initTemplates(work);
    const rows: string[] = [];
    for (const flavour of FLAVOURS) {
      const dir = join(work, flavour.name.replace(/\W+/g, '-').toLowerCase());
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-app', version: '0.0.0', private: true }));
      const packages = flavour.readme ? readmeInstall(flavour.readme).map((name) => (name === 'prowler-org-onboarding' ? tarball : name)) : [tarball];
      const started = Date.now();
      run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packages]);
      const seconds = (Date.now() - started) / 1000;
      const present = flavour.absent.filter((name) => existsSync(join(dir, 'node_modules', name)));
      if (present.length > 0) throw new Error(`${flavour.name}: installing it also installed ${present.join(', ')}`);
      const size = mb(sizeOf(join(dir, 'node_modules')));
      const template = flavour.init ? templates[flavour.init] : undefined;
      const tooling = [...(template?.tooling ?? []), ...(flavour.extra ?? [])];
      if (tooling.length > 0) run(dir, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--save-dev', ...tooling]);
      for (const [name, text] of Object.entries(flavour.files ?? {})) writeFileSync(join(dir, name), text);
      const typeChecked: string[] = [];
      if (template) {
        const tsconfigs = { [`${flavour.init} init`]: template.tsconfig, ...flavour.tsconfigs?.(template.tsconfig) };
        for (const [name, tsconfig] of Object.entries(tsconfigs)) {
          writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
          run(dir, join(dir, 'node_modules', '.bin', 'tsc'), ['--noEmit', '-p', 'tsconfig.json']);
          typeChecked.push(name);
        }
        writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(template.tsconfig, null, 2)); // what the CLI's ts-node reads
      }
      let synth = '-';
      if (flavour.synth) {
        const env = flavour.synth.env(dir);
        const app = best(dir, flavour.synth.app, env);
        const empty = best(dir, flavour.synth.empty, env);
        synth = `${app.seconds.toFixed(1)} s, ${app.mb} MB (an empty stack: ${empty.seconds.toFixed(1)} s, ${empty.mb} MB; ${(app.seconds / empty.seconds).toFixed(1)}×)`;
      }
      const checked = flavour.check(dir);
      rows.push(`| ${flavour.name} | ${size} MB | ${seconds.toFixed(0)} s | ${typeChecked.join(', ') || '-'} | ${synth} | ${checked} |`);
      console.log(`${flavour.name}: ${size} MB in ${seconds.toFixed(0)} s; synth ${synth}; ${checked}`);
    }
    console.log([
      '', `init templates: ${Object.values(INIT_CLIS).join(', ')}; synth = the CLI's app command (ts-node, type-checking), best of 3`,
      '| Project | node_modules | npm install | type-checks under | synth | checked |', '|---|---|---|---|---|---|', ...rows,
    ].join('\n'));
  } finally {
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main();
