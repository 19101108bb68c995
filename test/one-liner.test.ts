/**
 * The one-liners end to end: what `ProwlerOrganization` synthesizes (CDK and CDKTF) is what the
 * Lambda gets, and with one target OU the onboarding registers that OU's accounts (at any depth)
 * and the management account, which has its own role: nothing the StackSet never reaches.
 */
import { CloudFormationClient, ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Testing } from 'cdktf';
import * as cdk from '../src/cdk';
import * as tf from '../src/cdktf';
import { readOnboardingEnvironment } from '../src/core/onboarding';
import { handleIsComplete, handleOnEvent, handleTerraform, type IsCompleteResponse, type LambdaEnvironment } from '../src/handler/lambda';
import { MemoryJsonStore } from '../src/handler/store';
import { fakeClock } from '../testing/harness';
import { generateOrganization, mockOrganizations, type SimOrganization } from '../testing/organization';
import { ProwlerApiDouble } from '../testing/prowler-api-double';

const KEY = 'pk_live.ONE-LINER-SECRET-KEY';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';

/** Accounts below a root or OU, at any depth. */
function below(org: SimOrganization, unitId: string) {
  const parents = new Map(org.ous.map((ou) => [ou.id, ou.parentId]));
  const isBelow = (id: string | undefined): boolean => id !== undefined && (id === unitId || isBelow(parents.get(id)));
  return org.accounts.filter((a) => isBelow(a.parentId));
}

// A whole synthesis and a whole onboarding per test: seconds on a busy 2-core machine.
jest.setTimeout(60_000);

describe('a one-liner with one target OU onboards only what the StackSet reaches', () => {
  const org = generateOrganization({ accounts: 20, ous: 6, depth: 3, suspended: 1, closed: 1, seed: 11 });
  const workloads = org.ous.find((ou) => ou.name.startsWith('Workloads'))!;
  const reached = below(org, workloads.id).filter((a) => a.status === 'ACTIVE');
  const expected = [org.managementAccountId, ...reached.map((a) => a.id)].sort();
  let double: ProwlerApiDouble;
  let restore: Array<{ restore(): void }>;
  let env: LambdaEnvironment;

  beforeEach(async () => {
    double = await new ProwlerApiDouble({ apiKeys: [KEY] }).start();
    const sm = mockClient(SecretsManagerClient);
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: KEY });
    // The StackSet has deployed the role below its target, and nowhere else.
    const cfn = mockClient(CloudFormationClient);
    cfn.on(ListStackInstancesCommand).resolves({ Summaries: reached.map((a) => ({ Account: a.id, Region: 'us-east-1', Status: 'CURRENT' })) });
    restore = [mockOrganizations(org), sm, cfn];
    env = {
      prowlerApiUrl: double.url,
      apiKeySecretArn: SECRET_ARN,
      partition: 'aws',
      store: new MemoryJsonStore(),
      organizations: new OrganizationsClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } }),
      secrets: new SecretsManagerClient({ region: 'us-east-1' }),
      clock: fakeClock(),
      log: { info: () => {}, warn: () => {} },
    };
  });
  afterEach(async () => {
    for (const r of restore) r.restore();
    await double.stop();
  });

  /** The Lambda's StackSet settings from the variables a flavour synthesized. */
  const withStackSet = (variables: Record<string, string>): LambdaEnvironment => {
    const config = readOnboardingEnvironment(variables);
    return { ...env, stackSet: { name: config.stackSet!.name, callAs: 'SELF', targets: config.stackSet!.targets, client: new CloudFormationClient({ region: 'us-east-1' }) } };
  };
  const registered = () => [...double.providers.values()].map((p) => p.uid).sort();

  test('CDK: the custom resource registers the OU\'s accounts (nested OUs included) and the management account', async () => {
    const stack = new Stack(new App(), 'Prowler', { env: { account: '111111111111', region: 'us-east-1' } });
    new cdk.ProwlerOrganization(stack, 'Org', {
      externalId: EXTERNAL_ID,
      organizationId: org.id,
      targets: [workloads.id],
      apiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN),
    });
    const template = Template.fromStack(stack);
    const [resource] = Object.values(template.findResources('Custom::ProwlerOrganizationOnboarding'));
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.isComplete' } }));
    const lambdaEnv = withStackSet({ ...fn.Properties.Environment.Variables, STACKSET_NAME: 'members', STATE_BUCKET: 'state' });

    const event = {
      RequestType: 'Create',
      RequestId: 'req-1',
      StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/OneLiner/1',
      LogicalResourceId: 'Onboarding',
      ResourceType: 'Custom::ProwlerOrganizationOnboarding',
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:provider', Spec: resource.Properties.Spec },
    } as unknown as CloudFormationCustomResourceEvent;
    const { PhysicalResourceId } = await handleOnEvent(event, lambdaEnv);
    let answer: IsCompleteResponse = { IsComplete: false };
    for (let poll = 0; poll < 20 && !answer.IsComplete; poll++) {
      answer = await handleIsComplete({ ...event, PhysicalResourceId } as never, 300_000, lambdaEnv);
    }

    expect(answer).toMatchObject({ IsComplete: true, Data: { Selected: String(expected.length), Connected: String(expected.length), Failed: '0' } });
    expect(registered()).toEqual(expected);
    expect(reached.length).toBeGreaterThanOrEqual(5); // the OU and the OUs below it
    expect(org.accounts.filter((a) => a.status === 'ACTIVE').length).toBeGreaterThan(expected.length);
  });

  test('CDKTF: the invocation registers the same accounts', async () => {
    const json = JSON.parse(Testing.synthScope((scope) => new tf.ProwlerOrganization(scope, 'Org', {
      externalId: EXTERNAL_ID, organizationId: org.id, targets: [workloads.id], apiKeySecretArn: SECRET_ARN,
    })));
    const [invocation] = Object.values<any>(json.resource.aws_lambda_invocation);
    const [fn] = Object.values<any>(json.resource.aws_lambda_function).filter((f) => f.handler === 'index.terraform');
    const lambdaEnv = withStackSet({ ...fn.environment.variables, STACKSET_NAME: 'members', STATE_BUCKET: 'state' });

    const result = await handleTerraform({ ...JSON.parse(invocation.input), tf: { action: 'create' } }, 900_000, lambdaEnv);
    expect(result).toMatchObject({ status: 'complete', Selected: String(expected.length), Connected: String(expected.length) });
    expect(registered()).toEqual(expected);
  });
});
