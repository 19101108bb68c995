/**
 * Pure validators. Each returns every problem it finds (an empty list when the value is fine) as
 * a message that names the field, shows the value received and says what is allowed. Values a
 * framework has not resolved yet (tokens) are skipped: pass the framework's `isUnresolved`.
 */
import { MAX_STACKSET_TARGETS } from './defaults';
import { StackSetConcurrencyMode, type MemberStackSetOptions, OrganizationRolesOptions, S3IntegrationOptions, ScanRoleOptions, TrustOptions } from './options';

/** How a validator recognises values that are only known at deploy time. */
export interface CheckContext {
  readonly isUnresolved?: (value: unknown) => boolean;
}

/** A format a string field must have. */
interface Format {
  /** What the value must be, leading the message: "Must be a valid AWS Organization ID". */
  readonly must: string;
  /** The allowed form, in words and as the anchored pattern. */
  readonly allowed: string;
  readonly pattern: RegExp;
  /** A hint for a value that is a recognisable mistake. */
  readonly hint?: (value: string) => string | undefined;
  /** Why a value of the right form is refused all the same (undefined: it is not). */
  readonly refuse?: (value: string) => string | undefined;
}

/**
 * A Prowler API key or token where an identifier belongs: the value would be written into
 * templates, trust policies and state, so it is refused (and never shown).
 */
function secretShaped(value: string): string | undefined {
  if (new RegExp(`^${SECRET_STARTS.apiKey}`).test(value)) return 'that is a Prowler API key: it belongs in Secrets Manager, never in a template';
  if (new RegExp(`^${SECRET_STARTS.token}`).test(value)) return 'that is a token: it belongs in Secrets Manager, never in a template';
  return undefined;
}

/**
 * How a Prowler API key (pk_, 8 characters, a dot) and a JWT begin, as regular-expression source
 * that JavaScript, CloudFormation (Java) and Terraform (RE2) all read alike: the templates refuse
 * an External ID that starts so, as the constructs do.
 */
export const SECRET_STARTS = { apiKey: 'pk_[A-Za-z0-9]{8}\\.', token: 'eyJ[\\w-]*\\.[\\w-]+\\.' } as const;

const OU_ID = /^ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/;
const ROOT_ID = /^r-[a-z0-9]{4,32}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID = /^\d{12}$/;

function idMixupHint(value: string): string | undefined {
  const v = value.trim();
  if (v !== value) return 'remove the surrounding spaces';
  if (ORG_ID.test(v)) return 'that is an organization id';
  if (OU_ID.test(v)) return 'that is an OU id';
  if (ROOT_ID.test(v)) return 'that is a root id';
  if (ACCOUNT_ID.test(v)) return 'that is an account id';
  const lower = v.toLowerCase();
  if (lower !== v && /^(o|ou|r)-/.test(lower)) return 'ids are lowercase';
  return undefined;
}

