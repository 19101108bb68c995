/**
 * The constructs' synth-time errors, in either framework: one error listing every problem, naming
 * the construct the user wrote by its path (the outermost of this package's constructs around the
 * one that found the problems: `ProwlerOrganization`, not the `ProwlerOrganizationRoles` it made),
 * with a stack trace that starts in the user's code, never in this package's own files.
 */
import { problemsMessage } from './validate';

/** A construct as these errors see it (structurally: core imports no framework). */
export interface ConstructLike {
  readonly node: { readonly path: string; readonly scopes: readonly object[] };
}

/** Where a construct of this package keeps what errors call it (shared by every copy of the package). */
const KIND = Symbol.for('prowler-org-onboarding.constructKind');

/**
 * Records that `construct` is this package's and what errors call it (its class's name). Call it
 * first in every construct's constructor, before it makes other constructs.
 */
export function declareConstruct(construct: object, kind: string): void {
  Object.defineProperty(construct, KIND, { value: kind, enumerable: false, configurable: true });
}

const kindOf = (construct: object): string | undefined => (construct as { [KIND]?: string })[KIND];

/** Whether `construct`'s constructor is running: a stack trace from its caller has frames. */
function constructing(construct: object): boolean {
  if (typeof Error.captureStackTrace !== 'function') return true;
  const probe: { stack?: string } = {};
  Error.captureStackTrace(probe, construct.constructor);
  return probe.stack?.includes('\n') ?? false;
}

/**
 * The construct the user wrote around `scope`, with what to call it: the outermost of this
 * package's constructs whose constructor is running (`scope` itself when none encloses it).
 * `running` is false when no constructor is (a check made after construction).
 */
export function userConstruct(scope: ConstructLike): { construct: object; kind: string; path: string; running: boolean } {
  for (const construct of scope.node.scopes) {
    const kind = kindOf(construct);
    if (kind !== undefined && constructing(construct)) return { construct, kind, path: (construct as ConstructLike).node.path, running: true };
  }
  return { construct: scope, kind: kindOf(scope) ?? scope.constructor.name, path: scope.node.path, running: false };
}

/**
 * One error listing every problem (each once) with the user's construct and its path, or
 * `undefined` when there is none. Its stack trace starts where the user made that construct.
 */
export function constructError(scope: ConstructLike, problems: readonly string[]): Error | undefined {
  const unique = [...new Set(problems)];
  if (unique.length === 0) return undefined;
  const user = userConstruct(scope);
  const error = new Error(problemsMessage(`${user.kind} at '${user.path}'`, unique));
  // The frames above the user's `new` are this package's (inner constructs, this function): leave them out.
  if (user.running && typeof Error.captureStackTrace === 'function') Error.captureStackTrace(error, user.construct.constructor);
  return error;
}
