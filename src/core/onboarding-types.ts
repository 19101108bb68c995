/**
 * The onboarding spec's public types (jsii structs and enums), shared by the CDK and CDKTF
 * constructs; spec.ts parses the same shape from outside with zod.
 */

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
 * onlyAccounts, includeAccounts, excludeTags, includeTags, includeManagementAccount, excludeOus,
 * targets.
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
   * Only these member accounts can be selected (the other rules decide among them), as a
   * StackSet's `INTERSECTION` account filter. The management account follows
   * `includeManagementAccount`.
   * @default - every account can be selected
   */
  readonly onlyAccounts?: string[];
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
  /**
   * One scan when an account is onboarded, no schedule. The constructs' onboarding remembers it
   * and does not scan again on later syncs; the CLI keeps no record and starts one per apply.
   */
  ONCE = 'once',
  /** Register and test only. */
  NONE = 'none',
}

/**
 * Which Prowler the onboarding talks to: Prowler Cloud has organizations (the object its
 * wizard creates, with OU nodes, an organization credential and its own discovery and scheduler);
 * a self-hosted Prowler App has only providers and provider groups.
 */
export enum ProwlerEdition {
  /** Ask the API: Prowler Cloud serves `/organizations`, Prowler App answers 404. */
  AUTO = 'auto',
  /** Prowler Cloud: onboard through a Prowler organization, as its wizard does. */
  CLOUD = 'cloud',
  /** A self-hosted Prowler App: providers in a provider group named after the organization. */
  APP = 'app',
}

/** How often scheduled scans run (Prowler Cloud's scheduler; Prowler App has daily only). */
export enum ScheduleFrequency {
  DAILY = 'daily',
  /** Every `intervalHours` hours (24 or more). */
  INTERVAL = 'interval',
  /** Once a week, on `dayOfWeek`. */
  WEEKLY = 'weekly',
  /** Once a month, on `dayOfMonth` (1–28). */
  MONTHLY = 'monthly',
}

/**
 * When scheduled scans run (scan mode daily): Prowler Cloud's scheduler. Prowler App has only a
 * daily schedule that starts when it is made: there, anything but the default fails before
 * anything is written.
 */
export interface ScanSchedule {
  /**
   * How often.
   * @default ScheduleFrequency.DAILY
   */
  readonly frequency?: ScheduleFrequency;
  /**
   * The hour of the day the scan starts (0–23), in `timeZone`.
   * @default 0
   */
  readonly hour?: number;
  /**
   * The IANA time zone of `hour` (`Europe/Madrid`, `America/New_York`).
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Hours between scans (24–8760), with frequency `interval` only.
   * @default - required with frequency `interval`
   */
  readonly intervalHours?: number;
  /**
   * The day of the week (0–6, Sunday 0), with frequency `weekly` only.
   * @default - required with frequency `weekly`
   */
  readonly dayOfWeek?: number;
  /**
   * The day of the month (1–28, so every month has it), with frequency `monthly` only.
   * @default - required with frequency `monthly`
   */
  readonly dayOfMonth?: number;
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
  /**
   * Seconds the first test waits for the member StackSet's instances to be CURRENT in the
   * selected accounts below its targets (0–1800), when the onboarding knows the StackSet.
   * @default 600
   */
  readonly stackSetWaitSeconds?: number;
  /**
   * Connection tests in flight at once (1–500): each is a task on Prowler's workers for about a
   * second. Their requests count toward `concurrency`, their waiting does not.
   * @default 100
   */
  readonly concurrentTests?: number;
}

/**
 * How the onboarding runs, in every flavour: the options the CDK and the CDKTF constructs both take
 * as they are (each flavour adds only what is framework-specific: secrets, schedules, networking).
 */
export interface OnboardingSettings {
  /**
   * The Prowler API's base URL: Prowler Cloud, or your self-hosted Prowler App's
   * (`http://<host>:8080/api/v1`).
   * @default 'https://api.prowler.com/api/v1' (Prowler Cloud)
   */
  readonly prowlerApiUrl?: string;
  /**
   * Which accounts to onboard.
   * @default - every ACTIVE account of the organization (in `ProwlerOrganization`: the accounts
   * the member StackSet deploys the role to, and the management account)
   */
  readonly selection?: AccountSelection;
  /**
   * How scans start for onboarded accounts.
   * @default ScanMode.DAILY
   */
  readonly scanMode?: ScanMode;
  /**
   * When scheduled scans run (scan mode daily). On Prowler App only the default exists.
   * @default - daily at 00:00 UTC
   */
  readonly schedule?: ScanSchedule;
  /**
   * Which Prowler the API URL is.
   * @default ProwlerEdition.AUTO (asked after the key check)
   */
  readonly prowlerEdition?: ProwlerEdition;
  /**
   * On Prowler Cloud, an account whose provider has credentials of its own gets the
   * organization's instead (Prowler's `will_replace`; the wizard asks the same). By default such
   * accounts are left out and reported as keeping their own credentials.
   * @default false
   */
  readonly replaceCredentials?: boolean;
  /**
   * Connection testing: failure policy and smart-retry rounds.
   * @default - skip failed accounts when at least one connects; 3 re-test rounds 30 s apart
   */
  readonly connection?: ConnectionTestOptions;
  /**
   * What happens in Prowler to providers whose accounts leave the selection, and to all of them
   * when the onboarding is deleted.
   * @default RemovalBehaviour.RETAIN (providers and scan history stay)
   */
  readonly removal?: RemovalBehaviour;
  /**
   * Prowler API requests (and connection tests) in flight at once (1–100).
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
   * The session name Prowler uses when it assumes the roles (2–64 characters of `[\w+=,.@-]`).
   * @default - Prowler's own
   */
  readonly roleSessionName?: string;
  /**
   * How long Prowler's role sessions last, in seconds: 900–3600, the MaxSessionDuration of the
   * ProwlerScan role (this package's and Prowler's own template's); a longer session fails every
   * connection.
   * @default - Prowler's own (3600)
   */
  readonly sessionDurationSeconds?: number;
  /**
   * Re-run the onboarding on AWS Organizations events (an account created, joining, moved,
   * removed, leaving, closed, or its tags changed), besides the schedule. They reach EventBridge
   * through CloudTrail: the management account needs a trail logging management events.
   * @default true
   */
  readonly syncOnOrganizationEvents?: boolean;
  /**
   * Deploying from a delegated administrator: the management account, whose
   * `ProwlerOrganizationEventForwarder` sends the Organizations events here (they are recorded only
   * in the management account). Lets that account put events on this region's default event bus.
   * @default - no events from another account: from a delegated administrator, only the schedule syncs
   */
  readonly organizationEventsFrom?: string;
  /**
   * A selection that matches no account is what you want (an OU still empty, say): the run
   * succeeds instead of failing with what matched nothing.
   * @default false
   */
  readonly allowEmptySelection?: boolean;
  /**
   * How much the onboarding functions log: `DEBUG`, `INFO`, `WARN` or `ERROR`.
   * @default 'INFO'
   */
  readonly logLevel?: string;
}

/** Which organization and trust the onboarding registers (the one-liner takes them from the roles). */
export interface OnboardingIdentity {
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
