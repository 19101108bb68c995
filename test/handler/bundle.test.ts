/**
 * The shipped handler bundle (lib/handler-bundle/index.js, built before the tests) leaves out the
 * credential sources a Lambda function never has (build-tools/bundle.js). Those links must step
 * aside, as an unconfigured source does, so that the SDK's chain still ends where it always does.
 * (With credentials in the environment, test/oracles/moto.test.ts runs the bundle against moto.)
 * The bundle runs on the Lambda's Node (22), and so do the handler's tests (test/support/lambda-node.ts).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { onboardingEnvironment } from '../../src/core/onboarding';
import { LAMBDA_NODE_MAJOR, lambdaNode, nodeMajor } from '../support/lambda-node';
import { inCi } from '../support/oracles';

const BUNDLE = join(__dirname, '..', '..', 'lib', 'handler-bundle', 'index.js');

test('without credentials, the chain passes the left-out sources (a profile is set) and ends in the SDK\'s own error', () => {
  const variables = onboardingEnvironment({
    apiUrl: 'https://api.prowler.com/api/v1',
    apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf',
    stateBucket: 'prowler-onboarding-state',
    logLevel: 'ERROR',
  });
  const invoke = [
    `require(${JSON.stringify(BUNDLE)})`,
    ".terraform({ Spec: '{}', tf: { action: 'create' } }, { invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:apply', getRemainingTimeInMillis: () => 60000 })",
    '.then(() => console.log("no error"), (error) => console.log(`${error.name}: ${error.message}`))',
  ].join('');
  const output = execFileSync(lambdaNode(), ['-e', invoke], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      // A profile makes the chain skip the environment and try ini (left out), SSO, process and
      // web identity (left out), then instance metadata (disabled here): nothing is reached.
      AWS_PROFILE: 'prowler',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...variables,
    },
  });
  expect(output.trim().split('\n').pop()).toBe('CredentialsProviderError: Could not load credentials from any providers');
});

test('the bundle and the handler\'s tests run on the Lambda\'s Node (nodejs22.x): the build\'s tasks find node_modules/.bin/node first', () => {
  expect(LAMBDA_NODE_MAJOR).toBe(22);
  expect(nodeMajor(lambdaNode())).toBe(LAMBDA_NODE_MAJOR);
  // jest runs the handler's modules in this process: npx and projen's tasks put node_modules/.bin on PATH.
  if (inCi()) expect(`Node ${process.versions.node.split('.')[0]}`).toBe(`Node ${LAMBDA_NODE_MAJOR}`);
});
