import { randomUUID } from 'node:crypto';
import { type RunOptions, StateMachine } from 'aws-local-stepfunctions';
import type { TaskTokenSender } from '../domain/planning/ports.ts';
import type { LambdaHandler } from '../lambda/instrumented-handler.ts';
import { type AslDefinition, localExecutionArn } from './state-machine-asl.ts';

/**
 * What every local run of a synthesized state machine shares (MigratePartition, ExecutePlan, ScaleCluster under
 * aws-local-stepfunctions): binding Task states to local code, task tokens, child executions with
 * `startExecution.sync:2`, Wait and Retry overrides read from the definition, and how a failed run is reported.
 */

/** A named error, as Step Functions Retry/Catch match on `name`. */
export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Every state of a definition, the inner states of Map and Parallel states included. */
export function everyState(asl: AslDefinition): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      out.push([name, state]);
      const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
      if (processor) visit(processor.States);
      for (const branch of (state.Branches ?? []) as AslDefinition[]) visit(branch.States);
    }
  };
  visit(asl.States);
  return out;
}

/** The names of a definition's Wait states (what a local run shortens). */
export function waitStateNames(asl: AslDefinition): string[] {
  return everyState(asl)
    .filter(([, state]) => state.Type === 'Wait')
    .map(([name]) => name);
}

const validated = new WeakSet<AslDefinition>();

/**
 * A local state machine for a definition, validated (JSONPaths and ARNs) the first time only: validation takes
 * most of a second, and the runners start one machine per execution or per test from a shared definition.
 */
export function localStateMachine(asl: AslDefinition): StateMachine {
  const machine = new StateMachine(asl as never, {
    validationOptions: validated.has(asl) ? { noValidate: true } : { checkPaths: true, checkArn: true },
  });
  validated.add(asl);
  return machine;
}

/**
 * Task tokens of locally running executions: a `.waitForTaskToken` step waits here until someone calls
 * sendTaskSuccess/sendTaskFailure, exactly as `prestage approve` does against Step Functions.
 */
export class LocalTaskTokens implements TaskTokenSender {
  private readonly waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** Wait for the token's outcome (the waiting Task's result, or its error). */
  register(taskToken: string): Promise<unknown> {
    return new Promise((resolve, reject) => this.waiting.set(taskToken, { resolve, reject }));
  }

  isWaiting(taskToken: string): boolean {
    return this.waiting.has(taskToken);
  }

  /** Forget a token whose Task gave up (timed out). */
  cancel(taskToken: string): void {
    this.waiting.delete(taskToken);
  }

  async sendTaskSuccess(taskToken: string, output: string): Promise<void> {
    const waiter = this.take(taskToken);
    waiter.resolve(JSON.parse(output));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    this.take(taskToken).reject(namedError(error, cause));
  }

  private take(taskToken: string) {
    const waiter = this.waiting.get(taskToken);
    if (!waiter) throw namedError('TaskDoesNotExist', 'Task does not exist anymore');
    this.waiting.delete(taskToken);
    return waiter;
  }
}

/** How a local child execution ended (LocalMigrationRunner's, or runExecutePlanLocally's). */
export interface LocalExecutionOutcome {
  readonly status: string;
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly cause: string };
}

/**
 * What `startExecution.sync:2` returns for a local child: the DescribeExecution shape (Output parsed, since
 * `.sync:2`) on success; on failure it throws `States.TaskFailed` with the DescribeExecution JSON as the cause,
 * which carries the child's own Error and Cause, exactly as Step Functions reports a failed child.
 */
export function syncExecutionResult(
  request: { stateMachineArn: string; name: string; input: unknown; startedAtMs: number },
  outcome: LocalExecutionOutcome,
): Record<string, unknown> {
  const described = {
    ExecutionArn: localExecutionArn(request.stateMachineArn, request.name),
    StateMachineArn: request.stateMachineArn,
    Name: request.name,
    StartDate: request.startedAtMs,
    StopDate: Date.now(),
    Input: request.input,
  };
  if (outcome.status === 'SUCCEEDED')
    return { ...described, Status: 'SUCCEEDED', Output: outcome.output ?? null };
  throw namedError(
    'States.TaskFailed',
    JSON.stringify({
      ...described,
      Input: JSON.stringify(request.input),
      Status: 'FAILED',
      Error: outcome.error?.name ?? 'States.Runtime',
      Cause: outcome.error?.cause ?? '',
    }),
  );
}

export type TaskHandler = (input: unknown) => Promise<unknown>;

/** Runs a child execution for `startExecution.sync:2` and says how it ended. */
export type RunChildExecution = (input: unknown, name: string) => Promise<LocalExecutionOutcome>;

export interface TaskBindings {
  /** Lambda steps by function name (the last part of their local ARN). */
  readonly functions: Readonly<Record<string, LambdaHandler>>;
  /** `startExecution.sync:2` targets by state machine ARN. */
  readonly stateMachines?: Readonly<Record<string, RunChildExecution>>;
  readonly taskTokens?: LocalTaskTokens;
  /** Extra handlers by Task state name (SDK integrations), taking precedence. */
  readonly states?: Readonly<Record<string, TaskHandler>>;
}

function functionName(arn: unknown): string {
  const name = String(arn).split(':function:')[1]?.split(':')[0];
  if (!name) throw new Error(`cannot bind a Task to '${String(arn)}': not a Lambda function ARN`);
  return name;
}

