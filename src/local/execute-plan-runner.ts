import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Duration } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { StateMachine as CdkStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { StateMachine } from 'aws-local-stepfunctions';
import { ExecutePlanWorkflow } from '../../lib/execute-plan-workflow.ts';
import { DynamoMigrationSlots } from '../adapters/dynamodb/migration-slots.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import type { PlanMoveRecord } from '../domain/planning/plan-record.ts';
import type { ApprovalNotifier, TaskTokenSender } from '../domain/planning/ports.ts';
import {
  DEFAULT_EXECUTE_PLAN_SETTINGS,
  type ExecutePlanDeps,
  type ExecutePlanSettings,
} from '../execute-plan/execute-plan-deps.ts';
import { createExecutePlanHandler } from '../execute-plan/execute-plan-handlers.ts';
import { EXECUTE_PLAN_TASK_NAMES, type ExecutePlanTaskName } from '../execute-plan/execute-plan-tasks.ts';
import type { LambdaHandler } from '../lambda/instrumented-handler.ts';
import type { MetricName, MetricsSink, MetricUnit } from '../support/metrics.ts';
import type { LocalMigrationRunner } from './local-migration-runner.ts';
import {
  type AslDefinition,
  localExecutionArn,
  localFunctionArn,
  localStateMachineArn,
  synthesizeStateMachine,
} from './state-machine-asl.ts';

/** The ARN ExecutePlan's child executions target in the locally synthesized definition. */
export const LOCAL_MIGRATE_PARTITION_ARN = localStateMachineArn('MigratePartition');
/** The local ARN of ExecutePlan itself (for a parent that starts it, e.g. ScaleCluster). */
export const LOCAL_EXECUTE_PLAN_ARN = localStateMachineArn('ExecutePlan');

export interface ExecutePlanAslOptions {
  readonly maxConcurrency?: number;
  readonly pageSize?: number;
  readonly pagesPerExecution?: number;
  readonly approvalTimeoutSeconds?: number;
}

const aslCache = new Map<string, AslDefinition>();

/** ExecutePlan synthesized from its construct as plain ASL (cached per option set). */
export function synthesizeExecutePlanAsl(options: ExecutePlanAslOptions = {}): AslDefinition {
  const key = JSON.stringify([
    options.maxConcurrency,
    options.pageSize,
    options.pagesPerExecution,
    options.approvalTimeoutSeconds,
  ]);
  let asl = aslCache.get(key);
  if (!asl) {
    asl = synthesizeStateMachine((stack) => {
      const steps = Object.fromEntries(
        EXECUTE_PLAN_TASK_NAMES.map((name) => [
          name,
          LambdaFunction.fromFunctionArn(stack, `${name}Function`, localFunctionArn(name)),
        ]),
      ) as never;
      new ExecutePlanWorkflow(stack, 'ExecutePlan', {
        steps,
        migratePartition: CdkStateMachine.fromStateMachineArn(
          stack,
          'MigratePartition',
          LOCAL_MIGRATE_PARTITION_ARN,
        ),
        maxConcurrency: options.maxConcurrency,
        pageSize: options.pageSize,
        pagesPerExecution: options.pagesPerExecution,
        // Its continuations start LOCAL_EXECUTE_PLAN_ARN, which the local runner binds to itself.
        stateMachineName: 'ExecutePlan',
        ...(options.approvalTimeoutSeconds !== undefined
          ? { approvalTimeout: Duration.seconds(options.approvalTimeoutSeconds) }
          : {}),
      });
    });
    aslCache.set(key, asl);
  }
  return asl;
}

/** A named error, as Step Functions Retry/Catch match on `name`. */
function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
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

type TaskHandler = (input: unknown) => Promise<unknown>;

export interface TaskBindings {
  /** Lambda steps by function name (the last part of their local ARN). */
  readonly functions: Readonly<Record<string, LambdaHandler>>;
  /** `startExecution.sync:2` targets by state machine ARN: run the child, return how it ended. */
  readonly stateMachines?: Readonly<
    Record<string, (input: unknown, name: string) => Promise<LocalExecutionOutcome>>
  >;
  readonly taskTokens?: LocalTaskTokens;
  /** Extra handlers by Task state name (SDK integrations), taking precedence. */
  readonly states?: Readonly<Record<string, TaskHandler>>;
}

function taskStates(asl: AslDefinition): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') out.push([name, state]);
      const processor = (state.ItemProcessor ?? state.Iterator) as AslDefinition | undefined;
      if (processor) visit(processor.States);
      for (const branch of (state.Branches ?? []) as AslDefinition[]) visit(branch.States);
    }
  };
  visit(asl.States);
  return out;
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
  for (const [stateName, state] of taskStates(asl)) {
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
      const handler = handlerOf(functionName(parameters.FunctionName));
      const tokens = bindings.taskTokens;
      if (!tokens) throw new Error(`Task '${stateName}' waits for a task token: pass taskTokens`);
      const timeoutMs = Number(state.TimeoutSeconds ?? 0) * 1000;
      handlers[stateName] = async (input) => {
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
    } else if (resource === 'arn:aws:states:::states:startExecution.sync:2') {
      handlers[stateName] = async (input) => {
        const { StateMachineArn, Input, Name } = input as {
          StateMachineArn: string;
          Input: unknown;
          Name?: string;
        };
        const run = bindings.stateMachines?.[StateMachineArn];
        if (!run)
          throw new Error(`Task '${stateName}' starts '${StateMachineArn}', which has no local runner`);
        const name = Name ?? randomUUID();
        const startedAtMs = Date.now();
        const outcome = await run(Input, name);
        return syncExecutionResult(
          { stateMachineArn: StateMachineArn, name, input: Input, startedAtMs },
          outcome,
        );
      };
    } else {
      throw new Error(
        `Task '${stateName}' uses '${resource}', which has no local binding: pass it in states`,
      );
    }
  }
  return handlers;
}

