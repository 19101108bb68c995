import { Annotations, Aws, Duration, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeOwnNagFindings } from './nag';
import { CDK_CHECK_CONTEXT, declareConstruct, knownPartition, throwIfInvalid } from './validation';
import { bind, bindAll } from '../core/bind';
import { MAX_SESSION_DURATION_SECONDS, SCAN_MANAGED_POLICY_ARNS, SCAN_ROLE_NAME, scanRoleTags } from '../core/defaults';
import type { ScanRoleOptions } from '../core/options';
import { partitionProblems } from '../core/partition';
import { policyDocument, scanRoleBindings, scanRolePolicies, TRUST_CONDITIONS, TRUSTED_ACCOUNT_ROOT_ARN } from '../core/policy';
import { validateScanRole } from '../core/validate';

/** Properties of a {@link ProwlerScanRole}. */
export interface ProwlerScanRoleProps extends ScanRoleOptions {}

/**
 * The `ProwlerScan` IAM role in the current account: read-only scan permissions (SecurityAudit,
 * ViewOnlyAccess and Prowler's additions), trusted by Prowler under your External ID, with
 * Organizations discovery when asked for (management account only).
 */
export class ProwlerScanRole extends Construct {
  /** The IAM role. */
  public readonly role: iam.IRole;
  /** The role's ARN: what Prowler's provider secret points at. */
  public readonly roleArn: string;
  /** The role's name. */
  public readonly roleName: string;

  constructor(scope: Construct, id: string, props: ProwlerScanRoleProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerScanRole');
    acknowledgeOwnNagFindings(this);
    const partition = knownPartition(this);
    throwIfInvalid(this, [
      ...validateScanRole(props, CDK_CHECK_CONTEXT),
      ...(partition ? partitionProblems(partition, { trust: props }) : []),
    ]);

    const roleName = props.roleName ?? SCAN_ROLE_NAME;
    if (roleName !== SCAN_ROLE_NAME) {
      Annotations.of(this).addWarningV2(
        'prowler-org-onboarding:roleName',
        `roleName is '${roleName}': Prowler assumes '${SCAN_ROLE_NAME}' in every account, so connection tests and scans fail unless your Prowler deployment is configured for this name.`,
      );
    }

    const bindings = scanRoleBindings(props, Aws.PARTITION);
    const policies = scanRolePolicies(props);

    const role = new iam.Role(this, 'Role', {
      roleName,
      description: 'Prowler scan role (read-only), managed by prowler-org-onboarding',
      maxSessionDuration: Duration.seconds(MAX_SESSION_DURATION_SECONDS),
      assumedBy: new iam.ArnPrincipal(bind(TRUSTED_ACCOUNT_ROOT_ARN, bindings)).withConditions(bindAll(TRUST_CONDITIONS, bindings)),
      managedPolicies: SCAN_MANAGED_POLICY_ARNS.map((arn) =>
        iam.ManagedPolicy.fromManagedPolicyArn(this, arn.split('/').pop()!, bind(arn, bindings))),
      inlinePolicies: Object.fromEntries(policies.map((p) => [p.name, iam.PolicyDocument.fromJson(bindAll(policyDocument(p), bindings))])),
    });
    for (const [key, value] of Object.entries(scanRoleTags('CloudFormation'))) Tags.of(role).add(key, value);

    this.role = role;
    this.roleArn = role.roleArn;
    this.roleName = role.roleName;
  }
}
