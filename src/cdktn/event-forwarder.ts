// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
import { CloudwatchEventRule } from '@cdktn/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktn/provider-aws/lib/cloudwatch-event-target';
import { DataAwsCallerIdentity } from '@cdktn/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktn/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktn/provider-aws/lib/data-aws-region';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy';
import { Fn, Op, Token, type TerraformProvider } from 'cdktn';
import { Construct } from 'constructs';
import { declareConstruct, TF_CHECK_CONTEXT, throwIfInvalid } from './validation';
import {
  ORGANIZATIONS_EVENT_PATTERN, ORGANIZATIONS_REGIONS, eventForwarding, forwardingRuleArn, managementForwardingRuleName, partitionOfRegion,
  statementJson,
} from '../core/onboarding';
import { checkRequired } from '../core/validate';

/** Properties of {@link ProwlerOrganizationEventForwarder}. */
export interface ProwlerOrganizationEventForwarderProps {
  /** The delegated administrator the onboarding is deployed from. */
  readonly delegatedAdministratorAccountId: string;
  /** The region of the onboarding in the delegated administrator. */
  readonly onboardingRegion: string;
  /**
   * A provider for the management account in the Organizations region (us-east-1 in the aws
   * partition), the only region where Organizations events reach EventBridge.
   * @default - the configuration's default provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * Deploying the onboarding from a CloudFormation StackSets delegated administrator: Organizations
 * events are recorded only in the management account, in the Organizations region. This rule
 * there sends them to the delegated administrator's default event bus in the onboarding's region,
 * whose onboarding accepts them with `organizationEventsFrom` set to the management account.
 */
export class ProwlerOrganizationEventForwarder extends Construct {
  /** The rule on the management account's default event bus. */
  public readonly rule: CloudwatchEventRule;
  /** The role EventBridge puts the events on the delegated administrator's bus with. */
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationEventForwarderProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerOrganizationEventForwarder');
    const target = props.delegatedAdministratorAccountId;
    throwIfInvalid(this, [
      ...checkRequired('delegatedAdministratorAccountId', target, 'accountId', TF_CHECK_CONTEXT),
      ...checkRequired('onboardingRegion', props.onboardingRegion, 'region', TF_CHECK_CONTEXT),
    ]);
    const provider = props.provider;
    const partition = new DataAwsPartition(this, 'Partition', { provider }).partition;
    const home = new DataAwsRegion(this, 'Region', { provider }).name;
    const account = new DataAwsCallerIdentity(this, 'Account', { provider }).accountId;
    const ruleName = managementForwardingRuleName(target, props.onboardingRegion);
    const ruleArn = forwardingRuleArn({ partition, home, account, ruleName });
    const forwarding = eventForwarding({ partition, region: props.onboardingRegion, account, ruleArn, targetAccount: target });

    this.role = new IamRole(this, 'Role', {
      provider,
      name: ruleName,
      description: `prowler-org-onboarding: forwards Organizations events to ${target} in ${props.onboardingRegion}`,
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: forwarding.trustedService }, Action: 'sts:AssumeRole', Condition: forwarding.trustCondition }],
      }),
    });
    new IamRolePolicy(this, 'Policy', {
      provider, role: this.role.name, name: 'forward', policy: JSON.stringify({ Version: '2012-10-17', Statement: forwarding.statements.map(statementJson) }),
    });
    const homes = ORGANIZATIONS_REGIONS;
    const onboardingPartition = Token.isUnresolved(props.onboardingRegion) ? undefined : partitionOfRegion(props.onboardingRegion);
    this.rule = new CloudwatchEventRule(this, 'Rule', {
      provider,
      name: ruleName,
      description: `prowler-org-onboarding: Organizations events to the delegated administrator ${target}`,
      eventPattern: JSON.stringify(ORGANIZATIONS_EVENT_PATTERN),
      lifecycle: {
        precondition: [
          {
            condition: Op.eq(home, Fn.lookup(homes, partition, '')),
            errorMessage: 'ProwlerOrganizationEventForwarder must be deployed with a provider for the management account in the Organizations region '
              + `(${Object.entries(homes).map(([p, r]) => `${r} in ${p}`).join(', ')}), the only region where Organizations events reach EventBridge: pass provider.`,
          },
          ...(onboardingPartition ? [{
            condition: Op.eq(partition, onboardingPartition),
            errorMessage: `onboardingRegion '${props.onboardingRegion}' is in the ${onboardingPartition} partition, not the provider's: events cannot cross partitions.`,
          }] : []),
        ],
      },
    });
    new CloudwatchEventTarget(this, 'Target', { provider, rule: this.rule.name, arn: forwarding.busArn, roleArn: this.role.arn });
  }
}
