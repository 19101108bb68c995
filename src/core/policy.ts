/**
 * The ProwlerScan role as data: trust, managed policies and inline statements.
 *
 * Strings may hold placeholders (`${Partition}`, `${ExternalId}`, …, see {@link Placeholder});
 * each flavour binds them to its own values: CloudFormation `Fn::Sub` variables, CDK tokens,
 * Terraform references. Nothing here knows about any framework.
 */

import { DEFAULT_TRUSTED_PRINCIPAL, PROWLER_CLOUD_ACCOUNT_ID } from './defaults';

/** The names a policy string may use as `${Name}`. */
export type Placeholder =
  | 'Partition'
  | 'ExternalId'
  | 'TrustedAccountId'
  | 'TrustedPrincipal'
  | 'OrganizationId'
  | 'S3BucketName'
  | 'S3BucketAccountId';

/** One IAM statement, with placeholders still in its strings. */
export interface StatementSpec {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** An inline policy of the role: its name and statements. */
export interface InlinePolicySpec {
  readonly name: string;
  readonly statements: readonly StatementSpec[];
}

/**
 * Prowler's `backup:List*`, spelled out: every `backup:List…` action IAM classifies as List or
 * Read. The wildcard also matches `backup:ListIndexedRecoveryPointsForSearch`, which IAM files
 * under "Permissions management, Write". A test expands the wildcard against IAM's data and fails
 * when this list and it differ.
 */
export const BACKUP_LIST_ACTIONS: readonly string[] = [
  'backup:ListBackupAccessPoints',
  'backup:ListBackupAccessPointsByRecoveryPoint',
  'backup:ListBackupAccessPointsByResource',
  'backup:ListBackupJobSummaries',
  'backup:ListBackupJobs',
  'backup:ListBackupPlanTemplates',
  'backup:ListBackupPlanVersions',
  'backup:ListBackupPlans',
  'backup:ListBackupSelections',
  'backup:ListBackupVaults',
  'backup:ListCopyJobSummaries',
  'backup:ListCopyJobs',
  'backup:ListFrameworks',
  'backup:ListIndexedRecoveryPoints',
  'backup:ListLegalHolds',
  'backup:ListProtectedResources',
  'backup:ListProtectedResourcesByBackupVault',
  'backup:ListRecoveryPointsByBackupVault',
  'backup:ListRecoveryPointsByLegalHold',
  'backup:ListRecoveryPointsByResource',
  'backup:ListReportJobs',
  'backup:ListReportPlans',
  'backup:ListRestoreAccessBackupVaults',
  'backup:ListRestoreJobSummaries',
  'backup:ListRestoreJobs',
  'backup:ListRestoreJobsByProtectedResource',
  'backup:ListRestoreTestingPlans',
  'backup:ListRestoreTestingSelections',
  'backup:ListScanJobSummaries',
  'backup:ListScanJobs',
  'backup:ListTags',
  'backup:ListTieringConfigurations',
];

/**
 * Read-only actions Prowler's checks need beyond SecurityAudit and ViewOnlyAccess: the union of
 * the `AllowMoreReadOnly` statement of Prowler's `prowler-scan-role.yml` and Prowler's
 * `prowler-additions-policy.json` (which adds lambda:GetLayerVersion, s3:GetObjectAcl and
 * s3:ListBucket), with `backup:List*` spelled out (BACKUP_LIST_ACTIONS). Sorted, so a change
 * reads as a one-line diff.
 */
export const SCAN_READ_ONLY_ACTIONS: readonly string[] = [
  'account:Get*',
  'amplify:ListApps',
  'amplify:ListBranches',
  'appstream:Describe*',
  'appstream:List*',
  'backup:Get*',
  ...BACKUP_LIST_ACTIONS,
  'bedrock:Get*',
  'bedrock:List*',
  'cloudtrail:GetInsightSelectors',
  'codeartifact:List*',
  'codebuild:BatchGet*',
  'codebuild:ListReportGroups',
  'cognito-idp:GetUserPoolMfaConfig',
  'datapipeline:DescribePipelines',
  'datapipeline:GetPipelineDefinition',
  'datapipeline:ListPipelines',
  'dlm:Get*',
  'drs:Describe*',
  'ds:Describe*',
  'ds:Get*',
  'ds:List*',
  'dynamodb:GetResourcePolicy',
  'ec2:GetEbsEncryptionByDefault',
  'ec2:GetInstanceMetadataDefaults',
  'ec2:GetSnapshotBlockPublicAccessState',
  'ecr:BatchGetImage',
  'ecr:Describe*',
  'ecr:GetDownloadUrlForLayer',
  'ecr:GetRegistryScanningConfiguration',
  'elasticfilesystem:DescribeBackupPolicy',
  'glue:GetConnections',
  'glue:GetMLTransforms',
  'glue:GetSecurityConfiguration*',
  'glue:SearchTables',
  'lambda:GetFunction*',
  'lambda:GetLayerVersion',
  'lightsail:GetRelationalDatabases',
  'logs:FilterLogEvents',
  'macie2:GetAutomatedDiscoveryConfiguration',
  'macie2:GetMacieSession',
  'rolesanywhere:ListProfiles',
  'rolesanywhere:ListTagsForResource',
  'rolesanywhere:ListTrustAnchors',
  's3:GetAccountPublicAccessBlock',
  's3:GetObjectAcl',
  's3:ListBucket',
  'securityhub:GetFindings',
  'servicecatalog:Describe*',
  'servicecatalog:List*',
  'shield:DescribeProtection',
  'shield:GetSubscriptionState',
  'ssm-incidents:List*',
  'ssm:GetDocument',
  'states:ListTagsForResource',
  'support:Describe*',
  'tag:GetTagKeys',
  'wellarchitected:List*',
];

/**
 * Actions the scan role grants that IAM does not classify as List or Read, each with the reason
 * it is granted. A test expands every wildcard against IAM's service authorization data and fails
 * on any non-read action that is not in this list.
 */
export const ACKNOWLEDGED_NON_READ_ACTIONS: Readonly<Record<string, string>> = {
  'securityhub:BatchImportFindings':
    "Prowler sends its findings to the account's own Security Hub when that integration is on (Prowler's template grants it).",
};

/** The inline policy every ProwlerScan role has, in the management and the member accounts alike. */
export const SCAN_POLICY: InlinePolicySpec = {
  name: 'ProwlerScan',
  statements: [
    { Sid: 'AllowMoreReadOnly', Effect: 'Allow', Action: SCAN_READ_ONLY_ACTIONS, Resource: ['*'] },
    { Sid: 'AllowSecurityHubImportFindings', Effect: 'Allow', Action: ['securityhub:BatchImportFindings'], Resource: ['*'] },
    {
      Sid: 'AllowAPIGatewayReadOnly',
      Effect: 'Allow',
      Action: ['apigateway:GET'],
      Resource: [
        'arn:${Partition}:apigateway:*::/restapis/*',
        'arn:${Partition}:apigateway:*::/apis/*',
        'arn:${Partition}:apigateway:*::/domainnames',
        'arn:${Partition}:apigateway:*::/domainnames/*',
      ],
    },
  ],
};

/**
 * Organizations read actions that IAM only authorizes on `*` (no resource types in the service
 * authorization reference): DescribeOrganization, ListAccounts, ListRoots.
 */
export const ORGANIZATIONS_UNSCOPABLE_ACTIONS: readonly string[] = [
  'organizations:DescribeOrganization',
  'organizations:ListAccounts',
  'organizations:ListRoots',
];

/**
 * Organizations read actions that accept account, OU or root ARNs, and so can be scoped to one
 * organization: DescribeAccount (account), ListAccountsForParent and
 * ListOrganizationalUnitsForParent (OU, root), ListTagsForResource (account, OU, root, …).
 */
export const ORGANIZATIONS_SCOPABLE_ACTIONS: readonly string[] = [
  'organizations:DescribeAccount',
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
  'organizations:ListTagsForResource',
];

/** The seven Organizations read actions discovery needs. */
export const ORGANIZATIONS_DISCOVERY_ACTIONS: readonly string[] = [
  ...ORGANIZATIONS_UNSCOPABLE_ACTIONS,
  ...ORGANIZATIONS_SCOPABLE_ACTIONS,
].sort();

/** ARNs of one organization's accounts, OUs and roots (any management account: org ids are unique). */
const ORGANIZATION_MEMBER_ARNS: readonly string[] = [
  'arn:${Partition}:organizations::*:account/${OrganizationId}/*',
  'arn:${Partition}:organizations::*:ou/${OrganizationId}/*',
  'arn:${Partition}:organizations::*:root/${OrganizationId}/*',
];

/** Options of the management-account-only statements. */
export interface OrganizationsPolicyOptions {
  /** Scope the scopable actions to this organization (binds `${OrganizationId}`). */
  readonly scopeToOrganization: boolean;
  /** Add Prowler's StackSet-management statements (opt-in). */
  readonly stackSetManagement: boolean;
}

/**
 * The `ProwlerOrganizations` inline policy: discovery (always) and StackSet management (opt-in).
 * Only ever on the management-account role, never in the member template.
 */
export function organizationsPolicy(options: OrganizationsPolicyOptions): InlinePolicySpec {
  const statements: StatementSpec[] = options.scopeToOrganization
    ? [
      { Sid: 'AllowOrganizationsReadOnlyGlobal', Effect: 'Allow', Action: ORGANIZATIONS_UNSCOPABLE_ACTIONS, Resource: ['*'] },
      { Sid: 'AllowOrganizationsReadOnly', Effect: 'Allow', Action: ORGANIZATIONS_SCOPABLE_ACTIONS, Resource: ORGANIZATION_MEMBER_ARNS },
    ]
    : [{ Sid: 'AllowOrganizationsReadOnly', Effect: 'Allow', Action: ORGANIZATIONS_DISCOVERY_ACTIONS, Resource: ['*'] }];
  if (options.stackSetManagement) {
    statements.push(
      {
        Sid: 'AllowStackSetManagement',
        Effect: 'Allow',
        Action: ['organizations:RegisterDelegatedAdministrator'],
        Resource: options.scopeToOrganization ? ['arn:${Partition}:organizations::*:account/${OrganizationId}/*'] : ['*'],
      },
      {
        Sid: 'AllowCreateStackSetSLR',
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: ['arn:${Partition}:iam::*:role/aws-service-role/member.org.stacksets.cloudformation.amazonaws.com/*'],
      },
    );
  }
  return { name: 'ProwlerOrganizations', statements };
}

/** The optional `S3Integration` inline policy: Prowler writes scan reports to one bucket. */
export const S3_INTEGRATION_POLICY: InlinePolicySpec = {
  name: 'S3Integration',
  statements: [
    {
      Sid: 'AllowPutReports',
      Effect: 'Allow',
      Action: ['s3:PutObject'],
      Resource: ['arn:${Partition}:s3:::${S3BucketName}/*'],
      Condition: { StringEquals: { 's3:ResourceAccount': '${S3BucketAccountId}' } },
    },
    {
      Sid: 'AllowListReportBucket',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: ['arn:${Partition}:s3:::${S3BucketName}'],
      Condition: { StringEquals: { 's3:ResourceAccount': '${S3BucketAccountId}' } },
    },
    {
      Sid: 'AllowDeleteConnectionTestObject',
      Effect: 'Allow',
      Action: ['s3:DeleteObject'],
      Resource: ['arn:${Partition}:s3:::${S3BucketName}/*test-prowler-connection.txt'],
      Condition: { StringEquals: { 's3:ResourceAccount': '${S3BucketAccountId}' } },
    },
  ],
};

/** The principal the trust policy names: the trusted account's root. */
export const TRUSTED_ACCOUNT_ROOT_ARN = 'arn:${Partition}:iam::${TrustedAccountId}:root';

/** The trust policy's conditions: the External ID and the trusted principal inside that account. */
export const TRUST_CONDITIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  StringEquals: { 'sts:ExternalId': '${ExternalId}' },
  StringLike: { 'aws:PrincipalArn': 'arn:${Partition}:iam::${TrustedAccountId}:${TrustedPrincipal}' },
};

