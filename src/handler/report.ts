/**
 * The report: JSON for machines, and a summary for people — the OU tree with ✓ / ✗ per account,
 * "X of Y accounts selected", what failed and why.
 */
import type { AccountResult, OnboardingReport } from './engine';
import { describeTagUse } from './tag-cache';
import { ACCOUNT_ACTIONS, ACCOUNT_WRITES } from '../core/report-words';

/** The report as JSON for machines: everything but the OU tree, which is for the summary. */
export function reportJson(report: OnboardingReport) {
  const { tree: _tree, ...rest } = report;
  return rest;
}

/** The words people read for each action and write (core's vocabulary; the JSON has the keys). */
export const ACTION_WORDS = ACCOUNT_ACTIONS;
export const WRITE_WORDS = ACCOUNT_WRITES;

/** An account's action and what it writes, as people read it: "update (role secret, connection test)", "create provider". */
export function actionText(r: Pick<AccountResult, 'action' | 'writes'>): string {
  // A creation makes all of them: its word says so.
  const writes = r.action === 'create' ? [] : r.writes ?? [];
  return writes.length > 0 && r.action !== 'blocked' && r.action !== 'not-selected' && r.action !== 'keep-credentials'
    ? `${ACTION_WORDS[r.action]} (${writes.map((w) => WRITE_WORDS[w]).join(', ')})`
    : ACTION_WORDS[r.action];
}

/** Whether the run writes to Prowler (a plan), or wrote (an apply): `plan` exits 2 exactly then. */
export function hasChanges(report: OnboardingReport): boolean {
  return report.accounts.some((a) => a.selected && a.action !== 'blocked' && (a.writes?.length ?? 0) > 0)
    || report.departures.some((d) => d.outcome !== 'retained')
    || (report.cloud !== undefined && cloudWrites(report.cloud).length > 0);
}

/** What a run writes to Prowler Cloud's organization itself (besides the accounts). */
export function cloudWrites(cloud: NonNullable<OnboardingReport['cloud']>): string[] {
  return [
    ...(cloud.organization === 'create' ? ['create the Prowler organization'] : []),
    ...(cloud.credential === 'create' ? ['create the organization credential'] : []),
    ...(cloud.credential === 'rotate' ? ['rotate the organization credential (re-authenticates every provider of the organization)'] : []),
  ];
}

/** The lines that say which Prowler this is and, on Prowler Cloud, what the organization gets. */
export function editionLines(report: OnboardingReport): string[] {
  if (report.edition !== 'cloud' || !report.cloud) return report.edition === 'app' ? ['Prowler App (self-hosted): providers in the provider group "AWS Organization ' + report.organization.id + '"'] : [];
  const c = report.cloud;
  const done = !report.dryRun;
  const organization = !c.organizationId ? 'to create' : `${c.organizationId}${c.organization === 'create' ? ' (created)' : ''}`;
  const credential = c.credential === 'keep'
    ? (c.credentialKnown ? 'unchanged' : 'kept (not written by this onboarding: Prowler never shows its values)')
    : `${c.credential === 'create' ? (done && c.credentialWritten ? 'created' : 'to create') : (done && c.credentialWritten ? 'rotated' : 'to rotate')}`;
  const keeping = report.accounts.filter((a) => a.action === 'keep-credentials').length;
  return [
    `Prowler Cloud: organization ${organization}, credential ${credential}, ${c.nodes.length} OU ${c.nodes.length === 1 ? 'node' : 'nodes'} ${done ? 'applied' : 'to apply'}`
      + `${keeping ? `, ${keeping} ${keeping === 1 ? 'account keeps' : 'accounts keep'} its own credentials` : ''}`,
  ];
}

/** One line: what the plan (or the run) does. */
export function planSummary(report: OnboardingReport): string {
  const c = report.counts;
  const retests = report.accounts.filter((a) => a.action === 'unchanged' && a.writes?.includes('test-connection')).length;
  const leaving = report.departures.filter((d) => d.outcome !== 'retained').length;
  return `${report.selectionSummary}: ${c.created} to create, ${c.linked} to link, ${c.updated} to update, ${c.unchanged} unchanged`
    + `${retests ? ` (${retests} to test again)` : ''}, ${c.blocked} blocked, ${leaving} leaving`;
}

/**
 * The document `plan --format json` and `apply --format json` print: one shape for both (the
 * report, with `summary` and `changes`), described by schema/onboarding-report.schema.json.
 */
export function reportDocument(report: OnboardingReport) {
  return { summary: planSummary(report), changes: hasChanges(report), ...reportJson(report) };
}

function mark(r: AccountResult): string {
  if (!r.selected) return '·';
  if (r.action === 'blocked' || r.action === 'keep-credentials') return '⊘';
  if (r.error || (r.connection && !r.connection.connected)) return '✗';
  if (r.connection?.connected) return '✓';
  return '○';
}

