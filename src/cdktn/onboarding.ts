// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
import * as path from 'node:path';
import { CloudwatchEventPermission } from '@cdktn/provider-aws/lib/cloudwatch-event-permission';
import { CloudwatchEventRule } from '@cdktn/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktn/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktn/provider-aws/lib/cloudwatch-log-group';
import { DataAwsIamRole } from '@cdktn/provider-aws/lib/data-aws-iam-role';
import { DataAwsRegion } from '@cdktn/provider-aws/lib/data-aws-region';
import { IamRole } from '@cdktn/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktn/provider-aws/lib/iam-role-policy';
import { IamRolePolicyAttachment } from '@cdktn/provider-aws/lib/iam-role-policy-attachment';
import { LambdaFunction } from '@cdktn/provider-aws/lib/lambda-function';
import { LambdaFunctionEventInvokeConfig } from '@cdktn/provider-aws/lib/lambda-function-event-invoke-config';
import { LambdaInvocation } from '@cdktn/provider-aws/lib/lambda-invocation';
import { LambdaPermission } from '@cdktn/provider-aws/lib/lambda-permission';
import { S3Bucket } from '@cdktn/provider-aws/lib/s3-bucket';
import { S3BucketLifecycleConfiguration } from '@cdktn/provider-aws/lib/s3-bucket-lifecycle-configuration';
import { S3BucketPolicy } from '@cdktn/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktn/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktn/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { Annotations, AssetType, Fn, Op, TerraformAsset, TerraformStack, type TerraformProvider } from 'cdktn';
import { Construct } from 'constructs';
import type { ProwlerMemberRoleStackSet } from './member-stackset';
import { addStackOutputs } from './outputs';
import { stackAccount, stackPartition, stackRegion } from './stack-data';
import { declareConstruct, onlyInProwlerCloudPartition, terraformLiteralKeepingTokens, TF_CHECK_CONTEXT, throwIfInvalid } from './validation';
import { bind } from '../core/bind';
import {
  DEFAULT_SYNC_SCHEDULE, ONBOARDING_FUNCTION_SETTINGS, ONBOARDING_OUTPUTS, ORGANIZATIONS_EVENT_PATTERN, SPEC_PROPERTY, STATE_BUCKET_PROTECTIONS,
  SYNC_FAILURE_METRIC, SYNC_FUNCTION_ID, SYNC_RESERVED_CONCURRENCY, TERRAFORM_KEY, VPC_ACCESS_MANAGED_POLICY_ARN,
  eventForwarding, forwardingRuleArn, lambdaLogGroupName, onboardingEnvironment, onboardingFunctionName, onboardingFunctions, onboardingNamePrefix,
  onboardingStatements, organizationEventsPermission,
  stateBucketPolicy, statementJson, type StatementModel,
} from '../core/onboarding';
import type { OnboardingIdentity, OnboardingSettings } from '../core/onboarding-types';
import { CallAs, type StackOutputsOptions } from '../core/options';
import { latestReportUri } from '../core/outputs';
import { apiOutsidePartitionMessage, callsProwlerCloud, OTHER_PARTITIONS } from '../core/partition';
import { constructSpec } from '../core/spec';
import { DELEGATED_ADMIN_EVENTS } from '../core/stackset';
import { checkFormat, checkLogRetentionDays } from '../core/validate';

/** The handler bundle, zipped once at build time (build-tools/bundle.js): a synth only copies it. */
const HANDLER_ARCHIVE = path.join(__dirname, '..', '..', 'lib', 'handler-bundle.zip');

/** An IAM policy document from core's statements. */
const policyDocument = (statements: StatementModel[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements.map(statementJson) });

/**
 * How the onboarding runs (Terraform): core's `OnboardingSettings` plus the options that are
 * Terraform-specific (ARNs and names instead of constructs, an expression for the schedule).
 */
