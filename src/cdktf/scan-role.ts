import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { stackPartition } from './stack-data';
import { declareConstruct, onlyInProwlerCloudPartition, TF_CHECK_CONTEXT, throwIfInvalid } from './validation';
import { bind, bindAll } from '../core/bind';
import { MAX_SESSION_DURATION_SECONDS, SCAN_MANAGED_POLICY_ARNS, SCAN_ROLE_NAME, scanRoleTags } from '../core/defaults';
import type { ScanRoleOptions } from '../core/options';
import { OTHER_PARTITIONS, trustOutsidePartitionMessage, trustsProwlerCloud } from '../core/partition';
import { policyDocument, scanRoleBindings, scanRolePolicies, trustPolicyDocument } from '../core/policy';
import { validateScanRole } from '../core/validate';

/** Properties of a {@link ProwlerScanRole} (Terraform). */
export interface ProwlerScanRoleProps extends ScanRoleOptions {}

/**
 * The `ProwlerScan` IAM role in the current account, as Terraform resources: read-only scan
 * permissions, trusted by Prowler under your External ID, Organizations discovery when asked for.
 */
export class ProwlerScanRole extends Construct {
  /** The IAM role. */
  public readonly role: IamRole;
  /** The role's ARN: what Prowler's provider secret points at. */
  public readonly roleArn: string;
  /** The role's name. */
  public readonly roleName: string;

  constructor(scope: Construct, id: string, props: ProwlerScanRoleProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerScanRole');
    throwIfInvalid(this, validateScanRole(props, TF_CHECK_CONTEXT));
    const roleName = props.roleName ?? SCAN_ROLE_NAME;
    if (roleName !== SCAN_ROLE_NAME) {
      Annotations.of(this).addWarning(
        `roleName is '${roleName}': Prowler assumes '${SCAN_ROLE_NAME}' in every account, so connection tests and scans fail unless your Prowler deployment is configured for this name.`,
      );
    }
    const partition = stackPartition(this);
    const bindings = scanRoleBindings(props, partition);
    this.role = new IamRole(this, 'Role', {
      name: roleName,
      description: 'Prowler scan role (read-only), managed by prowler-org-onboarding',
      maxSessionDuration: MAX_SESSION_DURATION_SECONDS,
      assumeRolePolicy: JSON.stringify(bindAll(trustPolicyDocument(), bindings)),
      tags: scanRoleTags('Terraform'),
      ...(trustsProwlerCloud(props.trustedAccountId)
        ? { lifecycle: onlyInProwlerCloudPartition(partition, trustOutsidePartitionMessage(OTHER_PARTITIONS, props.trustedAccountId)) }
        : {}),
    });
    SCAN_MANAGED_POLICY_ARNS.forEach((arn) => new IamRolePolicyAttachment(this, arn.split('/').pop()!, {
      role: this.role.name,
      policyArn: bind(arn, bindings),
    }));
    const policies = scanRolePolicies(props);
    for (const p of policies) {
      new IamRolePolicy(this, `Policy${p.name}`, { role: this.role.id, name: p.name, policy: JSON.stringify(bindAll(policyDocument(p), bindings)) });
    }
    this.roleArn = this.role.arn;
    this.roleName = this.role.name;
  }
}
