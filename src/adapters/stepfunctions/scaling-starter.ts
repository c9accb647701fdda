import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ScaleInRequest, ScaleOutRequest, ScalingStarter } from '../../domain/profiling/ports.ts';
import { type ClientSource, onDemand } from '../client-source.ts';

/**
 * Starts ScaleCluster. A Standard state machine answers a repeated StartExecution with the same name and input
 * with the running execution, and refuses a different input with ExecutionAlreadyExists: both mean "already
 * started", so a redelivered cycle never starts a second scale-out or scale-in.
 */
export class StepFunctionsScalingStarter implements ScalingStarter {
  private readonly sfn: () => Promise<SFNClient>;
  private readonly stateMachineArn: string;

  constructor(sfn: ClientSource<SFNClient>, stateMachineArn: string) {
    this.sfn = onDemand(sfn);
    this.stateMachineArn = stateMachineArn;
  }

  async start(name: string, input: ScaleOutRequest | ScaleInRequest): Promise<{ started: boolean }> {
    const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    try {
      await (await this.sfn()).send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return { started: true };
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists') return { started: false };
      throw error;
    }
  }
}
