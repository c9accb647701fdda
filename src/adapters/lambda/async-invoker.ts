import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { AsyncInvoker } from '../../domain/profiling/ports.ts';
import { type ClientSource, onDemand } from '../client-source.ts';

/** The profiler cannot invoke a function it was not told about (a wiring mistake in the stack). */
export class MissingProfilerWiringError extends Error {
  override name = 'MissingProfilerWiringError';
}

/** Lambda asynchronous invocations (InvocationType Event): the shards (this function) and the planner. */
export class LambdaAsyncInvoker implements AsyncInvoker {
  private readonly lambda: () => Promise<LambdaClient>;
  private readonly profilerFunction: string | undefined;
  private readonly plannerFunction: string | undefined;

  constructor(
    lambda: ClientSource<LambdaClient>,
    profilerFunction: string | undefined,
    plannerFunction: string | undefined,
  ) {
    this.lambda = onDemand(lambda);
    this.profilerFunction = profilerFunction;
    this.plannerFunction = plannerFunction;
  }

  invokeShard(event: { cycleId: string; shard: number; shards: number }): Promise<void> {
    return this.invoke(this.profilerFunction, 'PRESTAGE_PROFILER_FUNCTION', event);
  }

  invokePlanner(event: { trigger: 'schedule'; cycleId: string }): Promise<void> {
    return this.invoke(this.plannerFunction, 'PRESTAGE_PLANNER_FUNCTION', event);
  }

  private async invoke(functionName: string | undefined, variable: string, event: object): Promise<void> {
    if (!functionName) throw new MissingProfilerWiringError(`${variable} is not set`);
    const { InvokeCommand } = await import('@aws-sdk/client-lambda');
    await (await this.lambda()).send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
  }
}
