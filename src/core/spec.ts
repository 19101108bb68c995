/**
 * The onboarding spec: which accounts of the organization Prowler scans, and how they are
 * onboarded. The jsii types are what construct props accept; the zod schema parses the same shape
 * from outside (spec files, custom-resource properties, invocation payloads) and reports every
 * problem with its path.
 */
import { MAX_SESSION_DURATION_SECONDS } from './defaults';
import { LOG_LEVELS } from './onboarding';
import type { AccountSelection, OnboardingIdentity, OnboardingSettings } from './onboarding-types';
import { apiUrlProblems, PROWLER_CLOUD_API_URL } from './partition';
import { checkFormat, FORMATS, maskSecrets, type FormatName } from './validate';
import * as z from './zod';

export * from './onboarding-types';

export const DEFAULT_ALIAS_PATTERN = '{name}';
export const DEFAULT_RETRY_ROUNDS = 3;
export const DEFAULT_RETRY_DELAY_SECONDS = 30;
export const DEFAULT_STACKSET_WAIT_SECONDS = 600;
export const DEFAULT_CONCURRENT_TESTS = 100;

/** A string field with one of core's formats, with core's message. */
function formatted(format: FormatName) {
  const f = FORMATS[format];
  return z.string({
    error: (issue) => {
      if (issue.input === undefined) return 'is required';
      // YAML reads 012345678901 as a number: the leading zero is gone before we see it.
      const quote = format === 'accountId' && typeof issue.input === 'number' ? ': quote account ids (\'012345678901\'), or a leading zero is lost' : '';
      return `must be a string, got ${shown(issue.input)}${quote}`;
    },
  }).check(
    z.refine((v) => f.pattern.test(v) && !('refuse' in f && f.refuse(v)), {
      error: (issue) => {
        const value = String(issue.input);
        const refused = 'refuse' in f ? f.refuse(value) : undefined;
        const hint = refused ?? ('hint' in f ? (f.hint as (v: string) => string | undefined)(value) : undefined);
        return `${f.must}: expected ${f.allowed}, got ${shown(value)}${hint ? ` (${hint})` : ''}`;
      },
    }),
    z.meta({ pattern: f.pattern.source, description: f.allowed }), // for the JSON Schema (editors)
  );
}

const ids = (format: FormatName) => z.array(formatted(format)).check(z.refine((list) => new Set(list).size === list.length, {
  error: (issue) => {
    const list = issue.input as string[];
    const duplicate = list.find((v, i) => list.indexOf(v) !== i);
    return `lists '${duplicate}' more than once`;
  },
}));
/** A list of ids of at least one. */
const someIds = (format: FormatName, message: string) => ids(format).check(z.minLength(1, message));

const tagRule = z.strictObject({
  key: z.string().check(z.minLength(1, 'must be a tag key of 1–128 characters'), z.maxLength(128, 'must be a tag key of 1–128 characters')),
  value: z.optional(z.string().check(z.maxLength(256, 'must be a tag value of at most 256 characters'))),
});

/**
 * Control characters (NUL, escapes) and bidirectional overrides (U+202E makes "gpj.exe" read
 * "exe.jpg") have no place in a name a person reads in Prowler's console.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const printable = (what: string) => z.refine((v) => !UNPRINTABLE.test(String(v)), {
  message: `must not contain control or bidirectional-override characters (${what} is shown to people in Prowler)`,
});

const alias = z.string().check(
  z.minLength(3, 'must be 3–100 characters (a Prowler alias)'), z.maxLength(100, 'must be 3–100 characters (a Prowler alias)'), printable('an alias'),
);

/** A whole number from `min` to `max`, with one message for both ends. */
const wholeNumber = (min: number, max: number, message: string, maxMessage = message) =>
  z.number().check(z.int(), z.minimum(min, message), z.maximum(max, maxMessage));