export interface OnboardingOptions extends OnboardingSettings {
  /** The ARN of the Secrets Manager secret holding the Prowler API key; read at run time, never in the state. */
  readonly apiKeySecretArn: string;
  /**
   * Self-hosted Prowler without ambient AWS credentials: the ARN of the secret with the
   * assume-role credentials.
   * @default - Prowler's own credentials
   */
  readonly assumeCredentialsSecretArn?: string;
  /**
   * Customer-managed KMS keys the secrets are encrypted with (the functions get `kms:Decrypt`
   * through Secrets Manager only).
   * @default - the secrets use the AWS managed key
   */
  readonly secretKmsKeyArns?: string[];
  /**
   * The sync's EventBridge schedule expression.
   * @default 'rate(6 hours)'
   */
  readonly syncSchedule?: string;
  /**
   * Days the onboarding functions' logs are kept.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Run the onboarding functions in these subnets (a self-hosted Prowler on a private address).
   * They need a route to the Prowler API and to AWS (NAT, or VPC endpoints).
   * @default - not in a VPC
   */
  readonly subnetIds?: string[];
  /**
   * The functions' security groups, with `subnetIds`.
   * @default - none: required with `subnetIds`
   */
  readonly securityGroupIds?: string[];
  /**
   * A bucket you own for the run state and the latest report. It is yours to protect: the
   * onboarding only gets read and write access to it.
   * @default - a bucket is created: encrypted, private, TLS only, runs expire after 7 days
   */
  readonly stateBucketName?: string;
  /**
   * The name of an existing role the onboarding functions run as; the onboarding adds its inline
   * policy to it. In a VPC it also needs `AWSLambdaVPCAccessExecutionRole`.
   * @default - a role with exactly the onboarding's statements is created
   */
  readonly functionRoleName?: string;
  /**
   * An AWS provider for the Organizations region (us-east-1 in the aws partition). When this
   * configuration is in another region, a rule there forwards Organizations events to this
   * region's default event bus (Organizations events reach EventBridge only in that region).
   * @default - no forwarding: outside the Organizations region only the schedule syncs
   */
  readonly organizationEventsProvider?: TerraformProvider;
}

/** Properties of {@link ProwlerOrganizationOnboarding} (Terraform). */
export interface ProwlerOrganizationOnboardingProps extends OnboardingOptions, OnboardingIdentity, StackOutputsOptions {
  /**
   * The member-role StackSet: connection tests wait for its instances to be CURRENT in the
   * selected accounts below its targets.
   * @default - no waiting
   */
  readonly memberStackSet?: ProwlerMemberRoleStackSet;
}

/** Lambda's metric of failed syncs: alarm on it (`aws_cloudwatch_metric_alarm`). */
export interface SyncFailuresMetric {
  /** `AWS/Lambda`. */
  readonly namespace: string;
  /** `Errors`. */
  readonly metricName: string;
  /** `Sum`. */
  readonly statistic: string;
  /** The metric's dimensions: the sync function's name. */
  readonly dimensions: Record<string, string>;
}

/**
 * Onboards an AWS Organization to Prowler on `terraform apply` (an `aws_lambda_invocation` with
 * `lifecycle_scope = "CRUD"`, so create, update and destroy reach the handler) and keeps it
 * onboarded on a schedule and on Organizations events.
 */
export class ProwlerOrganizationOnboarding extends Construct {
  /** The invocation that onboards on apply. */
  public readonly invocation: LambdaInvocation;
  /** The function the invocation calls (create, update and destroy). */
  public readonly applyFunction: LambdaFunction;
  /** The function that re-runs the onboarding on the schedule and on Organizations events. */
  public readonly syncFunction: LambdaFunction;
  /**
   * The function the invocation calls.
   * @deprecated use `applyFunction`
   */
  public readonly onboardingFunction: LambdaFunction;
  /** The ARN of the role the functions run as. */
  public readonly functionRoleArn: string;
  /** The name of the state bucket (run state, the latest report). */
  public readonly stateBucketName: string;
  /** The state bucket, when this construct created it. */
  public readonly stateBucket?: S3Bucket;
  /** The rule that runs the sync on its schedule. */
  public readonly syncScheduleRule: CloudwatchEventRule;
  /** The rule that runs the sync on Organizations events (when enabled). */
  public readonly organizationEventsRule?: CloudwatchEventRule;
  /** Lambda's metric of failed syncs, for an alarm. */
  public readonly syncFailuresMetric: SyncFailuresMetric;
  /** The External ID used (from the invocation's result). */
  public readonly externalId: string;
  /** Selected accounts (from the invocation's result). */
  public readonly selectedCount: string;
  /** Accounts registered in Prowler (from the invocation's result). */
  public readonly registeredCount: string;
  /** Accounts whose connection test passed (from the invocation's result). */
  public readonly connectedCount: string;
  /** Accounts that failed registration or their connection test (from the invocation's result). */
  public readonly failedCount: string;
  /** Accounts left alone because another organization's group holds their provider (from the invocation's result). */
  public readonly blockedCount: string;

