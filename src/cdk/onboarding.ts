import * as path from 'node:path';
import { Annotations, Aws, CfnResource, CustomResource, Duration, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ProwlerMemberRoleStackSet } from './member-stackset';
import { acknowledgeOwnNagFindings } from './nag';
import { addStackOutputs } from './outputs';
import { declareConstruct, knownPartition, throwIfInvalid } from './validation';
import { bind } from '../core/bind';
import {
  CUSTOM_RESOURCE_TYPE, DEFAULT_SYNC_SCHEDULE, ONBOARDING_FUNCTION_SETTINGS, ONBOARDING_OUTPUTS, ORGANIZATIONS_EVENT_PATTERN, SPEC_PROPERTY,
  STATE_BUCKET_PROTECTIONS, SYNC_FAILURE_METRIC, SYNC_FUNCTION_ID, SYNC_RESERVED_CONCURRENCY, VPC_ACCESS_MANAGED_POLICY_ARN,
  eventForwarding, forwardingRuleArn, lambdaLogGroupName, onboardingEnvironment, onboardingFunctionName, onboardingFunctions, onboardingNamePrefix,
  onboardingStatements, organizationEventsPermission,
  organizationsRegion, partitionOfRegion, stateBucketPolicy,
  type StatementModel,
} from '../core/onboarding';
import type { OnboardingIdentity, OnboardingSettings } from '../core/onboarding-types';
import { CallAs, type StackOutputsOptions } from '../core/options';
import { latestReportUri } from '../core/outputs';
import { partitionProblems } from '../core/partition';
import { constructSpec } from '../core/spec';
import { DELEGATED_ADMIN_EVENTS } from '../core/stackset';

/** A core statement as a CDK policy statement. */
function policyStatement(s: StatementModel): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: s.sid,
    effect: s.effect === 'Allow' ? iam.Effect.ALLOW : iam.Effect.DENY,
    principals: s.principal ? [new iam.AnyPrincipal()] : undefined,
    actions: s.actions,
    resources: s.resources,
    conditions: s.condition,
  });
}

/** The ARN IAM policies must name for a secret (a partial ARN matches with its random suffix). */
const secretArnForPolicies = (secret: secretsmanager.ISecret) => secret.secretFullArn ?? `${secret.secretArn}-??????`;

/** Where the prebuilt handler bundle is (built with esbuild when this package is built). */
const HANDLER_BUNDLE = path.join(__dirname, '..', '..', 'lib', 'handler-bundle');

/**
 * How the onboarding runs: shared by {@link ProwlerOrganizationOnboarding} and
 * {@link ProwlerOrganization}. The framework-neutral options are core's `OnboardingSettings`; these
 * are the ones that take CDK types.
 */
export interface OnboardingOptions extends OnboardingSettings {
  /**
   * The Secrets Manager secret holding the Prowler API key (the key itself, or JSON
   * `{"apiKey": "pk_…"}`). Read at run time by the function; never in the template. A secret
   * encrypted with its own KMS key gets `kms:Decrypt` granted when the key is known
   * (`encryptionKey`).
   */
  readonly apiKeySecret: secretsmanager.ISecret;

  /**
   * Self-hosted Prowler without ambient AWS credentials: a secret with the static credentials
   * Prowler assumes the roles with (JSON `{"accessKeyId", "secretAccessKey"}`).
   * @default - Prowler's own credentials
   */
  readonly assumeCredentialsSecret?: secretsmanager.ISecret;

  /**
   * When to re-run the onboarding (new accounts, moved ones, removed ones).
   * @default - every 6 hours
   */
  readonly syncSchedule?: events.Schedule;

  /**
   * How long the onboarding functions' logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Run the onboarding functions in this VPC (a self-hosted Prowler on a private address). The
   * subnets need a route to the Prowler API and to AWS (NAT, or VPC endpoints for Organizations,
   * S3, Secrets Manager, CloudFormation and STS).
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where in `vpc` the functions run.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The functions' security groups (they need outbound HTTPS, or HTTP to a self-hosted Prowler).
   * @default - one security group allowing all outbound traffic, created with the functions
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * A bucket you own for the run state and the latest report (`reports/latest.json`). It is yours
   * to protect: the onboarding only gets read and write access to it.
   * @default - a bucket is created: encrypted, private, TLS only, runs expire after 7 days, deleted with the stack
   */
  readonly stateBucket?: s3.IBucket;

