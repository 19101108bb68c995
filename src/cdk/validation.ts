import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { partitionOfRegion } from '../core/partition';
import { problemsMessage, type CheckContext } from '../core/validate';

/** Tokens are only known at deploy time: the validators skip them. */
export const CDK_CHECK_CONTEXT: CheckContext = { isUnresolved: (value) => Token.isUnresolved(value) };

/** Throws one error listing every problem, naming the construct by its path. */
export function throwIfInvalid(scope: IConstruct, kind: string, problems: readonly string[]): void {
  const unique = [...new Set(problems)];
  if (unique.length > 0) throw new Error(problemsMessage(`${kind} at '${scope.node.path}'`, unique));
}

/**
 * The stack's partition when its region is known at synth (`undefined` for an environment-agnostic
 * stack, which learns it at deploy time).
 */
export function knownPartition(scope: IConstruct): string | undefined {
  const region = Stack.of(scope).region;
  return Token.isUnresolved(region) ? undefined : partitionOfRegion(region);
}
