import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ProwlerOrganizationOnboarding, type OnboardingOptions } from './onboarding';
import { ProwlerOrganizationRoles, type ProwlerOrganizationRolesProps } from './organization-roles';
import { declareConstruct, knownPartition, throwIfInvalid } from './validation';
import { partitionProblems } from '../core/partition';
import { selectionWithinStackSet } from '../core/spec';

/**
 * Properties of {@link ProwlerOrganization}: the roles' and the onboarding's. The StackSet's
 * `targets`, `excludeAccounts` and `onlyAccounts` are also the onboarding's selection; `selection`
 * refines it (tags, aliases, excluded OUs below the targets).
 */
export interface ProwlerOrganizationProps extends ProwlerOrganizationRolesProps, OnboardingOptions {}

/**
 * The whole thing in one line: the management-account ProwlerScan role, the member StackSet,
 * and the onboarding of the accounts it deploys the role to, sharing one External ID, the
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
    declareConstruct(this, 'ProwlerOrganization');
    // Both at once, before the parts each report theirs: in GovCloud or China neither default works.
    const partition = knownPartition(this);
    throwIfInvalid(this, partition ? partitionProblems(partition, { trust: props, api: props }) : []);
    this.roles = new ProwlerOrganizationRoles(this, 'Roles', props);
    const { selection, problems, warnings } = selectionWithinStackSet(props, props.selection);
    throwIfInvalid(this, problems);
    for (const warning of warnings) Annotations.of(this).addWarningV2('prowler-org-onboarding:selectionBeyondStackSet', warning);
    this.onboarding = new ProwlerOrganizationOnboarding(this, 'Onboarding', { ...props, selection, memberStackSet: this.roles.memberStackSet });
    // Connection tests need the roles: the management role and the member StackSet first.
    this.onboarding.node.addDependency(this.roles);
  }
}
