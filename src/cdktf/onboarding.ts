import * as path from 'node:path';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { LambdaInvocation } from '@cdktf/provider-aws/lib/lambda-invocation';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Annotations, AssetType, Fn, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import type { ProwlerMemberRoleStackSet } from './member-stackset';
import { TF_CHECK_CONTEXT, throwIfInvalid } from './validation';
import { ORGANIZATIONS_EVENT_NAMES, SCAN_ROLE_NAME } from '../core/defaults';
import type { AccountSelection, ConnectionTestOptions, RemovalBehaviour, ScanMode } from '../core/onboarding-types';
import { constructSpec } from '../core/spec';

const HANDLER_BUNDLE = path.join(__dirname, '..', '..', 'lib', 'handler-bundle');

/** Properties of {@link ProwlerOrganizationOnboarding} (Terraform). */
export interface ProwlerOrganizationOnboardingProps {
  /** The ARN of the Secrets Manager secret holding the Prowler API key; read at run time, never in the state. */
  readonly apiKeySecretArn: string;
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
   * The organization this must run in.
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
  /**
   * How scans start.
   * @default ScanMode.DAILY
   */
  readonly scanMode?: ScanMode;
  /**
   * Connection testing.
   * @default - skip failed accounts when at least one connects; 3 re-test rounds 30 s apart
   */
  readonly connection?: ConnectionTestOptions;
  /**
   * What happens to providers that leave the selection, and to all of them on destroy.
   * @default RemovalBehaviour.RETAIN
   */
  readonly removal?: RemovalBehaviour;
  /**
   * Self-hosted Prowler without ambient AWS credentials: the secret with the assume-role credentials.
   * @default - Prowler's own credentials
   */
  readonly assumeCredentialsSecretArn?: string;
  /**
   * Prowler API requests in flight at once.
   * @default 20
   */
  readonly concurrency?: number;
  /**
   * Try sts:AssumeRole on each role from the function before Prowler's test.
   * @default false
   */
  readonly localPrecheck?: boolean;
  /**
   * The sync's EventBridge schedule expression.
   * @default 'rate(6 hours)'
   */
  readonly syncSchedule?: string;
  /**
   * Re-run on AWS Organizations events (they reach EventBridge in us-east-1 only).
   * @default true
   */
  readonly syncOnOrganizationEvents?: boolean;
  /**
   * Days the function logs are kept.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * The member-role StackSet: connection tests wait for its instances to be CURRENT.
   * @default - no waiting
   */
  readonly memberStackSet?: ProwlerMemberRoleStackSet;
}

/**
 * Onboards an AWS Organization to Prowler on `terraform apply` (an `aws_lambda_invocation` with
 * `lifecycle_scope = "CRUD"`, so create, update and destroy reach the handler) and keeps it
 * onboarded on a schedule and on Organizations events.
 */
