/**
 * The stack outputs a pipeline reads after a deploy (the management role, the member StackSet,
 * the onboarding's state bucket and its latest report): one name per framework and one
 * description, for the CDK and Terraform constructs, the CloudFormation template and the
 * Terraform module alike.
 */
import { STATE_KEYS } from './onboarding';

/** One stack output, as each framework names it. */
export interface StackOutputDefinition {
  /** The CloudFormation output's key (its logical id). */
  readonly cloudFormation: string;
  /** The Terraform output's name (`terraform output <name>`). */
  readonly terraform: string;
  /** What it holds. */
  readonly description: string;
}

/** Every stack output of this package, by what it holds. */
export const STACK_OUTPUTS = {
  scanRoleArn: {
    cloudFormation: 'ProwlerScanRoleArn',
    terraform: 'prowler_scan_role_arn',
    description: 'ARN of the ProwlerScan IAM role in this account',
  },
  stackSetName: {
    cloudFormation: 'StackSetName',
    terraform: 'stackset_name',
    description: 'The StackSet deploying the ProwlerScan role to member accounts',
  },
  stackSetId: {
    cloudFormation: 'StackSetId',
    terraform: 'stackset_id',
    description: "The StackSet's id (name:uuid)",
  },
  stateBucketName: {
    cloudFormation: 'StateBucketName',
    terraform: 'state_bucket_name',
    description: "The onboarding's state bucket (its record, its run lease, the latest report): the CLI's stateBucket",
  },
  latestReportUri: {
    cloudFormation: 'LatestReportUri',
    terraform: 'latest_report_uri',
    description: 'Where the latest onboarding report is (s3://bucket/key, JSON)',
  },
} as const satisfies Record<string, StackOutputDefinition>;

/** Which output, by what it holds. */
export type StackOutput = keyof typeof STACK_OUTPUTS;

/** The latest report's location in a state bucket (the name may be a framework token: it stays one). */
export function latestReportUri(stateBucketName: string): string {
  return `s3://${stateBucketName}/${STATE_KEYS.latestReport}`;
}

/**
 * The problem with adding outputs the stack already has (`names`, made by the construct at
 * `existingPath`): a stack has one output of a name. `given` is the `outputs` prop.
 */
export function duplicateOutputsProblem(names: readonly string[], existingPath: string, given: boolean | undefined): string {
  return `outputs must be false: the stack already has the outputs ${names.map((n) => `'${n}'`).join(', ')} (from '${existingPath}') and a stack `
    + `has one output of a name (add your own outputs for this construct), got ${given === undefined ? 'true (the default)' : String(given)}`;
}
