/** What to fix, in words: hints for failures and their summaries. */
import { ProwlerApiError } from './prowler-api';
import { OUTSIDE_STACKSET, type AccountResult } from './run-types';

/** What to fix, from Prowler's (or STS's) error text. */
export function hintFor(error: string, roleStatus?: string): string {
  if (roleStatus === OUTSIDE_STACKSET) {
    return 'the account is outside the member StackSet\'s targets, so it has no ProwlerScan role from it: add its OU to the StackSet\'s targets, or leave it out of the selection';
  }
  if (roleStatus && /already exists/i.test(roleStatus)) {
    return `the StackSet could not create the role because one of that name already exists there (StackSet instance ${roleStatus}), most likely from Prowler's own `
      + 'prowler-scan-role.yml: onboard on top of the existing roles, or bring them under this package (README: "Organizations that already have ProwlerScan")';
  }
  if (roleStatus) return `the ProwlerScan role may not be deployed there (StackSet instance ${roleStatus}): wait for the StackSet, or add the account's OU to its targets`;
  if (/InvalidClientTokenId|security token included in the request is invalid/i.test(error)) {
    return "Prowler's own AWS credentials are missing or invalid (self-hosted: give the API and worker containers credentials, or an assume-credentials secret)";
  }
  if (/AccessDenied|not authorized to perform: sts:AssumeRole/i.test(error)) {
    return 'the role does not trust this Prowler: check the External ID and the trusted account/principal (self-hosted: trustedAccountId/trustedPrincipal), or the ProwlerScan role is missing in this account';
  }
  if (/NoSuchEntity|cannot be found|does not exist/i.test(error)) return 'the ProwlerScan role does not exist in this account: deploy the member StackSet to its OU';
  return "see Prowler's error";
}

export function describeFailures(failed: AccountResult[]): string {
  const shown = failed.slice(0, 5).map((r) => `${r.accountId} (${r.connection?.error ?? r.error}; ${r.connection?.hint ?? ''})`);
  return `${failed.length} failed: ${shown.join('; ')}${failed.length > 5 ? `; and ${failed.length - 5} more` : ''}`;
}

export function messageOf(error: unknown): string {
  if (error instanceof ProwlerApiError) return error.message;
  return (error as Error)?.message ?? String(error);
}
