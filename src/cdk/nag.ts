import { Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { SCAN_READ_ONLY_ACTIONS } from '../core/policy';

/**
 * cdk-nag (3.x) findings the constructs of this package acknowledge on their own resources, each
 * with the reason it is acceptable. They are recorded the way `Validations.of(x).acknowledge()`
 * records them (construct metadata that aws-cdk-lib's policy validation and cdk-nag both read),
 * so a user's `Validations.of(app).addPlugins(new AwsSolutionsChecks(app))` passes on the README's
 * quick start and shows each acknowledgement, with its reason, in the validation report.
 *
 * Only what the constructs create is acknowledged, finding by finding: a finding on a user's own
 * resource (a `functionRole` or `stateBucket` passed in), or a new one in a later version of
 * cdk-nag or aws-cdk-lib, still fails the user's synth.
 */

/** The metadata type aws-cdk-lib's `Validations.acknowledge()` writes (aws-cdk-lib ≥ 2.257). */
export const ACKNOWLEDGED_RULES_METADATA_KEY = 'aws:cdk:acknowledged-rules';
/** cdk-nag's AwsSolutions pack: its plugin namespace in aws-cdk-lib's validation report. */
const NAMESPACE = 'AwsSolutions';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const WILDCARD_ACTIONS = SCAN_READ_ONLY_ACTIONS.filter((a) => a.includes('*'));

/** A category of finding (its id, as cdk-nag writes it) and why it is acceptable here. */
export interface NagAcknowledgement {
  /** Matches the finding ids of this category, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly finding: RegExp;
  /** Why the finding is acceptable: shown in the user's validation report. */
  readonly reason: string;
}

/** Every category of finding the constructs acknowledge. */
export const NAG_ACKNOWLEDGEMENTS: readonly NagAcknowledgement[] = [
  {
    finding: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/(SecurityAudit|job-function\/ViewOnlyAccess)\]$/,
    reason: 'The ProwlerScan role\'s read-only baseline that Prowler documents (SecurityAudit, ViewOnlyAccess); AWS keeps it current as services are added, which a customer-managed copy would not.',
  },
  {
    finding: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/(AWSLambdaBasicExecutionRole|AWSLambdaVPCAccessExecutionRole)\]$/,
    reason: 'The CDK Provider framework\'s functions (and, in a VPC, the onboarding functions) use AWS\'s logs-only (and network-interface) execution policies, as aws-cdk-lib builds them.',
  },
  {
    finding: new RegExp(`^AwsSolutions-IAM5\\[Action::(${WILDCARD_ACTIONS.map(escape).join('|')})\\]$`),
    reason: 'Prowler\'s own read-only additions to the scan role; the package\'s tests expand every wildcard against IAM\'s service authorization data and fail on any action that is not List or Read.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    reason: 'A security scanner reads every resource of the account (read-only actions); the Organizations discovery actions DescribeOrganization, ListAccounts and ListRoots accept no resource ARN in IAM.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:apigateway:\*::\/(restapis|apis|domainnames)(\/\*)?\]$/,
    reason: 'apigateway:GET on the account\'s REST and HTTP APIs and domain names: read-only, as in Prowler\'s own template.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:organizations::\*:(account|ou|root|policy)\/o-[a-z0-9]{10,32}\/\*\]$/,
    reason: 'Organizations discovery reads every account, OU and root of this one organization: already scoped to its id.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:s3:::<[A-Za-z0-9]+>\/\*\]$/,
    reason: 'The objects of the onboarding\'s own state bucket (run state, the record of what it created, the latest report).',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<[A-Za-z0-9]+>:\*\]$/,
    reason: 'The log streams of the onboarding functions\' own log groups.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stackset\/[A-Za-z0-9-]+:\*\]$/,
    reason: 'ListStackInstances on the member StackSet only; the :* is the id CloudFormation appends to its name.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::<[A-Za-z0-9]+\.Arn>:\*\]$/,
    reason: 'The CDK Provider framework invokes its functions by ARN and version (…:*), as aws-cdk-lib grants it.',
  },
  {
    finding: /^AwsSolutions-S1$/,
    reason: 'The state bucket holds only this construct\'s run state (expiring) and its latest report; an access-log bucket would be one more bucket to protect for no audit value.',
  },
  {
    finding: /^AwsSolutions-L1$/,
    reason: 'The onboarding functions run nodejs22.x, the runtime this package is built and tested for; the Provider framework\'s runtime is aws-cdk-lib\'s.',
  },
  {
    finding: /^AwsSolutions-SF[12]$/,
    reason: 'The CDK Provider framework\'s waiter state machine is aws-cdk-lib\'s; its executions are polls whose outcome the onboarding functions log as JSON.',
  },
];

