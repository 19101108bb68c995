/**
 * What an apply left undone, for a pipeline: `--fail-on failed|skipped` turns it into a non-zero
 * exit, and GitHub Actions annotations name each account on the run's page.
 */
import type { OnboardingReport } from '../handler/engine';

/** `--fail-on`'s values: which accounts make a finished apply exit with EXIT.ACCOUNTS. */
export const FAIL_ON = ['failed', 'skipped'] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** One account an apply did not onboard, and why (Prowler's answers are redacted by its client). */
export interface AccountShortfall {
  readonly accountId: string;
  readonly alias?: string;
  readonly why: string;
}

/**
 * The accounts an apply did not onboard, in two kinds:
 * - `failed`: a selected account whose registration (provider, role secret) or scan launch failed,
 *   and a provider that left the selection whose unlink or deletion failed;
 * - `skipped`: the other selected accounts that are not onboarded: blocked (their provider is linked
 *   to another organization), or not connected (the connection test failed, so no scan was
 *   launched; with `failurePolicy: skip` the run goes on without them).
 * Accounts out of the selection are neither.
 */
export function shortfalls(report: OnboardingReport): { failed: AccountShortfall[]; skipped: AccountShortfall[] } {
  const failed: AccountShortfall[] = [];
  const skipped: AccountShortfall[] = [];
  for (const r of report.accounts) {
    if (!r.selected) continue;
    const account = { accountId: r.accountId, alias: r.alias };
    if (r.error) {failed.push({ ...account, why: r.error });} else if (r.action === 'blocked') {skipped.push({ ...account, why: `blocked: ${r.blockedBy ?? 'its provider belongs to another onboarding'}` });} else if (!r.connection?.connected) {
      skipped.push({
        ...account,
        why: r.connection ? `not connected: ${r.connection.error ?? 'the connection test failed'}${r.connection.hint ? ` — ${r.connection.hint}` : ''}` : 'not tested',
      });
    }
  }
  for (const d of report.departures) {
    if (d.outcome === 'failed') failed.push({ accountId: d.accountId, alias: d.alias, why: `left the selection (${d.reason}), but its provider could not be removed: ${d.error ?? 'unknown error'}` });
  }
  return { failed, skipped };
}

/** The accounts `--fail-on` counts: `failed` only, or with `skipped` every selected account not onboarded. */
export function failingAccounts(report: OnboardingReport, failOn: FailOn): AccountShortfall[] {
  const { failed, skipped } = shortfalls(report);
  return failOn === 'failed' ? failed : [...failed, ...skipped];
}

/** Escapes a workflow command's message (`%`, CR, LF) or, with `property`, a property value (also `:` and `,`). */
function escapeData(text: string, property = false): string {
  const out = text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  return property ? out.replace(/:/g, '%3A').replace(/,/g, '%2C') : out;
}

/** A GitHub Actions workflow command that annotates the run: `::error title=…::message`. */
export function githubAnnotation(level: 'error' | 'warning', title: string, message: string): string {
  return `::${level} title=${escapeData(title, true)}::${escapeData(message)}`;
}

const TITLE = 'Prowler onboarding';
const who = (a: AccountShortfall) => `account ${a.accountId}${a.alias ? ` (${a.alias})` : ''}`;

/**
 * The annotations of an apply: the run's failure, then one line that counts, then one per account
 * (GitHub shows the first ten of each level on the run's page; the log has them all). Skipped
 * accounts are warnings, errors when `--fail-on skipped` fails the job for them.
 */
export function applyAnnotations(report: OnboardingReport, failOn: FailOn | undefined): string[] {
  const { failed, skipped } = shortfalls(report);
  const skippedLevel = failOn === 'skipped' ? 'error' : 'warning';
  const lines: string[] = [];
  if (report.outcome !== 'succeeded') lines.push(githubAnnotation('error', TITLE, `Onboarding failed: ${report.failure ?? 'unknown error'}`));
  if (failed.length + skipped.length > 0) {
    const counts = [failed.length > 0 ? `${failed.length} failed` : '', skipped.length > 0 ? `${skipped.length} skipped` : ''].filter(Boolean).join(', ');
    const level = failed.length > 0 || skippedLevel === 'error' ? 'error' : 'warning';
    lines.push(githubAnnotation(level, TITLE, `${counts} of ${report.counts.selected} selected accounts: not onboarded (the next apply or sync tries again)`));
  }
  lines.push(...failed.map((a) => githubAnnotation('error', TITLE, `${who(a)}: ${a.why}`)));
  lines.push(...skipped.map((a) => githubAnnotation(skippedLevel, TITLE, `${who(a)} skipped: ${a.why}`)));
  return lines;
}

/** What `--fail-on` found, for the job's log. */
export function failOnMessage(failOn: FailOn, accounts: readonly AccountShortfall[]): string {
  const shown = accounts.slice(0, 5).map((a) => `${who(a)}: ${a.why}`).join('\n  ');
  const more = accounts.length > 5 ? `\n  … and ${accounts.length - 5} more` : '';
  const what = failOn === 'failed' ? 'failed' : 'failed or were skipped';
  return `--fail-on ${failOn}: ${accounts.length} ${accounts.length === 1 ? 'account' : 'accounts'} ${what}:\n  ${shown}${more}`;
}
