/**
 * The onboarding spec: which accounts of the organization Prowler scans, and how they are
 * onboarded. The jsii types are what construct props accept; the zod schema parses the same shape
 * from outside (spec files, custom-resource properties, invocation payloads) and reports every
 * problem with its path.
 */
import { z } from 'zod';
import { FORMATS, type FormatName } from './validate';

/** A tag rule: an account tag key, and optionally the value it must have. */
export interface TagRule {
  /** The tag key. */
  readonly key: string;
  /**
   * The tag value.
   * @default - any value of that key
   */
  readonly value?: string;
}

/**
 * Which accounts to onboard, as in the Prowler wizard's tree: roots or OUs select every account
 * below them, with exclusions and individual additions on top. Only ACTIVE accounts are
 * selectable. Rules apply in this order, the first that decides wins: excludeAccounts,
 * includeAccounts, excludeTags, includeTags, includeManagementAccount, excludeOus, targets.
 */
export interface AccountSelection {
  /**
   * Root (`r-…`) or OU (`ou-…`) ids: every account below them, at any depth.
   * @default - every root: the whole organization
   */
  readonly targets?: string[];
  /**
   * OUs whose accounts (at any depth) are left out even though a target contains them.
   * @default - none
   */
  readonly excludeOus?: string[];
  /**
   * Accounts added individually, wherever they are.
   * @default - none
   */
  readonly includeAccounts?: string[];
  /**
   * Accounts left out, wherever they are (wins over every other rule).
   * @default - none
   */
  readonly excludeAccounts?: string[];
  /**
   * Only accounts with at least one of these tags are selected.
   * @default - tags do not restrict the selection
   */
  readonly includeTags?: TagRule[];
  /**
   * Accounts with any of these tags are left out.
   * @default - none
   */
  readonly excludeTags?: TagRule[];
  /**
   * Onboard the management account (it has its own ProwlerScan role, not a StackSet one).
   * @default true
   */
  readonly includeManagementAccount?: boolean;
  /**
   * Prowler aliases by account id (3–100 characters).
   * @default - from `aliasPattern`
   */
  readonly aliases?: Record<string, string>;
  /**
   * The alias of accounts without one in `aliases`: `{name}` is the account name, `{id}` its id,
   * `{ou}` the name of its parent OU (or root).
   * @default '{name}'
   */
  readonly aliasPattern?: string;
}

/** How scans start for onboarded accounts (the wizard's last step). */
export enum ScanMode {
  /** A daily scan schedule, which also starts a first scan now. */
  DAILY = 'daily',
  /** One scan now, no schedule. */
  ONCE = 'once',
  /** Register and test only. */
  NONE = 'none',
}

/** What to do when some connection tests fail (the wizard's "Skip Connection Validation"). */
export enum ConnectionFailurePolicy {
  /** Go on with the accounts that connected, when at least one did. */
  SKIP = 'skip',
  /** Fail the whole run if any account did not connect. */
  FAIL = 'fail',
}

/**
 * What happens in Prowler to the providers of accounts that leave the selection (or the
 * organization), and to all of the organization's providers when the onboarding is deleted.
 */
export enum RemovalBehaviour {
  /** Providers, their credentials and scan history stay in Prowler, untouched (the default). */
  RETAIN = 'retain',
  /** Providers stay, with their history; they are only removed from the organization's provider group. */
  UNLINK = 'unlink',
  /** Providers are deleted from Prowler, with their scan history. Only when asked for explicitly. */
  DESTROY = 'destroy',
}

/** Connection testing (the wizard's "Test Connections"). */
export interface ConnectionTestOptions {
  /**
   * What to do when some accounts do not connect.
   * @default ConnectionFailurePolicy.SKIP
   */
  readonly failurePolicy?: ConnectionFailurePolicy;
  /**
   * Re-test rounds for the accounts that failed (smart retry: connected accounts are not re-tested).
   * New roles take up to a minute to be assumable, StackSet instances may still be deploying.
   * @default 3
   */
  readonly retryRounds?: number;
  /**
   * Seconds to wait before each re-test round.
   * @default 30
   */
  readonly retryDelaySeconds?: number;
}

export const DEFAULT_ALIAS_PATTERN = '{name}';
export const DEFAULT_RETRY_ROUNDS = 3;
export const DEFAULT_RETRY_DELAY_SECONDS = 30;