/** The reason a finding id is acknowledged for, if it is one of {@link NAG_ACKNOWLEDGEMENTS}. */
export function nagReason(findingId: string): string | undefined {
  return NAG_ACKNOWLEDGEMENTS.find((a) => a.finding.test(findingId))?.reason;
}

/** A CloudFormation value as cdk-nag writes it in a finding id (its `flattenCfnReference`). */
export function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if (v['Fn::Join']) {
      const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
      return items.map(flattenCfnReference).join(delimiter);
    }
    if (v['Fn::Sub']) return flattenCfnReference(v['Fn::Sub']);
    if (v['Fn::GetAtt']) {
      const [resource, attribute] = v['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
    }
    if (v['Fn::ImportValue']) return flattenCfnReference(v['Fn::ImportValue']);
    if (v.Ref) return `<${flattenCfnReference(v.Ref)}>`;
  }
  return JSON.stringify(value);
}

const asList = (x: unknown): unknown[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** The IAM5 findings a policy document can give: wildcard actions and resources of its Allow statements. */
function wildcardFindings(document: unknown): string[] {
  const statements = asList((document as { Statement?: unknown } | undefined)?.Statement) as Array<Record<string, unknown>>;
  const found: string[] = [];
  for (const statement of statements) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of asList(statement.Action ?? statement.NotAction)) {
      const flat = flattenCfnReference(action);
      if (flat.includes('*')) found.push(`AwsSolutions-IAM5[Action::${flat}]`);
    }
    for (const resource of asList(statement.Resource ?? statement.NotResource)) {
      const flat = flattenCfnReference(resource);
      if (flat.includes('*')) found.push(`AwsSolutions-IAM5[Resource::${flat}]`);
    }
  }
  return found;
}

/**
 * The finding ids cdk-nag's AwsSolutions pack can report on a resource, for the rules this package
 * acknowledges (IAM4, IAM5, S1, L1, SF1, SF2). A superset is harmless: only ids that match one of
 * {@link NAG_ACKNOWLEDGEMENTS} are acknowledged, and an acknowledgement of a finding that is not
 * reported changes nothing.
 */
export function candidateFindings(type: string, properties: Record<string, any>): string[] {
  switch (type) {
    case 'AWS::IAM::Role':
      return [
        ...asList(properties.ManagedPolicyArns).map((arn) => `AwsSolutions-IAM4[Policy::${flattenCfnReference(arn)}]`),
        ...asList(properties.Policies).flatMap((p) => wildcardFindings((p as { PolicyDocument?: unknown }).PolicyDocument)),
      ];
    case 'AWS::IAM::Policy':
    case 'AWS::IAM::ManagedPolicy':
      return wildcardFindings(properties.PolicyDocument);
    case 'AWS::S3::Bucket':
      return ['AwsSolutions-S1'];
    case 'AWS::Lambda::Function':
      return ['AwsSolutions-L1'];
    case 'AWS::StepFunctions::StateMachine':
      return ['AwsSolutions-SF1', 'AwsSolutions-SF2'];
    default:
      return [];
  }
}

const VISITED = Symbol.for('prowler-org-onboarding.nag-acknowledged');

/** Visits the constructs' own resources and records the acknowledgements that apply to each. */
class AcknowledgeOwnFindings implements IAspect {
  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    const marked = node as unknown as Record<symbol, boolean>;
    if (marked[VISITED]) return;
    marked[VISITED] = true;
    const rendered = Stack.of(node).resolve((node as unknown as { _toCloudFormation(): object })._toCloudFormation()) as
      { Resources?: Record<string, { Type: string; Properties?: Record<string, any> }> };
    const acknowledged: Record<string, string> = {};
    for (const resource of Object.values(rendered.Resources ?? {})) {
      for (const id of candidateFindings(resource.Type, resource.Properties ?? {})) {
        const reason = nagReason(id);
        if (reason) acknowledged[`${NAMESPACE}::${id}`] = reason;
      }
    }
    if (Object.keys(acknowledged).length > 0) node.node.addMetadata(ACKNOWLEDGED_RULES_METADATA_KEY, acknowledged);
  }
}

/** Acknowledges, with their reasons, the cdk-nag findings on the resources `scope` creates. */
export function acknowledgeOwnNagFindings(scope: Construct): void {
  Aspects.of(scope).add(new AcknowledgeOwnFindings());
}
