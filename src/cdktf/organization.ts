import { Construct } from 'constructs';
import { ProwlerOrganizationOnboarding } from './onboarding';
import { ProwlerOrganizationRoles, type ProwlerOrganizationRolesProps } from './organization-roles';
import type { AccountSelection, ConnectionTestOptions, RemovalBehaviour, ScanMode } from '../core/onboarding-types';

/** Properties of {@link ProwlerOrganization} (Terraform): the roles' and the onboarding's. */
export interface ProwlerOrganizationProps extends ProwlerOrganizationRolesProps {
  /** The ARN of the Secrets Manager secret holding the Prowler API key. */
  readonly apiKeySecretArn: string;
  /**
   * The Prowler API's base URL.
   * @default 'https://api.prowler.com/api/v1'
   */
  readonly prowlerApiUrl?: string;
  /**
   * Which accounts to onboard.
   * @default - every ACTIVE account
   */
  readonly selection?: AccountSelection;
  /**
   * How scans start.
   * @default ScanMode.DAILY
   */
  readonly scanMode?: ScanMode;
  /**
   * Connection testing.
   * @default - skip policy, 3 re-test rounds
   */
  readonly connection?: ConnectionTestOptions;
  /**
   * What happens to providers that leave the selection, and on destroy.
   * @default RemovalBehaviour.RETAIN
   */
  readonly removal?: RemovalBehaviour;
  /**
   * The sync's schedule expression.
   * @default 'rate(6 hours)'
   */
  readonly syncSchedule?: string;
}

/**
 * The whole thing for Terraform in one line: the management role, the member StackSet, and the
 * onboarding, invoked after the roles and the StackSet instances exist.
 */
export class ProwlerOrganization extends Construct {
  /** The management role and the member StackSet. */
  public readonly roles: ProwlerOrganizationRoles;
  /** The onboarding. */
  public readonly onboarding: ProwlerOrganizationOnboarding;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationProps) {
    super(scope, id);
    this.roles = new ProwlerOrganizationRoles(this, 'Roles', props);
    this.onboarding = new ProwlerOrganizationOnboarding(this, 'Onboarding', {
      apiKeySecretArn: props.apiKeySecretArn,
      prowlerApiUrl: props.prowlerApiUrl,
      selection: props.selection,
      organizationId: props.organizationId,
      externalId: props.externalId,
      roleName: props.roleName,
      scanMode: props.scanMode,
      connection: props.connection,
      removal: props.removal,
      syncSchedule: props.syncSchedule,
      memberStackSet: this.roles.memberStackSet,
    });
    const roles = [this.roles.managementRole.role, this.roles.memberStackSet.stackSet, ...this.roles.memberStackSet.instances];
    this.onboarding.invocation.dependsOn = roles.map((r) => r.fqn);
  }
}