  constructor(scope: Construct, id: string, props: ProwlerOrganizationOnboardingProps) {
    super(scope, id);
    declareConstruct(this, 'ProwlerOrganizationOnboarding');
    const { spec, url, problems } = constructSpec(props, TF_CHECK_CONTEXT.isUnresolved!);
    const ctx = TF_CHECK_CONTEXT;
    problems.push(
      ...checkFormat('apiKeySecretArn', props.apiKeySecretArn, 'secretArn', ctx),
      ...checkFormat('assumeCredentialsSecretArn', props.assumeCredentialsSecretArn, 'secretArn', ctx),
      ...(props.secretKmsKeyArns ?? []).flatMap((arn, i) => checkFormat(`secretKmsKeyArns[${i}]`, arn, 'kmsKeyArn', ctx)),
      ...checkFormat('syncSchedule', props.syncSchedule, 'scheduleExpression', ctx),
      ...checkLogRetentionDays('logRetentionDays', props.logRetentionDays, ctx),
    );
    if (props.subnetIds && !props.securityGroupIds?.length) problems.push(`securityGroupIds is required with subnetIds, got ${JSON.stringify(props.securityGroupIds ?? null)}`);
    if (props.securityGroupIds && !props.subnetIds?.length) problems.push(`subnetIds is required with securityGroupIds, got ${JSON.stringify(props.subnetIds ?? null)}`);
    throwIfInvalid(this, problems);

    const partition = stackPartition(this);
    const region = stackRegion(this);
    const account = stackAccount(this);
    const name = onboardingNamePrefix(this.node.addr);

    if (props.stateBucketName) {
      this.stateBucketName = props.stateBucketName;
    } else {
      this.stateBucket = this.createStateBucket(partition);
      this.stateBucketName = this.stateBucket.bucket;
    }

    let roleName: string;
    if (props.functionRoleName) {
      const existing = new DataAwsIamRole(this, 'ExistingRole', { name: props.functionRoleName });
      roleName = props.functionRoleName;
      this.functionRoleArn = existing.arn;
      if (props.subnetIds) Annotations.of(this).addWarning('The functions run in a VPC as the role you gave: it needs the AWSLambdaVPCAccessExecutionRole managed policy.');
    } else {
      const role = new IamRole(this, 'Role', {
        name,
        description: 'prowler-org-onboarding: discovers the organization and onboards it to Prowler',
        assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
      });
      roleName = role.name;
      this.functionRoleArn = role.arn;
      if (props.subnetIds) {
        new IamRolePolicyAttachment(this, 'VpcAccess', { role: role.name, policyArn: bind(VPC_ACCESS_MANAGED_POLICY_ARN, { Partition: partition }) });
      }
    }

    const settings = ONBOARDING_FUNCTION_SETTINGS;
    const models = onboardingFunctions('terraform');
    const functionName = (functionId: string) => onboardingFunctionName(name, functionId);
    const logGroups = models.map((f) => new CloudwatchLogGroup(this, `${f.id}Logs`, {
      name: lambdaLogGroupName(functionName(f.id)),
      retentionInDays: props.logRetentionDays ?? settings.logRetentionDays,
    }));
    // The StackSet's own region when it is in another Terraform stack (and so perhaps another provider).
    const elsewhere = props.memberStackSet && TerraformStack.of(props.memberStackSet) !== TerraformStack.of(this);
    const stackSetRegion = elsewhere ? props.memberStackSet!.region : undefined;
    const statements = onboardingStatements({
      partition,
      region,
      account,
      stateBucketName: this.stateBucketName,
      secretArns: [props.apiKeySecretArn, ...(props.assumeCredentialsSecretArn ? [props.assumeCredentialsSecretArn] : [])],
      secretKeyArns: props.secretKmsKeyArns,
      logGroupNames: logGroups.map((g) => g.name),
      localPrecheck: props.localPrecheck,
      roleName: props.roleName,
      stackSetName: props.memberStackSet?.stackSetName,
      stackSetRegion,
      stackSetCallAs: props.memberStackSet?.callAs,
      organizationEvents: props.syncOnOrganizationEvents ?? true,
    });
    const policy = new IamRolePolicy(this, 'Policy', { role: roleName, name: 'onboarding', policy: policyDocument(statements) });

    const asset = new TerraformAsset(this, 'Bundle', { path: HANDLER_ARCHIVE, type: AssetType.FILE });
    const stackSet = props.memberStackSet;
    const environment = onboardingEnvironment({
      apiUrl: url,
      apiKeySecretArn: props.apiKeySecretArn,
      stateBucket: this.stateBucketName,
      assumeCredentialsSecretArn: props.assumeCredentialsSecretArn,
      localPrecheck: props.localPrecheck,
      logLevel: props.logLevel,
      organizationEvents: props.syncOnOrganizationEvents ?? true,
      stackSet: stackSet
        ? { name: stackSet.stackSetName, callAs: stackSet.callAs, targets: stackSet.deploymentTargets, region: stackSetRegion }
        : undefined,
    });
    const functions = models.map((f, i) => new LambdaFunction(this, f.id, {
      functionName: functionName(f.id),
      role: this.functionRoleArn,
      runtime: settings.runtime,
      architectures: [settings.architecture],
      handler: f.handler,
      filename: asset.path,
      sourceCodeHash: asset.assetHash,
      timeout: f.timeoutSeconds,
      memorySize: settings.memorySize,
      environment: { variables: environment },
      loggingConfig: { logFormat: settings.logFormat, logGroup: logGroups[i].name },
      description: f.description,
      ...(props.subnetIds ? { vpcConfig: { subnetIds: props.subnetIds, securityGroupIds: props.securityGroupIds ?? [] } } : {}),
      ...(f.id === SYNC_FUNCTION_ID ? { reservedConcurrentExecutions: SYNC_RESERVED_CONCURRENCY } : {}),
      dependsOn: [policy, logGroups[i]],
    }));
    this.applyFunction = functions[0];
    this.syncFunction = functions.find((_, i) => models[i].id === SYNC_FUNCTION_ID)!;
    this.onboardingFunction = this.applyFunction;
    // A failed sync is counted (syncFailuresMetric) and not retried: the next trigger runs it again.
    new LambdaFunctionEventInvokeConfig(this, 'SyncInvokeConfig', { functionName: this.syncFunction.functionName, maximumRetryAttempts: 0 });
    const m = SYNC_FAILURE_METRIC;
    this.syncFailuresMetric = {
      namespace: m.namespace, metricName: m.metricName, statistic: m.statistic, dimensions: { [m.dimension]: this.syncFunction.functionName },
    };

    this.invocation = new LambdaInvocation(this, 'Invocation', {
      functionName: this.applyFunction.functionName,
      // User text (an alias, a tag value) is data: Terraform must not read `${` in it as an interpolation.
      input: terraformLiteralKeepingTokens(JSON.stringify({ [SPEC_PROPERTY]: JSON.stringify(spec) })),
      lifecycleScope: 'CRUD',
      terraformKey: TERRAFORM_KEY,
      ...(!TF_CHECK_CONTEXT.isUnresolved!(url) && callsProwlerCloud(url)
        ? { lifecycle: onlyInProwlerCloudPartition(partition, apiOutsidePartitionMessage(OTHER_PARTITIONS, props.prowlerApiUrl)) }
        : {}),
    });
    const result = Fn.jsondecode(this.invocation.result);
    const out = ONBOARDING_OUTPUTS;
    this.externalId = Fn.lookup(result, out.externalId, '');
    this.selectedCount = Fn.lookup(result, out.selected, '');
    this.registeredCount = Fn.lookup(result, out.registered, '');
    this.connectedCount = Fn.lookup(result, out.connected, '');
    this.failedCount = Fn.lookup(result, out.failed, '');
    this.blockedCount = Fn.lookup(result, out.blocked, '');
    addStackOutputs(this, props.outputs, {
      stateBucketName: this.stateBucketName,
      latestReportUri: latestReportUri(this.stateBucketName),
    });

    this.syncScheduleRule = this.syncRule('SyncSchedule', `${name}-syncschedule`, { scheduleExpression: props.syncSchedule ?? DEFAULT_SYNC_SCHEDULE });
    if (props.syncOnOrganizationEvents ?? true) {
      this.organizationEventsRule = this.syncRule('SyncOnOrganizationEvents', `${name}-synconorganizationevents`, {
        eventPattern: JSON.stringify(ORGANIZATIONS_EVENT_PATTERN),
      });
      if (props.organizationEventsFrom) {
        const permission = organizationEventsPermission(props.organizationEventsFrom, this.node.addr);
        new CloudwatchEventPermission(this, 'AcceptOrganizationEvents', {
          statementId: permission.statementId, action: permission.action, principal: permission.principal,
        });
      } else if (props.memberStackSet?.callAs === CallAs.DELEGATED_ADMIN) {
        Annotations.of(this).addWarning(DELEGATED_ADMIN_EVENTS);
      }
      if (props.organizationEventsProvider) {
        this.forwardOrganizationEvents(props.organizationEventsProvider, name, { partition, region, account });
      } else {
        Annotations.of(this).addInfo('Organizations events reach EventBridge only in the Organizations region (us-east-1 in the aws partition): elsewhere, pass organizationEventsProvider (a provider for that region) to forward them, or the schedule alone onboards new accounts.');
      }
    }
  }

