/**
 * Organizations events reach EventBridge as "AWS API Call via CloudTrail" events, which exist only
 * while a trail logs management events, in the Organizations region (us-east-1 in the aws
 * partition: Organizations is a global service). A deployment that syncs on them checks that one
 * does, and warns when none can: the schedule alone would then onboard new accounts.
 */
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  type GetEventSelectorsCommandOutput,
  type Trail,
} from '@aws-sdk/client-cloudtrail';

/** What the check found: a trail that records them, none (with why), or that it could not tell. */
export type TrailCheck =
  | { readonly recorded: true; readonly trail: string }
  | { readonly recorded: false; readonly warning: string }
  | { readonly recorded: 'unknown'; readonly reason: string };

const WHY = 'so Organizations events never reach EventBridge and only the schedule onboards new accounts: '
  + 'create a trail logging management events (write or all) in this account or the organization (README: "Events that trigger a sync")';

/** Whether a trail in `region` (the client's) records the management events Organizations writes. */
export async function checkOrganizationEventsTrail(client: CloudTrailClient): Promise<TrailCheck> {
  const region = await client.config.region();
  let trails: Trail[];
  try {
    trails = (await client.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ?? [];
  } catch (error) {
    return { recorded: 'unknown', reason: `DescribeTrails failed (${(error as Error).name})` };
  }
  // Organizations' events are global-service events, delivered in the Organizations region.
  const covering = trails.filter((t) => (t.IsMultiRegionTrail || t.HomeRegion === region) && t.IncludeGlobalServiceEvents !== false);
  if (covering.length === 0) {
    return { recorded: false, warning: `No CloudTrail trail records global-service events in ${region} (${trails.length} trails seen), ${WHY}` };
  }
  const unreadable: string[] = [];
  const notLogging: string[] = [];
  for (const trail of covering) {
    const name = trail.TrailARN ?? trail.Name!;
    try {
      const status = await client.send(new GetTrailStatusCommand({ Name: name }));
      if (!status.IsLogging) {
        notLogging.push(`${trail.Name} is not logging`);
        continue;
      }
      const selectors = await client.send(new GetEventSelectorsCommand({ TrailName: name }));
      if (recordsWriteManagementEvents(selectors)) return { recorded: true, trail: name };
      notLogging.push(`${trail.Name} does not log write management events`);
    } catch (error) {
      // An organization trail seen from a member account: its status is the management account's to read.
      unreadable.push(`${trail.Name} (${(error as Error).name})`);
    }
  }
  if (unreadable.length > 0) return { recorded: 'unknown', reason: `could not read ${unreadable.join(', ')}` };
  return { recorded: false, warning: `No CloudTrail trail logs management events in ${region} (${notLogging.join('; ')}), ${WHY}` };
}

/** Basic selectors with management events that include writes, or advanced ones selecting the Management category without `readOnly = true`. */
function recordsWriteManagementEvents(s: GetEventSelectorsCommandOutput): boolean {
  // No selector at all is the trail's default: every management event.
  if (!s.AdvancedEventSelectors?.length && !s.EventSelectors?.length) return true;
  if (s.AdvancedEventSelectors?.length) {
    return s.AdvancedEventSelectors.some((selector) => {
      const fields = selector.FieldSelectors ?? [];
      const management = fields.some((f) => f.Field === 'eventCategory' && (f.Equals ?? []).includes('Management'));
      const readOnlyOnly = fields.some((f) => f.Field === 'readOnly' && (f.Equals ?? []).includes('true'));
      return management && !readOnlyOnly;
    });
  }
  return (s.EventSelectors ?? []).some((e) => e.IncludeManagementEvents !== false && e.ReadWriteType !== 'ReadOnly');
}