/** The whole trust statement, as IAM JSON with placeholders. */
export const TRUST_STATEMENT = {
  Effect: 'Allow',
  Principal: { AWS: TRUSTED_ACCOUNT_ROOT_ARN },
  Action: 'sts:AssumeRole',
  Condition: TRUST_CONDITIONS,
} as const;

/** What goes into one ProwlerScan role. */
export interface ScanRoleShape {
  /** Add the Organizations discovery policy (management account only). */
  readonly organizationDiscovery?: boolean;
  /** Scope the scopable Organizations actions to `${OrganizationId}`. */
  readonly scopeToOrganization?: boolean;
  /** Add Prowler's StackSet-management statements (opt-in). */
  readonly stackSetManagement?: boolean;
  /** Add the S3 integration policy. */
  readonly s3Integration?: boolean;
}

/** The inline policies of one role, in the order every flavour renders them. */
export function inlinePolicies(shape: ScanRoleShape): InlinePolicySpec[] {
  const policies: InlinePolicySpec[] = [SCAN_POLICY];
  if (shape.organizationDiscovery) {
    policies.push(organizationsPolicy({
      scopeToOrganization: shape.scopeToOrganization ?? false,
      stackSetManagement: shape.stackSetManagement ?? false,
    }));
  }
  if (shape.s3Integration) policies.push(S3_INTEGRATION_POLICY);
  return policies;
}

