/**
 * Option types shared by the CDK and the CDKTF constructs: one definition, one set of defaults,
 * one validator (see validate.ts).
 */

/** Who Prowler is: the account and principal allowed to assume the role, and the External ID. */
export interface TrustOptions {
  /**
   * The External ID Prowler presents when it assumes the role: your Prowler tenant id, shown in
   * Prowler's "Add provider" wizard. 2–1224 characters of `[A-Za-z0-9_+=,.@:/-]`; never a Prowler
   * API key or token (those are refused: the External ID is written into the trust policy).
   */
  readonly externalId: string;

  /**
   * The AWS account whose principals may assume the role. Keep the default for Prowler Cloud; for
   * a self-hosted Prowler App, the account of the identity its API and worker run as.
   * @default '232136659152' (Prowler Cloud)
   */
  readonly trustedAccountId?: string;

  /**
   * The principal inside `trustedAccountId` allowed to assume the role, as `role/<name>` or
   * `user/<name>` (wildcards allowed), or `*` for any principal of that account. Self-hosted:
   * the IAM user or role of the Prowler App's API and worker.
   * @default 'role/prowler*' (Prowler Cloud)
   */
  readonly trustedPrincipal?: string;
}

/** Prowler's optional S3 integration: scan reports written to one bucket. */
export interface S3IntegrationOptions {
  /** The bucket Prowler writes scan reports to. */
  readonly bucketName: string;
  /** The AWS account that owns the bucket (checked with `s3:ResourceAccount`). */
  readonly bucketAccountId: string;
}

/** Everything that shapes one ProwlerScan role. */
export interface ScanRoleOptions extends TrustOptions {
  /**
   * The role's name. Prowler expects `ProwlerScan` in every account; change it only if you know
   * your Prowler deployment assumes another name (a warning is emitted).
   * @default 'ProwlerScan'
   */
  readonly roleName?: string;

  /**
   * Grant the Organizations discovery actions (DescribeOrganization, ListAccounts, ListRoots,
   * DescribeAccount, ListAccountsForParent, ListOrganizationalUnitsForParent,
   * ListTagsForResource). Only for the role in the management account (or a delegated
   * administrator that Prowler uses for discovery).
   * @default false
   */
  readonly organizationDiscovery?: boolean;

  /**
   * Scope the Organizations actions that accept resource ARNs to this organization
   * (`o-` + 10–32 lowercase letters or digits). DescribeOrganization, ListAccounts and ListRoots
   * only accept `*` and stay on `*`.
   * @default - those actions are granted on `*`
   */
  readonly organizationId?: string;

  /**
   * Add the StackSet-management statements of Prowler's own template
   * (`organizations:RegisterDelegatedAdministrator`, `iam:CreateServiceLinkedRole` on the
   * StackSets service-linked-role path). Not needed when this package deploys the member
   * StackSet: CloudFormation does that with your deployment credentials, not with this role.
   * Requires `organizationDiscovery`.
   * @default false
   */
  readonly stackSetManagement?: boolean;

  /**
   * Let Prowler write scan reports to an S3 bucket.
   * @default - no S3 integration
   */
  readonly s3Integration?: S3IntegrationOptions;
}

/** Who deploys the member StackSet. */
export enum CallAs {
  /** The organization's management account. */
  SELF = 'SELF',
  /** A delegated administrator for CloudFormation StackSets. */
  DELEGATED_ADMIN = 'DELEGATED_ADMIN',
}

/** How a StackSet operation's failure tolerance bounds its concurrency. */
export enum StackSetConcurrencyMode {
  /**
   * Concurrency never exceeds the failure tolerance + 1: with a 10 % tolerance an organization of
   * fewer than 10 accounts deploys one account at a time and fails on the first failure.
   */
  STRICT_FAILURE_TOLERANCE = 'STRICT_FAILURE_TOLERANCE',
  /** Concurrency is `maxConcurrentPercentage` whatever the tolerance; failures still stop the operation past it. */
  SOFT_FAILURE_TOLERANCE = 'SOFT_FAILURE_TOLERANCE',
}

/** Where and how the member role StackSet deploys. */
export interface MemberStackSetOptions extends TrustOptions {
  /**
   * Root (`r-…`) or OU (`ou-…-…`) ids to deploy the role to; every account below them gets it,
   * new ones included (auto-deployment). 1–50 ids.
   */
  readonly targets: string[];

  /**
   * Accounts below `targets` that must not get the role (account filter `DIFFERENCE`).
   * Cannot be combined with `onlyAccounts`.
   * @default - no account is excluded
   */
  readonly excludeAccounts?: string[];