  /**
   * The role the onboarding functions run as. The onboarding adds its statements to it (an
   * imported role must be mutable for that); in a VPC it also needs
   * `AWSLambdaVPCAccessExecutionRole`.
   * @default - a role with exactly the onboarding's statements is created
   */
  readonly functionRole?: iam.IRole;
}

/** Properties of {@link ProwlerOrganizationOnboarding}. */
export interface ProwlerOrganizationOnboardingProps extends OnboardingOptions, OnboardingIdentity, StackOutputsOptions {
  /**
   * The member-role StackSet: connection tests wait (up to 10 minutes) for its instances to be
   * CURRENT in the selected accounts below its targets, and failures name an instance's status.
   * @default - no waiting; a failed test may mean the role is not deployed yet
   */
  readonly memberStackSet?: ProwlerMemberRoleStackSet;
}

/**
 * Onboards an AWS Organization to Prowler on `cdk deploy`, and keeps it onboarded: discovers the
 * organization, selects accounts, registers each with the Prowler API (provider + role secret
 * with the External ID), tests each connection, schedules scans; again on a schedule and on
 * Organizations events. Deploy it in the management account or a delegated administrator.
 */
export class ProwlerOrganizationOnboarding extends Construct {
  /** The custom resource. */
  public readonly resource: CustomResource;
  /** The custom-resource provider (the Provider framework calling onEvent and isComplete). */
  public readonly provider: cr.Provider;
  /** The function CloudFormation's requests start: validates, discovers and plans. */
  public readonly onEventFunction: lambda.Function;
  /** The function the Provider framework polls: registers, tests and launches, a few minutes per call. */
  public readonly isCompleteFunction: lambda.Function;
  /** The function that re-runs the onboarding on the schedule and on Organizations events. */
  public readonly syncFunction: lambda.Function;
  /**
   * The sync function.
   * @deprecated use `syncFunction`
   */
  public readonly onboardingFunction: lambda.IFunction;
  /** The role the three functions run as. */
  public readonly functionRole: iam.IRole;
  /** The bucket holding run state and the latest report (`reports/latest.json`). */
  public readonly stateBucket: s3.IBucket;
  /** The rule that runs the sync on its schedule. */
  public readonly syncScheduleRule: events.Rule;
  /** The rule that runs the sync on Organizations events (when enabled). */
  public readonly organizationEventsRule?: events.Rule;
  /** The External ID the roles must trust (from Prowler unless given). */
  public readonly externalId: string;
  /** Selected accounts. */
  public readonly selectedCount: string;
  /** Accounts registered in Prowler (created, linked, updated or unchanged). */
  public readonly registeredCount: string;
  /** Accounts whose connection test passed. */
  public readonly connectedCount: string;
  /** Accounts that failed registration or their connection test. */
  public readonly failedCount: string;
  /** Accounts left alone because another organization's group holds their provider. */
  public readonly blockedCount: string;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationOnboardingProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerOrganizationOnboarding');
    acknowledgeOwnNagFindings(this);
    const { spec, url, problems } = constructSpec(props, (v) => Token.isUnresolved(v));
    const partition = knownPartition(this);
    throwIfInvalid(this, [
      ...problems,
      ...(partition && !Token.isUnresolved(props.prowlerApiUrl) ? partitionProblems(partition, { api: props }) : []),
    ]);
    const stack = Stack.of(this);
    const prefix = onboardingNamePrefix(this.node.addr);
    const retention = props.logRetention ?? ONBOARDING_FUNCTION_SETTINGS.logRetentionDays;
    /** A log group with retention, named as Lambda names a function's own. */
    const logGroup = (logicalId: string, functionName: string) => new logs.LogGroup(this, logicalId, {
      logGroupName: lambdaLogGroupName(functionName), retention, removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateBucket = props.stateBucket ?? this.createStateBucket(retention);
    const role = props.functionRole ?? new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'prowler-org-onboarding: discovers the organization and onboards it to Prowler',
    });
    this.functionRole = role;
    if (props.vpc) {
      if (props.functionRole) {
        Annotations.of(this).addWarningV2('prowler-org-onboarding:vpcRole', 'The functions run in a VPC as the role you gave: it needs the AWSLambdaVPCAccessExecutionRole managed policy.');
      } else {
        role.addManagedPolicy(iam.ManagedPolicy.fromManagedPolicyArn(this, 'VpcAccess', bind(VPC_ACCESS_MANAGED_POLICY_ARN, { Partition: Aws.PARTITION })));
      }
    }