export interface LocalExecutePlanDepsOptions {
  /** Client of the home-region dynalite holding the plans and coordination tables. */
  readonly documents: DynamoDBDocumentClient;
  readonly plansTable: string;
  readonly coordinationTable: string;
  readonly migrations: LocalMigrationRunner;
  /** @default the deployment default of 2 */
  readonly maxConcurrentMovesPerCell?: number;
  readonly settings?: Partial<ExecutePlanSettings>;
  /** @default a recorder (see RecordingMetrics) */
  readonly metrics?: MetricsSink;
  readonly notifier?: ApprovalNotifier;
}

/** Metrics kept in memory: totals per metric name, and the last value of each (for gauges). */
export class RecordingMetrics implements MetricsSink {
  readonly totals: Record<string, number> = {};
  readonly last: Record<string, number> = {};
  add(name: MetricName, _unit: MetricUnit, value: number): void {
    this.totals[name] = (this.totals[name] ?? 0) + value;
    this.last[name] = value;
  }
}

/** Approval requests kept in memory (the local stand-in for the SNS topic). */
export class RecordingNotifier implements ApprovalNotifier {
  readonly messages: { subject: string; message: string }[] = [];
  async publish(subject: string, message: string): Promise<void> {
    this.messages.push({ subject, message });
  }
}

/** ExecutePlan dependencies over local tables: the real repositories, local metrics and notifications. */
export function localExecutePlanDeps(options: LocalExecutePlanDepsOptions): ExecutePlanLocalDeps {
  return {
    steps: {
      plans: new DynamoPlanRepository(options.documents, options.plansTable),
      slots: new DynamoMigrationSlots(options.documents, options.coordinationTable, {
        maxConcurrentMovesPerCell: options.maxConcurrentMovesPerCell ?? 2,
      }),
      notifier: options.notifier ?? new RecordingNotifier(),
      metrics: options.metrics ?? new RecordingMetrics(),
      settings: { ...DEFAULT_EXECUTE_PLAN_SETTINGS, slotWaitSeconds: 1, ...options.settings },
      nowMs: Date.now,
    },
    migrations: options.migrations,
  };
}

/** Dependencies of a local ExecutePlan run. */
export interface ExecutePlanLocalDeps {
  /** What the real step handlers run against (dynalite tables, a recording metrics sink...). */
  readonly steps: ExecutePlanDeps;
  /** Runs the child MigratePartition executions (the real migration steps against dynalite). */
  readonly migrations: LocalMigrationRunner;
}

export interface LocalChildExecution {
  readonly name: string;
  readonly partition: string;
  readonly from?: string;
  readonly to: string;
  readonly startedAtMs: number;
  endedAtMs?: number;
  status?: string;
  error?: { name: string; cause: string };
}

