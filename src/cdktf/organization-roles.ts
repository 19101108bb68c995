import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { ProwlerMemberRoleStackSet } from './member-stackset';
import { addStackOutputs } from './outputs';
import { ProwlerScanRole } from './scan-role';
import { declareConstruct, TF_CHECK_CONTEXT, throwIfInvalid } from './validation';
import type { OrganizationRolesOptions, StackOutputsOptions } from '../core/options';
import { createsLocalRole, DELEGATED_ADMIN_MANAGEMENT_ROLE } from '../core/stackset';
import { organizationRolesParts } from '../core/validate';

/**
 * Properties of {@link ProwlerOrganizationRoles}: the shared {@link OrganizationRolesOptions}, and
 * whether to add its stack outputs (the management role's ARN, the StackSet's name and id).
 */
export interface ProwlerOrganizationRolesProps extends OrganizationRolesOptions, StackOutputsOptions {}

/** The management role with Organizations discovery and the member StackSet, sharing one trust. */
export class ProwlerOrganizationRoles extends Construct {
  /** The role in this account, with Organizations discovery. */
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
    const { roleOptions, stackSetOptions, problems } = organizationRolesParts(props, TF_CHECK_CONTEXT);
    throwIfInvalid(this, problems);
    if (createsLocalRole(props.callAs)) {
      this.managementRole = new ProwlerScanRole(this, 'ManagementRole', roleOptions);
    } else {
      Annotations.of(this).addWarning(DELEGATED_ADMIN_MANAGEMENT_ROLE);
    }
    this.memberStackSet = new ProwlerMemberRoleStackSet(this, 'MemberRoles', stackSetOptions);
    addStackOutputs(this, props.outputs, {
      scanRoleArn: this.managementRole?.roleArn,
      stackSetName: this.memberStackSet.stackSetName,
      stackSetId: this.memberStackSet.stackSetId,
    });
  }
}
