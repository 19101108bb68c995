// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
import { Op, Token } from 'cdktn';
import type { IConstruct } from 'constructs';
import { PROWLER_CLOUD_PARTITION } from '../core/partition';
import { problemsMessage, type CheckContext } from '../core/validate';

/** Terraform references are only known at apply time: the validators skip them. */
export const TF_CHECK_CONTEXT: CheckContext = { isUnresolved: (value) => Token.isUnresolved(value) };

/** Throws one error listing every problem, naming the construct by its path. */
export function throwIfInvalid(scope: IConstruct, kind: string, problems: readonly string[]): void {
  const unique = [...new Set(problems)];
  if (unique.length > 0) throw new Error(problemsMessage(`${kind} at '${scope.node.path}'`, unique));
}

/**
 * A string that Terraform must take literally: `${` and `%{` start interpolations and directives,
 * so they are doubled (split/join, not a regex, so nothing else is touched).
 */
export function terraformLiteral(text: string): string {
  return text.split('${').join('$${').split('%{').join('%%{');
}

/**
 * `terraformLiteral` for text that may also hold cdktn tokens (`${TfToken[…]}`): those stay, to be
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