    const stackSet = props.memberStackSet;
    const stackSetRegion = stackSet ? this.stackSetRegion(stackSet) : undefined;
    const environment = onboardingEnvironment({
      apiUrl: url,
      apiKeySecretArn: props.apiKeySecret.secretArn,
      stateBucket: this.stateBucket.bucketName,
      assumeCredentialsSecretArn: props.assumeCredentialsSecret?.secretArn,
      localPrecheck: props.localPrecheck,
      logLevel: props.logLevel,
      organizationEvents: props.syncOnOrganizationEvents ?? true,
      stackSet: stackSet
        ? { name: stackSet.stackSetName, callAs: stackSet.callAs, targets: stackSet.deploymentTargets, region: stackSetRegion }
        : undefined,
    }, (value) => stack.toJsonString(value));

    const code = lambda.Code.fromAsset(HANDLER_BUNDLE);
    const settings = ONBOARDING_FUNCTION_SETTINGS;
    const logGroups: logs.LogGroup[] = [];
    const functions = Object.fromEntries(onboardingFunctions('cloudformation').map((f) => {
      // Named, so that its log group is Lambda's own: the Provider framework's failure reason says
      // "Logs: /aws/lambda/<function>", and that group exists, with retention.
      const functionName = onboardingFunctionName(prefix, f.id);
      const functionLogs = logGroup(`${f.id}Logs`, functionName);
      logGroups.push(functionLogs);
      const fn = new lambda.Function(this, f.id, {
        functionName,
        runtime: new lambda.Runtime(settings.runtime, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true }),
        architecture: { arm64: lambda.Architecture.ARM_64 }[settings.architecture],
        code,
        handler: f.handler,
        timeout: Duration.seconds(f.timeoutSeconds),
        memorySize: settings.memorySize,
        role,
        environment,
        logGroup: functionLogs,
        loggingFormat: lambda.LoggingFormat[settings.logFormat],
        description: f.description,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        securityGroups: props.securityGroups,
        // A failed sync is counted (metricSyncFailures) and not retried: the next trigger runs it again.
        ...(f.id === SYNC_FUNCTION_ID ? { retryAttempts: 0, reservedConcurrentExecutions: SYNC_RESERVED_CONCURRENCY } : {}),
      });
      return [f.id, fn];
    }));
    this.onEventFunction = functions.OnEvent;
    this.isCompleteFunction = functions.IsComplete;
    this.syncFunction = functions[SYNC_FUNCTION_ID];
    this.onboardingFunction = this.syncFunction;

    const statements = onboardingStatements({
      partition: Aws.PARTITION,
      region: Aws.REGION,
      account: Aws.ACCOUNT_ID,
      stateBucketName: this.stateBucket.bucketName,
      secretArns: [props.apiKeySecret, props.assumeCredentialsSecret].filter((x) => x !== undefined).map(secretArnForPolicies),
      secretKeyArns: [props.apiKeySecret, props.assumeCredentialsSecret].flatMap((x) => (x?.encryptionKey ? [x.encryptionKey.keyArn] : [])),
      logGroupNames: logGroups.map((g) => g.logGroupName),
      localPrecheck: props.localPrecheck,
      roleName: props.roleName,
      stackSetName: stackSet?.stackSetName,
      stackSetRegion,
      stackSetCallAs: stackSet?.callAs,
      stackId: Aws.STACK_ID,
      organizationEvents: props.syncOnOrganizationEvents ?? true,
    });
    for (const statement of statements) role.addToPrincipalPolicy(policyStatement(statement));

    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      isCompleteHandler: this.isCompleteFunction,
      queryInterval: Duration.seconds(30),
      totalTimeout: Duration.minutes(55),
      logGroup: logGroup('ProviderLogs', onboardingFunctionName(prefix, 'provider-framework')),
      // Off, as newer aws-cdk-lib has it: older ones log the waiter to a group kept two years.
      disableWaiterStateMachineLogging: true,
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.provider.serviceToken,
      resourceType: CUSTOM_RESOURCE_TYPE,
      properties: { [SPEC_PROPERTY]: stack.toJsonString(spec) },
      serviceTimeout: Duration.minutes(58),
    });
    const out = ONBOARDING_OUTPUTS;
    this.externalId = this.resource.getAttString(out.externalId);
    this.selectedCount = this.resource.getAttString(out.selected);
    this.registeredCount = this.resource.getAttString(out.registered);
    this.connectedCount = this.resource.getAttString(out.connected);
    this.failedCount = this.resource.getAttString(out.failed);
    this.blockedCount = this.resource.getAttString(out.blocked);
    addStackOutputs(this, props.outputs, {
      stateBucketName: this.stateBucket.bucketName,
      latestReportUri: latestReportUri(this.stateBucket.bucketName),
    });

    const sync = new targets.LambdaFunction(this.syncFunction, { retryAttempts: 2 });
    this.syncScheduleRule = new events.Rule(this, 'SyncSchedule', {
      description: 'prowler-org-onboarding: keep the organization onboarded',
      schedule: props.syncSchedule ?? events.Schedule.expression(DEFAULT_SYNC_SCHEDULE),
      targets: [sync],
    });
    if (props.syncOnOrganizationEvents ?? true) {
      const pattern = ORGANIZATIONS_EVENT_PATTERN;
      this.organizationEventsRule = new events.Rule(this, 'SyncOnOrganizationEvents', {
        description: 'prowler-org-onboarding: onboard accounts as they join, move or leave',
        eventPattern: { source: pattern.source, detailType: pattern['detail-type'], detail: pattern.detail },
        targets: [sync],
      });
      if (props.organizationEventsFrom) {
        const permission = organizationEventsPermission(props.organizationEventsFrom, this.node.addr);
        new events.CfnEventBusPolicy(this, 'AcceptOrganizationEvents', {
          statementId: permission.statementId, statement: permission.statement(Aws.PARTITION, stack.region, stack.account),
        });
      } else if (stackSet?.callAs === CallAs.DELEGATED_ADMIN) {
        Annotations.of(this).addWarningV2('prowler-org-onboarding:delegatedAdminEvents', DELEGATED_ADMIN_EVENTS);
      }
      if (Token.isUnresolved(stack.region)) {
        Annotations.of(this).addWarningV2('prowler-org-onboarding:organizationEvents',
          'Organizations events reach EventBridge only in the Organizations region (us-east-1 in the aws partition): give this stack an explicit region, so that a forwarding rule is added when it is elsewhere.');
      } else {
        const home = organizationsRegion(partitionOfRegion(stack.region));
        if (stack.region !== home) this.forwardOrganizationEvents(home, logGroup('ForwardingLogs', onboardingFunctionName(prefix, 'forwarding')));
      }
    }
  }

  /**
   * The member StackSet's region when it is not this stack's (`undefined`: the same). A stack of
   * unknown region cannot be told apart: the functions then look in their own.
   */
  private stackSetRegion(stackSet: ProwlerMemberRoleStackSet): string | undefined {
    const here = Stack.of(this);
    const there = Stack.of(stackSet);
    if (there === here || there.region === here.region) return undefined;
    if (Token.isUnresolved(there.region)) {
      Annotations.of(this).addWarningV2('prowler-org-onboarding:stackSetRegion',
        `memberStackSet is in stack '${there.stackName}', whose region is unknown at synth: the functions read it in their own region. Give that stack an explicit region.`);
      return undefined;
    }
    return there.region;
  }

  /**
   * The number of syncs (scheduled or on Organizations events) that ended with the onboarding
   * failed, or could not run: alarm on it, or a failing sync goes unnoticed.
   * @default - the sum over 5 minutes
   */
  public metricSyncFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const m = SYNC_FAILURE_METRIC;
    return new cloudwatch.Metric({
      namespace: m.namespace,
      metricName: m.metricName,
      dimensionsMap: { [m.dimension]: this.syncFunction.functionName },
      statistic: m.statistic,
      ...props,
    });
  }

  /** A bucket with the protections core decides (encrypted, private, TLS only, runs expire). */
  private createStateBucket(retention: logs.RetentionDays): s3.Bucket {
    const p = STATE_BUCKET_PROTECTIONS;
    const bucket = new s3.Bucket(this, 'State', {
      encryption: { AES256: s3.BucketEncryption.S3_MANAGED }[p.encryption],
      blockPublicAccess: new s3.BlockPublicAccess(p.blockPublicAccess),
      lifecycleRules: p.lifecycleRules.map((r) => ({ id: r.id, prefix: r.prefix, expiration: Duration.days(r.expirationDays) })),
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    for (const statement of stateBucketPolicy(Aws.PARTITION, bucket.bucketName)) bucket.addToResourcePolicy(policyStatement(statement));
    this.retainAutoDeleteLogs(bucket, retention);
    return bucket;
  }

  /**
   * The bucket's auto-delete function (one per stack, made by aws-cdk-lib) logs to Lambda's own
   * group: create that group with retention, before the function first runs.
   */
  private retainAutoDeleteLogs(bucket: s3.Bucket, retention: logs.RetentionDays): void {
    const stack = Stack.of(this);
    const provider = stack.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    const handler = provider?.node.tryFindChild('Handler');
    const deletion = bucket.node.tryFindChild('AutoDeleteObjectsCustomResource');
    if (!(handler instanceof CfnResource) || !deletion) return; // aws-cdk-lib changed its layout: nothing to attach to
    const id = 'ProwlerOrgOnboardingAutoDeleteLogs';
    const group = stack.node.tryFindChild(id) as logs.LogGroup | undefined ?? new logs.LogGroup(stack, id, {
      logGroupName: Fn.join('', [lambdaLogGroupName(''), handler.ref]), retention, removalPolicy: RemovalPolicy.DESTROY,
    });
    deletion.node.addDependency(group);
  }

  /**
   * Organizations events reach EventBridge only in the partition's Organizations region: a rule
   * there (made with two SDK calls, as a stack cannot hold resources of another region) sends
   * them to this region's default event bus, where the sync rule picks them up.
   */
  private forwardOrganizationEvents(home: string, logGroup: logs.ILogGroup): void {
    const stack = Stack.of(this);
    const ruleName = `prowler-org-onboarding-${stack.region}-${this.node.addr.slice(0, 8)}`;
    const ruleArn = forwardingRuleArn({ partition: Aws.PARTITION, home, account: stack.account, ruleName });
    const forwarding = eventForwarding({ partition: Aws.PARTITION, region: stack.region, account: stack.account, ruleArn });
    const bus = forwarding.busArn;
    const forwarder = new iam.Role(this, 'OrganizationEventsForwarder', {
      assumedBy: new iam.ServicePrincipal(forwarding.trustedService, { conditions: forwarding.trustCondition }),
      description: `prowler-org-onboarding: forwards Organizations events from ${home} to ${stack.region}`,
    });
    for (const statement of forwarding.statements) forwarder.addToPrincipalPolicy(policyStatement(statement));
    const rule = new cr.AwsCustomResource(this, 'OrganizationEventsRule', {
      onUpdate: {
        service: 'EventBridge',
        action: 'putRule',
        region: home,
        parameters: { Name: ruleName, EventPattern: JSON.stringify(ORGANIZATIONS_EVENT_PATTERN), State: 'ENABLED', Description: `prowler-org-onboarding: to ${stack.region}` },
        physicalResourceId: cr.PhysicalResourceId.of(ruleArn),
      },
      onDelete: { service: 'EventBridge', action: 'deleteRule', region: home, parameters: { Name: ruleName }, ignoreErrorCodesMatching: 'ResourceNotFoundException' },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['events:PutRule', 'events:DeleteRule'], resources: [ruleArn] })]),
      installLatestAwsSdk: false,
      logGroup,
    });
    const target = new cr.AwsCustomResource(this, 'OrganizationEventsTarget', {
      onUpdate: {
        service: 'EventBridge',
        action: 'putTargets',
        region: home,
        parameters: { Rule: ruleName, Targets: [{ Id: 'to-stack-region', Arn: bus, RoleArn: forwarder.roleArn }] },
        physicalResourceId: cr.PhysicalResourceId.of(`${ruleArn}/to-stack-region`),
      },
      onDelete: { service: 'EventBridge', action: 'removeTargets', region: home, parameters: { Rule: ruleName, Ids: ['to-stack-region'] }, ignoreErrorCodesMatching: 'ResourceNotFoundException' },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ actions: ['events:PutTargets', 'events:RemoveTargets'], resources: [ruleArn] }),
        new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [forwarder.roleArn] }),
      ]),
      installLatestAwsSdk: false,
      logGroup,
    });
    target.node.addDependency(rule);
  }
}