/** The formats this package checks, by kind of value. */
export const FORMATS = {
  externalId: {
    must: 'Must be a valid External ID',
    allowed: '2–1224 characters of letters, digits and _+=,.@:/- (your Prowler tenant id)',
    pattern: /^[\w+=,.@:/-]{2,1224}$/,
    refuse: secretShaped,
  },
  accountId: {
    must: 'Must be a valid AWS account ID',
    allowed: '12 digits, as a string',
    pattern: ACCOUNT_ID,
    hint: (v) => {
      if (/^\d{4}-\d{4}-\d{4}$/.test(v)) return 'remove the dashes';
      if (/^\d{1,11}$/.test(v)) return 'a leading zero may have been lost: quote account ids as strings';
      return idMixupHint(v);
    },
  },
  organizationId: {
    must: 'Must be a valid AWS Organization ID',
    allowed: "'o-' followed by 10–32 lowercase letters or digits, e.g. o-abc123def4",
    pattern: ORG_ID,
    hint: idMixupHint,
  },
  roleArn: {
    must: 'Must be a valid IAM Role ARN',
    allowed: 'arn:<aws|aws-us-gov|aws-cn>:iam::<12-digit account id>:role/<name>',
    pattern: /^arn:(aws|aws-us-gov|aws-cn):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
  },
  target: {
    must: 'Must be an OU id or a root id',
    allowed: 'ou-<4–32 chars>-<8–32 chars> or r-<4–32 chars>, lowercase',
    pattern: new RegExp(`${OU_ID.source}|${ROOT_ID.source}`),
    hint: (v) => {
      const mixup = idMixupHint(v);
      if (mixup === 'that is an organization id') return `${mixup}: target its root (r-…) to cover the whole organization`;
      if (mixup === 'that is an account id') return `${mixup}: target its OU and use onlyAccounts or excludeAccounts`;
      if (mixup) return mixup;
      if (!/^(ou|r)-/.test(v)) {
        return 'this looks like an OU name: use the OU id (ou-…) shown in the AWS Organizations console or by `aws organizations list-organizational-units-for-parent`';
      }
      return undefined;
    },
  },
  region: {
    must: 'Must be an AWS region',
    allowed: 'a region code such as us-east-1, eu-central-2 or us-gov-west-1',
    pattern: /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/,
  },
  trustedPrincipal: {
    must: 'Must be an IAM principal of the trusted account',
    allowed: "'role/<name>' or 'user/<name>' (wildcards allowed, e.g. role/prowler*), or '*'",
    pattern: /^(\*|(role|user)\/[\w+=,.@/*-]{1,512})$/,
    hint: (v) => (v.startsWith('arn:') ? 'give the part after the account only (e.g. role/prowler-app); the account goes in trustedAccountId' : undefined),
  },
  roleName: {
    must: 'Must be a valid IAM role name',
    allowed: '1–64 characters of letters, digits and _+=,.@-',
    pattern: /^[\w+=,.@-]{1,64}$/,
  },
  bucketName: {
    must: 'Must be a valid S3 bucket name',
    allowed: '3–63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
    pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  },
  secretArn: {
    must: 'Must be a Secrets Manager secret ARN',
    allowed: 'arn:<aws|aws-us-gov|aws-cn>:secretsmanager:<region>:<12-digit account id>:secret:<name>',
    pattern: /^arn:aws(-cn|-us-gov)?:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
  },
  kmsKeyArn: {
    must: 'Must be a KMS key ARN',
    allowed: 'arn:<aws|aws-us-gov|aws-cn>:kms:<region>:<12-digit account id>:key/<key id>',
    pattern: /^arn:aws(-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/,
  },
  scheduleExpression: {
    must: 'Must be an EventBridge schedule expression',
    allowed: "'rate(<n> minute|minutes|hour|hours|day|days)' or 'cron(<6 fields>)', e.g. rate(6 hours)",
    pattern: /^(rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$/,
  },
  stackSetName: {
    must: 'Must be a valid StackSet name',
    allowed: 'a letter followed by up to 127 letters, digits and hyphens',
    pattern: /^[a-zA-Z][a-zA-Z0-9-]{0,127}$/,
  },
} satisfies Record<string, Format>;

export type FormatName = keyof typeof FORMATS;

/** Text with anything shaped like a Prowler API key (pk_, 8 characters, a dot, the secret) or a JWT masked. */
export function maskSecrets(text: string): string {
  return text.replace(KEY_ANYWHERE, 'pk_[a key, not shown]').replace(TOKEN_ANYWHERE, '[a token, not shown]');
}
const KEY_ANYWHERE = new RegExp(`${SECRET_STARTS.apiKey}[\\w.-]+`, 'g');
const TOKEN_ANYWHERE = new RegExp(`${SECRET_STARTS.token}[\\w-]+`, 'g');

/** A value as a message shows it: quoted, control characters visible, long values shortened. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = maskSecrets(typeof value === 'string' ? JSON.stringify(value).slice(1, -1).replace(/'/g, "\\'") : JSON.stringify(value) ?? String(value));
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return typeof value === 'string' ? `'${shown}'` : shown;
}

function unresolved(value: unknown, ctx: CheckContext): boolean {
  return ctx.isUnresolved?.(value) ?? false;
}

/** Checks one string field against a format. `undefined` is fine (optional fields). */
export function checkFormat(field: string, value: unknown, format: FormatName, ctx: CheckContext = {}): string[] {
  if (value === undefined || unresolved(value, ctx)) return [];
  const f: Format = FORMATS[format];
  if (typeof value === 'string' && f.pattern.test(value) && !f.refuse?.(value)) return [];
  const hint = typeof value === 'string' ? f.refuse?.(value) ?? f.hint?.(value) : 'it must be a string';
  return [`${field}: ${f.must}: expected ${f.allowed}, got ${show(value)}${hint ? ` (${hint})` : ''}`];
}

/** Checks a required string field. */
export function checkRequired(field: string, value: unknown, format: FormatName, ctx: CheckContext = {}): string[] {
  if (value === undefined || value === null || value === '') {
    return [`${field} is required: expected ${FORMATS[format].allowed}, got ${value === '' ? "''" : 'nothing'}`];
  }
  return checkFormat(field, value, format, ctx);
}

/** Checks a list: its length, duplicates, and each element's format (named `field[i]`). */
export function checkList(
  field: string,
  values: unknown,
  format: FormatName,
  ctx: CheckContext,
  limits: { min?: number; max?: number } = {},
): string[] {
  if (values === undefined || unresolved(values, ctx)) return [];
  if (!Array.isArray(values)) return [`${field} must be a list, got ${show(values)}`];
  const problems: string[] = [];
  const { min = 0, max = Infinity } = limits;
  if (values.length < min || values.length > max) {
    const range = max === Infinity ? `at least ${min}` : `${min}–${max}`;
    problems.push(`${field} must have ${range} entries, got ${values.length}`);
  }
  values.forEach((v, i) => problems.push(...checkFormat(`${field}[${i}]`, v, format, ctx)));
  const seen = new Set<unknown>();
  for (const v of values) {
    if (typeof v === 'string' && !unresolved(v, ctx) && seen.has(v)) problems.push(`${field} lists ${show(v)} more than once`);
    seen.add(v);
  }
  return problems;
}

/** Checks a whole number in a range. */
export function checkInteger(field: string, value: unknown, min: number, max: number, ctx: CheckContext = {}): string[] {
  if (value === undefined || unresolved(value, ctx)) return [];
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return [];
  return [`${field} must be a whole number from ${min} to ${max}, got ${show(value)}`];
}

/** Checks the trust options (External ID, trusted account and principal). */
export function validateTrust(o: Partial<TrustOptions>, ctx: CheckContext = {}): string[] {
  return [
    ...checkRequired('externalId', o.externalId, 'externalId', ctx),
    ...checkFormat('trustedAccountId', o.trustedAccountId, 'accountId', ctx),
    ...checkFormat('trustedPrincipal', o.trustedPrincipal, 'trustedPrincipal', ctx),
  ];
}

function validateS3(o: S3IntegrationOptions | undefined, ctx: CheckContext): string[] {
  if (o === undefined) return [];
  return [
    ...checkRequired('s3Integration.bucketName', o.bucketName, 'bucketName', ctx),
    ...checkRequired('s3Integration.bucketAccountId', o.bucketAccountId, 'accountId', ctx),
  ];
}

/** Checks the options of one ProwlerScan role. */
export function validateScanRole(o: Partial<ScanRoleOptions>, ctx: CheckContext = {}): string[] {
  const problems = [
    ...validateTrust(o, ctx),
    ...checkFormat('roleName', o.roleName, 'roleName', ctx),
    ...checkFormat('organizationId', o.organizationId, 'organizationId', ctx),
    ...validateS3(o.s3Integration, ctx),
  ];
  if (o.organizationId !== undefined && !o.organizationDiscovery) {
    problems.push(`organizationId is only used with organizationDiscovery: true, got organizationDiscovery ${show(o.organizationDiscovery ?? false)}`);
  }
  if (o.stackSetManagement && !o.organizationDiscovery) {
    problems.push(`stackSetManagement requires organizationDiscovery: true (it is a management-account permission), got organizationDiscovery ${show(o.organizationDiscovery ?? false)}`);
  }
  return problems;
}

/** Checks the options of the member role StackSet. */
export function validateMemberStackSet(o: Partial<MemberStackSetOptions>, ctx: CheckContext = {}): string[] {
  const problems = [
    ...validateTrust(o, ctx),
    ...(o.targets === undefined ? [`targets is required: expected 1–${MAX_STACKSET_TARGETS} OU or root ids, got nothing`] : []),
    ...checkList('targets', o.targets, 'target', ctx, { min: 1, max: MAX_STACKSET_TARGETS }),
    ...checkList('excludeAccounts', o.excludeAccounts, 'accountId', ctx, { min: 1 }),
    ...checkList('onlyAccounts', o.onlyAccounts, 'accountId', ctx, { min: 1 }),
    ...checkList('regions', o.regions, 'region', ctx, { min: 1 }),
    ...checkInteger('failureTolerancePercentage', o.failureTolerancePercentage, 0, 100, ctx),
    ...checkInteger('maxConcurrentPercentage', o.maxConcurrentPercentage, 1, 100, ctx),
    ...checkFormat('stackSetName', o.stackSetName, 'stackSetName', ctx),
    ...checkFormat('roleName', o.roleName, 'roleName', ctx),
    ...validateS3(o.s3Integration, ctx),
  ];
  if (o.excludeAccounts !== undefined && o.onlyAccounts !== undefined) {
    problems.push('excludeAccounts and onlyAccounts cannot be combined: CloudFormation applies one account filter per target group (DIFFERENCE or INTERSECTION); give one of them');
  }
  const modes: string[] = Object.values(StackSetConcurrencyMode);
  if (o.concurrencyMode !== undefined && !unresolved(o.concurrencyMode, ctx) && !modes.includes(o.concurrencyMode)) {
    problems.push(`concurrencyMode must be ${modes.join(' or ')}, got ${show(o.concurrencyMode)}`);
  }
  if (o.callAs !== undefined && !unresolved(o.callAs, ctx) && o.callAs !== 'SELF' && o.callAs !== 'DELEGATED_ADMIN') {
    problems.push(`callAs must be SELF or DELEGATED_ADMIN, got ${show(o.callAs)}`);
  }
  return problems;
}

/** Formats a list of problems as one error message. */
export function problemsMessage(what: string, problems: readonly string[]): string {
  const n = problems.length;
  return `${what}: ${n} invalid ${n === 1 ? 'property' : 'properties'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}

/**
 * The management role's and the member StackSet's options from the organization roles' props
 * (one trust for both), and every problem with them.
 */
export function organizationRolesParts(
  props: OrganizationRolesOptions,
  ctx: CheckContext = {},
): { roleOptions: ScanRoleOptions; stackSetOptions: MemberStackSetOptions; problems: string[] } {
  const { organizationId, stackSetManagement, ...stackSetOptions } = props;
  const roleOptions: ScanRoleOptions = {
    externalId: props.externalId,
    trustedAccountId: props.trustedAccountId,
    trustedPrincipal: props.trustedPrincipal,
    roleName: props.roleName,
    s3Integration: props.s3Integration,
    organizationDiscovery: true,
    organizationId,
    stackSetManagement,
  };
  return {
    roleOptions,
    stackSetOptions,
    problems: [...validateScanRole(roleOptions, ctx), ...validateMemberStackSet(stackSetOptions, ctx)],
  };
}

/** The retention periods CloudWatch Logs accepts, in days (0: never expire). */
export const LOG_RETENTION_DAYS = [
  0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Checks a log retention in days against what CloudWatch Logs accepts. */
export function checkLogRetentionDays(field: string, value: number | undefined, ctx: CheckContext = {}): string[] {
  if (value === undefined || unresolved(value, ctx) || (LOG_RETENTION_DAYS as readonly number[]).includes(value)) return [];
  return [`${field} must be one of ${LOG_RETENTION_DAYS.join(', ')} (what CloudWatch Logs accepts; 0 never expires), got ${show(value)}`];
}
