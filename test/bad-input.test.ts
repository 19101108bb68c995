/**
 * Bad input, one table: spec files, command-line flags, environment variables, construct props in
 * both flavours, the custom resource's and Terraform's deploy-time input, and hostile Prowler API
 * answers. Every case asserts how it fails (exit code, synth error, deploy failure), that the
 * message names the field and shows the value it got (or, for a secret, does not), and that nothing
 * reached Prowler, or, where reading had to come first, that nothing was written and nothing was
 * left half-registered.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App, Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Testing, TerraformStack } from 'cdktf';
import { stringify } from 'yaml';
import * as cdk from '../src/cdk';
import * as tf from '../src/cdktf';
import { main } from '../src/cli/main';
import { ONBOARDING_ENV, readOnboardingEnvironment } from '../src/core/onboarding';
import { ScheduleFrequency } from '../src/core/spec';
import { onboard } from '../src/handler/engine';
import { handleOnEvent, handleTerraform, type LambdaEnvironment } from '../src/handler/lambda';
import { ProwlerClient } from '../src/handler/prowler-api';
import { MemoryJsonStore } from '../src/handler/store';
import { fakeClock } from '../testing/harness';
import { generateOrganization, simulatedOrganizationsClient } from '../testing/organization';
import { ProwlerApiDouble, type Fault } from '../testing/prowler-api-double';

const KEY = 'pk_BadInput9.S3CRET-PAYLOAD-OF-THE-KEY-never-shown';
/** A key in Prowler's own shape (pk_, 8 characters, a dot, the secret), pasted where it does not belong. */
const PASTED_KEY = 'pk_Ab12Cd34.eyJzZWNyZXQiOiJ0aGUta2V5LXBheWxvYWQifQ';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const ORG = generateOrganization({ accounts: 8, ous: 3, depth: 2, suspended: 1, seed: 5 });
const ACTIVE = ORG.accounts.filter((a) => a.status === 'ACTIVE');
const OU = ORG.ous[0].id;
const dir = mkdtempSync(join(tmpdir(), 'prowler-bad-input-'));
const FIXTURE = join(dir, 'organization.json');
writeFileSync(FIXTURE, JSON.stringify(ORG));
const MEGABYTE = 'x'.repeat(1_000_000);

/** How a case ended, and what reached Prowler. */
interface Outcome {
  /** 'exit 1', 'synth error', 'deploy failure', 'run failure' or 'account failed'. */
  readonly ended: string;
  readonly message: string;
  /** Requests that reached Prowler ("METHOD path"); writes only, when the case reads first. */
  readonly sent: readonly string[];
  /** Providers left without a role secret. */
  readonly halfRegistered?: readonly string[];
  /** A synth error's stack trace. */
  readonly stack?: string;
}

interface Case {
  /** What is wrong, as a user would say it. */
  readonly name: string;
  readonly ends: string;
  /** The field (or flag, variable, route) the message must name. */
  readonly field: string;
  /** The value as the message must show it; `null` where there is no value to show. */
  readonly shows: string | null;
  /** What must never appear: secrets, and the whole of a huge value. */
  readonly hides?: readonly string[];
  readonly run: () => Promise<Outcome>;
}

let sequence = 0;
const file = (content: string, extension = 'yaml') => {
  const path = join(dir, `case-${sequence++}.${extension}`);
  writeFileSync(path, content);
  return path;
};

/** Requests that are not reads. */
const writes = (double: ProwlerApiDouble) => double.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);
const everything = (double: ProwlerApiDouble) => double.requests.map((r) => `${r.method} ${r.path}`);
const withoutSecret = (double: ProwlerApiDouble) => [...double.providers.values()].filter((p) => !p.secretId).map((p) => p.uid);

// ---- The command line ------------------------------------------------------------------------

interface CliRun {
  readonly args: (double: ProwlerApiDouble) => string[];
  readonly env?: Record<string, string>;
  /** Whether the case has to read Prowler before it can tell (unknown ids, an empty selection). */
  readonly readsFirst?: boolean;
}

async function cli({ args, env, readsFirst }: CliRun): Promise<Outcome> {
  const double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
  try {
    let err = '';
    const code = await main(args(double), { out: () => {}, err: (t) => (err += t), env: { PROWLER_API_KEY: KEY, ...env }, isTty: false });
    return { ended: `exit ${code}`, message: err, sent: readsFirst ? writes(double) : everything(double), halfRegistered: withoutSecret(double) };
  } finally {
    await double.stop();
  }
}

/** A spec file applied with `prowler-org apply --yes`: the worst case, since it writes. */
const applied = (spec: (url: string) => string, extension = 'yaml', run: Partial<CliRun> = {}): (() => Promise<Outcome>) =>
  () => cli({ ...run, args: (double) => ['apply', file(spec(double.url), extension), '--yes', '--simulate', FIXTURE, ...(run.args?.(double) ?? [])] });

/** A spec with one change from a good one (YAML). */
const specWith = (change: Record<string, unknown>, extension: 'yaml' | 'json' = 'yaml') => applied((url) => {
  const spec = { prowlerApiUrl: url, organizationId: ORG.id, connection: { retryRounds: 0 }, ...change };
  return extension === 'json' ? JSON.stringify(spec) : stringify(spec);
}, extension);

const selectionWith = (selection: Record<string, unknown>) => specWith({ selection });
const connectionWith = (connection: Record<string, unknown>) => specWith({ connection });

const exit1 = (name: string, field: string, shows: string | null, run: () => Promise<Outcome>, hides?: string[]): Case =>
  ({ name, ends: 'exit 1', field, shows, run, hides });

