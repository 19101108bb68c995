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
