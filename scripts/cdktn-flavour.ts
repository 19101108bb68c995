/**
 * The CDK Terrain flavour is rendered from the CDKTF one: `src/cdktn/` is `src/cdktf/` with its
 * framework renamed (`cdktf` to `cdktn`, `@cdktf/provider-aws` to `@cdktn/provider-aws`), and
 * `examples/cdktn/main.ts` is `examples/cdktf/main.ts` the same way. CDK Terrain is CDKTF's
 * maintained continuation with the same API, so nothing else changes; a test fails when the
 * committed files drift (`npx projen templates` writes them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** What each source file of the CDKTF flavour becomes, by path from the repository root. */
const SOURCES: Array<{ from: string; to: string }> = [
  ...readdirSync(join(ROOT, 'src', 'cdktf')).filter((name) => name.endsWith('.ts')).sort()
    .map((name) => ({ from: `src/cdktf/${name}`, to: `src/cdktn/${name}` })),
  { from: 'examples/cdktf/main.ts', to: 'examples/cdktn/main.ts' },
];

/** The first line of every rendered file. */
export const CDKTN_HEADER = '// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.';

/**
 * One file of the CDKTF flavour as the cdktn flavour: every `cdktf` word (the package, the
 * provider bindings' scope, the subpath and the example's namespace) becomes `cdktn`. A name
 * this rule would not carry over (`CDKTF` in prose, say) fails, so nothing slips through half-renamed.
 */
export function toCdktn(path: string, text: string): string {
  const stray = text.match(/.*(CDKTF|Cdktf).*/);
  if (stray) throw new Error(`${path}: '${stray[0].trim()}' names CDKTF in a way the cdktn rendering does not rename; write 'cdktf' or rephrase`);
  return `${CDKTN_HEADER}\n${text.replace(/\bcdktf\b/g, 'cdktn')}`;
}

/** The cdktn flavour's files, by path from the repository root. */
export function renderCdktnFlavour(): Record<string, string> {
  return Object.fromEntries(SOURCES.map(({ from, to }) => [to, toCdktn(from, readFileSync(join(ROOT, from), 'utf8'))]));
}

/** A rendered file without its generated header: what the README shows for the example. */
export function withoutHeader(text: string): string {
  return text.startsWith(`${CDKTN_HEADER}\n`) ? text.slice(CDKTN_HEADER.length + 1) : text;
}
