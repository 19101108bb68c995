/**
 * The CLI's own words for two failures a first run meets: no AWS credentials, and a Prowler API key
 * that Prowler rejects, each saying what to do where the user is (not where a Lambda function is).
 */
import type { SpecFile } from '../core/spec';
import { ProwlerApiError } from '../handler/prowler-api';

/** Where the spec's Prowler API key comes from, as a user would look for it. */
export function keySource(spec: SpecFile): string {
  if (spec.apiKey && 'secretArn' in spec.apiKey) return `the Secrets Manager secret ${spec.apiKey.secretArn} (apiKey.secretArn)`;
  const variable = spec.apiKey && 'env' in spec.apiKey ? spec.apiKey.env : 'PROWLER_API_KEY';
  return `the environment variable ${variable}${spec.apiKey ? ' (apiKey.env)' : ''}`;
}

const errorName = (error: unknown) => (error as { name?: unknown } | undefined)?.name;

/**
 * Whether the AWS SDK found no credentials: its CredentialsProviderError, thrown by a client's
 * credential chain, or named in the message of an error that wraps it (the Secrets Manager read).
 */
export function isMissingCredentials(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (errorName(e) === 'CredentialsProviderError') return true;
  }
  return /\bCredentialsProviderError\b/.test((error as Error | undefined)?.message ?? '');
}

/** What to do when the SDK found no AWS credentials, for what this spec needs of AWS. */
export function missingCredentialsMessage(error: unknown, spec: SpecFile | undefined, simulated: boolean): string {
  const needs = [
    ...(simulated ? [] : ['read the organization from AWS Organizations, as the management account or a delegated administrator for Organizations']),
    ...(spec?.apiKey && 'secretArn' in spec.apiKey ? [`read the Prowler API key from ${spec.apiKey.secretArn}`] : []),
    ...(spec?.stateBucket ? [`read and write the onboarding's record in s3://${spec.stateBucket}`] : []),
  ];
  const sdk = (error as Error | undefined)?.message;
  return [
    `no AWS credentials were found${sdk ? ` (the AWS SDK said: ${sdk})` : ''}.`,
    `This run needs an AWS identity to ${needs.length > 0 ? needs.join('; and to ') : 'reach AWS'}. Give it one:`,
    '  - a profile: export AWS_PROFILE=<profile> (for an IAM Identity Center profile, run `aws sso login --profile <profile>` first);',
    '  - or keys: export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones);',
    '  - in GitHub Actions: aws-actions/configure-aws-credentials with a role of that account.',
    simulated
      ? '--simulate replaces the discovery only: the Secrets Manager secret and the stateBucket still need AWS credentials (or name the key in apiKey.env).'
      : 'To try a spec without AWS: prowler-org plan <spec> --simulate <organization.json> discovers from a file, with no credentials '
        + '(unless the spec names a Secrets Manager secret or a stateBucket).',
  ].join('\n');
}

/**
 * A 401 from Prowler, rephrased for where the key came from (the client's message assumes the
 * Lambda's Secrets Manager secret); any other error as it is.
 */
export function explainRejectedKey(error: unknown, source: string): unknown {
  if (!(error instanceof ProwlerApiError) || error.status !== 401) return error;
  const where = /^(Prowler API .+?): 401\b/.exec(error.message)?.[1] ?? 'Prowler API';
  return new Error(`${where}: 401 the API key was rejected: put a current Prowler API key (pk_…, Prowler: Settings → API Keys) for this tenant in ${source}`
    + `${error.detail ? ` — Prowler said: ${error.detail}` : ''}`);
}
