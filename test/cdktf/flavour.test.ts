/**
 * The cdktf flavour's tests run twice: as written, and (`test:cdktn`) with cdktf, its provider
 * bindings, src/cdktf and the example resolving to CDK Terrain's. This proves each run tests the
 * flavour it is for, so a mapping that silently stopped working cannot pass the cdktn run on cdktf.
 */
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { Testing, TerraformStack } from 'cdktf';
import * as tf from '../../src/cdktf';

const flavour: string = (globalThis as { TERRAFORM_FLAVOUR?: string }).TERRAFORM_FLAVOUR ?? 'cdktf';

describe(`the Terraform flavour under test is ${flavour}`, () => {
  test('the constructs, the framework and the provider bindings are all that flavour\'s', () => {
    const sep = '[\\\\/]';
    expect(require.resolve('../../src/cdktf')).toMatch(new RegExp(`${sep}src${sep}${flavour}${sep}index\\.ts$`));
    expect(require.resolve('cdktf')).toMatch(new RegExp(`${sep}node_modules${sep}${flavour}${sep}`));
    expect(require.resolve('@cdktf/provider-aws/lib/provider')).toMatch(new RegExp(`${sep}node_modules${sep}@${flavour}${sep}provider-aws${sep}`));
  });

  test('they work together: a construct of the flavour synthesizes in a stack of the same framework', () => {
    const stack = new TerraformStack(Testing.app(), 'flavour');
    new AwsProvider(stack, 'aws', { region: 'us-east-1' });
    new tf.ProwlerScanRole(stack, 'Scan', { externalId: '6f1c2d0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f' });
    const synthesized = JSON.parse(Testing.synth(stack));
    expect(Object.keys(synthesized.resource.aws_iam_role)).toHaveLength(1);
    expect(synthesized.terraform.required_providers.aws.source).toMatch(/^(hashicorp\/)?aws$/); // cdktn writes the full address
  });
});
