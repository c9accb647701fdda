import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { PlanExecutionStarter } from '../../domain/planning/ports.ts';

/**
 * Starts ExecutePlan with `{planId, approval}` under a deterministic execution name. Step Functions refuses a
 * second execution of that name (ExecutionAlreadyExists): the plan was started already, which is what a
 * redelivered event wants.
 */
export class SfnPlanExecutionStarter implements PlanExecutionStarter {
  private readonly client: SFNClient;
  private readonly stateMachineArn: string;

  constructor(client: SFNClient, stateMachineArn: string) {
    this.client = client;
    this.stateMachineArn = stateMachineArn;
  }

  async start(request: { planId: string; approval: boolean; name: string }) {
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${request.name}`;
    try {
      const result = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: request.name,
          input: JSON.stringify({ planId: request.planId, approval: request.approval }),
        }),
      );
      return { executionArn: result.executionArn ?? executionArn, alreadyStarted: false };
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists') return { executionArn, alreadyStarted: true };
      throw error;
    }
  }
}
