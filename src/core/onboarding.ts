/**
 * The onboarding as data: its functions, the environment contract between the constructs and the
 * Lambda, the IAM statements each function needs, what triggers the sync, the state bucket's
 * protections and the outputs. The CDK and CDKTF constructs only map this model to their resources
 * and the Lambda reads the same names (as aws-cdk's Provider framework shares `consts.ts` between
 * its construct and its runtime): nothing here is spelled a second time anywhere else.
 */
import { ORGANIZATIONS_EVENT_NAMES, SCAN_ROLE_NAME } from './defaults';
import { CallAs, type StackSetDeploymentTargets } from './options';
import { apiUrlProblems } from './partition';
import { FORMATS } from './validate';

// ---- The contract between the constructs and the Lambda ----

/** The environment variables the constructs set and the Lambda reads. */
export const ONBOARDING_ENV = {
  /** The Prowler API's base URL. */
  apiUrl: 'PROWLER_API_URL',
  /** The Secrets Manager secret with the Prowler API key (read at run time). */
  apiKeySecretArn: 'PROWLER_API_KEY_SECRET_ARN',
  /** The bucket holding run state and the latest report. */
  stateBucket: 'STATE_BUCKET',
  /** Self-hosted Prowler: the secret with the static credentials it assumes roles with. */
  assumeCredentialsSecretArn: 'ASSUME_CREDENTIALS_SECRET_ARN',
  /** `true`: try sts:AssumeRole on each role from the function before Prowler's test. */
  localPrecheck: 'LOCAL_PRECHECK',
  /** The member StackSet whose instances connection tests wait for. */
  stackSetName: 'STACKSET_NAME',
  /** `SELF` or `DELEGATED_ADMIN`. */
  stackSetCallAs: 'STACKSET_CALL_AS',
  /** The member StackSet's region, when it is not the functions'. */
  stackSetRegion: 'STACKSET_REGION',
  /** JSON: the StackSet's deployment targets (OUs, account filter), so tests never wait outside them. */
  stackSetTargets: 'STACKSET_TARGETS',
  /** How much the functions log (`LOG_LEVELS`). */
  logLevel: 'LOG_LEVEL',
  /** `true`: the sync runs on Organizations events, so a deployment checks that a trail records them. */
  organizationEvents: 'ORGANIZATION_EVENTS',
} as const;

/** The log levels the functions accept. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** The custom resource's type and its one property (the spec, as JSON: CloudFormation stringifies everything else). */
export const CUSTOM_RESOURCE_TYPE = 'Custom::ProwlerOrganizationOnboarding';
export const SPEC_PROPERTY = 'Spec';
/** Where `aws_lambda_invocation` (lifecycle_scope CRUD) puts Terraform's action in the payload. */
export const TERRAFORM_KEY = 'tf';

/** What the onboarding exposes: custom-resource attributes (Fn::GetAtt) and the invocation's result. */
export const ONBOARDING_OUTPUTS = {
  externalId: 'ExternalId',
  organizationId: 'OrganizationId',
  selected: 'Selected',
  registered: 'Registered',
  connected: 'Connected',
  failed: 'Failed',
  blocked: 'Blocked',
} as const;

/** Objects in the state bucket. Runs are short-lived: the bucket expires them. */
export const STATE_KEYS = {
  runsPrefix: 'runs/',
  currentSpec: 'onboarding/current.json',
  latestReport: 'reports/latest.json',
  /** Who runs now (a deployment or a sync): one run at a time. */
  lease: 'locks/run.json',
  /** What the onboarding created and linked in Prowler: removal never goes further. */
  record: 'onboarding/record.json',
  /** When the last sync started discovering: events older than that are already covered. */
  lastSync: 'onboarding/last-sync.json',
  /** Syncs asked for while another run held the lease: its holder (or the next run) serves them. */
  triggers: 'onboarding/triggers.json',
  /** The accounts' tags tag rules use, with when they were read: a sync reads only what is missing, named by an event, or due. */
  tags: 'onboarding/tags.json',
} as const;

