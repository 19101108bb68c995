/**
 * Names and defaults shared by every flavour (CDK, CDKTF, templates/, the handler).
 * Change a value here and every rendering follows; tests fail where a committed artefact drifts.
 */

import { StackSetConcurrencyMode } from './options';

/** The role name Prowler assumes in every account. Prowler expects this exact name. */
export const SCAN_ROLE_NAME = 'ProwlerScan';

/** Prowler Cloud's AWS account, trusted by default. */
export const PROWLER_CLOUD_ACCOUNT_ID = '232136659152';

/** Prowler Cloud's IAM principals inside its account, trusted by default. */
export const DEFAULT_TRUSTED_PRINCIPAL = 'role/prowler*';

/** Session length Prowler's own template grants, in seconds. */
export const MAX_SESSION_DURATION_SECONDS = 3600;

/** Default StackSet failure tolerance (percent of accounts), as in Prowler's template. */
export const DEFAULT_FAILURE_TOLERANCE_PERCENTAGE = 10;

/**
 * Default StackSet concurrency mode: concurrency is not bounded by the tolerance (under STRICT, 10 %
 * of 9 accounts is 0: one account at a time, stopping at the first failure).
 */
export const DEFAULT_STACKSET_CONCURRENCY_MODE = StackSetConcurrencyMode.SOFT_FAILURE_TOLERANCE;

/** Default StackSet concurrency (percent of accounts), as in Prowler's template. */
export const DEFAULT_MAX_CONCURRENT_PERCENTAGE = 100;

/** CloudFormation accepts at most this many OUs in one stack-instance operation. */
export const MAX_STACKSET_TARGETS = 50;

/** CloudFormation's limit for an inline template body (`TemplateBody`), in bytes. */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;

/**
 * The AWS Organizations events after which the onboarding runs again, as CloudTrail logs them in
 * the management account: an account created (`CreateAccountResult`, a service event), an invited
 * account joining (`AccountJoinedOrganization`; the invitation itself changes nothing, and the
 * member's `AcceptHandshake` is logged in the member account), moved, removed, leaving by itself
 * (`AccountDepartedOrganization`), closed, and tags changed (a selection can depend on tags).
 */
export const ORGANIZATIONS_EVENT_NAMES: readonly string[] = [
  'CreateAccountResult', 'AccountJoinedOrganization', 'MoveAccount', 'RemoveAccountFromOrganization', 'AccountDepartedOrganization', 'CloseAccount',
  'TagResource', 'UntagResource',
];

/** The member StackSet's description, in every flavour. */
export const STACKSET_DESCRIPTION = 'Deploys the ProwlerScan IAM role to the member accounts of an AWS Organization (prowler-org-onboarding)';

/** Tags Prowler's template puts on the role; `CloudFormation` or `Terraform` says who manages it. */
export function scanRoleTags(managedBy: 'CloudFormation' | 'Terraform'): Record<string, string> {
  return {
    Service: 'https://prowler.com',
    Support: 'support@prowler.com',
    [managedBy]: 'true',
    Name: SCAN_ROLE_NAME,
  };
}

/** The AWS managed policies attached to every ProwlerScan role (`${Partition}` is bound per flavour). */
export const SCAN_MANAGED_POLICY_ARNS: readonly string[] = [
  'arn:${Partition}:iam::aws:policy/SecurityAudit',
  'arn:${Partition}:iam::aws:policy/job-function/ViewOnlyAccess',
];

/** The member StackSet's name in Terraform when none is given (CloudFormation derives one from the stack name; Terraform has none). */
export const DEFAULT_TERRAFORM_STACKSET_NAME = 'prowler-scan-member-role';