export const accountSelectionSchema = z.strictObject({
  targets: z.optional(someIds('target', 'must list at least one root or OU id (leave it out for the whole organization)')),
  excludeOus: z.optional(ids('target')),
  includeAccounts: z.optional(ids('accountId')),
  onlyAccounts: z.optional(someIds('accountId', 'must list at least one account id (leave it out to allow every account)')),
  excludeAccounts: z.optional(ids('accountId')),
  includeTags: z.optional(z.array(tagRule).check(z.minLength(1, 'must list at least one tag rule'))),
  excludeTags: z.optional(z.array(tagRule)),
  includeManagementAccount: z.optional(z.boolean()),
  aliases: z.optional(z.record(formatted('accountId'), alias)),
  aliasPattern: z.optional(z.string().check(
    z.refine((p) => /\{(name|id|ou)\}/.test(p), 'must use {name}, {id} or {ou} so every account gets its own alias'),
    z.refine((p) => !/\{(?!name\}|id\}|ou\})[^}]*\}/.test(p), 'may only use the placeholders {name}, {id} and {ou}'),
    printable('every alias made from it'),
  )),
}).check(z.superRefine((s, ctx) => {
  const both = (s.includeAccounts ?? []).filter((a) => (s.excludeAccounts ?? []).includes(a));
  for (const account of both) {
    ctx.addIssue({ code: 'custom', path: ['includeAccounts'], message: `'${account}' is also in excludeAccounts: give it in one of them` });
  }
  const only = s.onlyAccounts ? new Set(s.onlyAccounts) : undefined;
  for (const account of (s.includeAccounts ?? []).filter((a) => only && !only.has(a))) {
    ctx.addIssue({ code: 'custom', path: ['includeAccounts'], message: `'${account}' is not in onlyAccounts, so it can never be selected: add it there too` });
  }
  const targetAndExcluded = (s.targets ?? []).filter((t) => (s.excludeOus ?? []).includes(t));
  for (const ou of targetAndExcluded) {
    ctx.addIssue({ code: 'custom', path: ['excludeOus'], message: `'${ou}' is also a target: give it in one of them` });
  }
}));

/** One problem found in outside input: where (a dotted path) and what. */
export interface SpecProblem {
  readonly path: string;
  readonly message: string;
}

/** zod issues as "path: message" problems; the path names the field as the user wrote it. */
export function specProblems(error: z.$ZodError, root = ''): SpecProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), root);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown ${issue.keys.length === 1 ? 'field' : 'fields'} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    if (issue.code === 'invalid_type' && !/^(must be|is required)/.test(issue.message)) { // zod's words, not ours
      message = issue.input === undefined
        ? 'is required'
        : typeof issue.input === 'number' && !Number.isFinite(issue.input)
          ? `must be a finite number, got ${shown(issue.input)}`
          : `must be ${article(issue.expected)}, got ${typeName(issue.input)} ${shown(issue.input)}`;
    }
    if (issue.code === 'invalid_value') message = `must be one of ${issue.values.map((v) => shown(v)).join(', ')}`;
    if (issue.code === 'invalid_key') message = issue.issues[0]?.message ?? message;
    // Every message shows what it got (cut), unless it did already; never what may be a key.
    if (issue.path.length === 1 && SECRET_FIELDS.has(String(issue.path[0]))) message = `${message.replace(/, got [\s\S]*$/, '')} (what it holds is not shown: it may be a key)`;
    else if (issue.input !== undefined && !/, got |\bgot /.test(message) && issue.code !== 'unrecognized_keys') message = `${message}, got ${shown(issue.input)}`;
    return { path: path || '(top level)', message };
  });
}

/** Fields whose wrong values may be secrets (a key pasted where its location belongs). */
const SECRET_FIELDS = new Set(['apiKey']);

/** A value as a message shows it: strings quoted, everything cut to about 80 characters. */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? value
    : typeof value === 'number' && !Number.isFinite(value) ? String(value)
      : JSON.stringify(value) ?? String(value);
  const safe = maskSecrets(text); // a key or token pasted where something else belongs
  const cut = safe.length > 80 ? `${safe.slice(0, 77)}…` : safe;
  return typeof value === 'string' ? `'${cut}'` : cut;
}

