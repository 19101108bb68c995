import {
  ONBOARDING_ENV, onboardingEnvironment, onboardingFunctions, organizationsRegion, partitionOfRegion, readOnboardingEnvironment,
  type OnboardingEnvironmentModel,
} from '../../src/core/onboarding';

const FULL: OnboardingEnvironmentModel = {
  apiUrl: 'http://prowler.internal:8080/api/v1',
  apiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:prowler-AbCdEf',
  stateBucket: 'prowler-org-onboarding-state',
  assumeCredentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:assume-AbCdEf',
  localPrecheck: true,
  logLevel: 'DEBUG',
  stackSet: { name: 'Prowler-MemberRoles-0A1B2C3D', callAs: 'DELEGATED_ADMIN', region: 'us-east-1', targets: { organizationalUnitIds: ['ou-ab12-abcdefgh'], accountFilterType: 'DIFFERENCE', accounts: ['123456789012'] } },
  organizationEvents: true,
};

describe('the environment contract between the constructs and the Lambda', () => {
  test('what a construct writes, the Lambda reads back unchanged', () => {
    expect(readOnboardingEnvironment(onboardingEnvironment(FULL))).toEqual(FULL);
    const minimal = { apiUrl: 'https://api.prowler.com/api/v1', apiKeySecretArn: FULL.apiKeySecretArn, stateBucket: 'b' };
    expect(readOnboardingEnvironment(onboardingEnvironment(minimal)))
      .toEqual({ ...minimal, assumeCredentialsSecretArn: undefined, localPrecheck: false, stackSet: undefined });
  });

  test('every name is core\'s, and each option sets only its own', () => {
    expect(Object.keys(onboardingEnvironment(FULL)).sort()).toEqual(Object.values(ONBOARDING_ENV).sort());
    expect(Object.keys(onboardingEnvironment({ apiUrl: 'u', apiKeySecretArn: 'a', stateBucket: 'b' })).sort())
      .toEqual([ONBOARDING_ENV.apiKeySecretArn, ONBOARDING_ENV.apiUrl, ONBOARDING_ENV.stateBucket].sort());
  });

  test('a missing or wrong variable is one error naming each, and saying how the function should be deployed', () => {
    expect(() => readOnboardingEnvironment({ PROWLER_API_URL: '  ', STACKSET_CALL_AS: 'ME', LOCAL_PRECHECK: 'yes', STACKSET_TARGETS: '[1,2]', LOG_LEVEL: 'chatty' })).toThrow(
      "The function's environment is not the one ProwlerOrganizationOnboarding configures (PROWLER_API_URL is not set; PROWLER_API_KEY_SECRET_ARN is not set; "
      + "STATE_BUCKET is not set; STACKSET_CALL_AS must be SELF or DELEGATED_ADMIN, got 'ME'; LOCAL_PRECHECK must be 'true' or 'false', got 'yes'; "
      + "LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, got 'chatty'; "
      + 'STACKSET_TARGETS must be JSON {"organizationalUnitIds": [...], "accountFilterType"?, "accounts"?}, got \'[1,2]\'): deploy it with the construct',
    );
  });

  test('the functions of each flavour: the custom resource\'s pair and the sync; Terraform\'s apply and the sync', () => {
    expect(onboardingFunctions('cloudformation').map((f) => [f.id, f.handler, f.timeoutSeconds])).toEqual([
      ['OnEvent', 'index.onEvent', 600], ['IsComplete', 'index.isComplete', 600], ['Sync', 'index.sync', 900],
    ]);
    expect(onboardingFunctions('terraform').map((f) => [f.id, f.handler, f.timeoutSeconds])).toEqual([['Apply', 'index.terraform', 900], ['Sync', 'index.sync', 900]]);
  });

  test.each([
    ['us-east-1', 'aws', 'us-east-1'], ['eu-west-1', 'aws', 'us-east-1'], ['us-gov-east-1', 'aws-us-gov', 'us-gov-west-1'], ['cn-north-1', 'aws-cn', 'cn-northwest-1'],
  ])('%s is in %s, whose Organizations region is %s', (region, partition, home) => {
    expect(partitionOfRegion(region)).toBe(partition);
    expect(organizationsRegion(partition)).toBe(home);
  });
});
