import { Annotations, CfnStackSet, Names, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CDK_CHECK_CONTEXT, declareConstruct, knownPartition, throwIfInvalid } from './validation';
import type { MemberStackSetOptions, StackSetDeploymentTargets } from '../core/options';
import { partitionProblems } from '../core/partition';
import { deploymentTargets, memberStackSetModel, memberStackSetWarnings } from '../core/stackset';
import { validateMemberStackSet } from '../core/validate';

/** Properties of a {@link ProwlerMemberRoleStackSet}. */
export interface ProwlerMemberRoleStackSetProps extends MemberStackSetOptions {}

/**
 * A service-managed CloudFormation StackSet that deploys the `ProwlerScan` role (scan permissions
 * only, never Organizations ones) to every account below the target OUs or root, new accounts
 * included. Service-managed StackSets never deploy to the management account: give it its own
 * {@link ProwlerScanRole} (or use {@link ProwlerOrganizationRoles}).
 */
export class ProwlerMemberRoleStackSet extends Construct {
  /** The underlying StackSet resource. */
  public readonly stackSet: CfnStackSet;
  /** The StackSet's id (`name:uuid`). */
  public readonly stackSetId: string;
  /** The StackSet's name. */
  public readonly stackSetName: string;
  /** Who deploys it: `SELF` or `DELEGATED_ADMIN`. */
  public readonly callAs: string;
  /** Where it deploys the role (the onboarding's connection tests wait only there). */
  public readonly deploymentTargets: StackSetDeploymentTargets;

  constructor(scope: Construct, id: string, props: ProwlerMemberRoleStackSetProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerMemberRoleStackSet');
    const partition = knownPartition(this);
    throwIfInvalid(this, [
      ...validateMemberStackSet(props, CDK_CHECK_CONTEXT),
      ...(partition ? partitionProblems(partition, { trust: props }) : []),
    ]);

    const model = memberStackSetModel(props);
    for (const warning of memberStackSetWarnings(props)) Annotations.of(this).addWarningV2('prowler-org-onboarding:autoDeploymentFilters', warning);
    const group = model.instanceGroup;
    this.stackSetName = model.stackSetName ?? Names.uniqueResourceName(this, { maxLength: 128, separator: '-' });
    this.stackSet = new CfnStackSet(this, 'StackSet', {
      stackSetName: this.stackSetName,
      description: model.description,
      permissionModel: model.permissionModel,
      capabilities: model.capabilities,
      callAs: model.callAs,
      autoDeployment: {
        enabled: model.autoDeployment.enabled,
        retainStacksOnAccountRemoval: model.autoDeployment.retainStacksOnAccountRemoval,
      },
      managedExecution: { Active: model.managedExecution.active },
      operationPreferences: {
        failureTolerancePercentage: model.operationPreferences.failureTolerancePercentage,
        maxConcurrentPercentage: model.operationPreferences.maxConcurrentPercentage,
        regionConcurrencyType: model.operationPreferences.regionConcurrencyType,
        concurrencyMode: model.operationPreferences.concurrencyMode,
      },
      parameters: Object.entries(model.parameters).map(([parameterKey, parameterValue]) => ({ parameterKey, parameterValue })),
      stackInstancesGroup: [{
        deploymentTargets: {
          organizationalUnitIds: group.organizationalUnitIds,
          accountFilterType: group.accountFilterType,
          accounts: group.accounts,
        },
        regions: group.regions ?? [Stack.of(this).region],
      }],
      templateBody: model.templateBody,
    });
    this.stackSetId = this.stackSet.attrStackSetId;
    this.callAs = model.callAs;
    this.deploymentTargets = deploymentTargets(group);
  }
}
