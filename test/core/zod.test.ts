import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('zod, as the package loads it', () => {
  test('src/core/zod.ts is the only module that imports zod (what it exports is what bundles keep)', () => {
    const importers = sources(join(ROOT, 'src'))
      .filter((file) => /from '(zod|zod\/[^']*)'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(importers).toEqual(['src/core/zod.ts']);
  });

  test('the compiled lib/core/zod.js is one file: loading it loads no module of zod, and it parses', () => {
    // What a construct's synth loads (bundle:zod replaces tsc's re-export after the compile).
    const script = [
      `const z = require(${JSON.stringify(join(ROOT, 'lib', 'core', 'zod.js'))});`,
      'const loaded = Object.keys(require.cache).filter((file) => /[\\\\/]node_modules[\\\\/]zod[\\\\/]/.test(file));',
      'const result = z.object({ n: z.number() }).safeParse({ n: "1" });',
      'console.log(JSON.stringify({ loaded, issue: { code: result.error.issues[0].code, expected: result.error.issues[0].expected } }));',
    ].join('\n');
    const output = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(output).toEqual({ loaded: [], issue: { code: 'invalid_type', expected: 'number' } });
  });
});
