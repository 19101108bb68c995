/**
 * What a run is made of: its request, dependencies, state and reports, and its names and limits.
 */
import type { OrganizationsClient } from '@aws-sdk/client-organizations';
import { type STSClient } from '@aws-sdk/client-sts';
import { type DiscoveryProgress, type OrganizationSnapshot, type OrgUnit } from './organizations';
import { type Clock, type ProwlerClient } from './prowler-api';
import { type OnboardingRecord, type Origin } from './record';
import type { TagCache, TagUse } from './tag-cache';
import type { StackSetDeploymentTargets } from '../core/options';
import type { AccountAction, AccountWrite } from '../core/report-words';
import { RemovalBehaviour, ScanMode, type AccountSelection, type ConnectionTestOptions, type ProwlerEdition, type ScanSchedule } from '../core/spec';
import { FORMATS } from '../core/validate';

/** core's organization id pattern, unanchored, to build others from. */
export const ORGANIZATION_ID = FORMATS.organizationId.pattern.source.replace(/^\^|\$$/g, '');

/** Prefix of the provider group that records an organization's providers. */
export const ORGANIZATION_GROUP_PREFIX = 'AWS Organization ';

/**
 * Prowler API requests in flight at once. With 100 connection tests in flight, 20 onboards 5,000
 * accounts in about 8 minutes at 100 ms per request and 3 s per connection check
 * (test/handler/budget.test.ts).
 */
export const DEFAULT_CONCURRENCY = 20;
export const organizationGroupName = (organizationId: string) => `${ORGANIZATION_GROUP_PREFIX}${organizationId}`;
/** The name of an organization's group, and nothing else: the organization id is group 1. */
export const ORGANIZATION_GROUP_NAME = new RegExp(`^${ORGANIZATION_GROUP_PREFIX}(${ORGANIZATION_ID})$`);

/** The instance status of an account the StackSet never deploys to. */
export const OUTSIDE_STACKSET = 'outside the StackSet\'s targets';

/** Static credentials Prowler uses to call sts:AssumeRole (self-hosted without ambient credentials). */
export interface AssumeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface OnboardingRequest {
  readonly selection: AccountSelection;
  /** Fails when the credentials see another organization. */
  readonly organizationId?: string;
  /** Default: the Prowler tenant of the API key. */
  readonly externalId?: string;
  readonly roleName?: string;
  readonly partition?: string;
  readonly scanMode?: ScanMode;
  readonly connection?: ConnectionTestOptions;
  readonly roleSessionName?: string;
  readonly sessionDurationSeconds?: number;
  readonly assumeCredentials?: AssumeCredentials;
  /** Prowler API requests (and connection tests) in flight at once. */
  readonly concurrency?: number;
  /** Plan only: read AWS and Prowler, change nothing. */
  readonly dryRun?: boolean;
  /** Also try sts:AssumeRole from here before Prowler's test (when the trust allows this caller). */
  readonly localPrecheck?: boolean;
  /** A selection of no account succeeds (otherwise it is an error). */
  readonly allowEmptySelection?: boolean;
  /** Give up polling one connection task after this long. */
  readonly connectionTaskTimeoutSeconds?: number;
  /** What happens to the providers of accounts that left the selection. Default: retain. */
  readonly removal?: RemovalBehaviour;
  /** When scheduled scans run (Prowler Cloud's scheduler; Prowler App has the default only). */
  readonly schedule?: ScanSchedule;
  /** Which Prowler the API is. Default: asked (Prowler Cloud serves /organizations). */
  readonly prowlerEdition?: ProwlerEdition;
  /** On Prowler Cloud, give accounts with credentials of their own the organization's. */
  readonly replaceCredentials?: boolean;
}

/** A provider of the organization whose account is no longer selected (or no longer in it). */
export interface Departure {
  readonly accountId: string;
  readonly providerId: string;
  readonly alias?: string;
  /** Why it left: not selected any more (with the rule), or gone from the organization. */
  readonly reason: string;
  /** How it came to this onboarding: only what it created can be destroyed, only what it recorded touched. */
  readonly origin: Origin;
  outcome: 'retained' | 'unlinked' | 'destroyed' | 'failed';
  error?: string;
}

