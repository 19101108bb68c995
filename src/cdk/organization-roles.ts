import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ProwlerMemberRoleStackSet } from './member-stackset';
import { addStackOutputs } from './outputs';
import { ProwlerScanRole } from './scan-role';
import { CDK_CHECK_CONTEXT, declareConstruct, throwIfInvalid } from './validation';
import type { OrganizationRolesOptions, StackOutputsOptions } from '../core/options';
import { createsLocalRole, DELEGATED_ADMIN_MANAGEMENT_ROLE } from '../core/stackset';
import { organizationRolesParts } from '../core/validate';

/**
 * Properties of {@link ProwlerOrganizationRoles}: the shared {@link OrganizationRolesOptions}, and
 * whether to add its stack outputs (the management role's ARN, the StackSet's name and id).
 */
export interface ProwlerOrganizationRolesProps extends OrganizationRolesOptions, StackOutputsOptions {}

/**
 * The usual pair in one line: the management-account `ProwlerScan` role with Organizations
 * discovery, and the member StackSet deploying the same role (scan permissions only) to every
 * targeted account. Both share one External ID and trust.
 */
export class ProwlerOrganizationRoles extends Construct {
  /** The role in this (management or delegated administrator) account, with Organizations discovery. */
  /**
   * The role in this account, with Organizations discovery (none from a delegated administrator:
   * the management account then needs its own).
   */
  public readonly managementRole?: ProwlerScanRole;
  /** The StackSet deploying the role to member accounts. */
  public readonly memberStackSet: ProwlerMemberRoleStackSet;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationRolesProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerOrganizationRoles');
    const { roleOptions, stackSetOptions, problems } = organizationRolesParts(props, CDK_CHECK_CONTEXT);
    throwIfInvalid(this, problems);
    if (createsLocalRole(props.callAs)) {
      this.managementRole = new ProwlerScanRole(this, 'ManagementRole', roleOptions);
    } else {
      Annotations.of(this).addWarningV2('prowler-org-onboarding:delegatedAdmin', DELEGATED_ADMIN_MANAGEMENT_ROLE);
    }
    this.memberStackSet = new ProwlerMemberRoleStackSet(this, 'MemberRoles', stackSetOptions);
    addStackOutputs(this, props.outputs, {
      scanRoleArn: this.managementRole?.roleArn,
      stackSetName: this.memberStackSet.stackSetName,
      stackSetId: this.memberStackSet.stackSetId,
    });
  }
}
