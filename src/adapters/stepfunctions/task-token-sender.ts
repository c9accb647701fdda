import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskTokenSender } from '../../domain/planning/ports.ts';

/**
 * TaskTokenSender over the Step Functions API. Errors pass unchanged: approvePlan turns a stale token's
 * (TaskTimedOut, TaskDoesNotExist, InvalidToken) into ApprovalTokenExpiredError.
 */
export class SfnTaskTokenSender implements TaskTokenSender {
  private readonly client: SFNClient;

  constructor(client: SFNClient) {
    this.client = client;
  }

  async sendTaskSuccess(taskToken: string, output: string): Promise<void> {
    await this.client.send(new SendTaskSuccessCommand({ taskToken, output }));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}
