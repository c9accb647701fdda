import { randomUUID } from 'node:crypto';
import type { StateMachine } from 'aws-local-stepfunctions';
import { InvalidRequestError } from '../domain/data-plane/data-plane-errors.ts';
import type { FenceStage, MigrationStatus } from '../domain/migration/migration-stage.ts';
import { migrationInputSchema } from '../domain/migration/migration-state.ts';
import {
  MIGRATION_TASK_NAMES,
  MIGRATION_TASKS,
  type MigrationTaskName,
} from '../domain/migration/migration-tasks.ts';
import type { MigrationDeps } from '../migration/migration-deps.ts';
import { createStepHandler } from '../migration/step-handlers.ts';
import { type FaultInjector, faultError } from './fault-injector.ts';
import { bindTaskStates, localRunOverrides, localStateMachine } from './local-step-functions.ts';
import { type AslDefinition, synthesizeMigrationAsl } from './migration-asl.ts';

export interface LocalMigrationRunnerOptions {
  readonly deps: MigrationDeps;
  readonly faults?: FaultInjector;
  /** Wait states run this long instead of their seconds (safety waits are re-checked inside the steps). */
  readonly waitOverrideMs?: number;
  /** Pause before a Retry, instead of the definition's IntervalSeconds and backoff. */
  readonly retryIntervalMs?: number;
  /** Invoke every step twice in a row (idempotence check); the second result is used. */
  readonly runEachStepTwice?: boolean;
  /** Task timeout of the synthesized definition. @default 120 */
  readonly taskTimeoutSeconds?: number;
  /** A definition synthesized earlier (synthesis takes a second or two). */
  readonly asl?: AslDefinition;
  /**
   * Runs each step invocation (the nemesis wraps it in a StepFreezer, so work a step leaves pending freezes
   * like a Lambda sandbox and resumes at the next invocation of the same step).
   */
  readonly runInvocation?: (task: MigrationTaskName, invoke: () => Promise<unknown>) => Promise<unknown>;
  /** Called after each successful step invocation (tests use it to act at precise points). */
  readonly afterStep?: (
    task: MigrationTaskName,
    execution: MigrationExecution,
    result: unknown,
  ) => Promise<void>;
}

export interface MigrationExecution {
  readonly migrationId: string;
  readonly input: unknown;
  status: MigrationStatus;
  stage: FenceStage;
  /** Every stage entered, in order (a stage that ends between two polls is still reported). */
  readonly stages: FenceStage[];
  /** Wall instant (epoch ms) each of `stages` was entered: where a migration's time goes. */
  readonly stageEnteredAtMs: number[];
  readonly startedAt: string;
  endedAt?: string;
  error?: { name: string; cause: string };
  output?: unknown;
  invocations: number;
  /** Figures from the latest step results, for progress reports. */
  progress: MigrationProgress;
}

export interface MigrationProgress {
  itemsCopied?: number;
  catchUpRounds?: number;
  itemsCaughtUp?: number;
  verifyRounds?: number;
  readWeight?: number;
  finalItemsShipped?: number;
  itemsRemoved?: number;
  /** Set once a rollback ran: the stage that failed. */
  failedStage?: string;
}

function noteProgress(progress: MigrationProgress, task: MigrationTaskName, result: unknown): void {
  const r = (result ?? {}) as Record<string, unknown>;
  const num = (value: unknown) => (typeof value === 'number' ? value : undefined);
  if (task === 'Copy') progress.itemsCopied = num(r.itemsCopied);
  if (task === 'CatchUp') {
    progress.catchUpRounds = num(r.rounds);
    progress.itemsCaughtUp = num(r.itemsShipped);
  }
  if (task === 'Verify') progress.verifyRounds = num(r.rounds);
  if (task === 'ShiftReads') progress.readWeight = num(r.weight);
  if (task === 'CutoverSwitch') progress.finalItemsShipped = num(r.finalItemsShipped);
  if (task === 'RemoveSource') progress.itemsRemoved = num(r.itemsRemoved);
  if (task === 'Rollback' && typeof r.failedStage === 'string') progress.failedStage = r.failedStage;
}

/** How a MigratePartition execution ended, as its parent (ExecutePlan's `.sync` start) sees it. */
export type MigrationOutcome = Pick<MigrationExecution, 'status' | 'output' | 'error'>;

/**
 * What ExecutePlan needs of MigratePartition: start a child execution (validated at once: an `InvalidRequestError`
 * INVALID_MIGRATION or DUPLICATE_MIGRATION, as StartExecution answers) and wait for its end. The runner on this
 * thread and the one on a thread of its own (src/live/migration-thread.ts) both are one.
 */
export interface MigrationStarter {
  start(input: unknown, migrationId: string): unknown;
  /** Resolves when the execution has ended (never rejects). */
  wait(migrationId: string): Promise<MigrationOutcome>;
}

