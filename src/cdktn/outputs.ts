// Generated from src/cdktf by scripts/cdktn-flavour.ts (`npx projen templates`): do not edit.
import { TerraformOutput, TerraformStack } from 'cdktn';
import type { Construct } from 'constructs';
import { throwIfInvalid } from './validation';
import { duplicateOutputsProblem, STACK_OUTPUTS, type StackOutput } from '../core/outputs';

/**
 * Adds Terraform outputs under core's fixed names (`prowler_scan_role_arn`, …), one per value
 * given, unless `enabled` is false. A name the stack already has fails the synth, naming the
 * construct that has it (the synthesized JSON would keep only the last, silently).
 */
export function addStackOutputs(scope: Construct, enabled: boolean | undefined, values: Partial<Record<StackOutput, string>>): TerraformOutput[] {
  if (enabled === false) return [];
  const taken = new Map(TerraformStack.of(scope).node.findAll()
    .filter((c): c is TerraformOutput => c instanceof TerraformOutput)
    .map((o) => [o.friendlyUniqueId, o.node.scope?.node.path ?? o.node.path]));
  const outputs = (Object.keys(values) as StackOutput[]).filter((key) => values[key] !== undefined).map((key) => ({ key, ...STACK_OUTPUTS[key] }));
  const clashes = outputs.filter(({ terraform }) => taken.has(terraform));
  if (clashes.length > 0) {
    const names = clashes.map(({ terraform }) => terraform);
    throwIfInvalid(scope, [duplicateOutputsProblem(names, taken.get(names[0])!, enabled)]);
  }
  return outputs.map(({ key, terraform, description }) =>
    new TerraformOutput(scope, terraform, { value: values[key]!, description, staticId: true }));
}