  /**
   * Deploy only to these accounts below `targets` (account filter `INTERSECTION`).
   * Cannot be combined with `excludeAccounts`.
   * @default - every account below `targets`
   */
  readonly onlyAccounts?: string[];

  /**
   * Regions to deploy the stack instances to. IAM is global, so one region is enough.
   * @default - one region: the stack's
   */
  readonly regions?: string[];

  /**
   * Deploy to accounts that join a target later, and remove from accounts that leave.
   * @default true
   */
  readonly autoDeployment?: boolean;

  /**
   * Keep the role in an account that leaves the targets or the organization.
   * @default false (the role is removed: least privilege)
   */
  readonly retainStacksOnAccountRemoval?: boolean;

  /**
   * Percentage of accounts in which the operation may fail before CloudFormation stops it (0–100).
   * @default 10
   */
  readonly failureTolerancePercentage?: number;

  /**
   * Percentage of accounts deployed to at once (1–100).
   * @default 100
   */
  readonly maxConcurrentPercentage?: number;

  /**
   * How the failure tolerance bounds concurrency.
   * @default StackSetConcurrencyMode.SOFT_FAILURE_TOLERANCE
   */
  readonly concurrencyMode?: StackSetConcurrencyMode;

  /**
   * Deploy from the management account (`SELF`) or from a delegated administrator
   * (`DELEGATED_ADMIN`).
   * @default CallAs.SELF
   */
  readonly callAs?: CallAs;

  /**
   * Let CloudFormation queue StackSet operations instead of failing while another one runs.
   * @default true
   */
  readonly managedExecution?: boolean;

  /**
   * The StackSet's name (letters, digits and hyphens, starting with a letter; at most 128).
   * Changing it replaces the StackSet, and so the role in every member account.
   * @default - unique per construct: the stack name and the construct path with a hash
   * (CDK), or `prowler-scan-member-role-` and a hash of the construct path (CDKTF)
   */
  readonly stackSetName?: string;

  /**
   * The member roles' name. Prowler expects `ProwlerScan`.
   * @default 'ProwlerScan'
   */
  readonly roleName?: string;

  /**
   * Let Prowler write scan reports to an S3 bucket from the member accounts too.
   * @default - no S3 integration
   */
  readonly s3Integration?: S3IntegrationOptions;
}

/** The management role and the member StackSet together, sharing one trust. */
export interface OrganizationRolesOptions extends MemberStackSetOptions {
  /**
   * Your organization's id: scopes the management role's Organizations actions that accept
   * resource ARNs to this organization.
   * @default - those actions are granted on `*`
   */
  readonly organizationId?: string;

  /**
   * Add Prowler's StackSet-management statements to the management role (parity with Prowler's
   * template; not needed here: the StackSet is deployed with your deployment credentials).
   * @default false
   */
  readonly stackSetManagement?: boolean;
}

/** Whether a construct adds its stack outputs (CloudFormation outputs, Terraform outputs). */
export interface StackOutputsOptions {
  /**
   * Add this construct's stack outputs, under fixed names a pipeline reads after a deploy.
   *
   * The roles add the management role's ARN and the StackSet's name and id, the onboarding its
   * state bucket's name and the latest report's location; the README lists their names
   * (CloudFormation and Terraform). A stack has one output of a name: with two of these
   * constructs in one stack, set `false` on all but one (synth fails, saying so, otherwise).
   * @default true
   */
  readonly outputs?: boolean;
}

/** What a CloudFormation Quick Create link opens. */
export interface QuickCreateLinkOptions {
  /** The region the console opens in (the stack's region). */
  readonly region: string;
  /** An `https://` URL of the template (S3 or any URL CloudFormation can read). */
  readonly templateUrl: string;
  /**
   * The stack name pre-filled in the form.
   * @default 'ProwlerScan'
   */
  readonly stackName?: string;
  /**
   * Template parameters pre-filled in the form, by parameter name.
   * @default - none
   */
  readonly parameters?: Record<string, string>;
}

/** Where a member StackSet deploys: what the onboarding needs to know which accounts get the role. */
export interface StackSetDeploymentTargets {
  /** Root or OU ids: every account below them. */
  readonly organizationalUnitIds: string[];
  /**
   * `DIFFERENCE` (all but `accounts`) or `INTERSECTION` (only `accounts`).
   * @default - no account filter
   */
  readonly accountFilterType?: string;
  /**
   * The accounts of the filter.
   * @default - none
   */
  readonly accounts?: string[];
}