const article = (expected: string) => (/^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`);
const typeName = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value);

/** Parses an account selection, or throws one error listing every problem with its path. */
export function parseAccountSelection(input: unknown, root = 'selection'): z.infer<typeof accountSelectionSchema> {
  const result = accountSelectionSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    const problems = specProblems(result.error, root);
    throw new SpecError(problems);
  }
  return result.data;
}

/** Outside input that does not parse: every problem, with its path. */
export class SpecError extends Error {
  constructor(public readonly problems: readonly SpecProblem[]) {
    super(`${problems.length} invalid ${problems.length === 1 ? 'field' : 'fields'}:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'SpecError';
  }
}

// The jsii type and the schema describe the same shape (checked by the compiler).
type SchemaShape = z.infer<typeof accountSelectionSchema>;
const _sameShape: (s: AccountSelection) => SchemaShape = (s) => s;
const _sameShapeBack: (s: SchemaShape) => AccountSelection = (s) => s;
void _sameShape;
void _sameShapeBack;

export const connectionTestSchema = z.strictObject({
  failurePolicy: z.optional(z.enum(['skip', 'fail'])),
  retryRounds: z.optional(wholeNumber(0, 10, 'must be 0–10 rounds')),
  retryDelaySeconds: z.optional(wholeNumber(0, 900, 'must be 0–900 seconds')),
  stackSetWaitSeconds: z.optional(wholeNumber(0, 1800, 'must be 0–1800 seconds')),
  concurrentTests: z.optional(wholeNumber(1, 500, 'must be 1–500 tests')),
});

/** Whether the runtime knows an IANA time zone (Intl has the whole database in Node). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

/** Which fields each frequency needs, and allows. */
const FREQUENCY_FIELDS = { daily: undefined, interval: 'intervalHours', weekly: 'dayOfWeek', monthly: 'dayOfMonth' } as const;

export const scanScheduleSchema = z.strictObject({
  frequency: z.optional(z.enum(['daily', 'interval', 'weekly', 'monthly'])),
  hour: z.optional(wholeNumber(0, 23, 'must be an hour of the day, 0–23')),
  timeZone: z.optional(z.string().check(z.refine(isTimeZone, {
    error: (issue) => `must be an IANA time zone such as 'UTC', 'Europe/Madrid' or 'America/New_York', got ${shown(issue.input)}`,
  }))),
  intervalHours: z.optional(wholeNumber(24, 8760, 'must be 24–8760 hours (Prowler schedules at most one scan a day)')),
  dayOfWeek: z.optional(wholeNumber(0, 6, 'must be a day of the week, 0–6 (Sunday 0)')),
  dayOfMonth: z.optional(wholeNumber(1, 28, 'must be a day of the month, 1–28 (so that every month has it)')),
}).check(z.superRefine((s, ctx) => {
  const frequency = s.frequency ?? 'daily';
  const needed = FREQUENCY_FIELDS[frequency];
  for (const field of Object.values(FREQUENCY_FIELDS)) {
    if (field === undefined) continue;
    if (field === needed && s[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `is required with frequency '${frequency}'` });
    if (field !== needed && s[field] !== undefined) {
      const owner = Object.entries(FREQUENCY_FIELDS).find(([, f]) => f === field)![0];
      ctx.addIssue({ code: 'custom', path: [field], message: `is only for frequency '${owner}' (frequency is '${frequency}')` });
    }
  }
}));

/**
 * Everything one onboarding needs besides credentials: which accounts, and how. What a custom
 * resource carries (as one JSON property: CloudFormation turns every other value into a string),
 * what the Terraform invocation carries, and what a spec file holds.
 */
