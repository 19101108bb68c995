import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CDKTN_HEADER, renderCdktnFlavour, toCdktn } from '../scripts/cdktn-flavour';

const ROOT = join(__dirname, '..');

describe('the cdktn flavour is the cdktf one renamed (scripts/cdktn-flavour.ts)', () => {
  test.each(Object.entries(renderCdktnFlavour()))('%s is what the rendering gives (run `npx projen templates` after changing src/cdktf)', (path, rendered) => {
    expect(readFileSync(join(ROOT, path), 'utf8')).toBe(rendered);
  });

  test('every file of src/cdktf has its cdktn counterpart, and src/cdktn has nothing else', () => {
    const rendered = Object.keys(renderCdktnFlavour()).filter((path) => path.startsWith('src/'));
    expect(readdirSync(join(ROOT, 'src', 'cdktn')).map((name) => `src/cdktn/${name}`).sort()).toEqual(rendered.sort());
    expect(rendered.map((path) => path.replace('cdktn', 'cdktf')).sort()).toEqual(readdirSync(join(ROOT, 'src', 'cdktf')).map((name) => `src/cdktf/${name}`).sort());
  });

  test('the framework, the bindings, the subpath and the namespace are renamed; the rest is kept', () => {
    const source = [
      "import { IamRole } from '@cdktf/provider-aws/lib/iam-role';",
      "import { Fn, TerraformStack } from 'cdktf';",
      "import * as cdktf from 'prowler-org-onboarding/cdktf';",
      'new cdktf.ProwlerScanRole(stack, \'Scan\', {}); // a cdktfx or xcdktf word is not the framework',
      '',
    ].join('\n');
    expect(toCdktn('x.ts', source)).toBe([
      CDKTN_HEADER,
      "import { IamRole } from '@cdktn/provider-aws/lib/iam-role';",
      "import { Fn, TerraformStack } from 'cdktn';",
      "import * as cdktn from 'prowler-org-onboarding/cdktn';",
      'new cdktn.ProwlerScanRole(stack, \'Scan\', {}); // a cdktfx or xcdktf word is not the framework',
      '',
    ].join('\n'));
  });

  test('prose naming CDKTF, which the rule would leave wrong in the cdktn docs, fails the rendering', () => {
    expect(() => toCdktn('src/cdktf/x.ts', '/** Works with CDKTF stacks. */\n')).toThrow(
      "src/cdktf/x.ts: '/** Works with CDKTF stacks. */' names CDKTF in a way the cdktn rendering does not rename; write 'cdktf' or rephrase",
    );
  });

  test('every test of the cdktf flavour runs again against cdktn (test:cdktn)', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'build-tools', 'cdktn', 'jest.config.json'), 'utf8'));
    const globs: RegExp[] = config.testMatch.map((glob: string) => new RegExp(`^${glob.replace('<rootDir>/', '').replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`));
    const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : path.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
    });
    const cdktfTests = files(join(ROOT, 'test')).filter((path) => /^import [^;]*from '(cdktf|@cdktf\/[^']+|(\.\.\/)+src\/cdktf)';$/m.test(readFileSync(join(ROOT, path), 'utf8')));
    expect(cdktfTests.length).toBeGreaterThan(8);
    expect(cdktfTests.filter((path) => !globs.some((glob) => glob.test(path)))).toEqual([]);
  });
});
