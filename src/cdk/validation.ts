import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { constructError } from '../core/construct-errors';
import { partitionOfRegion } from '../core/partition';
import type { CheckContext } from '../core/validate';

/** Tokens are only known at deploy time: the validators skip them. */
export const CDK_CHECK_CONTEXT: CheckContext = { isUnresolved: (value) => Token.isUnresolved(value) };

/** Records a construct as this package's, with what its errors call it (core's `declareConstruct`). */
export { declareConstruct } from '../core/construct-errors';

/**
 * Throws one error listing every problem, naming the construct the user wrote (the outermost of
 * this package's around `scope`) by its path; its stack trace starts in the user's code.
 */
export function throwIfInvalid(scope: IConstruct, problems: readonly string[]): void {
  const error = constructError(scope, problems);
  if (error) throw error;
}

/**
 * The stack's partition when its region is known at synth (`undefined` for an environment-agnostic
 * stack, which learns it at deploy time).
 */
export function knownPartition(scope: IConstruct): string | undefined {
  const region = Stack.of(scope).region;
  return Token.isUnresolved(region) ? undefined : partitionOfRegion(region);
}
