/**
 * The onboarding report as a schema: what `prowler-org plan --format json`, `apply --format json`
 * and the functions' `reports/latest.json` hold, one shape for all (published as
 * schema/onboarding-report.schema.json). Strict: a field the engine adds without adding it here
 * fails the tests that parse real reports with it.
 */
import { ACCOUNT_ACTIONS, ACCOUNT_WRITES, DEPARTURE_OUTCOMES } from './report-words';
import * as z from './zod';

const words = (what: string, table: Record<string, string>) => `${what}: ${Object.entries(table).map(([k, v]) => `${k} (${v})`).join('; ')}`;
const keys = <T extends Record<string, string>>(table: T) => Object.keys(table) as Array<keyof T & string>;
const count = z.number().check(z.int(), z.minimum(0));

const connectionSchema = z.strictObject({
  connected: z.boolean(),
  error: z.optional(z.string()),
  hint: z.optional(z.string()),
  attempts: count,
  tested: z.boolean(),
});

export const accountReportSchema = z.strictObject({
  accountId: z.string(),
  name: z.string(),
  status: z.string(),
  parentId: z.string(),
  selected: z.boolean(),
  reason: z.string(),
  alias: z.string(),
  isManagementAccount: z.boolean(),
  action: z.enum(keys(ACCOUNT_ACTIONS)).check(z.meta({ description: words('What the run does with the account\'s provider', ACCOUNT_ACTIONS) })),
  writes: z.optional(z.array(z.enum(keys(ACCOUNT_WRITES))).check(z.meta({ description: words('What the run sends to Prowler for the account, as planned', ACCOUNT_WRITES) }))),
  providerId: z.optional(z.string()),
  wasConnected: z.optional(z.boolean()),
  hadSecret: z.optional(z.boolean()),
  secret: z.optional(z.enum(['created', 'updated', 'kept'])),
  grouped: z.optional(z.boolean()),
  stackInstance: z.optional(z.string()),
  blockedBy: z.optional(z.string()),
  connection: z.optional(connectionSchema),
  scan: z.optional(z.enum(['scheduled', 'already-scheduled', 'started', 'already-started', 'none', 'not-connected'])),
  error: z.optional(z.string()),
  failedAt: z.optional(z.enum(['registration', 'launch'])),
});

export const departureReportSchema = z.strictObject({
  accountId: z.string(),
  providerId: z.string(),
  alias: z.optional(z.string()),
  reason: z.string(),
  origin: z.enum(['created', 'linked', 'unrecorded']).check(z.meta({ description: 'How the provider came to this onboarding: only what it created is ever deleted' })),
  outcome: z.enum(keys(DEPARTURE_OUTCOMES)).check(z.meta({ description: words('What happens to the provider (planned, in a plan)', DEPARTURE_OUTCOMES) })),
  error: z.optional(z.string()),
});

const recordSchema = z.strictObject({
  created: z.record(z.string(), z.string()),
  linked: z.record(z.string(), z.string()),
  secrets: z.optional(z.record(z.string(), z.string())),
  schedules: z.optional(z.record(z.string(), z.string().check(z.regex(/^(daily|once|schedule:.*)$/)))),
  creating: z.optional(z.record(z.string(), z.number())),
  cloud: z.optional(z.strictObject({
    organizationId: z.optional(z.string()),
    credential: z.optional(z.string()),
    writing: z.optional(z.string()),
    creatingCredential: z.optional(z.boolean()),
  })),
});

const cloudSchema = z.strictObject({
  organizationId: z.optional(z.string().check(z.meta({ description: 'The Prowler organization\'s id (absent while it is to be created)' }))),
  organization: z.enum(['create', 'exists']),
  credentialId: z.optional(z.string().check(z.meta({ description: 'The organization credential\'s id in Prowler (its values are never returned)' }))),
  credential: z.enum(['create', 'rotate', 'keep']).check(z.meta({ description: 'The organization credential: a rotation re-authenticates every provider of the organization' })),
  credentialWritten: z.optional(z.boolean()),
  credentialRetried: z.optional(z.boolean()),
  credentialKnown: z.boolean().check(z.meta({ description: 'Whether this onboarding wrote the credential it keeps (Prowler never returns its values)' })),
  nodes: z.array(z.string()).check(z.meta({ description: 'The OUs applied with the accounts (every ancestor of an account applied; roots never)' })),
  discoveryId: z.optional(z.string()),
  discoveryStartedAt: z.optional(z.number()),
  discoveryStatus: z.optional(z.string()),
  applied: z.optional(z.boolean()),
  schedule: z.optional(z.string().check(z.meta({ description: 'The schedule set for the accounts that connected, as Prowler Cloud\'s attributes' }))),
});

export const onboardingReportSchema = z.strictObject({
  summary: z.optional(z.string()),
  changes: z.optional(z.boolean().check(z.meta({ description: 'Whether the run writes (a plan) or wrote (an apply) anything to Prowler: plan exits 2 exactly then' }))),
  organization: z.strictObject({ id: z.string(), managementAccountId: z.string(), roots: count, ous: count, depth: count }),
  tags: z.optional(z.strictObject({
    read: count,
    cached: count,
    oldestAgeMs: z.optional(z.number()),
  }).check(z.meta({ description: 'The tags tag rules used: how many were read in this run, how many came from the cache, and how old the oldest of those were (ms)' }))),
  edition: z.optional(z.enum(['cloud', 'app']).check(z.meta({ description: 'Which Prowler the run talked to: Prowler Cloud (organizations) or a self-hosted Prowler App' }))),
  cloud: z.optional(cloudSchema),
  externalId: z.string(),
  externalIdSource: z.enum(['given', 'prowler']),
  warnings: z.array(z.string()),
  selectionSummary: z.string(),
  counts: z.strictObject({
    discovered: count,
    selected: count,
    created: count,
    linked: count,
    updated: count,
    unchanged: count,
    blocked: count,
    connected: count,
    failed: count,
    scheduled: count,
  }),
  accounts: z.array(accountReportSchema),
  departures: z.array(departureReportSchema),
  outcome: z.enum(['succeeded', 'failed']),
  failure: z.optional(z.string()),
  dryRun: z.boolean(),
  durationMs: z.number(),
  calls: z.strictObject({ organizations: count, prowler: count }),
  record: z.optional(recordSchema),
});

/** The report's JSON Schema (schema/onboarding-report.schema.json). */
export function reportJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(onboardingReportSchema, { io: 'output', unrepresentable: 'any' }),
    $id: 'https://github.com/prowler-org-onboarding/prowler-org-onboarding/schema/onboarding-report.schema.json',
    title: 'prowler-org-onboarding report (plan --format json, apply --format json, reports/latest.json)',
  };
}