  private syncRule(id: string, ruleName: string, trigger: { scheduleExpression?: string; eventPattern?: string }): CloudwatchEventRule {
    const rule = new CloudwatchEventRule(this, id, { name: ruleName, description: `prowler-org-onboarding: ${id}`, ...trigger });
    new CloudwatchEventTarget(this, `${id}Target`, { rule: rule.name, arn: this.syncFunction.arn });
    new LambdaPermission(this, `${id}Permission`, {
      action: 'lambda:InvokeFunction', functionName: this.syncFunction.functionName, principal: 'events.amazonaws.com', sourceArn: rule.arn,
    });
    return rule;
  }

  /** A bucket with the protections core decides (encrypted, private, TLS only, runs expire). */
  private createStateBucket(partition: string): S3Bucket {
    const p = STATE_BUCKET_PROTECTIONS;
    const bucket = new S3Bucket(this, 'State', { bucketPrefix: 'prowler-org-onboarding-', forceDestroy: true });
    new S3BucketPublicAccessBlock(this, 'StatePublicAccess', { bucket: bucket.id, ...p.blockPublicAccess });
    new S3BucketServerSideEncryptionConfigurationA(this, 'StateEncryption', {
      bucket: bucket.id, rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: p.encryption } }],
    });
    new S3BucketLifecycleConfiguration(this, 'StateLifecycle', {
      bucket: bucket.id,
      rule: p.lifecycleRules.map((r) => ({ id: r.id, status: 'Enabled', filter: [{ prefix: r.prefix }], expiration: [{ days: r.expirationDays }] })),
    });
    new S3BucketPolicy(this, 'StatePolicy', { bucket: bucket.id, policy: policyDocument(stateBucketPolicy(partition, bucket.bucket)) });
    return bucket;
  }

  /** A rule in the Organizations region sending the events to this region's default bus. */
  private forwardOrganizationEvents(provider: TerraformProvider, name: string, where: { partition: string; region: string; account: string }): void {
    const home = new DataAwsRegion(this, 'OrganizationsRegion', { provider }).name;
    const ruleName = `${name}-forward`;
    const ruleArn = forwardingRuleArn({ partition: where.partition, home, account: where.account, ruleName });
    const forwarding = eventForwarding({ ...where, ruleArn });
    const role = new IamRole(this, 'OrganizationEventsForwarder', {
      name: `${name}-forwarder`,
      description: 'prowler-org-onboarding: forwards Organizations events to the onboarding\'s region',
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: forwarding.trustedService }, Action: 'sts:AssumeRole', Condition: forwarding.trustCondition }],
      }),
    });
    new IamRolePolicy(this, 'OrganizationEventsForwarderPolicy', { role: role.name, name: 'forward', policy: policyDocument(forwarding.statements) });
    const rule = new CloudwatchEventRule(this, 'OrganizationEventsForwardRule', {
      provider,
      name: ruleName,
      description: 'prowler-org-onboarding: Organizations events to the onboarding\'s region',
      eventPattern: JSON.stringify(ORGANIZATIONS_EVENT_PATTERN),
      // A rule sending the default bus's events to the same bus would loop.
      lifecycle: {
        precondition: [{
          condition: Op.neq(home, where.region),
          errorMessage: 'organizationEventsProvider is for the Organizations region, and this configuration is already there: leave organizationEventsProvider out.',
        }],
      },
    });
    new CloudwatchEventTarget(this, 'OrganizationEventsForwardTarget', { provider, rule: rule.name, arn: forwarding.busArn, roleArn: role.arn });
  }
}
