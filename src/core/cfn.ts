/**
 * CloudFormation renderings of the ProwlerScan role: the member template (deployed by the
 * StackSet, also published in templates/) and the standalone template, a drop-in replacement for
 * Prowler's `prowler-scan-role.yml` without its defects (member drift, Organizations permissions
 * leaking to members, one hard-coded region and OU).
 */
import { bind, mapStrings, placeholdersIn, type Bindings } from './bind';
import {
  DEFAULT_FAILURE_TOLERANCE_PERCENTAGE,
  DEFAULT_MAX_CONCURRENT_PERCENTAGE,
  DEFAULT_STACKSET_CONCURRENCY_MODE,
  DEFAULT_TRUSTED_PRINCIPAL,
  MAX_SESSION_DURATION_SECONDS,
  PROWLER_CLOUD_ACCOUNT_ID,
  SCAN_MANAGED_POLICY_ARNS,
  SCAN_ROLE_NAME,
  scanRoleTags,
  STACKSET_DESCRIPTION,
} from './defaults';
import { STACK_OUTPUTS } from './outputs';
import {
  organizationsPolicy,
  policyDocument,
  S3_INTEGRATION_POLICY,
  SCAN_POLICY,
  trustPolicyDocument,
  type InlinePolicySpec,
} from './policy';
import { SECRET_STARTS } from './validate';

type Json = any;

/** Placeholders bound to the templates' own parameters (Fn::Sub variables). */
const CFN_BINDINGS: Bindings = {
  Partition: '${AWS::Partition}',
  ExternalId: '${ExternalId}',
  TrustedAccountId: '${AccountId}',
  TrustedPrincipal: '${IAMPrincipal}',
  OrganizationId: '${OrganizationId}',
  S3BucketName: '${S3IntegrationBucketName}',
  S3BucketAccountId: '${S3IntegrationBucketAccountId}',
};

/** A string with placeholders becomes `Fn::Sub` over the template's parameters. */
function cfnSub(value: unknown): Json {
  return mapStrings(value, (s) => (placeholdersIn(s).length > 0 ? { 'Fn::Sub': bind(s, CFN_BINDINGS) } : s));
}

const NO_VALUE = { Ref: 'AWS::NoValue' };
const ifCondition = (condition: string, then: Json, otherwise: Json = NO_VALUE) => ({ 'Fn::If': [condition, then, otherwise] });
const boolParameter = (description: string, defaultValue: boolean) => ({
  Description: description,
  Type: 'String',
  Default: String(defaultValue),
  AllowedValues: ['true', 'false'],
});
const isTrue = (parameter: string) => ({ 'Fn::Equals': [{ Ref: parameter }, 'true'] });

function cfnPolicy(policy: InlinePolicySpec): Json {
  return { PolicyName: policy.name, PolicyDocument: cfnSub(policyDocument(policy)) };
}

/** The trust, S3 and common parameters both templates share. */
function roleParameters(): Json {
  return {
    ExternalId: {
      Description: 'The External ID Prowler presents when it assumes the role (your Prowler tenant id, shown in the Prowler wizard).',
      Type: 'String',
      // Never a Prowler API key or token: it would be written into the trust policy (core's check too).
      AllowedPattern: `(?!${SECRET_STARTS.apiKey})(?!${SECRET_STARTS.token})[\\w+=,.@:/-]{2,1224}`,
      ConstraintDescription: 'ExternalId must be 2-1224 characters of letters, digits and _+=,.@:/-, and not a Prowler API key or token (those belong in Secrets Manager)',
    },
    AccountId: {
      Description: 'The AWS account allowed to assume the role. Keep the default for Prowler Cloud (aws partition only); self-hosted, and always in AWS GovCloud (US) or China: the account of the identity running the Prowler API and worker.',
      Type: 'String',
      Default: PROWLER_CLOUD_ACCOUNT_ID,
      AllowedPattern: '[0-9]{12}',
      ConstraintDescription: 'AccountId must be a 12-digit AWS account ID.',
    },
    IAMPrincipal: {
      Description: 'The principal in AccountId allowed to assume the role: role/<name> or user/<name> (wildcards allowed), or * for any. Keep the default for Prowler Cloud.',
      Type: 'String',
      Default: DEFAULT_TRUSTED_PRINCIPAL,
      AllowedPattern: '\\*|(role|user)/[\\w+=,.@/*-]{1,512}',
      ConstraintDescription: 'IAMPrincipal must be role/<name>, user/<name> or *.',
    },
    EnableS3Integration: boolParameter('Let Prowler write scan reports to an S3 bucket.', false),
    S3IntegrationBucketName: { Description: 'The S3 bucket Prowler writes scan reports to.', Type: 'String', Default: '' },
    S3IntegrationBucketAccountId: { Description: 'The AWS account that owns the S3 bucket.', Type: 'String', Default: '' },
  };
}

