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

/**
 * Decides every account of the snapshot. The account rules and the OU tree decide first; tag
 * rules can only leave out an account those select (so only such accounts' tags are read).
 */
export function selectAccounts(snapshot: OrganizationSnapshot, selection: AccountSelection): SelectionResult {
  const decideWithoutTags = untaggedDecider(snapshot, selection);
  const decisions = snapshot.accounts.map((account) => {
    const { decision, tagsDecide } = decideWithoutTags(account);
    if (!tagsDecide || !needsTags(selection)) return decision;
    if (account.tags === undefined) throw new Error(`selection: the tags of account ${account.id} were not read, yet tag rules decide it`);
    const excludedByTag = matches(selection.excludeTags, account.tags);
    if (excludedByTag) return { ...decision, selected: false, reason: `excludeTags ${ruleText(excludedByTag)}` };
    if (selection.includeTags?.length && !matches(selection.includeTags, account.tags)) {
      return { ...decision, selected: false, reason: `no includeTags match (${selection.includeTags.map(ruleText).join(', ')})` };
    }
    return decision;
  });
  const selected = decisions.filter((d) => d.selected);
  return { decisions, selected, summary: `${selected.length} of ${decisions.length} accounts selected` };
}

/**
 * The accounts whose tags decide them: those the account rules and the OU tree select (not by
 * includeAccounts). None when the selection has no tag rule.
 */
export function accountsNeedingTags(snapshot: OrganizationSnapshot, selection: AccountSelection): string[] {
  if (!needsTags(selection)) return [];
  const decideWithoutTags = untaggedDecider(snapshot, selection);
  return snapshot.accounts.filter((account) => decideWithoutTags(account).tagsDecide).map((a) => a.id);
}

/** An account's decision by every rule but the tag rules, and whether tag rules may still leave it out. */
function untaggedDecider(snapshot: OrganizationSnapshot, selection: AccountSelection) {
  const targets = new Set(selection.targets ?? snapshot.rootIds);
  const excludedOus = new Set(selection.excludeOus ?? []);
  const include = new Set(selection.includeAccounts ?? []);
  const exclude = new Set(selection.excludeAccounts ?? []);
  const only = selection.onlyAccounts ? new Set(selection.onlyAccounts) : undefined;
  return (account: OrgAccount): { decision: AccountDecision; tagsDecide: boolean } => {
    const chain = ancestry(snapshot, account.parentId);
    const ouName = chain[chain.length - 1]?.name ?? '';
    const isManagementAccount = account.id === snapshot.organization.managementAccountId;
    const decide = (selected: boolean, reason: string, tagsDecide = false) =>
      ({ decision: { account, selected, reason, alias: aliasFor(account, ouName, selection), isManagementAccount }, tagsDecide });

    if (account.status !== 'ACTIVE') return decide(false, `status ${account.status} (only ACTIVE accounts can be scanned)`);
    if (exclude.has(account.id)) return decide(false, 'excludeAccounts');
    if (only && !only.has(account.id) && !isManagementAccount) return decide(false, 'not in onlyAccounts');
    if (include.has(account.id)) return decide(true, 'includeAccounts');
    if (isManagementAccount) {
      return selection.includeManagementAccount === false
        ? decide(false, 'includeManagementAccount: false')
        : decide(true, 'management account', true);
    }
    // The nearest excluded OU or target above the account decides.
    for (const unit of [...chain].reverse()) {
      if (excludedOus.has(unit.id)) return decide(false, `excludeOus ${unit.id} (${unit.name})`);
      if (targets.has(unit.id)) return decide(true, `targets ${unit.id} (${unit.name})`, true);
    }
    return decide(false, 'outside the targets');
  };
}

/**
 * Every id the selection names that the organization does not have, with the closest real id of
 * the same kind when one is near: a typo'd OU in excludeOus must not onboard the OU it meant.
 */
export function unknownSelectionIds(snapshot: OrganizationSnapshot, selection: AccountSelection): string[] {
  const units = [...snapshot.units.keys()];
  const accounts = snapshot.accounts.map((a) => a.id);
  const check = (field: string, ids: readonly string[] | undefined, known: readonly string[], what: string) =>
    (ids ?? []).map((id, i) => [id, i] as const).filter(([id]) => !known.includes(id)).map(([id, i]) => {
      const near = closest(id, known);
      return `selection.${field}${field === 'aliases' ? `.${id}` : `[${i}]`}: '${id}' is not ${what} of ${snapshot.organization.id}${near ? ` (did you mean '${near}'?)` : ''}`;
    });
  return [
    ...check('targets', selection.targets, units, 'a root or OU'),
    ...check('excludeOus', selection.excludeOus, units, 'an OU'),
    ...check('includeAccounts', selection.includeAccounts, accounts, 'an account'),
    ...check('excludeAccounts', selection.excludeAccounts, accounts, 'an account'),
    ...check('onlyAccounts', selection.onlyAccounts, accounts, 'an account'),
    ...check('aliases', Object.keys(selection.aliases ?? {}), accounts, 'an account'),
  ];
}

/** The known id nearest to `id` (edit distance), when it is near enough to be a typo. */
function closest(id: string, known: readonly string[]): string | undefined {
  let best: { id: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(id, candidate);
    if (!best || distance < best.distance) best = { id: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(id.length / 4)) ? best.id : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