export interface Logger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info: () => {}, warn: () => {} };

export interface EngineDependencies {
  readonly organizations: OrganizationsClient;
  readonly prowler: ProwlerClient;
  readonly clock: Clock;
  readonly log?: Logger;
  readonly sts?: STSClient;
  /**
   * The member StackSet's instance status per account ('CURRENT', or what it is instead):
   * connection tests wait for CURRENT (bounded), and failures name the status.
   */
  readonly stackInstances?: () => Promise<Map<string, string>>;
  /** Where the member StackSet deploys the role: connection tests never wait for accounts elsewhere. */
  readonly stackSetTargets?: StackSetDeploymentTargets;
  /** What this onboarding created and linked so far (record.ts); without one, nothing is ever deleted. */
  readonly record?: OnboardingRecord;
  /**
   * Saves the run's record durably (the state bucket). The engine calls it before it creates
   * providers (with the accounts it is about to create) and after each step, so a run cut short
   * anywhere leaves a record from which the next one knows what this onboarding created.
   */
  readonly checkpoint?: (record: OnboardingRecord) => Promise<void>;
  /**
   * The accounts' tags kept from earlier runs (tag-cache.ts): discovery reads only what it lacks,
   * what an event named and a share of what is due, and records what it read here.
   */
  readonly tags?: TagCache;
  /** Discovery from elsewhere than the Organizations API (a simulated organization, the CLI's --simulate). */
  readonly discover?: () => Promise<OrganizationSnapshot>;
}

export type RegistrationAction = AccountAction;

export interface AccountResult {
  readonly accountId: string;
  readonly name: string;
  readonly status: string;
  readonly parentId: string;
  readonly selected: boolean;
  readonly reason: string;
  alias: string;
  readonly isManagementAccount: boolean;
  action: RegistrationAction;
  /** What the run sends to Prowler for it, as planned (steps.ts `plannedWrites`). */
  writes?: AccountWrite[];
  providerId?: string;
  /** The provider existed with a secret and was connected when planned. */
  wasConnected?: boolean;
  /** The provider had a secret when planned. */
  hadSecret?: boolean;
  secret?: 'created' | 'updated' | 'kept';
  /** In the organization's provider group. */
  grouped?: boolean;
  /** The member StackSet's instance status in this account, when known and not CURRENT. */
  stackInstance?: string;
  blockedBy?: string;
  connection?: { connected: boolean; error?: string; hint?: string; attempts: number; tested: boolean };
  scan?: 'scheduled' | 'already-scheduled' | 'started' | 'already-started' | 'none' | 'not-connected';
  error?: string;
  /** Which step `error` is from. */
  failedAt?: 'registration' | 'launch';
}

export interface OnboardingCounts {
  discovered: number;
  selected: number;
  created: number;
  linked: number;
  updated: number;
  unchanged: number;
  blocked: number;
  connected: number;
  failed: number;
  scheduled: number;
}

/** The OU tree, as data (for the summary). */
export interface OrganizationTree {
  readonly rootIds: string[];
  readonly units: OrgUnit[];
}

/**
 * The phases of a run. On Prowler App: discover → depart → register → group → test → launch. On
 * Prowler Cloud: discover → depart → organization (the Prowler organization and its credential)
 * → prowler-discovery (Prowler's own, polled across invocations) → apply → test → launch.
 */
export type RunPhase = 'discover' | 'depart' | 'register' | 'group' | 'organization' | 'prowler-discovery' | 'apply' | 'test' | 'launch' | 'done';