export interface RunExecutePlanLocallyOptions {
  readonly deps: ExecutePlanLocalDeps;
  readonly planId: string;
  /** Execution input `approval`; absent = the plan header's. */
  readonly approval?: boolean;
  /** A raw execution input instead of `{planId, approval}` (to exercise input validation). */
  readonly input?: unknown;
  /** @default `<planId>-<random>` */
  readonly executionName?: string;
  /** A definition synthesized earlier; @default synthesizeExecutePlanAsl(aslOptions) */
  readonly asl?: AslDefinition;
  readonly aslOptions?: ExecutePlanAslOptions;
  /** WaitForSlot waits this long instead of its seconds. @default 20 */
  readonly waitOverrideMs?: number;
  /** Pause before a Retry instead of the definition's backoff. @default 5 */
  readonly retryIntervalMs?: number;
  /** Where approvals arrive (`approvePlan` with this as the sender). @default a new one */
  readonly taskTokens?: LocalTaskTokens;
  /** The runner of one child (e.g. one with a fault armed for a single partition). @default deps.migrations */
  readonly migrationsFor?: (input: { partition: string; targetCell: string }) => LocalMigrationRunner;
  /** Called when a child starts, after the concurrency counters moved (tests act mid-run here). */
  readonly onChildStart?: (
    child: LocalChildExecution,
    running: readonly LocalChildExecution[],
  ) => void | Promise<void>;
}

export interface ExecutePlanLocalResult {
  /** Execution status: SUCCEEDED, or FAILED (a Fail state: PlanRejectedError, PlanFailedError, ...). */
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly cause: string };
  readonly executionArn: string;
  /** Most child migrations observed at once touching each cell (as source or target). */
  readonly maxConcurrentPerCell: Readonly<Record<string, number>>;
  /** Most child migrations observed at once overall. */
  readonly maxConcurrent: number;
  /** The child migrations of the whole chain, in start order. */
  readonly children: readonly LocalChildExecution[];
  /** The ExecutePlan executions of the chain: this one, then each continuation it (transitively) started. */
  readonly executions: readonly LocalPlanExecution[];
}

/** One ExecutePlan execution of a local run (the first, or a continuation). */
export interface LocalPlanExecution {
  readonly name: string;
  readonly input: unknown;
  /** The child migrations it started itself, by name. */
  readonly migrations: string[];
  status?: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { name: string; cause: string };
}

const validated = new WeakSet<AslDefinition>();

/**
 * Run ExecutePlan from its synthesized ASL with aws-local-stepfunctions: every Lambda Task bound to the real
 * step handler (the same middy handler the Lambda runs), the approval step waiting on `taskTokens`, each
 * `startExecution.sync:2` of MigratePartition running the real MigratePartition locally, and each continuation
 * (ExecutePlan's `startExecution.sync:2` of itself) running as a nested local run of the same definition. Never
 * rejects: the result says how the execution ended.
 */
