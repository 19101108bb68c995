/**
 * The member-role StackSet as data: every decision (defaults, account filters, parameters) made
 * once here; the CDK and CDKTF constructs only map it to their resource's property names.
 */
import { memberTemplate } from './cfn';
import {
  DEFAULT_FAILURE_TOLERANCE_PERCENTAGE,
  DEFAULT_MAX_CONCURRENT_PERCENTAGE,
  DEFAULT_STACKSET_CONCURRENCY_MODE,
  DEFAULT_TRUSTED_PRINCIPAL,
  MAX_TEMPLATE_BODY_BYTES,
  PROWLER_CLOUD_ACCOUNT_ID,
  SCAN_ROLE_NAME,
  STACKSET_DESCRIPTION,
} from './defaults';
import { CallAs, StackSetConcurrencyMode, type MemberStackSetOptions, type StackSetDeploymentTargets } from './options';

/** One stack-instance group: where the role goes. */
export interface StackInstanceGroupModel {
  readonly organizationalUnitIds: string[];
  /** Account filter: DIFFERENCE (exclude) or INTERSECTION (only); UNION is never emitted. */
  readonly accountFilterType?: 'DIFFERENCE' | 'INTERSECTION';
  readonly accounts?: string[];
  /** `undefined`: the flavour's own region (the stack's). */
  readonly regions?: string[];
}

/** A service-managed StackSet deploying the member role. */
export interface StackSetModel {
  readonly stackSetName?: string;
  readonly description: string;
  readonly permissionModel: 'SERVICE_MANAGED';
  readonly capabilities: string[];
  readonly callAs: 'SELF' | 'DELEGATED_ADMIN';
  readonly autoDeployment: { readonly enabled: boolean; readonly retainStacksOnAccountRemoval: boolean };
  readonly managedExecution: { readonly active: boolean };
  readonly operationPreferences: {
    readonly failureTolerancePercentage: number;
    readonly maxConcurrentPercentage: number;
    readonly regionConcurrencyType: 'PARALLEL';
    readonly concurrencyMode: StackSetConcurrencyMode;
  };
  readonly parameters: Record<string, string>;
  readonly instanceGroup: StackInstanceGroupModel;
  /** The member template, as compact JSON. */
  readonly templateBody: string;
}

/** Decides the StackSet for validated options. */
export function memberStackSetModel(o: MemberStackSetOptions): StackSetModel {
  const templateBody = JSON.stringify(memberTemplate());
  const bytes = Buffer.byteLength(templateBody, 'utf8');
  if (bytes > MAX_TEMPLATE_BODY_BYTES) {
    throw new Error(`member template is ${bytes} bytes, over CloudFormation's ${MAX_TEMPLATE_BODY_BYTES}-byte TemplateBody limit`);
  }
  const filter = o.excludeAccounts
    ? { accountFilterType: 'DIFFERENCE' as const, accounts: [...o.excludeAccounts] }
    : o.onlyAccounts
      ? { accountFilterType: 'INTERSECTION' as const, accounts: [...o.onlyAccounts] }
      : {};
  return {
    stackSetName: o.stackSetName,
    description: STACKSET_DESCRIPTION,
    permissionModel: 'SERVICE_MANAGED',
    capabilities: ['CAPABILITY_NAMED_IAM'],
    callAs: o.callAs ?? CallAs.SELF,
    autoDeployment: {
      enabled: o.autoDeployment ?? true,
      retainStacksOnAccountRemoval: o.retainStacksOnAccountRemoval ?? false,
    },
    managedExecution: { active: o.managedExecution ?? true },
    operationPreferences: {
      failureTolerancePercentage: o.failureTolerancePercentage ?? DEFAULT_FAILURE_TOLERANCE_PERCENTAGE,
      maxConcurrentPercentage: o.maxConcurrentPercentage ?? DEFAULT_MAX_CONCURRENT_PERCENTAGE,
      regionConcurrencyType: 'PARALLEL',
      concurrencyMode: o.concurrencyMode ?? DEFAULT_STACKSET_CONCURRENCY_MODE,
    },
    parameters: {
      ExternalId: o.externalId,
      AccountId: o.trustedAccountId ?? PROWLER_CLOUD_ACCOUNT_ID,
      IAMPrincipal: o.trustedPrincipal ?? DEFAULT_TRUSTED_PRINCIPAL,
      RoleName: o.roleName ?? SCAN_ROLE_NAME,
      EnableS3Integration: o.s3Integration ? 'true' : 'false',
      S3IntegrationBucketName: o.s3Integration?.bucketName ?? '',
      S3IntegrationBucketAccountId: o.s3Integration?.bucketAccountId ?? '',
    },
    instanceGroup: { organizationalUnitIds: [...o.targets], ...filter, regions: o.regions ? [...o.regions] : undefined },
    templateBody,
  };
}

/** The deployment targets of an instance group, as the onboarding reads them. */
export function deploymentTargets(group: StackInstanceGroupModel): StackSetDeploymentTargets {
  return {
    organizationalUnitIds: [...group.organizationalUnitIds],
    ...(group.accountFilterType ? { accountFilterType: group.accountFilterType, accounts: [...(group.accounts ?? [])] } : {}),
  };
}

/**
 * Deployed from a StackSets delegated administrator, the organization roles create no role in the
 * deploying account: it is an ordinary member, so the StackSet deploys the role there when its
 * targets cover it (a second `ProwlerScan` would collide). Service-managed StackSets never deploy
 * to the management account, which needs its own role with Organizations discovery.
 */
export const DELEGATED_ADMIN_MANAGEMENT_ROLE = 'callAs is DELEGATED_ADMIN: this account is a member, so no role is created here (the StackSet deploys it '
  + 'where its targets reach). The management account needs its own ProwlerScan role with Organizations discovery: deploy '
  + 'templates/prowler-scan-role.yaml there with DeployLocalRole=true, EnableOrganizations=true and DeployStackSet=false, or a '
  + 'ProwlerScanRole with organizationDiscovery: true in a stack for that account (README: "Deploying from a delegated administrator"). '
  + 'Until then the management account\'s connection test fails, unless the selection leaves it out (includeManagementAccount: false).';

/** The onboarding's warning from a delegated administrator when nothing brings it the Organizations events. */
export const DELEGATED_ADMIN_EVENTS = 'callAs is DELEGATED_ADMIN: Organizations events are recorded in the management account, so they never reach '
  + 'this account and only the schedule syncs. To sync on them, deploy ProwlerOrganizationEventForwarder in a management-account stack in the '
  + 'Organizations region (us-east-1 in the aws partition) and set organizationEventsFrom to the management account '
  + '(README: "Deploying from a delegated administrator"); or set syncOnOrganizationEvents: false.';

/** Whether the organization roles create the management-account role: not from a delegated administrator. */
export function createsLocalRole(callAs: string | undefined): boolean {
  return callAs !== CallAs.DELEGATED_ADMIN;
}

/** What the StackSet's options do that a user may not expect (construct warnings). */
export function memberStackSetWarnings(o: MemberStackSetOptions): string[] {
  const filtered = o.excludeAccounts ? 'excludeAccounts' : o.onlyAccounts ? 'onlyAccounts' : undefined;
  return filtered && (o.autoDeployment ?? true)
    ? [`${filtered} applies when the StackSet deploys, but CloudFormation's auto-deployment ignores account filters: an account that later joins or moves `
      + 'into the targets gets the role whatever the filter says (the onboarding still selects by its own rules). Set autoDeployment: false to deploy only on updates.']
    : [];
}
