import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Duration } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { StateMachine as CdkStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { ExecutePlanWorkflow } from '../../lib/execute-plan-workflow.ts';
import { DynamoMigrationSlots } from '../adapters/dynamodb/migration-slots.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import type { PlanMoveRecord } from '../domain/planning/plan-record.ts';
import type { ApprovalNotifier } from '../domain/planning/ports.ts';
import {
  DEFAULT_EXECUTE_PLAN_SETTINGS,
  type ExecutePlanDeps,
  type ExecutePlanSettings,
} from '../execute-plan/execute-plan-deps.ts';
import { createExecutePlanHandler } from '../execute-plan/execute-plan-handlers.ts';
import { EXECUTE_PLAN_TASK_NAMES, type ExecutePlanTaskName } from '../execute-plan/execute-plan-tasks.ts';
import type { ColdCopyGcDeps } from '../migration/cold-copy-gc.ts';
import type { MetricName, MetricsSink, MetricUnit } from '../support/metrics.ts';
import { LocalMigrationRunner, type MigrationStarter } from './local-migration-runner.ts';
import {
  bindTaskStates,
  executionFailure,
  type LocalExecutionOutcome,
  LocalTaskTokens,
  localRunOverrides,
  localStateMachine,
  namedError,
} from './local-step-functions.ts';
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

export interface LocalExecutePlanDepsOptions {
  /** Client of the home-region dynalite holding the plans and coordination tables. */
  readonly documents: DynamoDBDocumentClient;
  readonly plansTable: string;
  readonly coordinationTable: string;
  readonly migrations: MigrationStarter;
  /** @default the deployment default of 2 */
  readonly maxConcurrentMovesPerCell?: number;
  readonly settings?: Partial<ExecutePlanSettings>;
  /** @default a recorder (see RecordingMetrics) */
  readonly metrics?: MetricsSink;
  readonly notifier?: ApprovalNotifier;
  /** The data plane DropColdCopies deletes copies in. @default the migration runner's, when it runs in this thread */
  readonly coldCopies?: ColdCopyGcDeps;
}

/** DropColdCopies runs against the same data plane as the child migrations. */
function coldCopyStore(options: LocalExecutePlanDepsOptions): { coldCopies?: ColdCopyGcDeps } {
  if (options.coldCopies) return { coldCopies: options.coldCopies };
  if (!(options.migrations instanceof LocalMigrationRunner)) return {};
  const { partitions, stores } = options.migrations.deps;
  return { coldCopies: { partitions, stores, nowMs: Date.now } };
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
      ...coldCopyStore(options),
    },
    migrations: options.migrations,
  };
}

/** Dependencies of a local ExecutePlan run. */
export interface ExecutePlanLocalDeps {
  /** What the real step handlers run against (dynalite tables, a recording metrics sink...). */
  readonly steps: ExecutePlanDeps;
  /** Runs the child MigratePartition executions (the real migration steps against dynalite). */
  readonly migrations: MigrationStarter;
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
  /** Wait states (WaitForSlot) wait this long instead of their seconds. @default 20 */
  readonly waitOverrideMs?: number;
  /** Pause before a Retry instead of the definition's backoff. @default 5 */
  readonly retryIntervalMs?: number;
  /** Where approvals arrive (`approvePlan` with this as the sender). @default a new one */
  readonly taskTokens?: LocalTaskTokens;
  /** The runner of one child (e.g. one with a fault armed for a single partition). @default deps.migrations */
  readonly migrationsFor?: (input: { partition: string; targetCell: string }) => MigrationStarter;
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
  const machine = localStateMachine(asl);
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
      overrides: localRunOverrides(asl, handlers, {
        waitMs: options.waitOverrideMs ?? 20,
        retryIntervalMs: options.retryIntervalMs ?? 5,
      }),
      context: {
        Execution: { Id: executionArn, Name: name },
        Task: { Token: `${executionArn}#approval` },
      },
    });
    try {
      self.output = await execution.result;
      self.status = 'SUCCEEDED';
    } catch (error) {
      self.status = 'FAILED';
      self.error = executionFailure(error);
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
