/**
 * The Terraform constructs' synth-time errors name the construct the user wrote, by its path (not
 * an inner construct it made), and their stack trace starts in the user's code, not in this
 * package. The cdktn run (`npx projen test:cdktn`) runs this file against the CDK Terrain flavour.
 */
import { basename } from 'node:path';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import * as tf from '../../src/cdktf';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:prowler/api-key-AbCdEf';
const newStack = () => {
  const stack = new TerraformStack(Testing.app(), 'stack');
  new AwsProvider(stack, 'aws', { region: 'us-east-1' });
  return stack;
};
const organization = (scope: Construct, id: string, props: Partial<tf.ProwlerOrganizationProps> = {}) => new tf.ProwlerOrganization(scope, id, {
  externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f', organizationId: 'o-abc123def4', targets: ['r-ab12'], apiKeySecretArn: SECRET_ARN, ...props,
});

describe('synth errors name the construct the user wrote (Terraform)', () => {
  test('a problem an inner construct finds is reported for the ProwlerOrganization, by its path', () => {
    expect(() => organization(newStack(), 'Prowler', { targets: ['Production'] }))
      .toThrow(/^ProwlerOrganization at 'stack\/Prowler': 1 invalid property:\n {2}- targets\[0\]: Must be an OU id or a root id.*got 'Production'/);
    expect(() => organization(newStack(), 'Prowler', { concurrency: 0 })).toThrow(/^ProwlerOrganization at 'stack\/Prowler': 1 invalid property:\n {2}- concurrency/);
    const theirs = new Construct(newStack(), 'Security');
    expect(() => organization(theirs, 'Prowler', { externalId: '' })).toThrow(/^ProwlerOrganization at 'stack\/Security\/Prowler': /);
  });

  test("the error's stack trace starts at the user's `new`, with no frame in this package's files", () => {
    let error: Error | undefined;
    try {
      organization(newStack(), 'Prowler', { targets: ['Production'] });
    } catch (e) {
      error = e as Error;
    }
    expect(error!.stack!.split('\n').find((line) => /^\s+at /.test(line))).toContain(basename(__filename));
    expect(error!.stack).not.toMatch(/[\\/](src|lib)[\\/](cdkt[fn]|core)[\\/]/);
  });
});
