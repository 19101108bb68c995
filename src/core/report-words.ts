/**
 * The onboarding report's vocabulary: every action and write a run reports, with the words people
 * read for it. The JSON report (schema/onboarding-report.schema.json), the plan's table and
 * markdown, and the summary all take them from here.
 */

/** What a run does with a discovered account's provider. */
export const ACCOUNT_ACTIONS = {
  'create': 'create provider',
  'link': 'link existing provider',
  'update': 'update',
  'unchanged': 'unchanged',
  'blocked': 'blocked',
  'keep-credentials': 'left out: keeps its own credentials',
  'not-selected': 'out of selection',
} as const;

/** What a run sends to Prowler for an account. */
export const ACCOUNT_WRITES = {
  'create-provider': 'provider',
  'update-alias': 'alias',
  'write-secret': 'role secret',
  'join-group': 'group',
  'link-organization': 'organization link',
  'move-node': 'OU node',
  'replace-credentials': 'credentials replaced by the organization\'s',
  'test-connection': 'connection test',
  'schedule-scans': 'daily scans',
  'start-scan': 'one scan',
} as const;

/** What happened (or, in a plan, will happen) to the provider of an account that left the selection. */
export const DEPARTURE_OUTCOMES = {
  retained: 'retained (kept in Prowler with its history)',
  unlinked: 'unlinked (removed from the organization\'s group, kept in Prowler)',
  destroyed: 'destroyed (deleted from Prowler with its scan history)',
  failed: 'failed',
} as const;

export type AccountAction = keyof typeof ACCOUNT_ACTIONS;
export type AccountWrite = keyof typeof ACCOUNT_WRITES;
