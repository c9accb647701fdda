import type { LambdaHandler } from '../lambda/instrumented-handler.ts';

/** Lambda's default for asynchronous invocations: two retries, then the event is dropped (or dead-lettered). */
export const ASYNC_RETRIES = 2;

/** An asynchronous invocation that failed after Lambda's retries. */
export interface DeadLetter {
  readonly functionName: string;
  readonly event: unknown;
  readonly error: { readonly name: string; readonly message: string };
}

/** What Lambda passes as the context (Powertools idempotency reads the remaining time). */
function lambdaContext(functionName: string, requestId: string, region: string) {
  return {
    awsRequestId: requestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 900_000,
  };
}

/**
 * Lambda's asynchronous Invoke on this machine: the event is queued and the function runs later, in this
 * process, through the same handler the deployed entry exports; a failure is retried twice after a pause (Lambda
 * waits a minute, then two; here `retryPauseMs`), then the event goes to the dead letters. `settle` waits until
 * everything invoked so far, and everything that invoked in turn, has ended.
 */
export class InProcessLambda {
  readonly deadLetters: DeadLetter[] = [];
  invocations = 0;
  private readonly handlers = new Map<string, LambdaHandler>();
  private readonly pending = new Set<Promise<void>>();
  private readonly region: string;
  private readonly retryPauseMs: number;
  private requestCounter = 0;

  constructor(options: { readonly region: string; readonly retryPauseMs?: number }) {
    this.region = options.region;
    this.retryPauseMs = options.retryPauseMs ?? 50;
  }

  register(functionName: string, handler: LambdaHandler): void {
    this.handlers.set(functionName, handler);
  }

  /** A direct (synchronous) invocation, e.g. the schedule firing the coordinator. */
  invoke(functionName: string, event: unknown): Promise<unknown> {
    return this.handlerOf(functionName)(event, this.context(functionName));
  }

  /** InvocationType Event: accepted at once (202), run in the background with Lambda's retries. */
  invokeAsync(functionName: string, event: unknown): void {
    const handler = this.handlerOf(functionName);
    this.invocations += 1;
    const run = this.deliver(functionName, handler, event);
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  /** Resolves when no invocation is queued or running. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private handlerOf(functionName: string): LambdaHandler {
    const handler = this.handlers.get(functionName);
    if (!handler) {
      const error = new Error(`Function not found: ${functionName}`);
      error.name = 'ResourceNotFoundException';
      throw error;
    }
    return handler;
  }

  private context(functionName: string) {
    return lambdaContext(functionName, `local-${++this.requestCounter}`, this.region);
  }

  private async deliver(functionName: string, handler: LambdaHandler, event: unknown): Promise<void> {
    // Lambda answers 202 first; the function runs later.
    await new Promise((resolve) => setImmediate(resolve));
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= ASYNC_RETRIES; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.retryPauseMs * attempt));
      try {
        await handler(event, this.context(functionName));
        return;
      } catch (error) {
        lastError = error as Error;
      }
    }
    this.deadLetters.push({
      functionName,
      event,
      error: { name: lastError?.name ?? 'Error', message: lastError?.message ?? '' },
    });
  }
}