const SPEC_FILES: Case[] = [
  exit1('organizationId in capitals', 'organizationId', "'o-ABCDEFGHIJ'", specWith({ organizationId: 'o-ABCDEFGHIJ' })),
  exit1('organizationId as a number', 'organizationId', '12345', specWith({ organizationId: 12345 })),
  exit1('organizationId of another organization', 'organizationId', "'o-otherorg0001'",
    () => cli({ args: (d) => ['apply', file(stringify({ prowlerApiUrl: d.url, organizationId: 'o-otherorg0001' })), '--yes', '--simulate', FIXTURE], readsFirst: true })),
  exit1('externalId with spaces', 'externalId', "'has spaces'", specWith({ externalId: 'has spaces' })),
  exit1('externalId of one character', 'externalId', "'x'", specWith({ externalId: 'x' })),
  exit1('the API key pasted as externalId (it would be written into every trust policy)', 'externalId', "'pk_[a key, not shown]'",
    specWith({ externalId: PASTED_KEY }), [PASTED_KEY.slice(3, 20)]),
  exit1('externalId of a megabyte', 'externalId', "'xxxxxxxx", specWith({ externalId: MEGABYTE }), [MEGABYTE.slice(0, 200)]),
  exit1('roleName with a space', 'roleName', "'Prowler Scan'", specWith({ roleName: 'Prowler Scan' })),
  exit1('roleName of 65 characters', 'roleName', `'${'r'.repeat(65)}'`, specWith({ roleName: 'r'.repeat(65) })),
  exit1('scanMode weekly', 'scanMode', "'weekly'", specWith({ scanMode: 'weekly' })),
  exit1('schedule.timeZone Mars/Olympus', 'schedule.timeZone', "'Mars/Olympus'", specWith({ schedule: { timeZone: 'Mars/Olympus' } })),
  exit1('schedule.dayOfMonth 31', 'schedule.dayOfMonth', '31', specWith({ schedule: { frequency: 'monthly', dayOfMonth: 31 } })),
  exit1('prowlerEdition saas', 'prowlerEdition', "'saas'", specWith({ prowlerEdition: 'saas' })),
  exit1('removal delete', 'removal', "'delete'", specWith({ removal: 'delete' })),
  exit1('concurrency 0', 'concurrency', '0', specWith({ concurrency: 0 })),
  exit1('concurrency 101', 'concurrency', '101', specWith({ concurrency: 101 })),
  exit1('concurrency 2.5', 'concurrency', '2.5', specWith({ concurrency: 2.5 })),
  exit1('concurrency as a string', 'concurrency', "'10'", specWith({ concurrency: '10' })),
  exit1('concurrency .inf (YAML infinity)', 'concurrency', 'Infinity', applied((url) => `prowlerApiUrl: ${url}\nconcurrency: .inf\n`)),
  exit1('roleSessionName of one character', 'roleSessionName', "'a'", specWith({ roleSessionName: 'a' })),
  exit1('sessionDurationSeconds 43200 (the role allows 3600)', 'sessionDurationSeconds', '43200', specWith({ sessionDurationSeconds: 43_200 })),
  exit1('sessionDurationSeconds 60', 'sessionDurationSeconds', '60', specWith({ sessionDurationSeconds: 60 })),
  exit1('localPrecheck "yes"', 'localPrecheck', "'yes'", specWith({ localPrecheck: 'yes' })),
  exit1('allowEmptySelection 1', 'allowEmptySelection', '1', specWith({ allowEmptySelection: 1 })),
  exit1('connection.failurePolicy abort', 'connection.failurePolicy', "'abort'", connectionWith({ failurePolicy: 'abort' })),
  exit1('connection.retryRounds 11', 'connection.retryRounds', '11', connectionWith({ retryRounds: 11 })),
  exit1('connection.retryRounds -1', 'connection.retryRounds', '-1', connectionWith({ retryRounds: -1 })),
  exit1('connection.retryDelaySeconds 901', 'connection.retryDelaySeconds', '901', connectionWith({ retryDelaySeconds: 901 })),
  exit1('connection.stackSetWaitSeconds 1801', 'connection.stackSetWaitSeconds', '1801', connectionWith({ stackSetWaitSeconds: 1801 })),
  exit1('connection.concurrentTests 0', 'connection.concurrentTests', '0', connectionWith({ concurrentTests: 0 })),
  exit1('connection.retries (a typo)', 'connection', "'retries'", connectionWith({ retries: 3 })),
  exit1('selection.targets naming an OU by its name', 'selection.targets[0]', "'Production'", selectionWith({ targets: ['Production'] })),
  exit1('selection.targets empty', 'selection.targets', '[]', selectionWith({ targets: [] })),
  exit1('selection.targets twice the same OU', 'selection.targets', `'${OU}'`, selectionWith({ targets: [OU, OU] })),
  exit1('selection.excludeOus an account id', 'selection.excludeOus[0]', "'111111111111'", selectionWith({ excludeOus: ['111111111111'] })),
  exit1('selection.includeAccounts of 5 digits', 'selection.includeAccounts[0]', "'12345'", selectionWith({ includeAccounts: ['12345'] })),
  exit1('selection.includeAccounts unquoted with a leading zero (YAML number)', 'selection.includeAccounts[0]', '12345678901',
    applied((url) => `prowlerApiUrl: ${url}\nselection:\n  includeAccounts: [012345678901]\n`)),
  exit1('selection.onlyAccounts empty', 'selection.onlyAccounts', '[]', selectionWith({ onlyAccounts: [] })),
  exit1('selection.excludeAccounts an ARN', 'selection.excludeAccounts[0]', "'arn:aws:iam::111111111111:root'", selectionWith({ excludeAccounts: ['arn:aws:iam::111111111111:root'] })),
  exit1('selection.includeTags empty', 'selection.includeTags', '[]', selectionWith({ includeTags: [] })),
  exit1('selection.includeTags with an empty key', 'selection.includeTags[0].key', "''", selectionWith({ includeTags: [{ key: '' }] })),
  exit1('selection.excludeTags with a 257-character value', 'selection.excludeTags[0].value', "'vvvvv", selectionWith({ excludeTags: [{ key: 'k', value: 'v'.repeat(257) }] })),
  exit1('selection.excludeTags as a map', 'selection.excludeTags', '{"team":"x"}', selectionWith({ excludeTags: { team: 'x' } })),
  exit1('selection.includeManagementAccount "no"', 'selection.includeManagementAccount', "'no'", selectionWith({ includeManagementAccount: 'no' })),
  exit1('selection.aliases keyed by a name', 'selection.aliases', "'prod'", selectionWith({ aliases: { prod: 'Production' } })),
  exit1('selection.aliases with a 2-character alias', `selection.aliases.${ACTIVE[0].id}`, "'ab'", selectionWith({ aliases: { [ACTIVE[0].id]: 'ab' } })),
  exit1('selection.aliasPattern without a placeholder', 'selection.aliasPattern', "'prod'", selectionWith({ aliasPattern: 'prod' })),
  exit1('selection.aliasPattern with {email}', 'selection.aliasPattern', "'{name}-{email}'", selectionWith({ aliasPattern: '{name}-{email}' })),
  exit1('an account both included and excluded', 'selection.includeAccounts', `'${ACTIVE[0].id}'`,
    selectionWith({ includeAccounts: [ACTIVE[0].id], excludeAccounts: [ACTIVE[0].id] })),
  exit1('an OU both targeted and excluded', 'selection.excludeOus', `'${OU}'`, selectionWith({ targets: [OU], excludeOus: [OU] })),
  exit1('selection.excludeAccount (a typo)', 'selection', "'excludeAccount'", selectionWith({ excludeAccount: [ACTIVE[0].id] })),
  exit1('an excluded OU that is not in the organization', 'selection.excludeOus', "'ou-zzzz-zzzzzzzz'",
    () => cli({ args: (d) => ['apply', file(stringify({ prowlerApiUrl: d.url, selection: { excludeOus: ['ou-zzzz-zzzzzzzz'] } })), '--yes', '--simulate', FIXTURE], readsFirst: true })),
  exit1('an aliased account that is not a member', 'selection.aliases', "'999999999999'",
    () => cli({ args: (d) => ['apply', file(stringify({ prowlerApiUrl: d.url, selection: { aliases: { 999999999999: 'Gone' } } })), '--yes', '--simulate', FIXTURE], readsFirst: true })),
  exit1('a selection of no account', 'selection', 'includeManagementAccount: false',
    () => cli({
      args: (d) => ['apply', file(stringify({ prowlerApiUrl: d.url, selection: { includeManagementAccount: false, onlyAccounts: [ORG.accounts.find((a) => a.status !== 'ACTIVE')!.id] } })), '--yes', '--simulate', FIXTURE],
      readsFirst: true,
    })),
  exit1('prowlerApiUrl with a password', 'prowlerApiUrl', "'https://[credentials]@prowler.example/api/v1'",
    specWith({ prowlerApiUrl: 'https://admin:hunter2-secret@prowler.example/api/v1' }), ['hunter2-secret']),
  exit1('prowlerApiUrl with a trailing slash', 'prowlerApiUrl', "'https://api.prowler.com/api/v1/'", specWith({ prowlerApiUrl: 'https://api.prowler.com/api/v1/' })),
  exit1('prowlerApiUrl over ftp', 'prowlerApiUrl', "'ftp://prowler.example/api/v1'", specWith({ prowlerApiUrl: 'ftp://prowler.example/api/v1' })),
  exit1('prowlerApiUrl with a query string', 'prowlerApiUrl', "'https://prowler.example/api/v1?tenant=1'", specWith({ prowlerApiUrl: 'https://prowler.example/api/v1?tenant=1' })),
  exit1('prowlerApiUrl with a fragment', 'prowlerApiUrl', "'https://prowler.example/api/v1#x'", specWith({ prowlerApiUrl: 'https://prowler.example/api/v1#x' })),
  exit1('the API key itself in the file', 'apiKey', null, specWith({ apiKey: { value: KEY } }), [KEY.slice(3, 20)]),
  exit1('apiKey.env in lower case', 'apiKey', "'prowler-key'", specWith({ apiKey: { env: 'prowler-key' } })),
  exit1('apiKey.secretArn of an S3 bucket', 'apiKey', "'arn:aws:s3:::bucket'", specWith({ apiKey: { secretArn: 'arn:aws:s3:::bucket' } })),
  exit1('trust.accountId of 11 digits', 'trust.accountId', "'12345678901'", specWith({ trust: { accountId: '12345678901' } })),
  exit1('trust.principal with a space', 'trust.principal', "'role/prowler scan'", specWith({ trust: { principal: 'role/prowler scan' } })),
  exit1('an unknown top-level field', '(top level)', "'selections'", specWith({ selections: {} })),
  exit1('a JSON file with removal twice (retain, then destroy)', 'given twice', "'removal'",
    applied((url) => `{"prowlerApiUrl": "${url}", "removal": "retain", "removal": "destroy"}`, 'json')),
  exit1('a YAML file with removal twice', 'given twice', "'removal'", applied((url) => `prowlerApiUrl: ${url}\nremoval: retain\nremoval: destroy\n`)),
  exit1('YAML that does not parse', 'line 3', "'selection: [unclosed'", applied((url) => `prowlerApiUrl: ${url}\nselection: [unclosed\n`)),
  exit1('JSON that does not parse', '.json', null, applied(() => '{"selection": {', 'json')),
  exit1('a list instead of a spec', '(top level)', null, applied(() => '- selection\n- removal\n')),
  exit1('an empty file', '(top level)', null, applied(() => '')),
];