export const onboardingSpecSchema = z.strictObject({
  selection: z._default(accountSelectionSchema, {}),
  organizationId: z.optional(formatted('organizationId')),
  externalId: z.optional(formatted('externalId')),
  roleName: z.optional(formatted('roleName')),
  scanMode: z.optional(z.enum(['daily', 'once', 'none'])),
  connection: z.optional(connectionTestSchema),
  removal: z.optional(z.enum(['retain', 'unlink', 'destroy'])),
  schedule: z.optional(scanScheduleSchema),
  prowlerEdition: z.optional(z.enum(['auto', 'cloud', 'app'])),
  replaceCredentials: z.optional(z.boolean()),
  concurrency: z.optional(wholeNumber(1, 100, 'must be 1–100')),
  roleSessionName: z.optional(z.string().check(z.regex(/^[\w+=,.@-]{2,64}$/, 'must be 2–64 characters of letters, digits and _+=,.@-'))),
  // Prowler asks STS for this long a session: over the role's MaxSessionDuration every assume fails.
  sessionDurationSeconds: z.optional(wholeNumber(
    900,
    MAX_SESSION_DURATION_SECONDS,
    `must be 900–${MAX_SESSION_DURATION_SECONDS} seconds`,
    `must be 900–${MAX_SESSION_DURATION_SECONDS} seconds: at most the ProwlerScan role's MaxSessionDuration, or every connection fails`,
  )),
  localPrecheck: z.optional(z.boolean()),
  allowEmptySelection: z.optional(z.boolean()),
});

export type OnboardingSpec = z.infer<typeof onboardingSpecSchema>;

/** Parses an onboarding spec, or throws one error listing every problem with its path. */
export function parseOnboardingSpec(input: unknown, root = ''): OnboardingSpec {
  const result = onboardingSpecSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new SpecError(specProblems(result.error, root));
  return result.data;
}

/**
 * A spec file (`prowler-onboarding.yaml` or `.json`): the onboarding spec, where the Prowler API
 * is and where its key comes from (never the key itself), and the trust values for templates.
 */
