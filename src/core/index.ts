/**
 * The framework-free core: the ProwlerScan role as data, names and defaults, validators and the
 * Quick Create link builder. No aws-cdk-lib, no cdktf.
 *
 * The public (jsii) surface is the option types plus a few static classes; the modules behind
 * them are shared, as plain functions, by the CDK and CDKTF constructs, the templates and the
 * handler.
 */
import { memberTemplate } from './cfn';
import * as d from './defaults';
import type { MemberStackSetOptions, QuickCreateLinkOptions, ScanRoleOptions } from './options';
import { ORGANIZATIONS_DISCOVERY_ACTIONS, SCAN_READ_ONLY_ACTIONS } from './policy';
import { quickCreateLink } from './quick-create';
import { validateMemberStackSet, validateScanRole } from './validate';

export * from './options';
export * from './onboarding-types';
export * from './spec-file';

/** Names and defaults every flavour of this package uses. */
export class ProwlerDefaults {
  /** The role name Prowler assumes in every account: `ProwlerScan`. */
  public static readonly ROLE_NAME = d.SCAN_ROLE_NAME;
  /** Prowler Cloud's AWS account, trusted by default. */
  public static readonly PROWLER_CLOUD_ACCOUNT_ID = d.PROWLER_CLOUD_ACCOUNT_ID;
  /** Prowler Cloud's principals in that account, trusted by default: `role/prowler*`. */
  public static readonly TRUSTED_PRINCIPAL = d.DEFAULT_TRUSTED_PRINCIPAL;
  /** The role's maximum session duration, in seconds. */
  public static readonly MAX_SESSION_DURATION_SECONDS = d.MAX_SESSION_DURATION_SECONDS;
  /** Default StackSet failure tolerance, in percent. */
  public static readonly FAILURE_TOLERANCE_PERCENTAGE = d.DEFAULT_FAILURE_TOLERANCE_PERCENTAGE;
  /** The most OU or root ids one StackSet deployment takes. */
  public static readonly MAX_STACKSET_TARGETS = d.MAX_STACKSET_TARGETS;

  private constructor() {}
}

/** What the ProwlerScan role grants, for reading and for comparing. */
export class ScanRolePermissions {
  /** Read-only actions granted beyond SecurityAudit and ViewOnlyAccess (sorted). */
  public static readOnlyActions(): string[] {
    return [...SCAN_READ_ONLY_ACTIONS];
  }

  /** The Organizations discovery actions of the management-account role (sorted). */
  public static organizationsDiscoveryActions(): string[] {
    return [...ORGANIZATIONS_DISCOVERY_ACTIONS];
  }

  /** The AWS managed policies attached to the role, for a partition (`aws`, `aws-cn`, `aws-us-gov`). */
  public static managedPolicyArns(partition: string): string[] {
    return d.SCAN_MANAGED_POLICY_ARNS.map((arn) => arn.replace('${Partition}', partition));
  }

  /** The member-account CloudFormation template (as JSON) that the StackSet deploys. */
  public static memberTemplate(): any {
    return memberTemplate();
  }

  private constructor() {}
}

/** Validation of construct options without a framework: every problem at once. */
export class Validation {
  /** Problems with the options of one ProwlerScan role (empty when valid). */
  public static scanRole(options: ScanRoleOptions): string[] {
    return validateScanRole(options);
  }

  /** Problems with the options of the member role StackSet (empty when valid). */
  public static memberStackSet(options: MemberStackSetOptions): string[] {
    return validateMemberStackSet(options);
  }

  private constructor() {}
}

/** CloudFormation console links. */
export class QuickCreateLink {
  /**
   * A Quick Create link: the console's create-stack form for `templateUrl`, with the stack name
   * and parameters filled in, every value URL-encoded.
   */
  public static url(options: QuickCreateLinkOptions): string {
    return quickCreateLink(options);
  }

  private constructor() {}
}
