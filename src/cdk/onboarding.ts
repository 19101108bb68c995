import * as path from 'node:path';
import { Annotations, Aws, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
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
import { throwIfInvalid } from './validation';
import { ORGANIZATIONS_EVENT_NAMES, SCAN_ROLE_NAME } from '../core/defaults';
import type { AccountSelection, ConnectionTestOptions, RemovalBehaviour, ScanMode } from '../core/onboarding-types';
import { constructSpec } from '../core/spec';

/** Where Organizations events reach EventBridge: the Organizations endpoint region of the region's partition. */
function organizationsEventsRegion(region: string): string {
  if (region.startsWith('us-gov-')) return 'us-gov-west-1';
  if (region.startsWith('cn-')) return 'cn-northwest-1';
  return 'us-east-1';
}

/** Where the prebuilt handler bundle is (built with esbuild when this package is built). */
const HANDLER_BUNDLE = path.join(__dirname, '..', '..', 'lib', 'handler-bundle');


/** How the onboarding runs: shared by {@link ProwlerOrganizationOnboarding} and {@link ProwlerOrganization}. */
export interface OnboardingOptions {
  /**
   * The Secrets Manager secret holding the Prowler API key (the key itself, or JSON
   * `{"apiKey": "pk_…"}`). Read at run time by the function; never in the template.
   */
  readonly apiKeySecret: secretsmanager.ISecret;

  /**
   * The Prowler API's base URL.
   * @default 'https://api.prowler.com/api/v1' (Prowler Cloud)
   */
  readonly prowlerApiUrl?: string;

  /**
   * Which accounts to onboard.
   * @default - every ACTIVE account of the organization
   */
  readonly selection?: AccountSelection;

  /**
   * How scans start for onboarded accounts.
   * @default ScanMode.DAILY
   */
  readonly scanMode?: ScanMode;

  /**
   * Connection testing: failure policy and smart-retry rounds.
   * @default - skip failed accounts when at least one connects; 3 re-test rounds 30 s apart
   */
  readonly connection?: ConnectionTestOptions;

  /**
   * What happens in Prowler to providers whose accounts leave the selection, and to all of them
   * when this construct is deleted.
   * @default RemovalBehaviour.RETAIN (providers and scan history stay)
   */
  readonly removal?: RemovalBehaviour;

  /**
   * Self-hosted Prowler without ambient AWS credentials: a secret with the static credentials
   * Prowler assumes the roles with (JSON `{"accessKeyId", "secretAccessKey"}`).
   * @default - Prowler's own credentials
   */
  readonly assumeCredentialsSecret?: secretsmanager.ISecret;

  /**
   * Prowler API requests (and connection tests) in flight at once.
   * @default 20
   */
  readonly concurrency?: number;

  /**
   * Also try `sts:AssumeRole` on each role from the function before Prowler's test (only useful
   * when the roles trust this account, e.g. self-hosted Prowler in it).
   * @default false
   */
  readonly localPrecheck?: boolean;

  /**
   * When to re-run the onboarding (new accounts, moved ones, removed ones); `undefined` for the default.
   * @default - every 6 hours
   */
  readonly syncSchedule?: events.Schedule;

  /**
   * Re-run on AWS Organizations events (account created, invited, moved, removed, closed). They
   * reach EventBridge only in us-east-1 (the Organizations endpoint region of the aws partition).
   * @default true
   */
  readonly syncOnOrganizationEvents?: boolean;

  /**
   * The member-role StackSet: connection tests wait (up to 10 minutes) for its instances to be
   * CURRENT in the selected accounts, and failures name an instance's status.
   * @default - no waiting; a failed test may mean the role is not deployed yet
   */
  readonly memberStackSet?: ProwlerMemberRoleStackSet;

  /**
   * How long the function logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Properties of {@link ProwlerOrganizationOnboarding}. */
export interface ProwlerOrganizationOnboardingProps extends OnboardingOptions {
  /**
   * The organization this must run in; the deployment fails in another one.
   * @default - the organization the deployment account belongs to
   */
  readonly organizationId?: string;

  /**
   * The External ID the roles trust.
   * @default - the Prowler tenant id of the API key
   */
  readonly externalId?: string;

  /**
   * The role name in every account.
   * @default 'ProwlerScan'
   */
  readonly roleName?: string;
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
  /** The function that onboards (custom resource and sync). */
  public readonly onboardingFunction: lambda.IFunction;
  /** The bucket holding run state and the latest report (`reports/latest.json`). */
  public readonly stateBucket: s3.IBucket;
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

  constructor(scope: Construct, id: string, props: ProwlerOrganizationOnboardingProps) {
    super(scope, id);
    const { spec, url, problems } = constructSpec(props, (v) => Token.isUnresolved(v));
    throwIfInvalid(this, 'ProwlerOrganizationOnboarding', problems);

    const stack = Stack.of(this);
    this.stateBucket = new s3.Bucket(this, 'State', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ prefix: 'runs/', expiration: Duration.days(7) }],
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const code = lambda.Code.fromAsset(HANDLER_BUNDLE);
    const environment: Record<string, string> = {
      PROWLER_API_URL: url,
      PROWLER_API_KEY_SECRET_ARN: props.apiKeySecret.secretArn,
      STATE_BUCKET: this.stateBucket.bucketName,
      ...(props.assumeCredentialsSecret ? { ASSUME_CREDENTIALS_SECRET_ARN: props.assumeCredentialsSecret.secretArn } : {}),
      ...(props.localPrecheck ? { LOCAL_PRECHECK: 'true' } : {}),
      ...(props.memberStackSet ? { STACKSET_NAME: props.memberStackSet.stackSetId, STACKSET_CALL_AS: props.memberStackSet.callAs } : {}),
    };
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'prowler-org-onboarding: discovers the organization and onboards it to Prowler',
    });
    const fn = (name: string, handler: string, timeout: Duration) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
      logGroup.grantWrite(role);
      return new lambda.Function(this, name, {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        code,
        handler,
        timeout,
        memorySize: 512,
        role,
        environment,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        description: `prowler-org-onboarding: ${handler.split('.')[1]}`,
      });
    };
    // Each custom-resource call stays far from Lambda's 15 minutes: a stuck one fails in minutes.
    const onEvent = fn('OnEvent', 'index.onEvent', Duration.minutes(10));
    const isComplete = fn('IsComplete', 'index.isComplete', Duration.minutes(10));
    const sync = fn('Sync', 'index.sync', Duration.minutes(15));
    this.onboardingFunction = sync;

    // Least privilege: Organizations discovery, the state bucket, the secrets, and (pre-check) the roles.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'OrganizationsDiscovery',
      actions: [
        'organizations:DescribeOrganization',
        'organizations:ListRoots',
        'organizations:ListOrganizationalUnitsForParent',
        'organizations:ListAccountsForParent',
        'organizations:ListTagsForResource',
      ],
      resources: ['*'],
    }));
    this.stateBucket.grantReadWrite(role);
    props.apiKeySecret.grantRead(role);
    props.assumeCredentialsSecret?.grantRead(role);
    if (props.memberStackSet) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'MemberStackSetStatus',
        actions: ['cloudformation:ListStackInstances'],
        resources: [`arn:${Aws.PARTITION}:cloudformation:${Aws.REGION}:${Aws.ACCOUNT_ID}:stackset/${props.memberStackSet.stackSetId}`],
      }));
    }
    if (props.localPrecheck) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'LocalPrecheck',
        actions: ['sts:AssumeRole'],
        resources: [`arn:${Aws.PARTITION}:iam::*:role/${props.roleName ?? SCAN_ROLE_NAME}`],
      }));
    }

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(30),
      totalTimeout: Duration.minutes(55),
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ProwlerOrganizationOnboarding',
      properties: { Spec: stack.toJsonString(spec) },
      serviceTimeout: Duration.minutes(58),
    });
    this.externalId = this.resource.getAttString('ExternalId');
    this.selectedCount = this.resource.getAttString('Selected');
    this.registeredCount = this.resource.getAttString('Registered');
    this.connectedCount = this.resource.getAttString('Connected');
    this.failedCount = this.resource.getAttString('Failed');

    new events.Rule(this, 'SyncSchedule', {
      description: 'prowler-org-onboarding: keep the organization onboarded',
      schedule: props.syncSchedule ?? events.Schedule.rate(Duration.hours(6)),
      targets: [new targets.LambdaFunction(sync, { retryAttempts: 2 })],
    });
    if (props.syncOnOrganizationEvents ?? true) {
      const eventPattern = {
        source: ['aws.organizations'],
        detailType: ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
        detail: { eventSource: ['organizations.amazonaws.com'], eventName: [...ORGANIZATIONS_EVENT_NAMES] },
      };
      new events.Rule(this, 'SyncOnOrganizationEvents', {
        description: 'prowler-org-onboarding: onboard accounts as they join, move or leave',
        eventPattern,
        targets: [new targets.LambdaFunction(sync, { retryAttempts: 2 })],
      });
      if (Token.isUnresolved(stack.region)) {
        Annotations.of(this).addWarningV2('prowler-org-onboarding:organizationEvents',
          'Organizations events reach EventBridge only in the Organizations region (us-east-1 in the aws partition): give this stack an explicit region, so that a forwarding rule is added when it is elsewhere.');
      } else if (stack.region !== organizationsEventsRegion(stack.region)) {
        const home = organizationsEventsRegion(stack.region);
        this.forwardOrganizationEvents(home, eventPattern);
      }
    }
  }

  /**
   * Organizations events reach EventBridge only in the partition's Organizations region: a rule
   * there (made with two SDK calls, as a stack cannot hold resources of another region) sends
   * them to this region's default event bus, where the sync rule picks them up.
   */
  private forwardOrganizationEvents(home: string, eventPattern: Record<string, unknown>): void {
    const stack = Stack.of(this);
    const ruleName = `prowler-org-onboarding-${stack.region}-${this.node.addr.slice(0, 8)}`;
    const bus = `arn:${Aws.PARTITION}:events:${stack.region}:${stack.account}:event-bus/default`;
    const forwarder = new iam.Role(this, 'OrganizationEventsForwarder', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: `prowler-org-onboarding: forwards Organizations events from ${home} to ${stack.region}`,
    });
    forwarder.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [bus] }));
    const ruleArn = `arn:${Aws.PARTITION}:events:${home}:${stack.account}:rule/${ruleName}`;
    const rule = new cr.AwsCustomResource(this, 'OrganizationEventsRule', {
      onUpdate: {
        service: 'EventBridge',
        action: 'putRule',
        region: home,
        parameters: { Name: ruleName, EventPattern: JSON.stringify({ 'source': eventPattern.source, 'detail-type': eventPattern.detailType, 'detail': eventPattern.detail }), State: 'ENABLED', Description: `prowler-org-onboarding: to ${stack.region}` },
        physicalResourceId: cr.PhysicalResourceId.of(ruleArn),
      },
      onDelete: { service: 'EventBridge', action: 'deleteRule', region: home, parameters: { Name: ruleName }, ignoreErrorCodesMatching: 'ResourceNotFoundException' },
      policy: cr.AwsCustomResourcePolicy.fromStatements([new iam.PolicyStatement({ actions: ['events:PutRule', 'events:DeleteRule'], resources: [ruleArn] })]),
      installLatestAwsSdk: false,
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
    });
    target.node.addDependency(rule);
  }
}
