/** Reads spec files (`prowler-onboarding.yaml` or `.json`): parsed and validated. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { shown, specFileSchema, specProblems, type SpecFile as SpecFileData, type SpecProblem } from './spec';

/** A spec file, parsed and validated: every problem with its path in the file. */
export function loadSpecFile(path: string): { spec?: SpecFileData; problems: SpecProblem[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { problems: [{ path: path, message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }] };
  }
  text = text.replace(/^\uFEFF/, ''); // a byte-order mark, as some editors write
  let data: unknown;
  try {
    // JSON is read as JSON, then again as YAML (a superset) for what JSON.parse lets through:
    // a key given twice (the last would win: `retain` then `destroy` means destroy).
    data = /\.json$/i.test(path) ? (JSON.parse(text), parseYaml(text, { prettyErrors: true, uniqueKeys: true })) : parseYaml(text, { prettyErrors: true });
  } catch (error) {
    return { problems: [syntaxProblem(error as Error, text, /\.json$/i.test(path) ? 'JSON' : 'YAML')] };
  }
  if (data === null || data === undefined) return { problems: [{ path: '(top level)', message: 'the file is empty: expected at least `selection: {}`' }] };
  const result = specFileSchema.safeParse(data, { reportInput: true });
  return result.success ? { spec: result.data, problems: [] } : { problems: specProblems(result.error) };
}

/** Where a file stops parsing, and the text there (a key given twice: which key). */
function syntaxProblem(error: Error, text: string, language: 'JSON' | 'YAML'): SpecProblem {
  if (!(error instanceof YAMLParseError) || !error.linePos) return { path: '(file)', message: `is not valid ${language}: ${error.message.split('\n')[0]}` };
  const where = `line ${error.linePos[0].line}, column ${error.linePos[0].col}`;
  if (error.code === 'DUPLICATE_KEY') {
    // The error points at the key's first character: read the key (quoted, or up to its colon).
    const rest = text.slice(error.pos[0]);
    const key = /^"((?:[^"\\]|\\.)*)"/.exec(rest)?.[1] ?? /^'([^']*)'/.exec(rest)?.[1] ?? /^[^:\n]*/.exec(rest)![0].trim();
    return { path: where, message: `is not valid ${language}: ${shown(key)} is given twice (the later value would silently win): give each key once` };
  }
  // The line it stopped at, or the last one with text before it (an unclosed bracket stops at the end).
  const lines = text.split(/\r?\n/).slice(0, error.linePos[0].line);
  const near = lines.reverse().find((line) => line.trim() !== '')?.trim();
  return { path: where, message: `is not valid ${language}: ${error.message.split('\n')[0]}${near ? `, near ${shown(near)}` : ''}` };
}