function describe(r: AccountResult): string {
  if (!r.selected) return `not selected: ${r.reason}`;
  if (r.action === 'blocked') return `blocked: ${r.blockedBy}`;
  if (r.action === 'keep-credentials') return `left out, keeps its own credentials: ${r.blockedBy}`;
  const parts: string[] = [];
  const verb: Record<string, string> = { create: 'created', link: 'linked (existing provider kept)', update: 'updated', unchanged: 'unchanged' };
  parts.push(verb[r.action] ?? r.action);
  if (r.connection?.connected) parts.push(r.connection.tested ? `connected${r.connection.attempts > 1 ? ` (attempt ${r.connection.attempts})` : ''}` : 'connected (already)');
  else if (r.connection) parts.push(`not connected: ${r.connection.error} — ${r.connection.hint}`);
  if (r.scan === 'scheduled') parts.push('daily scan scheduled');
  if (r.scan === 'already-scheduled') parts.push('daily scan already scheduled');
  if (r.scan === 'already-started') parts.push('its one scan already started');
  if (r.scan === 'started') parts.push('scan started');
  if (r.error) parts.push(r.error);
  return parts.join(', ');
}

/** A summary for people: the tree, the counts, the failure. */
export function renderSummary(report: OnboardingReport, options: { maxAccountsPerUnit?: number } = {}): string {
  const snapshot = { rootIds: report.tree.rootIds, units: new Map(report.tree.units.map((u) => [u.id, u])) };
  const byParent = new Map<string, AccountResult[]>();
  for (const r of report.accounts) byParent.set(r.parentId, [...(byParent.get(r.parentId) ?? []), r]);
  const children = new Map<string, string[]>();
  for (const unit of snapshot.units.values()) {
    if (unit.parentId) children.set(unit.parentId, [...(children.get(unit.parentId) ?? []), unit.id]);
  }
  const max = options.maxAccountsPerUnit ?? Infinity;
  const lines: string[] = [];
  const walk = (unitId: string, prefix: string) => {
    const accounts = (byParent.get(unitId) ?? []).sort((a, b) => a.name.localeCompare(b.name));
    const units = (children.get(unitId) ?? []).map((id) => snapshot.units.get(id)!).sort((a, b) => a.name.localeCompare(b.name));
    const items: Array<{ text: string; unitId?: string }> = accounts.slice(0, max)
      .map((r) => ({ text: `${mark(r)} ${r.accountId} ${r.alias}${r.isManagementAccount ? ' [management]' : ''} — ${describe(r)}` }));
    if (accounts.length > max) items.push({ text: `… and ${accounts.length - max} more accounts` });
    items.push(...units.map((u) => ({ text: `${u.name} (${u.id})`, unitId: u.id })));
    items.forEach((item, i) => {
      const last = i === items.length - 1;
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${item.text}`);
      if (item.unitId) walk(item.unitId, prefix + (last ? '   ' : '│  '));
    });
  };
  const c = report.counts;
  lines.push(`Organization ${report.organization.id} (management account ${report.organization.managementAccountId}): ${report.organization.ous} OUs, depth ${report.organization.depth}`);
  lines.push(`External ID ${report.externalId} (${report.externalIdSource === 'prowler' ? "the API key's Prowler tenant" : 'given'})`);
  lines.push(...editionLines(report));
  if (report.tags) lines.push(describeTagUse(report.tags));
  lines.push(`${report.selectionSummary}${report.dryRun ? ' — plan only, nothing changed' : ''}`);
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  lines.push('');
  for (const rootId of snapshot.rootIds) {
    lines.push(`${snapshot.units.get(rootId)!.name} (${rootId})`);
    walk(rootId, '');
  }
  if (report.departures.length > 0) {
    lines.push('');
    lines.push('Left the selection:');
    for (const d of report.departures) {
      lines.push(`  ${d.accountId} ${d.alias ?? ''} — ${d.reason}: provider ${d.outcome}${d.error ? ` (${d.error})` : ''}`.replace('  —', ' —'));
    }
  }
  lines.push('');
  const already = report.accounts.filter((r) => r.scan === 'already-scheduled' || r.scan === 'already-started').length;
  lines.push(`${c.created} created · ${c.linked} linked · ${c.updated} updated · ${c.unchanged} unchanged · ${c.blocked} blocked · `
    + `${c.connected} connected · ${c.failed} failed · ${c.scheduled - already} scans launched${already ? ` (${already} already in place)` : ''}`);
  lines.push(report.outcome === 'succeeded' ? `Onboarding succeeded in ${(report.durationMs / 1000).toFixed(1)} s.` : `Onboarding failed: ${report.failure}`);
  return lines.join('\n');
}
