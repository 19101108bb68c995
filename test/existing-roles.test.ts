/**
 * Organizations that already have ProwlerScan (Prowler's own prowler-scan-role.yml or its
 * StackSet): the onboarding alone registers them and creates no role, in both flavours.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Testing } from 'cdktf';
import * as cdk from '../src/cdk';
import * as tf from '../src/cdktf';

describe('onboarding on top of existing ProwlerScan roles', () => {
  test('CDK: ProwlerOrganizationOnboarding alone creates no ProwlerScan role and no StackSet', () => {
    const stack = new Stack(new App(), 'Onboarding', { env: { account: '111111111111', region: 'us-east-1' } });
    const apiKeySecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler-AbCdEf');
    new cdk.ProwlerOrganizationOnboarding(stack, 'Onboarding', { apiKeySecret, externalId: 'tenant-1234', organizationId: 'o-abc123def4' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudFormation::StackSet', 0);
    const roles = Object.values<any>(template.findResources('AWS::IAM::Role'));
    expect(roles.filter((r) => r.Properties.RoleName === 'ProwlerScan')).toEqual([]);
    // Only the functions' own roles: none is trusted by Prowler.
    expect(JSON.stringify(roles.map((r) => r.Properties.AssumeRolePolicyDocument))).not.toContain('232136659152');
  });

  test('CDKTF: the same', () => {
    const json = JSON.parse(Testing.synthScope((s) => new tf.ProwlerOrganizationOnboarding(s, 'Onboarding', {
      apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler-AbCdEf', externalId: 'tenant-1234',
    })));
    expect(json.resource.aws_cloudformation_stack_set).toBeUndefined();
    expect(Object.values<any>(json.resource.aws_iam_role).filter((r) => r.name === 'ProwlerScan')).toEqual([]);
    expect(JSON.stringify(json.resource.aws_iam_role)).not.toContain('232136659152');
  });
});
