/**
 * The CDK constructs' synth-time errors name the construct the user wrote, by its path (not an
 * inner construct it made), and their stack trace starts in the user's code, not in this package.
 */
import { basename } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import * as cdk from '../../src/cdk';

const EXTERNAL_ID = '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const newStack = () => new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'us-east-1' } });
const organization = (scope: Construct, id: string, props: Partial<cdk.ProwlerOrganizationProps> = {}) => {
  const stack = Stack.of(scope);
  const apiKeySecret = (stack.node.tryFindChild('ApiKey') as secretsmanager.ISecret | undefined) ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', SECRET_ARN);
  return new cdk.ProwlerOrganization(scope, id, { externalId: EXTERNAL_ID, organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecret, ...props });
};

describe('synth errors name the construct the user wrote', () => {
  const firstFrame = (error: Error) => error.stack!.split('\n').find((line) => /^\s+at /.test(line))!;

  test('a problem an inner construct finds is reported for the ProwlerOrganization, by its path', () => {
    const stack = newStack();
    expect(() => organization(stack, 'Prowler', { targets: ['Production'] }))
      .toThrow(/^ProwlerOrganization at 'Stack\/Prowler': 1 invalid property:\n {2}- targets\[0\]: Must be an OU id or a root id.*got 'Production'/);
    expect(() => organization(newStack(), 'Prowler', { externalId: 'has spaces' })).toThrow(/^ProwlerOrganization at 'Stack\/Prowler': 1 invalid property:\n {2}- externalId/);
    const stack2 = newStack();
    expect(() => new cdk.ProwlerOrganizationRoles(stack2, 'Roles', { externalId: EXTERNAL_ID, targets: ['r-ab12'], regions: ['Mars'] }))
      .toThrow(/^ProwlerOrganizationRoles at 'Stack\/Roles': 1 invalid property:\n {2}- regions\[0\]/);
  });

  test("inside the user's own construct, the path goes through it; a construct added to one of ours later is named itself", () => {
    const stack = newStack();
    const theirs = new Construct(stack, 'Security');
    expect(() => organization(theirs, 'Prowler', { targets: ['Production'] })).toThrow(/^ProwlerOrganization at 'Stack\/Security\/Prowler': /);
    const org = organization(stack, 'Prowler');
    expect(() => new cdk.ProwlerScanRole(org, 'Extra', { externalId: 'has spaces' })).toThrow(/^ProwlerScanRole at 'Stack\/Prowler\/Extra': 1 invalid property/);
  });

  test("the error's stack trace starts at the user's `new`, with no frame in this package's files", () => {
    let error: Error | undefined;
    try {
      organization(newStack(), 'Prowler', { targets: ['Production'] });
    } catch (e) {
      error = e as Error;
    }
    expect(firstFrame(error!)).toContain(basename(__filename));
    expect(error!.stack).not.toMatch(/[\\/](src|lib)[\\/](cdk|core)[\\/]/);
  });
});