export const specFileSchema = z.extend(onboardingSpecSchema, {
  $schema: z.optional(z.string()),
  prowlerApiUrl: z.optional(z.string().check(z.superRefine((url, ctx) => {
    for (const problem of apiUrlProblems(url)) ctx.addIssue({ code: 'custom', message: problem.replace(/^prowlerApiUrl /, '') });
  }))),
  apiKey: z.optional(z.union([
    z.strictObject({ secretArn: z.string().check(z.regex(FORMATS.secretArn.pattern, 'must be a Secrets Manager secret ARN')) }),
    z.strictObject({ env: z.string().check(z.regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name such as PROWLER_API_KEY')) }),
  ], { error: 'must be {secretArn: <Secrets Manager ARN>} or {env: <VARIABLE>} (the key itself never goes in the file)' })),
  // The CLI's record and lease (the construct's state bucket, to share them with its functions).
  stateBucket: z.optional(formatted('bucketName')),
  trust: z.optional(z.strictObject({
    accountId: z.optional(formatted('accountId')),
    principal: z.optional(formatted('trustedPrincipal')),
  })),
});

export type SpecFile = z.infer<typeof specFileSchema>;

/** The spec file's JSON Schema (for editor completion), generated from the zod schema. */
export function specFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(specFileSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://github.com/prowler-org-onboarding/prowler-org-onboarding/schema/prowler-onboarding.schema.json',
    title: 'prowler-org-onboarding spec file (prowler-onboarding.yaml)',
  };
}

export { apiUrlProblems, PROWLER_CLOUD_API_URL } from './partition';

/**
 * The spec a construct sends to its function, the API URL, and every problem with the props
 * (the same checks as the function's, skipping values only known at deploy time).
 */
export function constructSpec(
  fields: OnboardingSettings & OnboardingIdentity,
  isUnresolved: (value: unknown) => boolean,
): { spec: Record<string, unknown>; url: string; problems: string[] } {
  // Every field of the spec schema, taken as it is: a new spec option needs no line here.
  const given = fields as Record<string, unknown>;
  const spec: Record<string, unknown> = Object.fromEntries(Object.keys(onboardingSpecSchema.shape).map((key) => [key, given[key]]));
  spec.selection ??= {};
  const deployTime = new Set(['externalId', 'organizationId', 'roleName'].filter((k) => isUnresolved(given[k])));
  const parsed = onboardingSpecSchema.safeParse(JSON.parse(JSON.stringify(spec)), { reportInput: true });
  const problems = parsed.success ? [] : specProblems(parsed.error)
    .filter((p) => !deployTime.has(p.path.split(/[.[]/)[0]) && !isUnresolved(valueAt(spec, p.path)))
    .map((p) => `${p.path}: ${p.message}`);
  if (fields.logLevel !== undefined && !isUnresolved(fields.logLevel) && !LOG_LEVELS.includes(fields.logLevel)) {
    problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got '${fields.logLevel}'`);
  }
  const url = fields.prowlerApiUrl ?? PROWLER_CLOUD_API_URL;
  if (!isUnresolved(url)) problems.push(...apiUrlProblems(url));
  problems.push(...checkFormat('organizationEventsFrom', fields.organizationEventsFrom, 'accountId', { isUnresolved }));
  return { spec: JSON.parse(JSON.stringify(spec)), url, problems };
}

/** The value at a problem's path (`selection.targets[0]`), to skip values only known at deploy time. */
function valueAt(root: unknown, path: string): unknown {
  return path.split(/\.|\[(\d+)\]/).filter((part) => part !== undefined && part !== '')
    .reduce<any>((value, part) => (value === null || typeof value !== 'object' ? undefined : value[part]), root);
}

/** The StackSet's side of what the one-liner onboards. */
interface StackSetReach {
  readonly targets: string[];
  readonly excludeAccounts?: string[];
  readonly onlyAccounts?: string[];
}

/**
 * The one-liner's selection: the member StackSet's targets and account filter, refined by the
 * selection given (one list of targets, not two). What the selection asks for beyond the StackSet
 * is an error when it is certain (an account the StackSet leaves out) and a warning when it
 * depends on the OU tree, which only the deployment sees.
 */
export function selectionWithinStackSet(
  stackSet: StackSetReach,
  given: AccountSelection | undefined,
): { selection: AccountSelection; problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const show = (list: readonly string[]) => `[${list.join(', ')}]`;
  const selection: AccountSelection = {
    ...given,
    targets: given?.targets ?? [...stackSet.targets],
    ...(stackSet.excludeAccounts || given?.excludeAccounts
      ? { excludeAccounts: [...new Set([...(given?.excludeAccounts ?? []), ...(stackSet.excludeAccounts ?? [])])] }
      : {}),
    ...(given?.onlyAccounts ?? stackSet.onlyAccounts ? { onlyAccounts: [...(given?.onlyAccounts ?? stackSet.onlyAccounts)!] } : {}),
  };
  for (const account of given?.includeAccounts ?? []) {
    if (stackSet.excludeAccounts?.includes(account)) {
      problems.push(`selection.includeAccounts lists '${account}', but the StackSet's excludeAccounts ${show(stackSet.excludeAccounts)} gives it no ProwlerScan role: remove it from one of them`);
    }
    if (stackSet.onlyAccounts && !stackSet.onlyAccounts.includes(account)) {
      problems.push(`selection.includeAccounts lists '${account}', but the StackSet's onlyAccounts ${show(stackSet.onlyAccounts)} gives it no ProwlerScan role: add it there too`);
    }
  }
  for (const account of given?.onlyAccounts ?? []) {
    if (stackSet.onlyAccounts && !stackSet.onlyAccounts.includes(account)) {
      problems.push(`selection.onlyAccounts lists '${account}', but the StackSet's onlyAccounts ${show(stackSet.onlyAccounts)} gives it no ProwlerScan role: add it there too`);
    }
  }
  const stackSetHasRoot = stackSet.targets.some((t) => t.startsWith('r-'));
  const beyond = (given?.targets ?? []).filter((t) => !stackSet.targets.includes(t));
  if (!stackSetHasRoot && beyond.length > 0) {
    warnings.push(`selection.targets ${show(beyond)} ${beyond.length === 1 ? 'is' : 'are'} not among the StackSet's targets ${show(stackSet.targets)}: `
      + 'accounts that are not below one of those have no ProwlerScan role and can never connect (connection tests do not wait for them)');
  }
  return { selection, problems, warnings };
}