export class ProwlerOrganizationOnboarding extends Construct {
  /** The invocation that onboards on apply. */
  public readonly invocation: LambdaInvocation;
  /** The function behind it, and the sync. */
  public readonly onboardingFunction: LambdaFunction;
  /** The state bucket (run state, the latest report). */
  public readonly stateBucket: S3Bucket;
  /** The External ID used (from the invocation's result). */
  public readonly externalId: string;
  /** Selected accounts (from the invocation's result). */
  public readonly selectedCount: string;
  /** Accounts whose connection test passed (from the invocation's result). */
  public readonly connectedCount: string;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationOnboardingProps) {
    super(scope, id);
    const { spec, url, problems } = constructSpec(props, TF_CHECK_CONTEXT.isUnresolved!);
    throwIfInvalid(this, 'ProwlerOrganizationOnboarding', problems);

    const partition = new DataAwsPartition(this, 'Partition').partition;
    const region = new DataAwsRegion(this, 'Region').region;
    const account = new DataAwsCallerIdentity(this, 'Caller').accountId;
    const suffix = this.node.addr.slice(0, 8);
    const name = `prowler-org-onboarding-${suffix}`;

    this.stateBucket = new S3Bucket(this, 'State', { bucketPrefix: 'prowler-org-onboarding-', forceDestroy: true });
    new S3BucketPublicAccessBlock(this, 'StatePublicAccess', {
      bucket: this.stateBucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true,
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'StateEncryption', {
      bucket: this.stateBucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    new S3BucketLifecycleConfiguration(this, 'StateLifecycle', {
      bucket: this.stateBucket.id, rule: [{ id: 'runs', status: 'Enabled', filter: [{ prefix: 'runs/' }], expiration: [{ days: 7 }] }],
    });

    const role = new IamRole(this, 'Role', {
      name,
      description: 'prowler-org-onboarding: discovers the organization and onboards it to Prowler',
      assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    });
    const secrets = [props.apiKeySecretArn, ...(props.assumeCredentialsSecretArn ? [props.assumeCredentialsSecretArn] : [])];
    const statements: object[] = [
      {
        Sid: 'OrganizationsDiscovery',
        Effect: 'Allow',
        Action: ['organizations:DescribeOrganization', 'organizations:ListRoots', 'organizations:ListOrganizationalUnitsForParent', 'organizations:ListAccountsForParent', 'organizations:ListTagsForResource'],
        Resource: '*',
      },
      { Sid: 'State', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${this.stateBucket.arn}/*` },
      { Sid: 'ApiKey', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secrets },
      { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `arn:${partition}:logs:${region}:${account}:log-group:/aws/lambda/${name}*:*` },
      ...(props.localPrecheck ? [{ Sid: 'LocalPrecheck', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:${partition}:iam::*:role/${props.roleName ?? SCAN_ROLE_NAME}` }] : []),
      ...(props.memberStackSet ? [{
        Sid: 'MemberStackSetStatus',
        Effect: 'Allow',
        Action: 'cloudformation:ListStackInstances',
        Resource: `arn:${partition}:cloudformation:${region}:${account}:stackset/${props.memberStackSet.stackSetName}:*`,
      }] : []),
    ];
    const policy = new IamRolePolicy(this, 'Policy', { role: role.id, name: 'onboarding', policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) });

    const asset = new TerraformAsset(this, 'Bundle', { path: HANDLER_BUNDLE, type: AssetType.ARCHIVE });
    const environment = {
      PROWLER_API_URL: url,
      PROWLER_API_KEY_SECRET_ARN: props.apiKeySecretArn,
      STATE_BUCKET: this.stateBucket.bucket,
      ...(props.assumeCredentialsSecretArn ? { ASSUME_CREDENTIALS_SECRET_ARN: props.assumeCredentialsSecretArn } : {}),
      ...(props.localPrecheck ? { LOCAL_PRECHECK: 'true' } : {}),
      ...(props.memberStackSet ? { STACKSET_NAME: props.memberStackSet.stackSetName, STACKSET_CALL_AS: props.memberStackSet.callAs } : {}),
    };
    const fn = (logical: string, handler: string) => {
      const functionName = `${name}-${logical.toLowerCase()}`;
      const logGroup = new CloudwatchLogGroup(this, `${logical}Logs`, { name: `/aws/lambda/${functionName}`, retentionInDays: props.logRetentionDays ?? 30 });
      return new LambdaFunction(this, logical, {
        functionName,
        role: role.arn,
        runtime: 'nodejs22.x',
        architectures: ['arm64'],
        handler,
        filename: asset.path,
        sourceCodeHash: asset.assetHash,
        timeout: 900,
        memorySize: 512,
        environment: { variables: environment },
        loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
        description: `prowler-org-onboarding: ${handler.split('.')[1]}`,
        dependsOn: [policy, logGroup],
      });
    };
    const onboarding = fn('Apply', 'index.terraform');
    const sync = fn('Sync', 'index.sync');
    this.onboardingFunction = onboarding;

    this.invocation = new LambdaInvocation(this, 'Invocation', {
      functionName: onboarding.functionName,
      input: JSON.stringify({ Spec: JSON.stringify(spec) }),
      lifecycleScope: 'CRUD',
      terraformKey: 'tf',
    });
    const result = Fn.jsondecode(this.invocation.result);
    this.externalId = Fn.lookup(result, 'ExternalId', '');
    this.selectedCount = Fn.lookup(result, 'Selected', '');
    this.connectedCount = Fn.lookup(result, 'Connected', '');

    const rules: Array<[string, Record<string, unknown>]> = [['SyncSchedule', { scheduleExpression: props.syncSchedule ?? 'rate(6 hours)' }]];
    if (props.syncOnOrganizationEvents ?? true) {
      rules.push(['SyncOnOrganizationEvents', {
        eventPattern: JSON.stringify({
          'source': ['aws.organizations'],
          'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
          'detail': { eventSource: ['organizations.amazonaws.com'], eventName: ORGANIZATIONS_EVENT_NAMES },
        }),
      }]);
      Annotations.of(this).addInfo('Organizations events reach EventBridge in us-east-1 only: deploy this stack there for event-driven sync (elsewhere the schedule onboards new accounts).');
    }
    for (const [logical, trigger] of rules) {
      const rule = new CloudwatchEventRule(this, logical, { name: `${name}-${logical.toLowerCase()}`, description: `prowler-org-onboarding: ${logical}`, ...trigger });
      new CloudwatchEventTarget(this, `${logical}Target`, { rule: rule.name, arn: sync.arn });
      new LambdaPermission(this, `${logical}Permission`, {
        action: 'lambda:InvokeFunction', functionName: sync.functionName, principal: 'events.amazonaws.com', sourceArn: rule.arn,
      });
    }
  }
}