/** Prowler Cloud's side of a run: the organization, its credential, Prowler's discovery and the apply. */
export interface CloudRun {
  /** The Prowler organization (absent until it is created). */
  organizationId?: string;
  organization: 'create' | 'exists';
  /** The organization credential's id in Prowler, when it has one. */
  credentialId?: string;
  /** What is written to the credential: a rotation re-authenticates every provider of the organization. */
  credential: 'create' | 'rotate' | 'keep';
  /** Whether this onboarding wrote the credential it keeps (its fingerprint is recorded). */
  credentialKnown: boolean;
  /** This run wrote the credential (created or rotated it). */
  credentialWritten?: boolean;
  /** A credential this onboarding had not written failed Prowler's discovery: it was rewritten once. */
  credentialRetried?: boolean;
  /** The OUs applied with the accounts: every ancestor of an account applied (never a root). */
  nodes: string[];
  /** Prowler's discovery this run started and applies (kept across invocations). */
  discoveryId?: string;
  discoveryStartedAt?: number;
  discoveryStatus?: string;
  /** The selection was applied to the discovery. */
  applied?: boolean;
  /** The schedule set for the accounts that connected (Prowler Cloud's attributes, as JSON). */
  schedule?: string;
}

/**
 * Everything a run knows, as plain JSON: a run can stop at any point between two steps (a
 * deadline, a Lambda invocation ending) and continue from a saved state.
 */
export interface RunState {
  readonly version: 1;
  readonly startedAt: number;
  phase: RunPhase;
  /** Discovery so far, while the phase is `discover`. */
  discovery?: DiscoveryProgress;
  organization: { id: string; managementAccountId: string; roots: number; ous: number; depth: number };
  tree: OrganizationTree;
  readonly externalId: string;
  readonly externalIdSource: 'given' | 'prowler';
  /** The Prowler tenant of the API key. */
  readonly tenantId: string;
  readonly warnings: string[];
  selectionSummary: string;
  accounts: AccountResult[];
  departures: Departure[];
  groupId?: string;
  /** Connection-test round (1 = first test). */
  round: number;
  /** Not before this time (epoch ms) does the next re-test round start. */
  nextRoundAt?: number;
  /** When connection tests started waiting for StackSet instances. */
  stackSetWaitSince?: number;
  outcome?: 'succeeded' | 'failed';
  failure?: string;
  calls: { organizations: number; prowler: number };
  invocations: number;
  /** What this onboarding created and linked: the adapter keeps it (record.ts). */
  record?: OnboardingRecord;
  /** Which Prowler: absent in states saved before Prowler Cloud was told apart (Prowler App's path). */
  edition?: 'cloud' | 'app';
  cloud?: CloudRun;
  /** How many accounts' tags came from the cache, how many were read, and how old the oldest were. */
  tags?: TagUse;
}

export interface OnboardingReport {
  readonly organization: RunState['organization'];
  readonly tree: OrganizationTree;
  readonly externalId: string;
  readonly externalIdSource: 'given' | 'prowler';
  readonly warnings: string[];
  readonly selectionSummary: string;
  readonly counts: OnboardingCounts;
  readonly accounts: AccountResult[];
  /** Providers of the organization whose accounts left the selection, and what was done. */
  readonly departures: Departure[];
  readonly outcome: 'succeeded' | 'failed';
  readonly failure?: string;
  readonly dryRun: boolean;
  readonly durationMs: number;
  readonly calls: { organizations: number; prowler: number };
  /** What the onboarding has created and linked after this run (when it keeps a record). */
  readonly record?: OnboardingRecord;
  readonly edition?: 'cloud' | 'app';
  readonly cloud?: CloudRun;
  readonly tags?: TagUse;
}

export interface ContinueOptions {
  /** Stop starting new work at this time (epoch ms, the deps clock); work in flight finishes. */
  readonly deadline?: number;
  /**
   * Between re-test rounds: `sleep` (the default) waits in-process; `return` hands the state
   * back so the caller can come back later (a Lambda invocation should not sleep).
   */
  readonly whileWaiting?: 'sleep' | 'return';
  /** Start no new work once this says so (the run's lease was taken over). */
  readonly stop?: () => boolean;
}

/** A failure of the whole run, with what to fix. */
export class ProwlerOnboardingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProwlerOnboardingError';
  }
}

