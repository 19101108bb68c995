/**
 * A small HCL (Terraform native syntax) writer for the generated module in templates/terraform/:
 * values as `terraform fmt` lays them out (two-space indents, aligned `=`), strings escaped so
 * that only the interpolations we mean are interpolations.
 */

/** An HCL expression written as is (a reference, a function call, a conditional). */
export class HclExpression {
  constructor(public readonly text: string) {}
}

/** `text` as an expression, not a string. */
export const expr = (text: string) => new HclExpression(text);

/** A quoted HCL string of `value`, with `${` and `%{` escaped: literal text, no interpolation. */
export function hclString(value: string): string {
  return JSON.stringify(value).replace(/\$\{/g, '$${').replace(/%\{/g, '%%{');
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const key = (k: string) => (IDENTIFIER.test(k) ? k : JSON.stringify(k));
const INDENT = '  ';

/** An HCL value: strings literal, {@link HclExpression}s as written, lists and objects laid out as `terraform fmt` does. */
export function hclValue(value: unknown, indent = ''): string {
  if (value instanceof HclExpression) return value.text;
  if (typeof value === 'string') return hclString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  const inner = indent + INDENT;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => hclValue(v, inner));
    const oneLine = `[${items.join(', ')}]`;
    if (!items.some((i) => i.includes('\n')) && indent.length + oneLine.length <= 100) return oneLine;
    return `[\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${attributes(entries, inner)}\n${indent}}`;
}

/**
 * Attribute lines `key = value` at `indent`, with the `=` of consecutive single-line attributes
 * aligned; an attribute whose value spans lines stands alone. This is how `terraform fmt` aligns them.
 */
export function attributes(entries: Array<[string, unknown]>, indent: string): string {
  const rendered = entries.map(([k, v]) => ({ k: key(k), v: hclValue(v, indent) }));
  const lines: string[] = [];
  let run: typeof rendered = [];
  const flush = () => {
    const width = Math.max(...run.map((r) => r.k.length));
    for (const r of run) lines.push(`${indent}${r.k.padEnd(width)} = ${r.v}`);
    run = [];
  };
  for (const r of rendered) {
    if (r.v.includes('\n')) {
      if (run.length > 0) flush();
      lines.push(`${indent}${r.k} = ${r.v}`);
    } else {
      run.push(r);
    }
  }
  if (run.length > 0) flush();
  return lines.join('\n');
}

/** A block's body: attributes first, then nested blocks, each body indented once more. */
export interface HclBlock {
  readonly type: string;
  readonly labels?: string[];
  readonly attributes?: Record<string, unknown>;
  readonly blocks?: HclBlock[];
}

/** A block (`resource "aws_iam_role" "x" { … }`), laid out as `terraform fmt` does. */
export function hclBlock(block: HclBlock, indent = ''): string {
  const header = [block.type, ...(block.labels ?? []).map((l) => JSON.stringify(l))].join(' ');
  const inner = indent + INDENT;
  const parts: string[] = [];
  const attrs = Object.entries(block.attributes ?? {}).filter(([, v]) => v !== undefined);
  if (attrs.length > 0) parts.push(attributes(attrs, inner));
  for (const nested of block.blocks ?? []) parts.push(hclBlock(nested, inner));
  if (parts.length === 0) return `${indent}${header} {}`;
  return `${indent}${header} {\n${parts.join('\n\n')}\n${indent}}`;
}
