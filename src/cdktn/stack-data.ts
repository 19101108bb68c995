// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
import { DataAwsCallerIdentity } from '@cdktn/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktn/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktn/provider-aws/lib/data-aws-region';
import { TerraformStack } from 'cdktn';
import { Construct } from 'constructs';

/**
 * One data source of a kind per stack, read through the stack's default AWS provider, however many
 * of this package's constructs the stack holds: a plan reads the partition, the region and the
 * account once, and a synth makes three data sources instead of up to six.
 */
function once<T extends Construct>(scope: Construct, id: string, kind: new (scope: Construct, id: string) => T): T {
  const stack = TerraformStack.of(scope);
  const found = stack.node.tryFindChild(id);
  if (found === undefined) return new kind(stack, id);
  if (found instanceof kind) return found;
  throw new Error(`the stack's '${id}' is not a ${kind.name}: that id is prowler-org-onboarding's, rename your construct`);
}

/** The partition of the stack's default provider (`aws`, `aws-us-gov`, `aws-cn`). */
export const stackPartition = (scope: Construct): string => once(scope, 'ProwlerOrgOnboardingPartition', DataAwsPartition).partition;
/** The region of the stack's default provider. `name`: in provider 5.x and 6.x alike. */
export const stackRegion = (scope: Construct): string => once(scope, 'ProwlerOrgOnboardingRegion', DataAwsRegion).name;
/** The account of the stack's default provider's credentials. */
export const stackAccount = (scope: Construct): string => once(scope, 'ProwlerOrgOnboardingCaller', DataAwsCallerIdentity).accountId;
