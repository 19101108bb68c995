import { Op, Token } from 'cdktf';
import type { IConstruct } from 'constructs';
import { constructError } from '../core/construct-errors';
import { PROWLER_CLOUD_PARTITION } from '../core/partition';
import type { CheckContext } from '../core/validate';

/** Terraform references are only known at apply time: the validators skip them. */
export const TF_CHECK_CONTEXT: CheckContext = { isUnresolved: (value) => Token.isUnresolved(value) };

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
 * A string that Terraform must take literally: `${` and `%{` start interpolations and directives,
 * so they are doubled (split/join, not a regex, so nothing else is touched).
 */
export function terraformLiteral(text: string): string {
  return text.split('${').join('$${').split('%{').join('%%{');
}

/**
 * `terraformLiteral` for text that may also hold cdktf tokens (`${TfToken[…]}`): those stay, to be
 * resolved; every other `${` and `%{` is user text and is doubled.
 */
export function terraformLiteralKeepingTokens(text: string): string {
  return text.replace(/\$\{(?!TfToken\[)/g, '$$${').replace(/%\{/g, '%%{');
}

/**
 * A Terraform precondition failing the plan outside Prowler Cloud's partition, for a resource
 * whose defaults only work there (Terraform knows the partition at plan, not at synth).
 */
export function onlyInProwlerCloudPartition(partition: string, errorMessage: string) {
  return { precondition: [{ condition: Op.eq(partition, PROWLER_CLOUD_PARTITION), errorMessage }] };
}