const template = (...args: string[]) => () => cli({ args: () => ['template', ...args] });
const TEMPLATE_URL = 'https://bucket.s3.amazonaws.com/prowler-scan-role.yaml';

const FLAGS: Case[] = [
  exit1('--format yaml', '--format', "'yaml'", () => cli({ args: (d) => ['plan', file(stringify({ prowlerApiUrl: d.url })), '--format', 'yaml', '--simulate', FIXTURE] })),
  exit1('--formt (a typo)', '--formt', null, () => cli({ args: (d) => ['plan', file(stringify({ prowlerApiUrl: d.url })), '--formt', 'json'] })),
  exit1('apply without --yes in a pipeline', '--yes', null, () => cli({ args: (d) => ['apply', file(stringify({ prowlerApiUrl: d.url })), '--simulate', FIXTURE] })),
  exit1('an unknown command', 'deploy', "'deploy'", () => cli({ args: () => ['deploy', 'spec.yaml'] })),
  exit1('plan without a spec file', 'spec file', null, () => cli({ args: () => ['plan'] })),
  exit1('a spec file that does not exist', 'no-such-spec.yaml', null, () => cli({ args: () => ['plan', join(dir, 'no-such-spec.yaml')] })),
  exit1('--simulate with a file that does not exist', '--simulate', null,
    () => cli({ args: (d) => ['plan', file(stringify({ prowlerApiUrl: d.url })), '--simulate', join(dir, 'no-such-org.json')] })),
  exit1('--simulate with an organization missing its accounts', '--simulate', null,
    () => cli({ args: (d) => ['plan', file(stringify({ prowlerApiUrl: d.url })), '--simulate', file(JSON.stringify({ id: ORG.id }), 'json')] })),
  exit1('template --external-id with spaces', '--external-id', "'has spaces'", template('--external-id', 'has spaces')),
  exit1('template for GovCloud trusting Prowler Cloud', '--trusted-account-id', 'the default, 232136659152', template('--region', 'us-gov-west-1', '--template-url', TEMPLATE_URL)),
  exit1('template --region mars-1', '--region', "'mars-1'", template('--region', 'mars-1', '--template-url', TEMPLATE_URL)),
  exit1('template --template-url over http', '--template-url', "'http://bucket.example/t.yaml'", template('--region', 'us-east-1', '--template-url', 'http://bucket.example/t.yaml')),
  exit1('template --stack-name with a space', '--stack-name', "'my stack'", template('--region', 'us-east-1', '--template-url', TEMPLATE_URL, '--stack-name', 'my stack')),
  exit1('template --trusted-account-id of 3 digits', '--trusted-account-id', "'123'", template('--region', 'us-east-1', '--template-url', TEMPLATE_URL, '--trusted-account-id', '123')),
  exit1('template --trusted-principal without role/ or user/', '--trusted-principal', "'prowler'",
    template('--region', 'us-east-1', '--template-url', TEMPLATE_URL, '--trusted-principal', 'prowler')),
];