/**
 * Bind every Task state of a definition to local code: Lambda ARNs (direct, `lambda:invoke`,
 * `lambda:invoke.waitForTaskToken`) to the real handlers, `startExecution.sync:2` to local child runs.
 * A Task left unbound is an error here rather than an attempt to call AWS.
 */
export function bindTaskStates(asl: AslDefinition, bindings: TaskBindings): Record<string, TaskHandler> {
  const handlers: Record<string, TaskHandler> = {};
  const handlerOf = (name: string) => {
    const handler = bindings.functions[name];
    if (!handler) throw new Error(`no local handler for the Lambda '${name}'`);
    return handler;
  };
  for (const [stateName, state] of everyState(asl)) {
    if (state.Type !== 'Task') continue;
    if (bindings.states?.[stateName]) {
      handlers[stateName] = bindings.states[stateName];
      continue;
    }
    const resource = String(state.Resource);
    const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
    if (resource.includes(':function:')) {
      const handler = handlerOf(functionName(resource));
      handlers[stateName] = (input) => handler(input);
    } else if (resource === 'arn:aws:states:::lambda:invoke') {
      const handler = handlerOf(functionName(parameters.FunctionName));
      handlers[stateName] = async (input) => ({
        StatusCode: 200,
        Payload: await handler((input as { Payload: unknown }).Payload),
      });
    } else if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      handlers[stateName] = waitForTaskToken(
        stateName,
        handlerOf(functionName(parameters.FunctionName)),
        bindings.taskTokens,
        Number(state.TimeoutSeconds ?? 0) * 1000,
      );
    } else if (resource === 'arn:aws:states:::states:startExecution.sync:2') {
      handlers[stateName] = startExecutionSync(stateName, bindings.stateMachines ?? {});
    } else {
      throw new Error(
        `Task '${stateName}' uses '${resource}', which has no local binding: pass it in states`,
      );
    }
  }
  return handlers;
}

/** `lambda:invoke.waitForTaskToken`: invoke the handler, then wait until the token is answered or times out. */
function waitForTaskToken(
  stateName: string,
  handler: LambdaHandler,
  tokens: LocalTaskTokens | undefined,
  timeoutMs: number,
): TaskHandler {
  if (!tokens) throw new Error(`Task '${stateName}' waits for a task token: pass taskTokens`);
  return async (input) => {
    const payload = (input as { Payload: Record<string, unknown> }).Payload;
    const token = String(payload.taskToken ?? '');
    const outcome = tokens.register(token);
    // Once the Task has timed out, its token is dead (Step Functions answers TaskTimedOut).
    const expiry = timeoutMs > 0 ? setTimeout(() => tokens.cancel(token), timeoutMs) : undefined;
    try {
      await handler(payload);
      return await outcome;
    } catch (error) {
      tokens.cancel(token);
      throw error;
    } finally {
      clearTimeout(expiry);
    }
  };
}

/** `startExecution.sync:2`: run the child locally and answer as DescribeExecution would (syncExecutionResult). */
function startExecutionSync(
  stateName: string,
  stateMachines: Readonly<Record<string, RunChildExecution>>,
): TaskHandler {
  return async (input) => {
    const { StateMachineArn, Input, Name } = input as {
      StateMachineArn: string;
      Input: unknown;
      Name?: string;
    };
    const run = stateMachines[StateMachineArn];
    if (!run) throw new Error(`Task '${stateName}' starts '${StateMachineArn}', which has no local runner`);
    const name = Name ?? randomUUID();
    const startedAtMs = Date.now();
    const outcome = await run(Input, name);
    return syncExecutionResult(
      { stateMachineArn: StateMachineArn, name, input: Input, startedAtMs },
      outcome,
    );
  };
}

export interface LocalRunTiming {
  /** Every Wait state of the definition pauses this long. @default the definition's own waits */
  readonly waitMs?: number;
  /** Every bound Task state pauses this long before a Retry. @default the definition's backoff */
  readonly retryIntervalMs?: number;
}

/**
 * The aws-local-stepfunctions overrides of one run: the bound Task handlers, and the Wait and Retry pauses
 * shortened for every Wait state of the definition and every bound Task.
 */
export function localRunOverrides(
  asl: AslDefinition,
  handlers: Readonly<Record<string, TaskHandler>>,
  timing: LocalRunTiming,
): NonNullable<RunOptions['overrides']> {
  const { waitMs, retryIntervalMs } = timing;
  return {
    taskResourceLocalHandlers: handlers as NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers'],
    ...(waitMs !== undefined
      ? { waitTimeOverrides: Object.fromEntries(waitStateNames(asl).map((name) => [name, waitMs])) }
      : {}),
    ...(retryIntervalMs !== undefined
      ? {
          retryIntervalOverrides: Object.fromEntries(
            Object.keys(handlers).map((name) => [name, retryIntervalMs]),
          ),
        }
      : {}),
  };
}

/**
 * The name and cause of the error a local run ended with: aws-local-stepfunctions wraps it in an ExecutionError
 * whose `cause` is the error of the Fail state or of the failed Task.
 */
export function executionFailure(error: unknown): { name: string; cause: string } {
  const failure = ((error as Error).cause as Error | undefined) ?? (error as Error);
  return { name: failure.name, cause: failure.message };
}
