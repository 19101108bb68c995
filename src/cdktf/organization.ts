import { Annotations, dependable } from 'cdktf';
import { Construct } from 'constructs';
import { ProwlerOrganizationOnboarding, type OnboardingOptions } from './onboarding';
import { ProwlerOrganizationRoles, type ProwlerOrganizationRolesProps } from './organization-roles';
import { declareConstruct, throwIfInvalid } from './validation';
import { selectionWithinStackSet } from '../core/spec';

/**
 * Properties of {@link ProwlerOrganization} (Terraform): the roles' and the onboarding's. The
 * StackSet's `targets`, `excludeAccounts` and `onlyAccounts` are also the onboarding's selection;
 * `selection` refines it.
 */
export interface ProwlerOrganizationProps extends ProwlerOrganizationRolesProps, OnboardingOptions {}

/**
 * The whole thing for Terraform in one line: the management role, the member StackSet, and the
 * onboarding of the accounts it deploys the role to, invoked after the roles and the StackSet
 * instances exist.
 */
export class ProwlerOrganization extends Construct {
  /** The management role and the member StackSet. */
  public readonly roles: ProwlerOrganizationRoles;
  /** The onboarding. */
  public readonly onboarding: ProwlerOrganizationOnboarding;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerOrganization');
    this.roles = new ProwlerOrganizationRoles(this, 'Roles', props);
    const { selection, problems, warnings } = selectionWithinStackSet(props, props.selection);
    throwIfInvalid(this, problems);
    for (const warning of warnings) Annotations.of(this).addWarning(warning);
    this.onboarding = new ProwlerOrganizationOnboarding(this, 'Onboarding', { ...props, selection, memberStackSet: this.roles.memberStackSet });
    // Terraform wants static references here (aws_iam_role.x), which dependable() renders.
    const management = this.roles.managementRole ? [this.roles.managementRole.role] : [];
    const roles = [...management, this.roles.memberStackSet.stackSet, this.roles.memberStackSet.instances];
    this.onboarding.invocation.dependsOn = roles.map((r) => dependable(r));
  }
}