const withEnv = (env: Record<string, string>, spec: Record<string, unknown> = {}): (() => Promise<Outcome>) =>
  () => cli({ env, args: (d) => ['apply', file(stringify({ prowlerApiUrl: d.url, ...spec })), '--yes', '--simulate', FIXTURE] });

/** The function's environment as the constructs write it, with one change. */
const functionEnv = (change: Record<string, string | undefined>): (() => Promise<Outcome>) => async () => {
  const good = {
    [ONBOARDING_ENV.apiUrl]: 'https://api.prowler.com/api/v1', [ONBOARDING_ENV.apiKeySecretArn]: SECRET_ARN, [ONBOARDING_ENV.stateBucket]: 'state-bucket',
  };
  try {
    readOnboardingEnvironment({ ...good, ...change });
    return { ended: 'started', message: '', sent: [] };
  } catch (error) {
    return { ended: 'deploy failure', message: (error as Error).message, sent: [] };
  }
};
const failedDeploy = (name: string, field: string, shows: string | null, run: () => Promise<Outcome>, hides?: string[]): Case =>
  ({ name, ends: 'deploy failure', field, shows, run, hides });

const ENVIRONMENT: Case[] = [
  exit1('PROWLER_API_KEY not set', 'PROWLER_API_KEY', null, withEnv({ PROWLER_API_KEY: '' })),
  exit1('PROWLER_API_KEY only white space', 'PROWLER_API_KEY', null, withEnv({ PROWLER_API_KEY: '  \t ' })),
  exit1('apiKey.env names a variable that is not set', 'MY_PROWLER_KEY', null, withEnv({}, { apiKey: { env: 'MY_PROWLER_KEY' } })),
  exit1('PROWLER_API_KEY with a line break in it', 'PROWLER_API_KEY', null, withEnv({ PROWLER_API_KEY: `${KEY}\nX-Injected: 1` }), [KEY.slice(3, 20)]),
  failedDeploy('the function without PROWLER_API_URL', ONBOARDING_ENV.apiUrl, null, functionEnv({ [ONBOARDING_ENV.apiUrl]: undefined })),
  failedDeploy('the function with an API URL holding a password', ONBOARDING_ENV.apiUrl, "'https://[credentials]@prowler.example/api/v1'",
    functionEnv({ [ONBOARDING_ENV.apiUrl]: 'https://admin:hunter2-secret@prowler.example/api/v1' }), ['hunter2-secret']),
  failedDeploy('the function with an API URL over ftp', ONBOARDING_ENV.apiUrl, "'ftp://prowler.example/api/v1'", functionEnv({ [ONBOARDING_ENV.apiUrl]: 'ftp://prowler.example/api/v1' })),
  failedDeploy('the function without its state bucket', ONBOARDING_ENV.stateBucket, null, functionEnv({ [ONBOARDING_ENV.stateBucket]: ' ' })),
  failedDeploy('the function with callAs ADMIN', ONBOARDING_ENV.stackSetCallAs, "'ADMIN'", functionEnv({ [ONBOARDING_ENV.stackSetCallAs]: 'ADMIN' })),
  failedDeploy('the function with local precheck "yes"', ONBOARDING_ENV.localPrecheck, "'yes'", functionEnv({ [ONBOARDING_ENV.localPrecheck]: 'yes' })),
  failedDeploy('the function with log level verbose', ONBOARDING_ENV.logLevel, "'verbose'", functionEnv({ [ONBOARDING_ENV.logLevel]: 'verbose' })),
  failedDeploy('the function with StackSet targets that are not JSON', ONBOARDING_ENV.stackSetTargets, "'ou-ab12-abcdefgh'",
    functionEnv({ [ONBOARDING_ENV.stackSetTargets]: 'ou-ab12-abcdefgh' })),
  failedDeploy('the function with a StackSet region Mars', ONBOARDING_ENV.stackSetRegion, "'Mars'", functionEnv({ [ONBOARDING_ENV.stackSetRegion]: 'Mars' })),
];

// ---- Construct props -------------------------------------------------------------------------

