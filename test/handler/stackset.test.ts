import { CloudFormationClient, ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { stackInstanceStatuses } from '../../src/handler/stackset';

describe('the member StackSet\'s instance status per account', () => {
  const cfn = mockClient(CloudFormationClient);
  afterEach(() => cfn.reset());
  afterAll(() => cfn.restore());

  test('every page is read; CURRENT anywhere wins; otherwise the status, its detail and reason', async () => {
    cfn.on(ListStackInstancesCommand, { StackSetName: 'members', CallAs: 'DELEGATED_ADMIN', NextToken: undefined }).resolves({
      Summaries: [
        { Account: '111111111111', Region: 'us-east-1', Status: 'CURRENT' },
        { Account: '222222222222', Region: 'us-east-1', Status: 'OUTDATED', StackInstanceStatus: { DetailedStatus: 'RUNNING' } },
        { Account: '333333333333', Region: 'us-east-1', Status: 'INOPERABLE', StackInstanceStatus: { DetailedStatus: 'FAILED' }, StatusReason: 'ResourceLogicalId:ProwlerScan, ResourceType:AWS::IAM::Role, ResourceStatusReason:ProwlerScan already exists.' },
      ],
      NextToken: 'page-2',
    });
    cfn.on(ListStackInstancesCommand, { NextToken: 'page-2' }).resolves({
      Summaries: [
        { Account: '222222222222', Region: 'eu-west-1', Status: 'CURRENT' }, // IAM is global: one region is enough
        { Account: '111111111111', Region: 'eu-west-1', Status: 'OUTDATED', StackInstanceStatus: { DetailedStatus: 'PENDING' } },
        { Region: 'eu-west-1', Status: 'CURRENT' }, // no account: ignored
      ],
    });
    const statuses = await stackInstanceStatuses(new CloudFormationClient({ region: 'us-east-1' }), 'members', 'DELEGATED_ADMIN');
    expect(Object.fromEntries(statuses)).toEqual({
      111111111111: 'CURRENT',
      222222222222: 'CURRENT',
      333333333333: 'INOPERABLE (FAILED: ResourceLogicalId:ProwlerScan, ResourceType:AWS::IAM::Role, ResourceStatusReason:ProwlerScan already exists.)',
    });
    expect(cfn.commandCalls(ListStackInstancesCommand)).toHaveLength(2);
  });

  test('an instance without a detailed status shows its status alone; SELF is the default caller', async () => {
    cfn.on(ListStackInstancesCommand).resolves({ Summaries: [{ Account: '444444444444', Region: 'us-east-1', Status: 'OUTDATED' }] });
    expect(Object.fromEntries(await stackInstanceStatuses(new CloudFormationClient({ region: 'us-east-1' }), 'members'))).toEqual({ 444444444444: 'OUTDATED' });
    expect(cfn.commandCalls(ListStackInstancesCommand)[0].args[0].input).toMatchObject({ StackSetName: 'members', CallAs: 'SELF' });
  });
});