/** An inline policy as an IAM policy document (placeholders still in). */
export function policyDocument(policy: InlinePolicySpec): { Version: '2012-10-17'; Statement: StatementSpec[] } {
  return { Version: '2012-10-17', Statement: policy.statements.map((s) => ({ ...s, Action: [...s.Action], Resource: [...s.Resource] })) };
}

/** The trust policy as an IAM policy document (placeholders still in). */
export function trustPolicyDocument() {
  return { Version: '2012-10-17', Statement: [TRUST_STATEMENT] };
}

/** The values a flavour binds for one role: its partition expression, and the options' values. */
export function scanRoleBindings(o: ScanRoleOptionsLike, partition: string): Readonly<Partial<Record<Placeholder, string>>> {
  return {
    Partition: partition,
    ExternalId: o.externalId,
    TrustedAccountId: o.trustedAccountId ?? PROWLER_CLOUD_ACCOUNT_ID,
    TrustedPrincipal: o.trustedPrincipal ?? DEFAULT_TRUSTED_PRINCIPAL,
    OrganizationId: o.organizationId,
    S3BucketName: o.s3Integration?.bucketName,
    S3BucketAccountId: o.s3Integration?.bucketAccountId,
  };
}

/** The inline policies of a role with these options. */
export function scanRolePolicies(o: ScanRoleOptionsLike): InlinePolicySpec[] {
  return inlinePolicies({
    organizationDiscovery: o.organizationDiscovery,
    scopeToOrganization: o.organizationId !== undefined,
    stackSetManagement: o.stackSetManagement,
    s3Integration: o.s3Integration !== undefined,
  });
}

/** The fields of ScanRoleOptions a role's rendering reads. */
interface ScanRoleOptionsLike {
  readonly externalId: string;
  readonly trustedAccountId?: string;
  readonly trustedPrincipal?: string;
  readonly organizationId?: string;
  readonly organizationDiscovery?: boolean;
  readonly stackSetManagement?: boolean;
  readonly s3Integration?: { readonly bucketName: string; readonly bucketAccountId: string };
}
