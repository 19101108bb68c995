/**
 * Whether IAM statements allow an action on a resource: Allow statements whose Action and
 * Resource match (with IAM's `*` and `?` wildcards), and no Deny that does. Conditions are not
 * evaluated: a statement with one counts as not matching, so a test never passes on a condition.
 */
type Json = any;

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
const matches = (patterns: unknown, value: string, caseInsensitive = false) =>
  [patterns].flat().some((p) => (caseInsensitive ? glob(String(p)) : new RegExp(glob(String(p)).source)).test(value));

export function allows(statements: Json[], action: string, resource: string): boolean {
  const applies = (s: Json) => !s.Condition && matches(s.Action, action, true) && matches(s.Resource, resource);
  return statements.some((s) => s.Effect === 'Allow' && applies(s)) && !statements.some((s) => s.Effect === 'Deny' && applies(s));
}
