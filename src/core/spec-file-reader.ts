/** Reads spec files (`prowler-onboarding.yaml` or `.json`): parsed and validated. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { specFileSchema, specProblems, type SpecFile as SpecFileData, type SpecProblem } from './spec';

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
    const where = error instanceof YAMLParseError && error.linePos ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '(file)';
    return { problems: [{ path: where, message: `is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}` }] };
  }
  if (data === null || data === undefined) return { problems: [{ path: '(top level)', message: 'the file is empty: expected at least `selection: {}`' }] };
  const result = specFileSchema.safeParse(data, { reportInput: true });
  return result.success ? { spec: result.data, problems: [] } : { problems: specProblems(result.error) };
}