const S3_RULES = {
  S3IntegrationRequiresParams: {
    RuleCondition: isTrue('EnableS3Integration'),
    Assertions: [
      { Assert: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'S3IntegrationBucketName' }, ''] }] }, AssertDescription: 'S3IntegrationBucketName is required when EnableS3Integration is true.' },
      { Assert: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'S3IntegrationBucketAccountId' }, ''] }] }, AssertDescription: 'S3IntegrationBucketAccountId is required when EnableS3Integration is true.' },
    ],
  },
};

/** The AWS::IAM::Role resource, rendered from core's policy data. */
function roleResource(roleName: Json, policies: Json[], condition?: string): Json {
  return {
    Type: 'AWS::IAM::Role',
    ...(condition ? { Condition: condition } : {}),
    Properties: {
      RoleName: roleName,
      AssumeRolePolicyDocument: cfnSub(trustPolicyDocument()),
      MaxSessionDuration: MAX_SESSION_DURATION_SECONDS,
      ManagedPolicyArns: cfnSub([...SCAN_MANAGED_POLICY_ARNS]),
      Policies: policies,
      Tags: Object.entries(scanRoleTags('CloudFormation')).map(([Key, Value]) => ({ Key, Value })),
    },
  };
}

export const GENERATED_BY = 'prowler-org-onboarding';

/**
 * The member-account template: the ProwlerScan role with the scan permissions only (never the
 * Organizations ones), parameterised by the trust values.
 */
export function memberTemplate(): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `The ProwlerScan IAM role for a member account: read-only scan permissions (SecurityAudit, ViewOnlyAccess and Prowler's additions), trusted by Prowler under your External ID. Generated by ${GENERATED_BY}.`,
    Parameters: {
      ...roleParameters(),
      RoleName: {
        Description: 'The role name. Prowler expects ProwlerScan in every account.',
        Type: 'String',
        Default: SCAN_ROLE_NAME,
        AllowedPattern: '[\\w+=,.@-]{1,64}',
      },
    },
    Rules: S3_RULES,
    Conditions: { S3IntegrationEnabled: isTrue('EnableS3Integration') },
    Resources: {
      ProwlerScan: roleResource({ Ref: 'RoleName' }, [
        cfnPolicy(SCAN_POLICY),
        ifCondition('S3IntegrationEnabled', cfnPolicy(S3_INTEGRATION_POLICY)),
      ]),
    },
    Outputs: {
      // Its description stays as it was: a change to the member template updates every member account's stack.
      [STACK_OUTPUTS.scanRoleArn.cloudFormation]: { Description: 'ARN of the ProwlerScan IAM role', Value: { 'Fn::GetAtt': ['ProwlerScan', 'Arn'] } },
    },
  };
}

/** The standalone template's StackSet name (its `StackSetName` output too: a StackSet's `Ref` is its id). */
const STANDALONE_STACKSET_NAME = { 'Fn::Sub': '${AWS::StackName}-ProwlerScan-StackSet' };

/** The Organizations policy of the standalone template, for every combination of its parameters. */
function organizationsPolicyByParameters(): Json {
  const statements = (scopeToOrganization: boolean, stackSetManagement: boolean) =>
    cfnSub(policyDocument(organizationsPolicy({ scopeToOrganization, stackSetManagement })).Statement);
  return {
    PolicyName: organizationsPolicy({ scopeToOrganization: false, stackSetManagement: false }).name,
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: ifCondition(
        'OrganizationScoped',
        ifCondition('StackSetManagementEnabled', statements(true, true), statements(true, false)),
        ifCondition('StackSetManagementEnabled', statements(false, true), statements(false, false)),
      ),
    },
  };
}

/** The parameters the standalone template (and the Terraform module) pass on to the member template. */
export const STACKSET_PARAMETERS = ['ExternalId', 'AccountId', 'IAMPrincipal', 'EnableS3Integration', 'S3IntegrationBucketName', 'S3IntegrationBucketAccountId'] as const;

/** The OU / root id pattern each entry of AWSOrganizationalUnitId must match (empty allowed). */
const TARGET_PATTERN = '^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})?$';

/**
 * The standalone template: a drop-in replacement for Prowler's `prowler-scan-role.yml` (same
 * parameter names and meanings, so Prowler's Quick Create links work), deploying the local role
 * and/or the member StackSet.
 *
 * @param memberTemplateBody the member template as the StackSet's TemplateBody (YAML text)
 */