// ---- Functions ----

/** How the onboarding is deployed: a CloudFormation custom resource or a Terraform invocation. */
export type OnboardingFlavour = 'cloudformation' | 'terraform';

/** One Lambda function of the onboarding. */
export interface OnboardingFunctionModel {
  /** The construct id (stable: renaming it replaces the function). */
  readonly id: string;
  /** The bundle's export it runs. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly description: string;
}

/** Every function: the same runtime, architecture, memory and log format. */
export const ONBOARDING_FUNCTION_SETTINGS = {
  runtime: 'nodejs22.x',
  architecture: 'arm64',
  memorySize: 512,
  logFormat: 'JSON',
  /** Days logs are kept unless told otherwise. */
  logRetentionDays: 30,
} as const;

const fn = (id: string, entry: string, timeoutSeconds: number, what: string): OnboardingFunctionModel =>
  ({ id, handler: `index.${entry}`, timeoutSeconds, description: `prowler-org-onboarding: ${what}` });

/**
 * The functions of each flavour. The custom resource's calls stay far from Lambda's 15 minutes
 * (a stuck one fails in minutes; the Provider framework polls `isComplete`); Terraform's invocation
 * is synchronous and gets all of them. The sync runs on the schedule and on Organizations events.
 */
export function onboardingFunctions(flavour: OnboardingFlavour): OnboardingFunctionModel[] {
  const sync = fn('Sync', 'sync', 900, 'sync (schedule and Organizations events)');
  return flavour === 'cloudformation'
    ? [fn('OnEvent', 'onEvent', 600, 'custom resource (onEvent)'), fn('IsComplete', 'isComplete', 600, 'custom resource (isComplete)'), sync]
    : [fn('Apply', 'terraform', 900, 'terraform apply and destroy'), sync];
}

/** The prefix of every onboarding resource with a name of ours; the construct's address keeps two apart. */
export function onboardingNamePrefix(constructAddress: string): string {
  return `prowler-org-onboarding-${constructAddress.slice(0, 8)}`;
}

/** A function's name: the prefix and its id (at most 42 characters of Lambda's 64). */
export function onboardingFunctionName(prefix: string, functionId: string): string {
  return `${prefix}-${functionId.toLowerCase()}`;
}

/**
 * The log group Lambda writes a function's logs to by default. Each flavour creates it, with
 * retention, under this name: it is where the CDK Provider framework's failure reason
 * ("Logs: /aws/lambda/<function>") and the Lambda console send the reader.
 */
export function lambdaLogGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/** The function that re-runs the onboarding: alarm on its errors (see `SYNC_FAILURE_METRIC`). */
export const SYNC_FUNCTION_ID = 'Sync';

/**
 * The sync runs one at a time: a burst of Organizations events queues behind the running sync
 * (and is then found covered by it) instead of running in parallel. The account needs 101 or more
 * concurrent executions for a reservation (Lambda keeps 100 unreserved).
 */
export const SYNC_RESERVED_CONCURRENCY = 1;

/**
 * A sync that ends with the onboarding failed throws, so Lambda's `Errors` metric of the sync
 * function counts it; it is not retried (the next trigger runs it again).
 */
export const SYNC_FAILURE_METRIC = { namespace: 'AWS/Lambda', metricName: 'Errors', dimension: 'FunctionName', statistic: 'Sum' } as const;

/** The AWS managed policy a function in a VPC needs for its network interfaces (`${Partition}` bound per flavour). */
export const VPC_ACCESS_MANAGED_POLICY_ARN = 'arn:${Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole';

// ---- Triggers ----

/** The sync's default schedule (EventBridge expression). */
export const DEFAULT_SYNC_SCHEDULE = 'rate(6 hours)';

/** The EventBridge pattern of the Organizations events after which the sync runs (as EventBridge writes it). */
export const ORGANIZATIONS_EVENT_PATTERN = {
  'source': ['aws.organizations'],
  'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
  'detail': { eventSource: ['organizations.amazonaws.com'], eventName: [...ORGANIZATIONS_EVENT_NAMES] },
};

export { partitionOfRegion } from './partition';

/**
 * Organizations' single endpoint region in each partition: where its API is called, and the only
 * region where its events reach EventBridge.
 */
export function organizationsRegion(partition: string): string {
  switch (partition) {
    case 'aws-us-gov': return 'us-gov-west-1';
    case 'aws-cn': return 'cn-northwest-1';
    default: return 'us-east-1';
  }
}

/** Each partition's Organizations region. */
export const ORGANIZATIONS_REGIONS: Readonly<Record<string, string>> = Object.fromEntries(['aws', 'aws-us-gov', 'aws-cn'].map((p) => [p, organizationsRegion(p)]));

/**
 * Forwarding Organizations events from their region to the onboarding's default event bus: the
 * rule's target, and the role EventBridge sends them with, trusting only the forwarding rule
 * (`aws:SourceArn`) of the rule's account (`aws:SourceAccount`): the confused-deputy guard IAM
 * asks for. The bus is in `targetAccount` (default: the rule's own account): from the management
 * account to a delegated administrator, whose bus must accept them
 * ({@link organizationEventsPermission}).
 */
export function eventForwarding(i: {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly ruleArn: string;
  readonly targetAccount?: string;
}) {
  const busArn = `arn:${i.partition}:events:${i.region}:${i.targetAccount ?? i.account}:event-bus/default`;
  return {
    busArn,
    trustedService: 'events.amazonaws.com',
    trustCondition: { StringEquals: { 'aws:SourceAccount': i.account, 'aws:SourceArn': i.ruleArn } },
    statements: [{ sid: 'ForwardOrganizationEvents', effect: 'Allow', actions: ['events:PutEvents'], resources: [busArn] }] as StatementModel[],
  };
}

/**
 * The statement a delegated administrator's default event bus gets (EventBridge `PutPermission`,
 * additive: other statements of the bus stay) so the management account's forwarder can put
 * Organizations events on it.
 */
export function organizationEventsPermission(managementAccount: string, constructAddress: string) {
  const statementId = `prowler-org-onboarding-${constructAddress.slice(0, 8)}`;
  const action = 'events:PutEvents';
  return {
    statementId,
    action,
    principal: managementAccount,
    /** The same permission as a policy statement (CloudFormation's non-deprecated form), on the default bus of `region`. */
    statement: (partition: string, region: string, account: string) => ({
      Sid: statementId,
      Effect: 'Allow',
      Principal: { AWS: `arn:${partition}:iam::${managementAccount}:root` },
      Action: action,
      Resource: `arn:${partition}:events:${region}:${account}:event-bus/default`,
    }),
  } as const;
}

/** The management account's forwarding rule: one per delegated administrator and region. */
export const managementForwardingRuleName = (delegatedAdministrator: string, region: string) => `prowler-org-onboarding-${delegatedAdministrator}-${region}`;

/** The forwarding rule's ARN, in the Organizations region. */
export function forwardingRuleArn(i: { readonly partition: string; readonly home: string; readonly account: string; readonly ruleName: string }) {
  return `arn:${i.partition}:events:${i.home}:${i.account}:rule/${i.ruleName}`;
}

// ---- The state bucket ----

/** What every state bucket the onboarding creates has (a bucket you bring is yours to protect). */
export const STATE_BUCKET_PROTECTIONS = {
  encryption: 'AES256',
  blockPublicAccess: { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
  /** Runs are kept for a week (a finished run deletes its own). */
  lifecycleRules: [{ id: 'runs', prefix: STATE_KEYS.runsPrefix, expirationDays: 7 }],
  /** Requests without TLS are denied by the bucket policy. */
  tlsOnly: true,
} as const;

/** One IAM statement, as data. */
export interface StatementModel {
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly principal?: '*';
  readonly actions: string[];
  readonly resources: string[];
  readonly condition?: Record<string, Record<string, string>>;
}

/** The state bucket's policy: no request without TLS (the statement aws-cdk's `enforceSSL` writes). */
export function stateBucketPolicy(partition: string, bucketName: string): StatementModel[] {
  const arn = `arn:${partition}:s3:::${bucketName}`;
  return [{
    effect: 'Deny',
    principal: '*',
    actions: ['s3:*'],
    resources: [arn, `${arn}/*`],
    condition: { Bool: { 'aws:SecureTransport': 'false' } },
  }];
}

// ---- What the functions may do ----

/**
 * The Organizations reads discovery makes (DescribeOrganization and ListRoots accept only `*`);
 * DescribeAccount and ListParents confirm that an account a walk did not list has really left
 * (or find where it moved) before anything is removed.
 */
export const DISCOVERY_ACTIONS = [
  'organizations:DescribeOrganization',
  'organizations:ListRoots',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListAccountsForParent',
  'organizations:ListTagsForResource',
  'organizations:DescribeAccount',
  'organizations:ListParents',
];

/** The CloudFormation flavour's statement reading its own stack (Terraform has no stack). */
export const OWN_STACK_SID = 'OwnStack';

/** The values the functions' statements are built from (strings or the flavour's references). */
export interface OnboardingPolicyInputs {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly stateBucketName: string;
  /** The Prowler API key's secret, and the assume-credentials secret when there is one. */
  readonly secretArns: string[];
  /** KMS keys of those secrets, when known (customer-managed keys need kms:Decrypt). */
  readonly secretKeyArns?: string[];
  /** The functions' log groups, by name. */
  readonly logGroupNames: string[];
  readonly localPrecheck?: boolean;
  readonly roleName?: string;
  /** The member StackSet connection tests wait for. */
  readonly stackSetName?: string;
  /** Its region (default: `region`). */
  readonly stackSetRegion?: string;
  /**
   * `DELEGATED_ADMIN`: the StackSet lives in the management account (service-managed StackSets
   * always do) and reading it needs `organizations:ListDelegatedAdministrators`.
   */
  readonly stackSetCallAs?: string;
  /**
   * The stack the custom resource is in (CloudFormation only): a Delete looks there for the
   * onboarding resource that took its place (a renamed construct) before removing anything.
   */
  readonly stackId?: string;
  /** The sync runs on Organizations events: a deployment reads whether a trail records them. */
  readonly organizationEvents?: boolean;
}

/** Least privilege for the onboarding functions: one statement per purpose, each resource-scoped where IAM allows. */
export function onboardingStatements(i: OnboardingPolicyInputs): StatementModel[] {
  const allow = (sid: string, actions: string[], resources: string[], condition?: StatementModel['condition']): StatementModel =>
    ({ sid, effect: 'Allow', actions, resources, ...(condition ? { condition } : {}) });
  const bucket = `arn:${i.partition}:s3:::${i.stateBucketName}`;
  return [
    allow('OrganizationsDiscovery', DISCOVERY_ACTIONS, ['*']),
    allow('StateObjects', ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [`${bucket}/*`]),
    // Without it S3 answers 403, not 404, for a key that does not exist (the sync's first run).
    allow('StateBucket', ['s3:ListBucket'], [bucket]),
    allow('Secrets', ['secretsmanager:GetSecretValue'], i.secretArns),
    ...(i.secretKeyArns?.length
      ? [allow('SecretKeys', ['kms:Decrypt'], i.secretKeyArns, { StringEquals: { 'kms:ViaService': `secretsmanager.${i.region}.amazonaws.com` } })]
      : []),
    allow('Logs', ['logs:CreateLogStream', 'logs:PutLogEvents'],
      i.logGroupNames.map((name) => `arn:${i.partition}:logs:${i.region}:${i.account}:log-group:${name}:*`)),
    ...(i.stackSetName ? memberStackSetStatements(i, allow) : []),
    ...(i.localPrecheck ? [allow('LocalPrecheck', ['sts:AssumeRole'], [`arn:${i.partition}:iam::*:role/${i.roleName ?? SCAN_ROLE_NAME}`])] : []),
    ...(i.stackId ? [allow(OWN_STACK_SID, ['cloudformation:ListStackResources'], [i.stackId])] : []),
    // Read-only, and the trail is not known in advance (DescribeTrails takes only `*`).
    ...(i.organizationEvents ? [allow('TrailStatus', TRAIL_CHECK_ACTIONS, ['*'])] : []),
  ];
}

/** What the deploy-time trail check calls (handler/trail.ts). */
export const TRAIL_CHECK_ACTIONS = ['cloudtrail:DescribeTrails', 'cloudtrail:GetTrailStatus', 'cloudtrail:GetEventSelectors'];

/** Reading the member StackSet's instances (in the management account, for a delegated administrator). */
type Allow = (sid: string, actions: string[], resources: string[]) => StatementModel;

function memberStackSetStatements(i: OnboardingPolicyInputs, allow: Allow): StatementModel[] {
  const delegated = i.stackSetCallAs === CallAs.DELEGATED_ADMIN;
  const owner = delegated ? '*' : i.account; // the management account, whose id the deployment may not know
  return [
    allow('MemberStackSetStatus', ['cloudformation:ListStackInstances'],
      [`arn:${i.partition}:cloudformation:${i.stackSetRegion ?? i.region}:${owner}:stackset/${i.stackSetName}:*`]),
    // CloudFormation checks the caller is a registered delegated administrator (it accepts only `*`).
    ...(delegated ? [allow('DelegatedAdministrator', ['organizations:ListDelegatedAdministrators'], ['*'])] : []),
  ];
}

/** A statement as IAM's JSON (`Effect`, `Action`, `Resource`, …). */
export function statementJson(s: StatementModel): Record<string, unknown> {
  return {
    ...(s.sid ? { Sid: s.sid } : {}),
    Effect: s.effect,
    ...(s.principal ? { Principal: { AWS: s.principal } } : {}),
    Action: s.actions.length === 1 ? s.actions[0] : s.actions,
    Resource: s.resources.length === 1 ? s.resources[0] : s.resources,
    ...(s.condition ? { Condition: s.condition } : {}),
  };
}

// ---- The environment ----

/** The member StackSet's deployment targets, as the engine needs them. */
export type StackSetTargetsModel = StackSetDeploymentTargets;

/** What the functions are configured with. */
export interface OnboardingEnvironmentModel {
  readonly apiUrl: string;
  readonly apiKeySecretArn: string;
  readonly stateBucket: string;
  readonly assumeCredentialsSecretArn?: string;
  readonly localPrecheck?: boolean;
  readonly stackSet?: { readonly name: string; readonly callAs: string; readonly targets?: StackSetTargetsModel; readonly region?: string };
  readonly logLevel?: string;
  /** The sync runs on Organizations events. */
  readonly organizationEvents?: boolean;
}

/**
 * The functions' environment variables. `json` encodes the StackSet's targets (a flavour passes its
 * own encoder when the ids may be references).
 */
export function onboardingEnvironment(m: OnboardingEnvironmentModel, json: (value: unknown) => string = JSON.stringify): Record<string, string> {
  const e = ONBOARDING_ENV;
  return {
    [e.apiUrl]: m.apiUrl,
    [e.apiKeySecretArn]: m.apiKeySecretArn,
    [e.stateBucket]: m.stateBucket,
    ...(m.assumeCredentialsSecretArn ? { [e.assumeCredentialsSecretArn]: m.assumeCredentialsSecretArn } : {}),
    ...(m.localPrecheck ? { [e.localPrecheck]: 'true' } : {}),
    ...(m.stackSet ? { [e.stackSetName]: m.stackSet.name, [e.stackSetCallAs]: m.stackSet.callAs } : {}),
    ...(m.stackSet?.targets ? { [e.stackSetTargets]: json(m.stackSet.targets) } : {}),
    ...(m.stackSet?.region ? { [e.stackSetRegion]: m.stackSet.region } : {}),
    ...(m.logLevel ? { [e.logLevel]: m.logLevel } : {}),
    ...(m.organizationEvents ? { [e.organizationEvents]: 'true' } : {}),
  };
}

/** The Lambda's side: the configuration from its environment, or an error naming what is missing or wrong. */
export function readOnboardingEnvironment(env: Readonly<Record<string, string | undefined>>): OnboardingEnvironmentModel {
  const e = ONBOARDING_ENV;
  const problems: string[] = [];
  const required = (name: string) => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is not set`);
    return value ?? '';
  };
  const apiUrl = required(e.apiUrl);
  if (apiUrl) problems.push(...apiUrlProblems(apiUrl).map((problem) => problem.replace(/^prowlerApiUrl/, e.apiUrl)));
  const apiKeySecretArn = required(e.apiKeySecretArn);
  const stateBucket = required(e.stateBucket);
  const callAs = env[e.stackSetCallAs] || 'SELF';
  if (!['SELF', 'DELEGATED_ADMIN'].includes(callAs)) problems.push(`${e.stackSetCallAs} must be SELF or DELEGATED_ADMIN, got '${callAs}'`);
  const localPrecheck = env[e.localPrecheck];
  if (localPrecheck !== undefined && !['true', 'false', ''].includes(localPrecheck)) {
    problems.push(`${e.localPrecheck} must be 'true' or 'false', got '${localPrecheck}'`);
  }
  const logLevel = env[e.logLevel] || undefined;
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) problems.push(`${e.logLevel} must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  let targets: StackSetTargetsModel | undefined;
  const targetsText = env[e.stackSetTargets];
  if (targetsText) {
    targets = parseTargets(targetsText);
    if (!targets) problems.push(`${e.stackSetTargets} must be JSON {"organizationalUnitIds": [...], "accountFilterType"?, "accounts"?}, got '${targetsText.slice(0, 80)}'`);
  }
  const stackSetRegion = env[e.stackSetRegion] || undefined;
  if (stackSetRegion !== undefined && !FORMATS.region.pattern.test(stackSetRegion)) problems.push(`${e.stackSetRegion} must be a region, got '${stackSetRegion.slice(0, 80)}'`);
  if (problems.length > 0) {
    throw new Error(`The function's environment is not the one ProwlerOrganizationOnboarding configures (${problems.join('; ')}): deploy it with the construct`);
  }
  const stackSetName = env[e.stackSetName];
  return {
    apiUrl,
    apiKeySecretArn,
    stateBucket,
    assumeCredentialsSecretArn: env[e.assumeCredentialsSecretArn] || undefined,
    localPrecheck: localPrecheck === 'true',
    stackSet: stackSetName
      ? { name: stackSetName, callAs, ...(targets ? { targets } : {}), ...(stackSetRegion ? { region: stackSetRegion } : {}) }
      : undefined,
    ...(logLevel ? { logLevel } : {}),
    ...(env[e.organizationEvents] === 'true' ? { organizationEvents: true } : {}),
  };
}

function parseTargets(text: string): StackSetTargetsModel | undefined {
  let value: any;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof value !== 'object' || value === null || !strings(value.organizationalUnitIds)) return undefined;
  if (value.accountFilterType !== undefined && !['DIFFERENCE', 'INTERSECTION'].includes(value.accountFilterType)) return undefined;
  if (value.accounts !== undefined && !strings(value.accounts)) return undefined;
  return { organizationalUnitIds: value.organizationalUnitIds, accountFilterType: value.accountFilterType, accounts: value.accounts };
}