const synthError = (build: () => unknown): Promise<Outcome> => {
  try {
    build();
    return Promise.resolve({ ended: 'synthesized', message: '', sent: [] });
  } catch (error) {
    return Promise.resolve({ ended: 'synth error', message: (error as Error).message, sent: [], stack: (error as Error).stack });
  }
};
const refused = (name: string, field: string, shows: string | null, build: () => unknown, hides?: string[]): Case =>
  ({ name, ends: 'synth error', field, shows, run: () => synthError(build), hides });

const cdkStack = (region = 'us-east-1') => new Stack(new App(), 'Stack', { env: { account: '111111111111', region } });
const cdkOnboarding = (props: Partial<cdk.ProwlerOrganizationOnboardingProps>, region?: string) => () => {
  const stack = cdkStack(region);
  new cdk.ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', SECRET_ARN), ...props });
};
const cdkRole = (props: Partial<cdk.ProwlerScanRoleProps>, region?: string) => () => new cdk.ProwlerScanRole(cdkStack(region), 'Role', { externalId: 'tenant-1', ...props });
const cdkStackSet = (props: Partial<cdk.ProwlerMemberRoleStackSetProps>) => () =>
  new cdk.ProwlerMemberRoleStackSet(cdkStack(), 'Members', { externalId: 'tenant-1', targets: ['r-ab12'], ...props });
const cdkForwarder = (props: Partial<cdk.ProwlerOrganizationEventForwarderProps>, region = 'us-east-1') => () =>
  new cdk.ProwlerOrganizationEventForwarder(cdkStack(region), 'Events', { delegatedAdministratorAccountId: '222222222222', onboardingRegion: 'eu-west-1', ...props });

const CDK_PROPS: Case[] = [
  refused('CDK: externalId with spaces', 'externalId', "'has spaces'", cdkRole({ externalId: 'has spaces' })),
  refused('CDK: the API key pasted as externalId (the trust policy is in the template)', 'externalId', "'pk_[a key, not shown]'",
    cdkRole({ externalId: PASTED_KEY }), [PASTED_KEY.slice(3, 20)]),
  refused('CDK: the API key pasted as trustedPrincipal', 'trustedPrincipal', "'pk_[a key, not shown]'", cdkRole({ trustedAccountId: '222222222222', trustedPrincipal: PASTED_KEY }), [PASTED_KEY.slice(3, 20)]),
  refused('CDK: trustedAccountId of 11 digits', 'trustedAccountId', "'12345678901'", cdkRole({ trustedAccountId: '12345678901' })),
  refused('CDK: trustedPrincipal "prowler"', 'trustedPrincipal', "'prowler'", cdkRole({ trustedAccountId: '222222222222', trustedPrincipal: 'prowler' })),
  refused('CDK: roleName with a space', 'roleName', "'Prowler Scan'", cdkRole({ roleName: 'Prowler Scan' })),
  refused('CDK: organizationId without o-', 'organizationId', "'abcdefghij'", cdkRole({ organizationDiscovery: true, organizationId: 'abcdefghij' })),
  refused('CDK: Prowler Cloud trusted in GovCloud', 'trustedAccountId', 'the default, 232136659152', cdkRole({}, 'us-gov-west-1')),
  refused('CDK: S3 integration bucket account of 4 digits', 's3Integration.bucketAccountId', "'1234'", cdkRole({ s3Integration: { bucketName: 'reports', bucketAccountId: '1234' } })),
  refused('CDK: StackSet target named by an OU name', 'targets[0]', "'Production'", cdkStackSet({ targets: ['Production'] })),
  refused('CDK: StackSet with no target', 'targets', 'got 0', cdkStackSet({ targets: [] })),
  refused('CDK: StackSet region eu-west-9x', 'regions[0]', "'eu-west-9x'", cdkStackSet({ regions: ['eu-west-9x'] })),
  refused('CDK: StackSet failure tolerance 150 %', 'failureTolerancePercentage', '150', cdkStackSet({ failureTolerancePercentage: 150 })),
  refused('CDK: StackSet max concurrency 0 %', 'maxConcurrentPercentage', '0', cdkStackSet({ maxConcurrentPercentage: 0 })),
  refused('CDK: StackSet excludeAccounts of 3 digits', 'excludeAccounts[0]', "'123'", cdkStackSet({ excludeAccounts: ['123'] })),
  refused('CDK: StackSet name with a space', 'stackSetName', "'Prowler Scan'", cdkStackSet({ stackSetName: 'Prowler Scan' })),
  refused('CDK: onboarding prowlerApiUrl with a password', 'prowlerApiUrl', "'https://[credentials]@prowler.example/api/v1'",
    cdkOnboarding({ prowlerApiUrl: 'https://admin:hunter2-secret@prowler.example/api/v1' }), ['hunter2-secret']),
  refused('CDK: onboarding selection.targets by name', 'selection.targets[0]', "'Production'", cdkOnboarding({ selection: { targets: ['Production'] } })),
  refused('CDK: onboarding concurrency 0', 'concurrency', '0', cdkOnboarding({ concurrency: 0 })),
  refused('CDK: onboarding connection.retryRounds 99', 'connection.retryRounds', '99', cdkOnboarding({ connection: { retryRounds: 99 } })),
  refused('CDK: onboarding sessionDurationSeconds 43200', 'sessionDurationSeconds', '43200', cdkOnboarding({ sessionDurationSeconds: 43_200 })),
  refused('CDK: onboarding schedule.hour 24', 'schedule.hour', '24', cdkOnboarding({ schedule: { hour: 24 } })),
  refused('CDK: onboarding schedule.intervalHours 12', 'schedule.intervalHours', '12', cdkOnboarding({ schedule: { frequency: ScheduleFrequency.INTERVAL, intervalHours: 12 } })),
  refused('CDK: onboarding logLevel verbose', 'logLevel', "'verbose'", cdkOnboarding({ logLevel: 'verbose' })),
  refused('CDK: onboarding organizationEventsFrom of 5 digits', 'organizationEventsFrom', "'12345'", cdkOnboarding({ organizationEventsFrom: '12345' })),
  refused('CDK: onboarding aliasPattern without a placeholder', 'selection.aliasPattern', "'prod'", cdkOnboarding({ selection: { aliasPattern: 'prod' } })),
  refused('CDK: onboarding externalId with spaces', 'externalId', "'has spaces'", cdkOnboarding({ externalId: 'has spaces' })),
  refused('CDK: onboarding calling Prowler Cloud from China', 'prowlerApiUrl', 'the default, https://api.prowler.com/api/v1', cdkOnboarding({}, 'cn-north-1')),
  refused('CDK: onboarding with a Token inside selection.targets and a bad literal beside it', 'selection.targets[1]', "'Production'",
    cdkOnboarding({ selection: { targets: [Token.asString({ Ref: 'TargetOu' }), 'Production'] } })),
  refused('CDK: forwarder to an administrator of 3 digits', 'delegatedAdministratorAccountId', "'123'", cdkForwarder({ delegatedAdministratorAccountId: '123' })),
  refused('CDK: forwarder to region Mars', 'onboardingRegion', "'Mars'", cdkForwarder({ onboardingRegion: 'Mars' })),
  refused('CDK: forwarder outside the Organizations region', 'eu-west-1', "'eu-west-1'", cdkForwarder({}, 'eu-west-1')),
];

