import {
  CloudTrailClient, DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand, type GetEventSelectorsCommandOutput,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { checkOrganizationEventsTrail } from '../../src/handler/trail';

const client = () => new CloudTrailClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } });
const ARN = 'arn:aws:cloudtrail:us-east-1:111111111111:trail/';

describe('does a trail record the Organizations events the sync runs on?', () => {
  const mock = mockClient(CloudTrailClient);
  afterEach(() => mock.reset());

  const trail = (name: string, extra: Record<string, unknown> = {}) => ({
    Name: name, TrailARN: `${ARN}${name}`, HomeRegion: 'eu-west-1', IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, ...extra,
  });

  test('a logging multi-region trail with the default selectors: yes', async () => {
    mock.on(DescribeTrailsCommand).resolves({ trailList: [trail('org')] });
    mock.on(GetTrailStatusCommand).resolves({ IsLogging: true });
    mock.on(GetEventSelectorsCommand).resolves({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] });
    expect(await checkOrganizationEventsTrail(client())).toEqual({ recorded: true, trail: `${ARN}org` });
    expect(mock.commandCalls(DescribeTrailsCommand)[0].args[0].input).toEqual({ includeShadowTrails: true });
  });

  test('no trail at all: a warning that says what follows and what to create', async () => {
    mock.on(DescribeTrailsCommand).resolves({ trailList: [] });
    const check = await checkOrganizationEventsTrail(client());
    expect(check).toEqual({ recorded: false, warning: expect.stringMatching(/^No CloudTrail trail records global-service events in us-east-1 \(0 trails seen\), so Organizations events never reach EventBridge and only the schedule onboards new accounts: create a trail logging management events/) });
  });

  test.each([
    ['a single-region trail elsewhere', [trail('eu', { IsMultiRegionTrail: false })], {}, {}, /records global-service events in us-east-1 \(1 trails seen\)/],
    ['a trail without global-service events', [trail('noglobal', { IncludeGlobalServiceEvents: false })], {}, {}, /\(1 trails seen\)/],
    ['a trail that stopped logging', [trail('stopped')], { IsLogging: false }, {}, /logs management events in us-east-1 \(stopped is not logging\)/],
    ['read-only management events', [trail('reads')], { IsLogging: true }, { EventSelectors: [{ ReadWriteType: 'ReadOnly', IncludeManagementEvents: true }] }, /reads does not log write management events/],
    ['data events only', [trail('data')], { IsLogging: true }, { EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: false }] }, /data does not log write management events/],
    ['advanced selectors with readOnly = true', [trail('adv')], { IsLogging: true }, {
      AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }, { Field: 'readOnly', Equals: ['true'] }] }],
    }, /adv does not log write management events/],
  ])('%s: a warning naming it', async (_name, trails, status, selectors, message) => {
    mock.on(DescribeTrailsCommand).resolves({ trailList: trails });
    mock.on(GetTrailStatusCommand).resolves(status);
    mock.on(GetEventSelectorsCommand).resolves(selectors as GetEventSelectorsCommandOutput);
    const check = await checkOrganizationEventsTrail(client());
    expect(check.recorded).toBe(false);
    expect((check as { warning: string }).warning).toMatch(message);
  });

  test('advanced selectors on the Management category, and a single-region trail at home, count', async () => {
    mock.on(DescribeTrailsCommand).resolves({ trailList: [trail('home', { IsMultiRegionTrail: false, HomeRegion: 'us-east-1' })] });
    mock.on(GetTrailStatusCommand).resolves({ IsLogging: true });
    mock.on(GetEventSelectorsCommand).resolves({ AdvancedEventSelectors: [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }] });
    expect((await checkOrganizationEventsTrail(client())).recorded).toBe(true);
  });

  test('an organization trail whose status a member cannot read, or a denied DescribeTrails: unknown, never a false warning', async () => {
    mock.on(DescribeTrailsCommand).resolves({ trailList: [trail('org-trail')] });
    mock.on(GetTrailStatusCommand).rejects(Object.assign(new Error('not authorized'), { name: 'TrailNotFoundException' }));
    expect(await checkOrganizationEventsTrail(client())).toEqual({ recorded: 'unknown', reason: 'could not read org-trail (TrailNotFoundException)' });
    mock.on(DescribeTrailsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    expect(await checkOrganizationEventsTrail(client())).toEqual({ recorded: 'unknown', reason: 'DescribeTrails failed (AccessDeniedException)' });
  });
});
