import { Aws, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CDK_CHECK_CONTEXT, declareConstruct, knownPartition, throwIfInvalid } from './validation';
import {
  ORGANIZATIONS_EVENT_PATTERN, eventForwarding, forwardingRuleArn, managementForwardingRuleName, organizationsRegion, partitionOfRegion,
} from '../core/onboarding';
import { checkRequired } from '../core/validate';

/** Properties of {@link ProwlerOrganizationEventForwarder}. */
export interface ProwlerOrganizationEventForwarderProps {
  /** The delegated administrator the onboarding is deployed from. */
  readonly delegatedAdministratorAccountId: string;
  /** The region of the onboarding's stack in the delegated administrator. */
  readonly onboardingRegion: string;
}

/**
 * Deploying the onboarding from a CloudFormation StackSets delegated administrator: Organizations
 * events are recorded only in the management account, in the Organizations region. This rule,
 * in a management-account stack in that region (us-east-1 in the aws partition), sends them to the
 * delegated administrator's default event bus in the onboarding's region, whose onboarding accepts
 * them with `organizationEventsFrom` set to the management account.
 */
export class ProwlerOrganizationEventForwarder extends Construct {
  /** The rule on the management account's default event bus. */
  public readonly rule: events.Rule;
  /** The role EventBridge puts the events on the delegated administrator's bus with. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationEventForwarderProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerOrganizationEventForwarder');
    const stack = Stack.of(this);
    const target = props.delegatedAdministratorAccountId;
    const problems = [
      ...checkRequired('delegatedAdministratorAccountId', target, 'accountId', CDK_CHECK_CONTEXT),
      ...checkRequired('onboardingRegion', props.onboardingRegion, 'region', CDK_CHECK_CONTEXT),
    ];
    const partition = knownPartition(this);
    if (!partition) {
      problems.push(`the stack's region must be known at synth (env: { region: ... }): the rule must be in the Organizations region, got ${stack.region}`);
    } else if (stack.region !== organizationsRegion(partition)) {
      problems.push(`the stack's region must be ${organizationsRegion(partition)}, the only region of the ${partition} partition where Organizations events `
        + `reach EventBridge: got '${stack.region}'. Put the forwarder in a management-account stack there`);
    }
    const onboardingPartition = Token.isUnresolved(props.onboardingRegion) ? undefined : partitionOfRegion(props.onboardingRegion);
    if (partition && onboardingPartition && problems.length === 0 && onboardingPartition !== partition) {
      problems.push(`onboardingRegion: '${props.onboardingRegion}' is not in the ${partition} partition of this stack: events cannot cross partitions`);
    }
    if (!Token.isUnresolved(target) && !Token.isUnresolved(stack.account) && target === stack.account) {
      problems.push(`delegatedAdministratorAccountId: '${target}' is this stack's own account: the onboarding in the management account receives the events already`);
    }
    throwIfInvalid(this, problems);

    const ruleName = managementForwardingRuleName(target, props.onboardingRegion);
    const ruleArn = forwardingRuleArn({ partition: Aws.PARTITION, home: stack.region, account: stack.account, ruleName });
    const forwarding = eventForwarding({
      partition: Aws.PARTITION, region: props.onboardingRegion, account: stack.account, ruleArn, targetAccount: target,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal(forwarding.trustedService, { conditions: forwarding.trustCondition }),
      description: `prowler-org-onboarding: forwards Organizations events to ${target} in ${props.onboardingRegion}`,
    });
    for (const s of forwarding.statements) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: s.sid, actions: s.actions, resources: s.resources }));
    }
    const pattern = ORGANIZATIONS_EVENT_PATTERN;
    const role = this.role;
    this.rule = new events.Rule(this, 'Rule', {
      ruleName,
      description: `prowler-org-onboarding: Organizations events to the delegated administrator ${target}`,
      eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
      targets: [{ bind: () => ({ arn: forwarding.busArn, role }) }],
    });
  }
}
