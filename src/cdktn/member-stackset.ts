// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
import { CloudformationStackInstances } from '@cdktn/provider-aws/lib/cloudformation-stack-instances';
import { CloudformationStackSet } from '@cdktn/provider-aws/lib/cloudformation-stack-set';
import { Annotations } from 'cdktn';
import { Construct } from 'constructs';
import { stackPartition, stackRegion } from './stack-data';
import { declareConstruct, onlyInProwlerCloudPartition, terraformLiteral, TF_CHECK_CONTEXT, throwIfInvalid } from './validation';
import { DEFAULT_TERRAFORM_STACKSET_NAME } from '../core/defaults';
import type { MemberStackSetOptions, StackSetDeploymentTargets } from '../core/options';
import { OTHER_PARTITIONS, trustOutsidePartitionMessage, trustsProwlerCloud } from '../core/partition';
import { deploymentTargets, memberStackSetModel, memberStackSetWarnings } from '../core/stackset';
import { validateMemberStackSet } from '../core/validate';

/** The StackSet name Terraform needs when none is given: this prefix and a hash of the construct path. */
export { DEFAULT_TERRAFORM_STACKSET_NAME };

/** Properties of a {@link ProwlerMemberRoleStackSet} (Terraform). */
export interface ProwlerMemberRoleStackSetProps extends MemberStackSetOptions {}


/**
 * A service-managed CloudFormation StackSet deploying the `ProwlerScan` role (scan permissions
 * only) to every account below the targets, new ones included, as Terraform resources: the
 * StackSet and its stack instances.
 *
 * The instances are one `aws_cloudformation_stack_instances` resource for all regions, which
 * changes targets, accounts and regions in place. (`aws_cloudformation_stack_set_instance` replaces
 * itself when targets change: it would delete the role in every member account and create it
 * again.)
 */
export class ProwlerMemberRoleStackSet extends Construct {
  /** The StackSet. */
  public readonly stackSet: CloudformationStackSet;
  /** Its stack instances, in every region (default: the provider's region). */
  public readonly instances: CloudformationStackInstances;
  /** The StackSet's name. */
  public readonly stackSetName: string;
  /** The StackSet's id (`name:uuid`). */
  public readonly stackSetId: string;
  /** Who deploys it: `SELF` or `DELEGATED_ADMIN`. */
  public readonly callAs: string;
  /** Where it deploys the role (the onboarding's connection tests wait only there). */
  public readonly deploymentTargets: StackSetDeploymentTargets;
  /** The region the StackSet is in (its provider's). */
  public readonly region: string;

  constructor(scope: Construct, id: string, props: ProwlerMemberRoleStackSetProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerMemberRoleStackSet');
    throwIfInvalid(this, validateMemberStackSet(props, TF_CHECK_CONTEXT));
    const model = memberStackSetModel(props);
    for (const warning of memberStackSetWarnings(props)) Annotations.of(this).addWarning(warning);
    this.callAs = model.callAs;
    this.stackSet = new CloudformationStackSet(this, 'StackSet', {
      name: model.stackSetName ?? `${DEFAULT_TERRAFORM_STACKSET_NAME}-${this.node.addr.slice(0, 8)}`,
      description: model.description,
      permissionModel: model.permissionModel,
      capabilities: model.capabilities,
      callAs: model.callAs,
      autoDeployment: { enabled: model.autoDeployment.enabled, retainStacksOnAccountRemoval: model.autoDeployment.retainStacksOnAccountRemoval },
      managedExecution: { active: model.managedExecution.active },
      operationPreferences: {
        failureTolerancePercentage: model.operationPreferences.failureTolerancePercentage,
        maxConcurrentPercentage: model.operationPreferences.maxConcurrentPercentage,
        regionConcurrencyType: model.operationPreferences.regionConcurrencyType,
      },
      parameters: model.parameters,
      templateBody: terraformLiteral(model.templateBody),
      lifecycle: {
        // The provider reports a drift on this service-managed attribute (terraform-provider-aws #23464).
        ignoreChanges: ['administration_role_arn'],
        ...(trustsProwlerCloud(props.trustedAccountId)
          ? onlyInProwlerCloudPartition(stackPartition(this), trustOutsidePartitionMessage(OTHER_PARTITIONS, props.trustedAccountId))
          : {}),
      },
    });
    this.stackSetName = this.stackSet.name;
    this.stackSetId = this.stackSet.stackSetId;
    this.region = stackRegion(this);
    const group = model.instanceGroup;
    this.deploymentTargets = deploymentTargets(group);
    this.instances = new CloudformationStackInstances(this, 'Instances', {
      stackSetName: this.stackSet.name,
      callAs: model.callAs,
      regions: group.regions, // none: the provider's region (the provider fills it in)
      deploymentTargets: {
        organizationalUnitIds: group.organizationalUnitIds,
        accountFilterType: group.accountFilterType,
        accounts: group.accounts,
      },
      operationPreferences: {
        failureTolerancePercentage: model.operationPreferences.failureTolerancePercentage,
        maxConcurrentPercentage: model.operationPreferences.maxConcurrentPercentage,
        regionConcurrencyType: model.operationPreferences.regionConcurrencyType,
        concurrencyMode: model.operationPreferences.concurrencyMode,
      },
    });
  }
}