export async function runExecutePlanLocally(
  options: RunExecutePlanLocallyOptions,
): Promise<ExecutePlanLocalResult> {
  const asl = options.asl ?? synthesizeExecutePlanAsl(options.aslOptions);
  const machine = new StateMachine(asl as never, {
    validationOptions: validated.has(asl) ? { noValidate: true } : { checkPaths: true, checkArn: true },
  });
  validated.add(asl);
  const executionName = options.executionName ?? `${options.planId}-${randomUUID().slice(0, 8)}`;
  const tokens = options.taskTokens ?? new LocalTaskTokens();

  const functions = Object.fromEntries(
    EXECUTE_PLAN_TASK_NAMES.map((task: ExecutePlanTaskName) => [
      task,
      createExecutePlanHandler(task, options.deps.steps),
    ]),
  );

  // Observed concurrency of the child migrations of the whole chain, per cell (source and target) and overall.
  let moves: Map<string, PlanMoveRecord> | undefined;
  const running = new Set<LocalChildExecution>();
  const children: LocalChildExecution[] = [];
  const executions: LocalPlanExecution[] = [];
  const perCell = new Map<string, number>();
  const maxPerCell: Record<string, number> = {};
  let maxConcurrent = 0;
  const cellsOf = (child: LocalChildExecution) => [
    ...new Set([child.from, child.to].filter((c) => c !== undefined)),
  ];

  const runChild = async (
    parent: LocalPlanExecution,
    input: unknown,
    name: string,
  ): Promise<LocalExecutionOutcome> => {
    const childInput = input as { partition: string; targetCell: string };
    moves ??= new Map(
      (await options.deps.steps.plans.allMoves(options.planId)).map((m) => [m.partition, m] as const),
    );
    const child: LocalChildExecution = {
      name,
      partition: childInput.partition,
      from: moves.get(childInput.partition)?.from,
      to: childInput.targetCell,
      startedAtMs: Date.now(),
    };
    children.push(child);
    parent.migrations.push(name);
    running.add(child);
    for (const cell of cellsOf(child)) {
      const n = (perCell.get(cell) ?? 0) + 1;
      perCell.set(cell, n);
      maxPerCell[cell] = Math.max(maxPerCell[cell] ?? 0, n);
    }
    maxConcurrent = Math.max(maxConcurrent, running.size);
    try {
      await options.onChildStart?.(child, [...running]);
      const runner = options.migrationsFor?.(childInput) ?? options.deps.migrations;
      let execution: { status: string; output?: unknown; error?: { name: string; cause: string } };
      try {
        runner.start(input, name);
        execution = await runner.wait(name);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'DUPLICATE_MIGRATION')
          throw namedError(
            'StepFunctions.ExecutionAlreadyExistsException',
            `Execution Already Exists: '${name}'`,
          );
        if (code === 'INVALID_MIGRATION')
          throw namedError('StepFunctions.InvalidExecutionInputException', (error as Error).message);
        throw error;
      }
      child.status = execution.status;
      if (execution.error) child.error = execution.error;
      return execution;
    } finally {
      child.endedAtMs = Date.now();
      running.delete(child);
      for (const cell of cellsOf(child)) perCell.set(cell, (perCell.get(cell) ?? 1) - 1);
    }
  };

  const retryIntervalMs = options.retryIntervalMs ?? 5;
  /** One ExecutePlan execution; its continuations run through here too (names are unique, as in AWS). */
  const runExecution = async (input: unknown, name: string): Promise<LocalPlanExecution> => {
    const self: LocalPlanExecution = { name, input, migrations: [] };
    if (executions.some((e) => e.name === name))
      throw namedError(
        'StepFunctions.ExecutionAlreadyExistsException',
        `Execution Already Exists: '${name}'`,
      );
    executions.push(self);
    const executionArn = localExecutionArn(LOCAL_EXECUTE_PLAN_ARN, name);
    const handlers = bindTaskStates(asl, {
      functions,
      stateMachines: {
        [LOCAL_MIGRATE_PARTITION_ARN]: (childInput, childName) => runChild(self, childInput, childName),
        [LOCAL_EXECUTE_PLAN_ARN]: async (childInput, childName) => {
          const continuation = await runExecution(childInput, childName);
          return {
            status: continuation.status ?? 'FAILED',
            output: continuation.output,
            ...(continuation.error ? { error: continuation.error } : {}),
          };
        },
      },
      taskTokens: tokens,
    });
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: { WaitForSlot: options.waitOverrideMs ?? 20 },
        retryIntervalOverrides: Object.fromEntries(Object.keys(handlers).map((s) => [s, retryIntervalMs])),
      },
      context: {
        Execution: { Id: executionArn, Name: name },
        Task: { Token: `${executionArn}#approval` },
      },
    });
    try {
      self.output = await execution.result;
      self.status = 'SUCCEEDED';
    } catch (error) {
      const cause = ((error as Error).cause as Error | undefined) ?? (error as Error);
      self.status = 'FAILED';
      self.error = { name: cause.name, cause: cause.message };
    }
    return self;
  };

  const input = options.input ?? {
    planId: options.planId,
    ...(options.approval !== undefined ? { approval: options.approval } : {}),
  };
  const top = await runExecution(input, executionName);
  return {
    status: top.status ?? 'FAILED',
    ...(top.status === 'SUCCEEDED' ? { output: top.output } : {}),
    ...(top.error ? { error: top.error } : {}),
    executionArn: localExecutionArn(LOCAL_EXECUTE_PLAN_ARN, executionName),
    maxConcurrentPerCell: maxPerCell,
    maxConcurrent,
    children,
    executions,
  };
}
