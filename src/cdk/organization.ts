import { Construct } from 'constructs';
import { ProwlerOrganizationOnboarding, type OnboardingOptions } from './onboarding';
import { ProwlerOrganizationRoles, type ProwlerOrganizationRolesProps } from './organization-roles';

/** Properties of {@link ProwlerOrganization}: the roles' and the onboarding's. */
export interface ProwlerOrganizationProps extends ProwlerOrganizationRolesProps, OnboardingOptions {}

/**
 * The whole thing in one line: the management-account ProwlerScan role, the member StackSet,
 * and the onboarding of every selected account to Prowler, sharing one External ID, the
 * onboarding deployed after the StackSet. Deploy it in the management account (or a delegated
 * administrator, with `callAs: DELEGATED_ADMIN`).
 */
export class ProwlerOrganization extends Construct {
  /** The management role and the member StackSet. */
  public readonly roles: ProwlerOrganizationRoles;
  /** The onboarding of the organization's accounts to Prowler. */
  public readonly onboarding: ProwlerOrganizationOnboarding;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationProps) {
    super(scope, id);
    this.roles = new ProwlerOrganizationRoles(this, 'Roles', props);
    this.onboarding = new ProwlerOrganizationOnboarding(this, 'Onboarding', {
      ...props,
      externalId: props.externalId,
      organizationId: props.organizationId,
      roleName: props.roleName,
      memberStackSet: this.roles.memberStackSet,
    });
    // Connection tests need the roles: the management role and the member StackSet first.
    this.onboarding.node.addDependency(this.roles);
  }
}