/** A string field with one of core's formats, with core's message. */
function formatted(format: FormatName) {
  const f = FORMATS[format];
  return z.string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a string, got ${typeof issue.input}`) })
    .refine((v) => f.pattern.test(v), {
      error: (issue) => {
        const value = String(issue.input);
        const hint = 'hint' in f ? (f.hint as (v: string) => string | undefined)(value) : undefined;
        return `${f.must}: expected ${f.allowed}, got '${value}'${hint ? ` (${hint})` : ''}`;
      },
    });
}

const ids = (format: FormatName) => z.array(formatted(format)).refine((list) => new Set(list).size === list.length, {
  error: (issue) => {
    const list = issue.input as string[];
    const duplicate = list.find((v, i) => list.indexOf(v) !== i);
    return `lists '${duplicate}' more than once`;
  },
});

const tagRule = z.strictObject({
  key: z.string().min(1, 'must be a tag key of 1–128 characters').max(128, 'must be a tag key of 1–128 characters'),
  value: z.string().max(256, 'must be a tag value of at most 256 characters').optional(),
});

const alias = z.string().min(3, 'must be 3–100 characters (a Prowler alias)').max(100, 'must be 3–100 characters (a Prowler alias)');

export const accountSelectionSchema = z.strictObject({
  targets: ids('target').min(1, 'must list at least one root or OU id (leave it out for the whole organization)').optional(),
  excludeOus: ids('target').optional(),
  includeAccounts: ids('accountId').optional(),
  excludeAccounts: ids('accountId').optional(),
  includeTags: z.array(tagRule).min(1, 'must list at least one tag rule').optional(),
  excludeTags: z.array(tagRule).optional(),
  includeManagementAccount: z.boolean().optional(),
  aliases: z.record(formatted('accountId'), alias).optional(),
  aliasPattern: z.string()
    .refine((p) => /\{(name|id|ou)\}/.test(p), 'must use {name}, {id} or {ou} so every account gets its own alias')
    .refine((p) => !/\{(?!name\}|id\}|ou\})[^}]*\}/.test(p), 'may only use the placeholders {name}, {id} and {ou}')
    .optional(),
}).superRefine((s, ctx) => {
  const both = (s.includeAccounts ?? []).filter((a) => (s.excludeAccounts ?? []).includes(a));
  for (const account of both) {
    ctx.addIssue({ code: 'custom', path: ['includeAccounts'], message: `'${account}' is also in excludeAccounts: give it in one of them` });
  }
  const targetAndExcluded = (s.targets ?? []).filter((t) => (s.excludeOus ?? []).includes(t));
  for (const ou of targetAndExcluded) {
    ctx.addIssue({ code: 'custom', path: ['excludeOus'], message: `'${ou}' is also a target: give it in one of them` });
  }
});

/** One problem found in outside input: where (a dotted path) and what. */
export interface SpecProblem {
  readonly path: string;
  readonly message: string;
}

/** zod issues as "path: message" problems; the path names the field as the user wrote it. */
export function specProblems(error: z.ZodError, root = ''): SpecProblem[] {
  return error.issues.map((issue) => {
    const path = issue.path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), root);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown ${issue.keys.length === 1 ? 'field' : 'fields'} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    if (issue.code === 'invalid_type') {
      message = issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}, got ${typeName(issue.input)}`;
    }
    if (issue.code === 'invalid_key') message = issue.issues[0]?.message ?? message;
    return { path: path || '(top level)', message };
  });
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
  failurePolicy: z.enum(['skip', 'fail']).optional(),
  retryRounds: z.number().int().min(0, 'must be 0–10 rounds').max(10, 'must be 0–10 rounds').optional(),
  retryDelaySeconds: z.number().int().min(0, 'must be 0–900 seconds').max(900, 'must be 0–900 seconds').optional(),
});

/**
 * Everything one onboarding needs besides credentials: which accounts, and how. What a custom
 * resource carries (as one JSON property: CloudFormation turns every other value into a string),
 * what the Terraform invocation carries, and what a spec file holds.
 */
export const onboardingSpecSchema = z.strictObject({
  selection: accountSelectionSchema.default({}),
  organizationId: formatted('organizationId').optional(),
  externalId: formatted('externalId').optional(),
  roleName: formatted('roleName').optional(),
  scanMode: z.enum(['daily', 'once', 'none']).optional(),
  connection: connectionTestSchema.optional(),
  removal: z.enum(['retain', 'unlink', 'destroy']).optional(),
  concurrency: z.number().int().min(1, 'must be 1–100').max(100, 'must be 1–100').optional(),
  roleSessionName: z.string().regex(/^[\w+=,.@-]{2,64}$/, 'must be 2–64 characters of letters, digits and _+=,.@-').optional(),
  sessionDurationSeconds: z.number().int().min(900, 'must be 900–43200 seconds').max(43200, 'must be 900–43200 seconds').optional(),
  localPrecheck: z.boolean().optional(),
});

export type OnboardingSpec = z.infer<typeof onboardingSpecSchema>;

/** Parses an onboarding spec, or throws one error listing every problem with its path. */
export function parseOnboardingSpec(input: unknown, root = ''): OnboardingSpec {
  const result = onboardingSpecSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new SpecError(specProblems(result.error, root));
  return result.data;
}
