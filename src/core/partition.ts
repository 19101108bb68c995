/**
 * Partitions. A principal never assumes a role in another partition, and Prowler Cloud runs in
 * the commercial one (`aws`): in AWS GovCloud (US) and China its account cannot assume the
 * ProwlerScan role and its API cannot scan anything, so there the trust and the API URL must be a
 * self-hosted Prowler's. Each flavour checks these as early as it knows the partition: the CDK at
 * synth when the stack's region is known, Terraform at plan (a precondition on the partition data
 * source), the Quick Create link from its region, the Lambda before it writes anything.
 */
import { PROWLER_CLOUD_ACCOUNT_ID } from './defaults';
import { show } from './validate';

/** The partition Prowler Cloud runs in. */
export const PROWLER_CLOUD_PARTITION = 'aws';

/** Prowler Cloud's API: the onboarding's default. */
export const PROWLER_CLOUD_API_URL = 'https://api.prowler.com/api/v1';

/** The partition a region belongs to. */
export function partitionOfRegion(region: string): 'aws' | 'aws-us-gov' | 'aws-cn' {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

/** Whether a trusted account (undefined: the default) is Prowler Cloud's. */
export function trustsProwlerCloud(trustedAccountId: string | undefined): boolean {
  return (trustedAccountId ?? PROWLER_CLOUD_ACCOUNT_ID) === PROWLER_CLOUD_ACCOUNT_ID;
}

/** Whether an API URL (undefined: the default) is Prowler Cloud's. */
export function callsProwlerCloud(prowlerApiUrl: string | undefined): boolean {
  return (prowlerApiUrl ?? PROWLER_CLOUD_API_URL).replace(/\/+$/, '') === PROWLER_CLOUD_API_URL;
}

/**
 * Why a role trusting Prowler Cloud is useless in `partition` (a partition's name, or words for
 * one Terraform knows only at plan), naming the field, the value and what to set instead.
 */
export function trustOutsidePartitionMessage(
  partition: string,
  trustedAccountId: string | undefined,
  fields: { readonly account: string; readonly principal: string } = { account: 'trustedAccountId', principal: 'trustedPrincipal' },
): string {
  return `${fields.account}: Prowler Cloud's account ${PROWLER_CLOUD_ACCOUNT_ID} is in the ${PROWLER_CLOUD_PARTITION} partition and can never assume a role in the ${partition} partition `
    + `(a principal cannot assume a role across partitions): set ${fields.account} and ${fields.principal} to the account and principal your self-hosted Prowler runs as `
    + `there, got ${trustedAccountId === undefined ? `nothing (the default, ${PROWLER_CLOUD_ACCOUNT_ID})` : show(trustedAccountId)}`;
}

/** Why Prowler Cloud's API cannot onboard accounts in `partition`, and what to set instead. */
export function apiOutsidePartitionMessage(partition: string, prowlerApiUrl: string | undefined, field = 'prowlerApiUrl'): string {
  return `${field}: Prowler Cloud (${PROWLER_CLOUD_API_URL}) scans accounts of the ${PROWLER_CLOUD_PARTITION} partition only and cannot assume roles in the ${partition} partition: `
    + `set ${field} to your self-hosted Prowler App's API (e.g. https://prowler.example.internal/api/v1), `
    + `got ${prowlerApiUrl === undefined ? `nothing (the default, ${PROWLER_CLOUD_API_URL})` : show(prowlerApiUrl)}`;
}

/** Words for a partition other than Prowler Cloud's, where a flavour cannot name it (Terraform's messages). */
export const OTHER_PARTITIONS = 'aws-us-gov or aws-cn';

/** What is wrong with a trust and an API URL in a known partition (both optional: check what a construct has). */
export function partitionProblems(
  partition: string,
  o: { readonly trust?: { readonly trustedAccountId?: string }; readonly api?: { readonly prowlerApiUrl?: string } },
): string[] {
  if (partition === PROWLER_CLOUD_PARTITION) return [];
  return [
    ...(o.trust && trustsProwlerCloud(o.trust.trustedAccountId) ? [trustOutsidePartitionMessage(partition, o.trust.trustedAccountId)] : []),
    ...(o.api && callsProwlerCloud(o.api.prowlerApiUrl) ? [apiOutsidePartitionMessage(partition, o.api.prowlerApiUrl)] : []),
  ];
}

/**
 * What is wrong with a Prowler API base URL (an empty list when it is fine): http(s), no
 * trailing slash, and nothing that would end up in a template, a state file or a log and should
 * not: no credentials, no query string, no fragment. The value is shown without its credentials.
 */
export function apiUrlProblems(url: string): string[] {
  const allowed = `an http(s) URL without a trailing slash, such as ${PROWLER_CLOUD_API_URL} (self-hosted: http://<host>:8080/api/v1)`;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const withoutCredentials = parsed && (parsed.username || parsed.password) ? url.replace(/\/\/[^@/]*@/, '//[credentials]@') : url;
  const value = `got ${show(withoutCredentials)}`;
  if (!parsed || !/^https?:$/.test(parsed.protocol) || !/^https?:\/\/[^\s/]+(\/\S*[^/])?$/.test(url)) return [`prowlerApiUrl must be ${allowed}, ${value}`];
  const problems: string[] = [];
  if (parsed.username || parsed.password) problems.push(`prowlerApiUrl must not contain credentials (the API key comes from Secrets Manager), ${value}`);
  if (parsed.search || url.includes('?')) problems.push(`prowlerApiUrl must not have a query string, ${value}`);
  if (parsed.hash || url.includes('#')) problems.push(`prowlerApiUrl must not have a fragment, ${value}`);
  return problems;
}
