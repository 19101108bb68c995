import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { throwIfInvalid } from './validation';
import { duplicateOutputsProblem, STACK_OUTPUTS, type StackOutput } from '../core/outputs';

/**
 * Adds CloudFormation outputs under core's fixed keys (`ProwlerScanRoleArn`, …), one per value
 * given, unless `enabled` is false. A key the stack already has fails the synth, naming the
 * construct that has it: CloudFormation keeps one output of a name.
 */
export function addStackOutputs(scope: Construct, enabled: boolean | undefined, values: Partial<Record<StackOutput, string>>): CfnOutput[] {
  if (enabled === false) return [];
  const stack = Stack.of(scope);
  const taken = new Map(stack.node.findAll()
    .filter((c): c is CfnOutput => c instanceof CfnOutput)
    .map((o) => [stack.resolve(o.logicalId) as string, o.node.scope?.node.path ?? o.node.path]));
  const outputs = (Object.keys(values) as StackOutput[]).filter((key) => values[key] !== undefined).map((key) => ({ key, ...STACK_OUTPUTS[key] }));
  const clashes = outputs.filter(({ cloudFormation }) => taken.has(cloudFormation));
  if (clashes.length > 0) {
    const names = clashes.map(({ cloudFormation }) => cloudFormation);
    throwIfInvalid(scope, [duplicateOutputsProblem(names, taken.get(names[0])!, enabled)]);
  }
  return outputs.map(({ key, cloudFormation, description }) => {
    const output = new CfnOutput(scope, cloudFormation, { value: values[key]!, description });
    output.overrideLogicalId(cloudFormation);
    return output;
  });
}
