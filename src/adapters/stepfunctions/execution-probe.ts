import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/** Whether an execution is RUNNING; anything but a clear answer counts as running (the lock is kept). */
export function executionProbe(client: SFNClient): (executionArn: string) => Promise<boolean> {
  return async (executionArn) => {
    try {
      const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
      return status === 'RUNNING' || status === 'PENDING_REDRIVE';
    } catch (error) {
      return (error as Error).name !== 'ExecutionDoesNotExist';
    }
  };
}
