/**
 * Selection: every account of the organization gets a decision and the rule that made it, as in
 * the wizard's tree ("X of Y accounts selected").
 */
import { ancestry, type OrgAccount, type OrganizationSnapshot } from './organizations';
import { DEFAULT_ALIAS_PATTERN, type AccountSelection, type TagRule } from '../core/spec';

export interface AccountDecision {
  readonly account: OrgAccount;
  readonly selected: boolean;
  /** The rule that decided, in words: "targets r-ab12", "excludeAccounts", "status SUSPENDED", … */
  readonly reason: string;
  /** The Prowler alias the account gets. */
  readonly alias: string;
  readonly isManagementAccount: boolean;
}

export interface SelectionResult {
  readonly decisions: readonly AccountDecision[];
  readonly selected: readonly AccountDecision[];
  /** "X of Y accounts selected" */
  readonly summary: string;
}

const matches = (rules: readonly TagRule[] | undefined, tags: Readonly<Record<string, string>> | undefined) =>
  (rules ?? []).find((r) => tags !== undefined && r.key in tags && (r.value === undefined || tags[r.key] === r.value));

const ruleText = (r: TagRule) => (r.value === undefined ? r.key : `${r.key}=${r.value}`);

/** Selection rules use tags: discovery must read them. */
export function needsTags(selection: AccountSelection): boolean {
  return (selection.includeTags?.length ?? 0) > 0 || (selection.excludeTags?.length ?? 0) > 0;
}

/** An alias from the pattern, fitted to Prowler's 3–100 characters. */
export function aliasFor(account: OrgAccount, ouName: string, selection: AccountSelection): string {
  const given = selection.aliases?.[account.id];
  if (given) return given;
  const alias = (selection.aliasPattern ?? DEFAULT_ALIAS_PATTERN)
    .replace(/\{name\}/g, account.name)
    .replace(/\{id\}/g, account.id)
    .replace(/\{ou\}/g, ouName)
    .trim();
  if (alias.length < 3) return `${alias} (${account.id})`.slice(0, 100);
  return alias.slice(0, 100);
}

/** Decides every account of the snapshot. */
export function selectAccounts(snapshot: OrganizationSnapshot, selection: AccountSelection): SelectionResult {
  const targets = new Set(selection.targets ?? snapshot.rootIds);
  const excludedOus = new Set(selection.excludeOus ?? []);
  const include = new Set(selection.includeAccounts ?? []);
  const exclude = new Set(selection.excludeAccounts ?? []);
  const only = selection.onlyAccounts ? new Set(selection.onlyAccounts) : undefined;
  const management = snapshot.organization.managementAccountId;

  const decisions = snapshot.accounts.map((account): AccountDecision => {
    const chain = ancestry(snapshot, account.parentId);
    const ouName = chain[chain.length - 1]?.name ?? '';
    const isManagementAccount = account.id === management;
    const decide = (selected: boolean, reason: string): AccountDecision =>
      ({ account, selected, reason, alias: aliasFor(account, ouName, selection), isManagementAccount });

    if (account.status !== 'ACTIVE') return decide(false, `status ${account.status} (only ACTIVE accounts can be scanned)`);
    if (exclude.has(account.id)) return decide(false, 'excludeAccounts');
    if (only && !only.has(account.id) && !isManagementAccount) return decide(false, 'not in onlyAccounts');
    if (include.has(account.id)) return decide(true, 'includeAccounts');
    const excludedByTag = matches(selection.excludeTags, account.tags);
    if (excludedByTag) return decide(false, `excludeTags ${ruleText(excludedByTag)}`);
    if (selection.includeTags?.length) {
      const includedByTag = matches(selection.includeTags, account.tags);
      if (!includedByTag) return decide(false, `no includeTags match (${selection.includeTags.map(ruleText).join(', ')})`);
    }
    if (isManagementAccount) {
      return selection.includeManagementAccount === false
        ? decide(false, 'includeManagementAccount: false')
        : decide(true, 'management account');
    }
    // The nearest excluded OU or target above the account decides.
    for (const unit of [...chain].reverse()) {
      if (excludedOus.has(unit.id)) return decide(false, `excludeOus ${unit.id} (${unit.name})`);
      if (targets.has(unit.id)) return decide(true, `targets ${unit.id} (${unit.name})`);
    }
    return decide(false, 'outside the targets');
  });

  const selected = decisions.filter((d) => d.selected);
  return { decisions, selected, summary: `${selected.length} of ${decisions.length} accounts selected` };
}
