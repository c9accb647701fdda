import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ApprovalNotifier } from '../../domain/planning/ports.ts';

/** Approval requests to an SNS topic (email, chat and paging subscribers). */
export class SnsApprovalNotifier implements ApprovalNotifier {
  private readonly client: SNSClient;
  private readonly topicArn: string;

  constructor(client: SNSClient, topicArn: string) {
    this.client = client;
    this.topicArn = topicArn;
  }

  async publish(subject: string, message: string): Promise<void> {
    await this.client.send(
      new PublishCommand({ TopicArn: this.topicArn, Subject: subject, Message: message }),
    );
  }
}
