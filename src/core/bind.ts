import type { Placeholder } from './policy';

/** Values for the placeholders a flavour binds (a CDK token string, a Terraform reference, `${AWS::Partition}` …). */
export type Bindings = Readonly<Partial<Record<Placeholder, string>>>;

/** A `${Name}` placeholder in core's policy strings. */
export const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

/**
 * Replaces every `${Name}` in `text` with `bindings[Name]`, in one pass (a bound value is never
 * scanned again, so it may itself contain `${…}`). Throws on a placeholder with no binding:
 * a policy must never reach AWS with a placeholder left in it.
 */
export function bind(text: string, bindings: Bindings): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = (bindings as Record<string, string | undefined>)[name];
    if (value === undefined) {
      throw new Error(`no value bound for ${whole} in '${text}'`);
    }
    return value;
  });
}

/** The placeholders `text` uses. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Applies `fn` to every string inside a JSON-like value (object keys are left as they are). */
export function mapStrings(value: unknown, fn: (s: string) => unknown): any {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

/** Binds every string inside a JSON-like value. */
export function bindAll(value: unknown, bindings: Bindings): any {
  return mapStrings(value, (s) => bind(s, bindings));
}
