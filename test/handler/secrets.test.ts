import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readAssumeCredentials, readProwlerAuth } from '../../src/handler/secrets';
import { awsError } from '../../testing/organization';

const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler-api-key-AbCdEf';
const sm = mockClient(SecretsManagerClient);
const client = () => new SecretsManagerClient({ region: 'us-east-1' });
afterEach(() => sm.reset());

describe('secrets', () => {
  test('the API key is the secret string, or the apiKey (or token) field of a JSON secret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolvesOnce({ SecretString: 'pk_abc.def\n' })
      .resolvesOnce({ SecretString: '{"apiKey":"pk_json.key"}' })
      .resolvesOnce({ SecretString: '{"token":"eyJ.x.y"}' });
    expect(await readProwlerAuth(client(), ARN)).toEqual({ apiKey: 'pk_abc.def' });
    expect(await readProwlerAuth(client(), ARN)).toEqual({ apiKey: 'pk_json.key' });
    expect(await readProwlerAuth(client(), ARN)).toEqual({ token: 'eyJ.x.y' });
  });

  test('a token (JWT) is refused where the onboarding lives on (the Lambda), and never shown', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"token":"eyJhbGciOi.secret-claims.sig"}' });
    const error: Error = await readProwlerAuth(client(), ARN, { longLived: true }).catch((e) => e);
    expect(error.message).toMatch(/holds a token \(a JWT from POST \/tokens expires after 30 minutes\): .*store an API key/);
    expect(error.message).not.toContain('secret-claims');
    expect(await readProwlerAuth(client(), ARN)).toEqual({ token: 'eyJhbGciOi.secret-claims.sig' }); // a one-off CLI run may use one
  });

  test.each(['   \n', '{"apiKey":"  "}'])('a key of white space only (%j) is "empty", never sent', async (value) => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: value });
    await expect(readProwlerAuth(client(), ARN)).rejects.toThrow(/is empty|without an "apiKey"/);
  });

  test('a JSON secret without the key says how to store it, without showing its content', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"key":"pk_hidden.value"}' });
    const error: Error = await readProwlerAuth(client(), ARN).catch((e) => e);
    expect(error.message).toMatch(/is JSON without an "apiKey" \(or "token"\) field/);
    expect(error.message).not.toContain('pk_hidden');
  });

  test('a denied read names the permission to add', async () => {
    sm.on(GetSecretValueCommand).rejects(awsError('AccessDeniedException', 'not authorized'));
    await expect(readProwlerAuth(client(), ARN)).rejects.toThrow(/AccessDeniedException: allow secretsmanager:GetSecretValue/);
  });

  test('assume-role credentials in either naming, never echoed on error', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: '{"accessKeyId":"AKIAABCDEFGHIJKLMNOP","secretAccessKey":"s3cr3t"}' })
      .resolvesOnce({ SecretString: '{"AWS_ACCESS_KEY_ID":"AKIAABCDEFGHIJKLMNOP","AWS_SECRET_ACCESS_KEY":"s3cr3t","AWS_SESSION_TOKEN":"tok"}' })
      .resolvesOnce({ SecretString: '{"accessKeyId":"AKIAABCDEFGHIJKLMNOP"}' });
    expect(await readAssumeCredentials(client(), ARN)).toEqual({ accessKeyId: 'AKIAABCDEFGHIJKLMNOP', secretAccessKey: 's3cr3t' });
    expect(await readAssumeCredentials(client(), ARN)).toEqual({ accessKeyId: 'AKIAABCDEFGHIJKLMNOP', secretAccessKey: 's3cr3t', sessionToken: 'tok' });
    const error: Error = await readAssumeCredentials(client(), ARN).catch((e) => e);
    expect(error.message).toMatch(/must be JSON with accessKeyId and secretAccessKey/);
    expect(error.message).not.toContain('AKIA');
  });
});
