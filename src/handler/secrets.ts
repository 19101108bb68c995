/**
 * Secrets read at run time from AWS Secrets Manager: the Prowler API key, and (self-hosted
 * Prowler without ambient AWS credentials) the static credentials Prowler assumes roles with.
 * Their values never reach a log line, a report or an error message.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AssumeCredentials } from './engine';
import type { ProwlerAuth } from './prowler-api';
import * as z from '../core/zod';

async function secretString(client: SecretsManagerClient, secretId: string, what: string): Promise<string> {
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (!SecretString) throw new Error(`the secret ${secretId} has no string value (binary secrets are not supported)`);
    return SecretString.trim();
  } catch (error) {
    const name = (error as { name?: string }).name ?? 'Error';
    const fix: Record<string, string> = {
      AccessDeniedException: 'allow secretsmanager:GetSecretValue on it (and kms:Decrypt on its key, if it has its own)',
      ResourceNotFoundException: 'check the secret ARN and region',
      DecryptionFailure: 'allow kms:Decrypt on the secret\'s KMS key',
    };
    throw new Error(`Could not read the ${what} from Secrets Manager (${secretId}): ${name}${fix[name] ? `: ${fix[name]}` : ''}`);
  }
}

/**
 * Why a key cannot be sent as it is (a line break or another control character, white space
 * inside it: a header cannot carry them), or undefined. The key itself is never shown.
 */
export function keyProblem(key: string, where: string): string | undefined {
  const found = /[\u0000-\u001f\u007f]/.test(key) ? 'a line break or another control character' : /\s/.test(key) ? 'white space' : undefined;
  return found && `${where} holds ${found} inside the key (${key.length} characters; the key is not shown): store the key alone, on one line`;
}

/**
 * The Prowler API key: the secret's whole string (`pk_…`), or the `apiKey` field of a JSON secret.
 * A JSON secret with `token` holds a JWT instead.
 */
export async function readProwlerAuth(
  client: SecretsManagerClient,
  secretId: string,
  options: { readonly longLived?: boolean } = {},
): Promise<ProwlerAuth> {
  const value = await secretString(client, secretId, 'Prowler API key');
  if (!value) throw new Error(`The Prowler API key secret (${secretId}) is empty (or only white space): store the key (pk_…) in it`);
  if (!value.startsWith('{')) {
    const problem = keyProblem(value, `The Prowler API key secret (${secretId})`);
    if (problem) throw new Error(problem);
    return { apiKey: value };
  }
  const nonEmpty = z.string().check(z.minLength(1));
  const parsed = z.union([z.object({ apiKey: nonEmpty }), z.object({ token: nonEmpty })]).safeParse(safeJson(value));
  if (!parsed.success || Object.values(parsed.data)[0].trim() === '') {
    throw new Error(`The Prowler API key secret (${secretId}) is JSON without an "apiKey" (or "token") field: store the key itself, or {"apiKey": "pk_…"}`);
  }
  if ('token' in parsed.data && options.longLived) {
    // Nothing refreshes it: the scheduled sync would fail from the first expiry on.
    throw new Error(`The Prowler API key secret (${secretId}) holds a token (a JWT from POST /tokens expires after 30 minutes): `
      + 'the onboarding runs for as long as it is deployed, so store an API key (pk_…, Prowler: Settings → API Keys)');
  }
  const problem = keyProblem(Object.values(parsed.data)[0].trim(), `The Prowler API key secret (${secretId})`);
  if (problem) throw new Error(problem);
  return 'token' in parsed.data ? { token: parsed.data.token.trim() } : { apiKey: parsed.data.apiKey.trim() };
}

const keyId = z.string().check(z.minLength(16));
const secretKey = z.string().check(z.minLength(1));
const credentialsSchema = z.union([
  z.object({ accessKeyId: keyId, secretAccessKey: secretKey, sessionToken: z.optional(z.string()) }),
  z.pipe(
    z.object({ AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secretKey, AWS_SESSION_TOKEN: z.optional(z.string()) }),
    z.transform((c) => ({ accessKeyId: c.AWS_ACCESS_KEY_ID, secretAccessKey: c.AWS_SECRET_ACCESS_KEY, sessionToken: c.AWS_SESSION_TOKEN })),
  ),
]);

/** Static credentials for Prowler's sts:AssumeRole, from a JSON secret. */
export async function readAssumeCredentials(client: SecretsManagerClient, secretId: string): Promise<AssumeCredentials> {
  const value = await secretString(client, secretId, 'assume-role credentials');
  const parsed = credentialsSchema.safeParse(safeJson(value));
  if (!parsed.success) {
    throw new Error(`The assume-role credentials secret (${secretId}) must be JSON with accessKeyId and secretAccessKey (optionally sessionToken), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
