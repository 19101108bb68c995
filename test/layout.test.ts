import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = join(__dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)'([^']+)'/g)].map((m) => m[1]);
}

const sources = files(SRC).map((path) => ({ path: relative(SRC, path), imports: importsOf(path) }));

describe('layout rules', () => {
  test('src/core imports no framework (aws-cdk-lib, constructs, cdktf, cdktn)', () => {
    const offending = sources
      .filter((f) => f.path.startsWith('core/'))
      .flatMap((f) => f.imports.filter((i) => /^(aws-cdk-lib|constructs|cdkt[fn]|@cdkt[fn]\/)/.test(i)).map((i) => `${f.path}: ${i}`));
    expect(offending).toEqual([]);
  });

  test.each(['cdktf', 'cdktn'])('only src/%s imports its framework and provider bindings', (flavour) => {
    const framework = new RegExp(`^(${flavour}|@${flavour}/)`);
    const offending = sources
      .filter((f) => !f.path.startsWith(`${flavour}/`))
      .flatMap((f) => f.imports.filter((i) => framework.test(i)).map((i) => `${f.path}: ${i}`));
    expect(offending).toEqual([]);
  });

  test('the provider bindings are only imported by deep path (the root import costs seconds and hundreds of MB)', () => {
    const offending = sources.flatMap((f) => f.imports.filter((i) => /^@cdkt[fn]\/provider-aws$/.test(i)).map((i) => `${f.path}: ${i}`));
    expect(offending).toEqual([]);
  });

  test('the scanner sees imports (the rules above are live)', () => {
    expect(sources.find((f) => f.path === 'cdk/scan-role.ts')!.imports).toEqual(expect.arrayContaining(['aws-cdk-lib', 'aws-cdk-lib/aws-iam', '../core/bind']));
  });

  test('the oldest supported aws-cdk-lib is one version: the peer range, the floor the tests install, the README', () => {
    const root = join(__dirname, '..');
    const peer = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).peerDependencies['aws-cdk-lib'];
    const floor = JSON.parse(readFileSync(join(root, 'build-tools', 'cdk-floor', 'package.json'), 'utf8')).dependencies['aws-cdk-lib'];
    const lock = JSON.parse(readFileSync(join(root, 'build-tools', 'cdk-floor', 'package-lock.json'), 'utf8')).packages['node_modules/aws-cdk-lib'].version;
    const readme = readFileSync(join(root, 'README.md'), 'utf8').match(/Supported: `aws-cdk-lib` \*\*([\d.]+)\*\* or newer/)![1];
    expect({ peer, floor, lock, readme }).toEqual({ peer: `^${floor}`, floor, lock: floor, readme: floor });
  });
});
