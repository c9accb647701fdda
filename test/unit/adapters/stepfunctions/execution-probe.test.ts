import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { executionProbe } from '../../../../src/adapters/stepfunctions/execution-probe.ts';

describe('executionProbe (is a lock holder still running?)', () => {
  it('answers from DescribeExecution, and keeps the lock when it cannot tell', async () => {
    const client = new SFNClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const mock = mockClient(client);
    const arn = (name: string) => `arn:aws:states:us-east-1:1:execution:ScaleCluster:${name}`;
    mock
      .on(DescribeExecutionCommand, { executionArn: arn('running') })
      .resolves({ status: 'RUNNING' } as never);
    mock
      .on(DescribeExecutionCommand, { executionArn: arn('aborted') })
      .resolves({ status: 'ABORTED' } as never);
    mock
      .on(DescribeExecutionCommand, { executionArn: arn('timed-out') })
      .resolves({ status: 'TIMED_OUT' } as never);
    mock
      .on(DescribeExecutionCommand, { executionArn: arn('gone') })
      .rejects(Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' }));
    mock
      .on(DescribeExecutionCommand, { executionArn: arn('denied') })
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    const isRunning = executionProbe(client);
    expect(await isRunning(arn('running'))).toBe(true);
    expect(await isRunning(arn('aborted'))).toBe(false);
    expect(await isRunning(arn('timed-out'))).toBe(false);
    expect(await isRunning(arn('gone'))).toBe(false);
    expect(await isRunning(arn('denied'))).toBe(true);
    mock.restore();
  });
});
