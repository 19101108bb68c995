import { Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { problemsMessage, type CheckContext } from '../core/validate';

/** Tokens are only known at deploy time: the validators skip them. */
export const CDK_CHECK_CONTEXT: CheckContext = { isUnresolved: (value) => Token.isUnresolved(value) };

/** Throws one error listing every problem, naming the construct by its path. */
export function throwIfInvalid(scope: IConstruct, kind: string, problems: readonly string[]): void {
  const unique = [...new Set(problems)];
  if (unique.length > 0) throw new Error(problemsMessage(`${kind} at '${scope.node.path}'`, unique));
}