export function standaloneTemplate(memberTemplateBody: string): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: [
      'Creates the ProwlerScan IAM role in this account and/or, through a service-managed StackSet, in the member accounts of your AWS Organization.',
      "A drop-in replacement for Prowler's prowler-scan-role.yml (same parameters): the member role has exactly the scan permissions of the local role,",
      'Organizations permissions stay in this account, and the StackSet takes several OUs and regions.',
      `Generated by ${GENERATED_BY}. For Prowler Cloud keep AccountId and IAMPrincipal as they are.`,
    ].join('\n'),
    Parameters: {
      ...roleParameters(),
      EnableOrganizations: boolParameter(
        'Grant AWS Organizations discovery permissions (read-only) to the local role. Only for the management account (or a delegated administrator). Never granted to member roles.',
        false,
      ),
      OrganizationId: {
        Description: 'Optional: your organization id (o-...). Scopes the Organizations actions that accept resource ARNs to this organization.',
        Type: 'String',
        Default: '',
        AllowedPattern: '^(o-[a-z0-9]{10,32})?$',
        ConstraintDescription: "OrganizationId must be 'o-' followed by 10-32 lowercase letters or digits, or empty.",
      },
      EnableStackSetManagement: boolParameter(
        "Also grant Prowler's StackSet-management permissions (organizations:RegisterDelegatedAdministrator, iam:CreateServiceLinkedRole for StackSets) with EnableOrganizations. Prowler's own template always adds them; they are not needed to scan.",
        false,
      ),
      DeployLocalRole: boolParameter('Deploy the ProwlerScan role in this account.', true),
      DeployStackSet: boolParameter('Deploy the ProwlerScan role to member accounts through a service-managed StackSet (needs trusted access for CloudFormation StackSets).', false),
      AWSOrganizationalUnitId: {
        Description: 'OU ids (ou-...) or the root id (r-...) to deploy the StackSet to, comma-separated. Required if DeployStackSet is true.',
        Type: 'CommaDelimitedList',
        Default: '',
        AllowedPattern: TARGET_PATTERN,
        ConstraintDescription: 'Each entry must be an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx).',
      },
      StackSetRegions: {
        Description: 'Regions for the StackSet instances, comma-separated. IAM is global, so one is enough. Empty: this stack\'s region.',
        Type: 'CommaDelimitedList',
        Default: '',
      },
      RetainStacksOnAccountRemoval: boolParameter(
        'Keep the ProwlerScan role in accounts that leave the targeted OUs or the organization (false removes it: least privilege).',
        false,
      ),
      DeployFromDelegatedAdmin: boolParameter('Deploy the StackSet from a delegated administrator account (CallAs DELEGATED_ADMIN) instead of the management account.', false),
      FailureTolerancePercentage: {
        Description: 'Percentage of accounts in which the StackSet operation may fail before CloudFormation stops it.',
        Type: 'Number',
        Default: DEFAULT_FAILURE_TOLERANCE_PERCENTAGE,
        MinValue: 0,
        MaxValue: 100,
      },
    },
    Rules: {
      ...S3_RULES,
      StackSetRequiresTargets: {
        RuleCondition: isTrue('DeployStackSet'),
        Assertions: [{
          Assert: { 'Fn::Not': [{ 'Fn::Contains': [{ Ref: 'AWSOrganizationalUnitId' }, ''] }] },
          AssertDescription: 'AWSOrganizationalUnitId needs at least one OU id (ou-...) or root id (r-...), with no empty entry, when DeployStackSet is true.',
        }],
      },
      // A delegated administrator is a member: the StackSet deploys ProwlerScan to it, a local one would collide.
      DelegatedAdministratorIsAMember: {
        RuleCondition: { 'Fn::And': [isTrue('DeployStackSet'), isTrue('DeployFromDelegatedAdmin')] },
        Assertions: [{
          Assert: { 'Fn::Not': [isTrue('DeployLocalRole')] },
          AssertDescription: 'From a delegated administrator set DeployLocalRole to false: this account is a member, so the StackSet deploys ProwlerScan to it and a local one '
            + 'would collide. Deploy this template in the management account too, with DeployLocalRole=true, EnableOrganizations=true and DeployStackSet=false.',
        }],
      },
      SomethingToDeploy: {
        Assertions: [{
          Assert: { 'Fn::Or': [isTrue('DeployLocalRole'), isTrue('DeployStackSet')] },
          AssertDescription: 'Set DeployLocalRole or DeployStackSet (or both) to true.',
        }],
      },
    },
    Conditions: {
      OrganizationsEnabled: isTrue('EnableOrganizations'),
      OrganizationScoped: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OrganizationId' }, ''] }] },
      StackSetManagementEnabled: { 'Fn::And': [{ Condition: 'OrganizationsEnabled' }, isTrue('EnableStackSetManagement')] },
      S3IntegrationEnabled: isTrue('EnableS3Integration'),
      DeployLocalRoleEnabled: isTrue('DeployLocalRole'),
      DeployStackSetEnabled: isTrue('DeployStackSet'),
      UseDelegatedAdmin: isTrue('DeployFromDelegatedAdmin'),
      StackSetRegionsGiven: { 'Fn::Not': [{ 'Fn::Equals': [{ 'Fn::Join': ['', { Ref: 'StackSetRegions' }] }, ''] }] },
    },
    Resources: {
      ProwlerScan: roleResource(SCAN_ROLE_NAME, [
        cfnPolicy(SCAN_POLICY),
        ifCondition('OrganizationsEnabled', organizationsPolicyByParameters()),
        ifCondition('S3IntegrationEnabled', cfnPolicy(S3_INTEGRATION_POLICY)),
      ], 'DeployLocalRoleEnabled'),
      ProwlerScanStackSet: {
        Type: 'AWS::CloudFormation::StackSet',
        Condition: 'DeployStackSetEnabled',
        Properties: {
          StackSetName: STANDALONE_STACKSET_NAME,
          Description: STACKSET_DESCRIPTION,
          PermissionModel: 'SERVICE_MANAGED',
          CallAs: ifCondition('UseDelegatedAdmin', 'DELEGATED_ADMIN', 'SELF'),
          Capabilities: ['CAPABILITY_NAMED_IAM'],
          AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: { Ref: 'RetainStacksOnAccountRemoval' } },
          ManagedExecution: { Active: true },
          OperationPreferences: {
            FailureTolerancePercentage: { Ref: 'FailureTolerancePercentage' },
            MaxConcurrentPercentage: DEFAULT_MAX_CONCURRENT_PERCENTAGE,
            RegionConcurrencyType: 'PARALLEL',
            ConcurrencyMode: DEFAULT_STACKSET_CONCURRENCY_MODE,
          },
          Parameters: STACKSET_PARAMETERS.map((name) => ({ ParameterKey: name, ParameterValue: { Ref: name } })),
          StackInstancesGroup: [{
            DeploymentTargets: { OrganizationalUnitIds: { Ref: 'AWSOrganizationalUnitId' } },
            Regions: ifCondition('StackSetRegionsGiven', { Ref: 'StackSetRegions' }, [{ Ref: 'AWS::Region' }]),
          }],
          TemplateBody: memberTemplateBody,
        },
      },
    },
    Outputs: {
      // Its key and export are the template's since its first release: kept, so pipelines reading them go on working.
      LocalProwlerScanRoleArn: {
        Condition: 'DeployLocalRoleEnabled',
        Description: STACK_OUTPUTS.scanRoleArn.description,
        Value: { 'Fn::GetAtt': ['ProwlerScan', 'Arn'] },
        Export: { Name: { 'Fn::Sub': '${AWS::StackName}-ProwlerScanRoleArn' } },
      },
      [STACK_OUTPUTS.stackSetName.cloudFormation]: {
        Condition: 'DeployStackSetEnabled',
        Description: STACK_OUTPUTS.stackSetName.description,
        Value: STANDALONE_STACKSET_NAME,
      },
      [STACK_OUTPUTS.stackSetId.cloudFormation]: {
        Condition: 'DeployStackSetEnabled',
        Description: STACK_OUTPUTS.stackSetId.description,
        Value: { Ref: 'ProwlerScanStackSet' },
      },
    },
    Metadata: {
      'AWS::CloudFormation::Interface': {
        ParameterGroups: [
          { Label: { default: 'Deployment Options' }, Parameters: ['DeployLocalRole', 'DeployStackSet'] },
          { Label: { default: 'Required Prowler Configuration' }, Parameters: ['ExternalId', 'AccountId', 'IAMPrincipal', 'EnableOrganizations', 'EnableS3Integration'] },
          { Label: { default: 'Organizations (management account only)' }, Parameters: ['OrganizationId', 'EnableStackSetManagement'] },
          { Label: { default: 'Optional S3 Integration' }, Parameters: ['S3IntegrationBucketName', 'S3IntegrationBucketAccountId'] },
          {
            Label: { default: 'StackSet Configuration (Required if DeployStackSet is true)' },
            Parameters: ['AWSOrganizationalUnitId', 'StackSetRegions', 'DeployFromDelegatedAdmin', 'RetainStacksOnAccountRemoval', 'FailureTolerancePercentage'],
          },
        ],
      },
    },
  };
}