/** The input check StartExecution makes; throws INVALID_MIGRATION naming the field. */
export function validateMigrationInput(input: unknown): void {
  const parsed = migrationInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidRequestError('INVALID_MIGRATION', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
}

/**
 * Runs the synthesized MigratePartition definition with aws-local-stepfunctions: each Task state bound to the
 * real step handler (the same middy handler the Lambda runs), Wait states shortened, faults injected per stage.
 */
export class LocalMigrationRunner implements MigrationStarter {
  readonly asl: AslDefinition;
  private readonly machine: StateMachine;
  private readonly options: LocalMigrationRunnerOptions;
  private readonly handlers: Record<MigrationTaskName, (event: unknown) => Promise<unknown>>;
  private readonly executions = new Map<
    string,
    { execution: MigrationExecution; done: Promise<MigrationExecution> }
  >();

  constructor(options: LocalMigrationRunnerOptions) {
    this.options = options;
    this.asl = options.asl ?? synthesizeMigrationAsl({ taskTimeoutSeconds: options.taskTimeoutSeconds });
    this.machine = localStateMachine(this.asl);
    this.handlers = Object.fromEntries(
      MIGRATION_TASK_NAMES.map((name) => [name, createStepHandler(name, options.deps)]),
    ) as Record<MigrationTaskName, (event: unknown) => Promise<unknown>>;
  }

  /** The data plane the migrations run against (ExecutePlan's cold-copy drops use the same). */
  get deps(): MigrationDeps {
    return this.options.deps;
  }

  /** Start one migration; returns at once. The input is validated first (a 400 for the admin API). */
  start(input: unknown, migrationId = `mig-${randomUUID()}`): MigrationExecution {
    validateMigrationInput(input);
    if (this.executions.has(migrationId)) {
      throw new InvalidRequestError('DUPLICATE_MIGRATION', `migration '${migrationId}' already exists`);
    }
    const execution: MigrationExecution = {
      migrationId,
      input,
      status: 'RUNNING',
      stage: 'acquire',
      stages: ['acquire'],
      stageEnteredAtMs: [Date.now()],
      startedAt: new Date().toISOString(),
      invocations: 0,
      progress: {},
    };
    // Each step's Lambda is named after its task in the synthesized definition (see localStepArn).
    const steps = Object.fromEntries(
      MIGRATION_TASK_NAMES.map((name) => [name, (event: unknown) => this.invoke(execution, name, event)]),
    );
    const run = this.machine.run(input as never, {
      overrides: localRunOverrides(this.asl, bindTaskStates(this.asl, { functions: steps }), {
        waitMs: this.options.waitOverrideMs,
        retryIntervalMs: this.options.retryIntervalMs,
      }),
      context: { Execution: { Name: migrationId } },
    });
    const done = run.result.then(
      (output) => {
        execution.status = 'SUCCEEDED';
        execution.output = output;
        execution.endedAt = new Date().toISOString();
        return execution;
      },
      (error: Error) => {
        const cause = (error.cause as Error | undefined) ?? error;
        execution.status = cause.name === 'MigrationRolledBackError' ? 'ROLLED_BACK' : 'FAILED';
        execution.error = {
          name: cause.name,
          cause: (cause as { cause?: unknown }).cause
            ? String((cause as { cause?: unknown }).cause)
            : cause.message,
        };
        execution.endedAt = new Date().toISOString();
        return execution;
      },
    );
    this.executions.set(migrationId, { execution, done });
    return execution;
  }

  get(migrationId: string): MigrationExecution | undefined {
    return this.executions.get(migrationId)?.execution;
  }

  list(): MigrationExecution[] {
    return [...this.executions.values()].map((e) => e.execution);
  }

  /** Resolves when the execution has ended (never rejects). */
  async wait(migrationId: string): Promise<MigrationExecution> {
    const entry = this.executions.get(migrationId);
    if (!entry) throw new InvalidRequestError('UNKNOWN_MIGRATION', `no migration '${migrationId}'`);
    return entry.done;
  }

  private async invoke(
    execution: MigrationExecution,
    task: MigrationTaskName,
    event: unknown,
  ): Promise<unknown> {
    const { stage } = MIGRATION_TASKS[task];
    if (execution.stage !== stage) {
      execution.stages.push(stage);
      execution.stageEnteredAtMs.push(Date.now());
    }
    execution.stage = stage;
    execution.invocations += 1;
    const fault = task === 'Rollback' ? undefined : this.options.faults?.take(stage);
    if (fault === 'error' || fault === 'throttle') throw faultError(fault, stage);
    if (fault === 'timeout') {
      const timeoutSeconds = (this.asl.States[task] as { TimeoutSeconds?: number }).TimeoutSeconds ?? 60;
      await new Promise((resolve) => setTimeout(resolve, timeoutSeconds * 1000 + 100));
      // Step Functions has given up on this invocation by now; like a live Lambda, it does its work anyway.
    }
    const handler = this.handlers[task];
    const run = this.options.runInvocation;
    const once = () => (run ? run(task, () => handler(event)) : handler(event));
    let result = await once();
    if (this.options.runEachStepTwice) {
      execution.invocations += 1;
      result = await once();
    }
    if (fault !== 'timeout') {
      noteProgress(execution.progress, task, result);
      await this.options.afterStep?.(task, execution, result);
    }
    return result;
  }
}
