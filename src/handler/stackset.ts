/**
 * The member StackSet's instance status per account: connection tests wait (bounded) for the
 * role to be deployed, and a failure names the instance's status.
 */
import { paginateListStackInstances, type CloudFormationClient } from '@aws-sdk/client-cloudformation';

/** Status text per account id: 'CURRENT', or e.g. 'OUTDATED (RUNNING)', 'INOPERABLE (FAILED: reason)'. */
export async function stackInstanceStatuses(
  client: CloudFormationClient,
  stackSetName: string,
  callAs: 'SELF' | 'DELEGATED_ADMIN' = 'SELF',
): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  for await (const page of paginateListStackInstances({ client }, { StackSetName: stackSetName, CallAs: callAs })) {
    for (const instance of page.Summaries ?? []) {
      if (!instance.Account) continue;
      const detailed = instance.StackInstanceStatus?.DetailedStatus;
      const text = instance.Status === 'CURRENT'
        ? 'CURRENT'
        : `${instance.Status}${detailed ? ` (${detailed}${instance.StatusReason ? `: ${instance.StatusReason}` : ''})` : ''}`;
      // One region is enough (IAM is global): CURRENT anywhere wins.
      if (statuses.get(instance.Account) !== 'CURRENT') statuses.set(instance.Account, text);
    }
  }
  return statuses;
}