const tfScope = (build: (scope: TerraformStack) => void) => () => {
  const stack = new TerraformStack(Testing.app(), 'stack');
  new AwsProvider(stack, 'aws', { region: 'us-east-1' });
  build(stack);
};
const tfOnboarding = (props: Partial<tf.ProwlerOrganizationOnboardingProps>) =>
  tfScope((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', { apiKeySecretArn: SECRET_ARN, ...props }));
const tfRole = (props: Partial<tf.ProwlerScanRoleProps>) => tfScope((s) => new tf.ProwlerScanRole(s, 'Role', { externalId: 'tenant-1', ...props }));
const tfStackSet = (props: Partial<tf.ProwlerMemberRoleStackSetProps>) =>
  tfScope((s) => new tf.ProwlerMemberRoleStackSet(s, 'Members', { externalId: 'tenant-1', targets: ['r-ab12'], ...props }));

const CDKTF_PROPS: Case[] = [
  refused('CDKTF: externalId with spaces', 'externalId', "'has spaces'", tfRole({ externalId: 'has spaces' })),
  refused('CDKTF: trustedAccountId of 11 digits', 'trustedAccountId', "'12345678901'", tfRole({ trustedAccountId: '12345678901' })),
  refused('CDKTF: roleName with a space', 'roleName', "'Prowler Scan'", tfRole({ roleName: 'Prowler Scan' })),
  refused('CDKTF: organizationId without o-', 'organizationId', "'abcdefghij'", tfRole({ organizationDiscovery: true, organizationId: 'abcdefghij' })),
  refused('CDKTF: StackSet target named by an OU name', 'targets[0]', "'Production'", tfStackSet({ targets: ['Production'] })),
  refused('CDKTF: StackSet region eu-west-9x', 'regions[0]', "'eu-west-9x'", tfStackSet({ regions: ['eu-west-9x'] })),
  refused('CDKTF: StackSet failure tolerance -1 %', 'failureTolerancePercentage', '-1', tfStackSet({ failureTolerancePercentage: -1 })),
  refused('CDKTF: onboarding apiKeySecretArn of a bucket', 'apiKeySecretArn', "'arn:aws:s3:::bucket'", tfOnboarding({ apiKeySecretArn: 'arn:aws:s3:::bucket' })),
  refused('CDKTF: onboarding prowlerApiUrl with a password', 'prowlerApiUrl', "'https://[credentials]@prowler.example/api/v1'",
    tfOnboarding({ prowlerApiUrl: 'https://admin:hunter2-secret@prowler.example/api/v1' }), ['hunter2-secret']),
  refused('CDKTF: onboarding schedule.timeZone Mars/Olympus', 'schedule.timeZone', "'Mars/Olympus'", tfOnboarding({ schedule: { timeZone: 'Mars/Olympus' } })),
  refused('CDKTF: onboarding selection.excludeAccounts of 3 digits', 'selection.excludeAccounts[0]', "'123'", tfOnboarding({ selection: { excludeAccounts: ['123'] } })),
  refused('CDKTF: onboarding concurrency 500', 'concurrency', '500', tfOnboarding({ concurrency: 500 })),
  refused('CDKTF: onboarding syncSchedule "every day"', 'syncSchedule', "'every day'", tfOnboarding({ syncSchedule: 'every day' })),
  refused('CDKTF: onboarding logRetentionDays 17', 'logRetentionDays', '17', tfOnboarding({ logRetentionDays: 17 })),
  refused('CDKTF: onboarding subnets without security groups', 'securityGroupIds', null, tfOnboarding({ subnetIds: ['subnet-12345678'] })),
  refused('CDKTF: onboarding secretKmsKeyArns of a role', 'secretKmsKeyArns[0]', "'arn:aws:iam::111111111111:role/x'",
    tfOnboarding({ secretKmsKeyArns: ['arn:aws:iam::111111111111:role/x'] })),
  refused('CDKTF: forwarder to an administrator of 3 digits', 'delegatedAdministratorAccountId', "'123'",
    tfScope((s) => new tf.ProwlerOrganizationEventForwarder(s, 'Events', { delegatedAdministratorAccountId: '123', onboardingRegion: 'eu-west-1' }))),
];

// ---- Deploy time: the custom resource and Terraform's invocation ------------------------------

/** The Lambda with Secrets Manager holding `secret` and the double as Prowler. */
async function deployTime(invoke: (env: LambdaEnvironment) => Promise<unknown>, secret = KEY): Promise<Outcome> {
  const double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
  const sm = mockClient(SecretsManagerClient);
  sm.on(GetSecretValueCommand).resolves({ SecretString: secret });
  const env: LambdaEnvironment = {
    prowlerApiUrl: double.url,
    apiKeySecretArn: SECRET_ARN,
    partition: 'aws',
    store: new MemoryJsonStore(),
    organizations: simulatedOrganizationsClient(ORG).client,
    secrets: new SecretsManagerClient({ region: 'us-east-1' }),
    clock: fakeClock(),
    log: { info: () => {}, warn: () => {} },
  };
  try {
    await invoke(env);
    return { ended: 'deployed', message: '', sent: everything(double) };
  } catch (error) {
    return { ended: 'deploy failure', message: (error as Error).message, sent: writes(double), halfRegistered: withoutSecret(double) };
  } finally {
    sm.restore();
    await double.stop();
  }
}

const created = (properties: Record<string, unknown>) => (env: LambdaEnvironment) => handleOnEvent({
  RequestType: 'Create',
  ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response.example/',
  StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/Prowler/1',
  RequestId: `req-${sequence++}`,
  LogicalResourceId: 'Onboarding',
  ResourceType: 'Custom::ProwlerOrganizationOnboarding',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider', ...properties },
} as CloudFormationCustomResourceEvent, env);
const createdWith = (spec: unknown) => created({ Spec: JSON.stringify(spec) });
const terraformApply = (spec: unknown) => (env: LambdaEnvironment) =>
  handleTerraform({ tf: { action: 'create' }, Spec: JSON.stringify(spec) } as never, 10 * 60_000, env);

const DEPLOY_TIME: Case[] = [
  failedDeploy('Create with selection.targets by name', 'selection.targets[0]', "'Production'", () => deployTime(createdWith({ selection: { targets: ['Production'] } }))),
  failedDeploy('Create with scanMode weekly', 'scanMode', "'weekly'", () => deployTime(createdWith({ scanMode: 'weekly' }))),
  failedDeploy('Create with schedule.dayOfWeek 7', 'schedule.dayOfWeek', '7', () => deployTime(createdWith({ schedule: { frequency: 'weekly', dayOfWeek: 7 } }))),
  failedDeploy('Create with a Spec that is not JSON', 'Spec', "'{selection: all}'", () => deployTime(created({ Spec: '{selection: all}' }))),
  failedDeploy('Create without a Spec', 'Spec', null, () => deployTime(created({}))),
  failedDeploy('Create for another organization', 'organizationId', "'o-otherorg0001'", () => deployTime(createdWith({ organizationId: 'o-otherorg0001' }))),
  failedDeploy('Create excluding an OU the organization does not have', 'selection.excludeOus', "'ou-zzzz-zzzzzzzz'",
    () => deployTime(createdWith({ selection: { excludeOus: ['ou-zzzz-zzzzzzzz'] } }))),
  failedDeploy('Create with an API key secret that is empty', SECRET_ARN, null, () => deployTime(createdWith({}), '   ')),
  failedDeploy('Create with a JSON secret without apiKey', 'apiKey', null, () => deployTime(createdWith({}), JSON.stringify({ key: KEY })), [KEY.slice(3, 20)]),
  failedDeploy('Create with a JWT in the secret (expires in 30 minutes)', 'token', null,
    () => deployTime(createdWith({}), JSON.stringify({ token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLW9mLWp3dA' })), ['c2lnbmF0dXJlLW9mLWp3dA']),
  failedDeploy('Create with a key Prowler does not know', 'API key', null, () => deployTime(createdWith({}), 'pk_Unknown00.not-a-key-prowler-knows'), ['not-a-key-prowler-knows']),
  failedDeploy('Terraform apply with concurrency 1000', 'concurrency', '1000', () => deployTime(terraformApply({ concurrency: 1000 }))),
  failedDeploy('Terraform apply with connection.failurePolicy abort', 'connection.failurePolicy', "'abort'", () => deployTime(terraformApply({ connection: { failurePolicy: 'abort' } }))),
];

// ---- Hostile Prowler API answers -------------------------------------------------------------

/** An onboarding of the organization against the double, one route answering `fault`. */
async function hostile(route: RegExp, fault: Fault, every = false, also?: [RegExp, Fault]): Promise<Outcome> {
  let served = false;
  const double = await new ProwlerApiDouble({
    apiKeys: [KEY],
    fault: ({ method, path }) => {
      if ((every || !served) && route.test(`${method} ${path}`)) return (served = true), fault;
      return served && also?.[0].test(`${method} ${path}`) ? also[1] : undefined;
    },
  }).start();
  try {
    const report = await onboard({ selection: {}, connection: { retryRounds: 0 } }, {
      organizations: simulatedOrganizationsClient(ORG).client,
      prowler: new ProwlerClient({ baseUrl: double.url, auth: { apiKey: KEY }, clock: fakeClock(), maxAttempts: 1 }),
      clock: fakeClock(),
    });
    const failed = report.accounts.filter((a) => a.error || a.connection?.error);
    const message = [report.failure ?? '', ...failed.map((a) => `${a.accountId}: ${a.error ?? a.connection?.error ?? ''}`)].join('\n');
    return { ended: report.failure ? 'run failure' : failed.length > 0 ? 'account failed' : 'succeeded', message, sent: [], halfRegistered: withoutSecret(double) };
  } catch (error) {
    return { ended: 'run failure', message: (error as Error).message, sent: writes(double), halfRegistered: withoutSecret(double) };
  } finally {
    await double.stop();
  }
}
const json = (status: number, body: unknown): Fault => ({ status, body: JSON.stringify(body) });
const hostileCase = (name: string, ends: string, field: string, shows: string | null, route: RegExp, fault: Fault, hides?: string[]): Case =>
  ({ name, ends, field, shows, run: () => hostile(route, fault), hides });

const API_ANSWERS: Case[] = [
  hostileCase('users/me answers an empty object', 'run failure', 'GET /users/me', 'got nothing', /^GET \/api\/v1\/users\/me$/, json(200, {})),
  hostileCase('users/me answers HTML', 'run failure', '/users/me', null, /^GET \/api\/v1\/users\/me$/, 'garbage'),
  hostileCase('users/me answers a membership without a tenant', 'run failure', 'GET /users/me', null, /^GET \/api\/v1\/users\/me$/,
    json(200, { data: { id: 'u1', type: 'users', attributes: {}, relationships: { memberships: { data: [] } } } })),
  hostileCase('401 echoing the Authorization header', 'run failure', 'API key', null, /^GET \/api\/v1\/users\/me$/,
    { status: 401, body: `Unauthorized: Authorization: Api-Key ${KEY}`, headers: { 'Content-Type': 'text/plain' } }, [KEY.slice(3, 20)]),
  hostileCase('the providers list with data as a string', 'run failure', 'GET /providers', "got 'nope'", /^GET \/api\/v1\/providers$/, json(200, { data: 'nope' })),
  hostileCase('the providers list with a provider without a uid', 'run failure', 'GET /providers', null, /^GET \/api\/v1\/providers$/,
    json(200, { data: [{ id: 'p1', type: 'providers', attributes: { provider: 'aws', alias: 'x' } }], meta: { pagination: { page: 1, pages: 1, count: 1 } } })),
  hostileCase('the providers list echoing the key as a uid', 'run failure', 'GET /providers', null, /^GET \/api\/v1\/providers$/,
    json(200, { data: [{ id: 'p1', type: 'providers', attributes: { provider: 'aws', uid: 42, alias: KEY } }] }), [KEY.slice(3, 20)]),
  {
    name: 'the providers list answering the same page of a million, again and again',
    ends: 'run failure',
    field: 'GET /providers',
    shows: null,
    run: () => hostile(/^GET \/api\/v1\/providers$/, json(200, {
      data: [{ id: 'p1', type: 'providers', attributes: { provider: 'aws', uid: '999999999999', alias: 'x' } }],
      meta: { pagination: { page: 1, pages: 1_000_000, count: 1_000_000 } },
    }), true),
  },
  hostileCase('the provider groups list with a numeric id', 'run failure', 'GET /provider-groups', 'got 5', /^GET \/api\/v1\/provider-groups$/,
    json(200, { data: [{ id: 5, type: 'provider-groups', attributes: { name: 'x' } }] })),
  hostileCase('a redirect of the providers list to another origin', 'run failure', '/providers', 'https://elsewhere.example/steal', /^GET \/api\/v1\/providers$/,
    { status: 307, body: '', headers: { Location: 'https://elsewhere.example/steal' } }),
  hostileCase('a provider created without an id in the answer', 'account failed', 'POST /providers', null, /^POST \/api\/v1\/providers$/,
    json(201, { data: { type: 'providers', attributes: { provider: 'aws', uid: ACTIVE[0].id } } })),
  hostileCase('a 400 for the secret whose detail echoes the key', 'account failed', '/providers/secrets', null, /^POST \/api\/v1\/providers\/secrets$/,
    json(400, { errors: [{ detail: `Invalid secret (key ${KEY})`, source: { pointer: '/data/attributes/secret' } }] }), [KEY.slice(3, 20)]),
  {
    name: 'a refused secret, and the undo refused too: the provider left is named, for the next run',
    ends: 'account failed',
    field: 'could not be deleted',
    shows: null,
    run: async () => {
      const outcome = await hostile(/^POST \/api\/v1\/providers\/secrets$/, json(400, { errors: [{ detail: 'Invalid secret' }] }), false,
        [/^DELETE \/api\/v1\/providers\//, json(403, { errors: [{ detail: 'You do not have permission to perform this action.' }] })]);
      // The one provider left is the account whose error says so; the next run gives it its secret.
      const [left, ...more] = outcome.halfRegistered ?? [];
      const said = left !== undefined && more.length === 0 && new RegExp(`^${left}: .*could not be deleted`, 'm').test(outcome.message);
      return { ...outcome, halfRegistered: said ? [] : outcome.halfRegistered };
    },
  },
  hostileCase('a secret answered with HTML', 'account failed', '/providers/secrets', null, /^POST \/api\/v1\/providers\/secrets$/, 'garbage'),
  hostileCase('a connection test answered without a task', 'account failed', 'POST /providers/{id}/connection', 'got nothing', /^POST \/api\/v1\/providers\/[^/]+\/connection$/,
    json(202, { data: {} })),
  hostileCase('a task in a state Prowler does not have', 'account failed', 'state', "got 'exploded'", /^GET \/api\/v1\/tasks\//,
    json(200, { data: { id: 't1', type: 'tasks', attributes: { state: 'exploded' } } })),
  hostileCase('a daily schedule refused with a 403', 'account failed', '/schedules/daily', null, /^POST \/api\/v1\/schedules\/daily$/,
    json(403, { errors: [{ detail: 'You do not have permission to perform this action.' }] })),
];

const TABLE: Array<[area: string, cases: Case[]]> = [
  ['spec files', SPEC_FILES],
  ['command-line flags', FLAGS],
  ['environment variables', ENVIRONMENT],
  ['CDK props', CDK_PROPS],
  ['CDKTF props', CDKTF_PROPS],
  ['deploy-time input', DEPLOY_TIME],
  ['Prowler API answers', API_ANSWERS],
];

test('the table has at least 120 cases, each named once', () => {
  const names = TABLE.flatMap(([, cases]) => cases.map((c) => c.name));
  expect(names.length).toBeGreaterThanOrEqual(120);
  expect(new Set(names).size).toBe(names.length);
});

describe.each(TABLE)('%s', (_area, cases) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const outcome = await c.run();
    expect({ ended: outcome.ended, message: outcome.message }).toEqual({ ended: c.ends, message: expect.stringContaining(c.field) });
    if (c.shows !== null) expect(outcome.message).toContain(c.shows);
    for (const hidden of c.hides ?? []) expect(outcome.message).not.toContain(hidden);
    expect(outcome.message.length).toBeLessThan(4000); // a megabyte of input is not echoed
    expect(outcome.sent).toEqual([]);
    expect(outcome.halfRegistered ?? []).toEqual([]);
    if (outcome.ended === 'synth error') {
      // The construct the case made, by its path; the trace starts in the user's code, not in a file
      // of this package (src/ is not in the installed package, and its frames say nothing to a user).
      expect(outcome.message).toMatch(/^Prowler\w+ at '[Ss]tack\/\w+': \d+ invalid propert(y|ies):\n/);
      const frames = outcome.stack!.split('\n').filter((line) => /^\s+at /.test(line));
      expect(frames.filter((frame) => /[\\/](src|lib)[\\/](cdk|cdktf|cdktn|core)[\\/]/.test(frame))).toEqual([]);
    }
  }, 30_000);
});
