import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SnsApprovalNotifier } from '../../../../src/adapters/sns/approval-notifier.ts';

describe('SnsApprovalNotifier', () => {
  it('publishes the approval request to the topic', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm1' });
    await new SnsApprovalNotifier(
      new SNSClient({ region: 'us-east-1' }),
      'arn:aws:sns:us-east-1:1:approvals',
    ).publish('subject', 'body');
    expect(sns.commandCalls(PublishCommand)[0].args[0].input).toEqual({
      TopicArn: 'arn:aws:sns:us-east-1:1:approvals',
      Subject: 'subject',
      Message: 'body',
    });
    sns.restore();
  });
});
