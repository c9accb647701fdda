import { ArnFormat, Duration, Names, Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  IntegrationPattern,
  type IStateMachine,
  JitterType,
  JsonPath,
  Map as MapState,
  Pass,
  type RetryProps,
  StateMachine,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  EXECUTE_PLAN_TASK_NAMES,
  EXECUTE_PLAN_TASKS,
  type ExecutePlanTaskName,
} from '../src/execute-plan/execute-plan-tasks.ts';
import { observedStateMachine, requireSteps } from './observed-state-machine.ts';

/** Entry file of each step Lambda, relative to the repository root (the CDK stack bundles one function each). */
export const EXECUTE_PLAN_STEP_ENTRIES = Object.fromEntries(
  EXECUTE_PLAN_TASK_NAMES.map((name) => [name, `functions/execute-plan/${EXECUTE_PLAN_TASKS[name].file}.ts`]),
) as Record<ExecutePlanTaskName, string>;

export interface ExecutePlanWorkflowProps {
  /** One Lambda per step (see EXECUTE_PLAN_TASKS). */
  readonly steps: Readonly<Record<ExecutePlanTaskName, IFunction>>;
  /** The MigratePartition state machine each move runs as a child execution. */
  readonly migratePartition: IStateMachine;
  /** Moves in flight per Map page, a static cap (per-cell limits are read at run time). @default 10 */
  readonly maxConcurrency?: number;
  /** Moves per page (Map items per iteration). @default 100 */
  readonly pageSize?: number;
  /**
   * Pages one execution runs before it continues in a child execution of itself (`startExecution.sync:2`), so
   * no execution nears the 25,000-event history limit. @default DEFAULT_PAGES_PER_EXECUTION (see its bound)
   */
  readonly pagesPerExecution?: number;
  /** How long a plan waits for approval before it EXPIRES. @default Duration.hours(24) */
  readonly approvalTimeout?: Duration;
  /** Time limit of one step invocation. @default Duration.minutes(1) */
  readonly taskTimeout?: Duration;
  /**
   * The state machine's name; its own ARN (which continuations start) is built from it, so the definition never
   * refers to the resource itself. @default a name unique in the account and region, from the construct path
   */
  readonly stateMachineName?: string;
  /** Where execution logs go (level ALL, with execution data). @default a new log group kept one month */
  readonly logGroup?: ILogGroup;
  /** @default true */
  readonly tracingEnabled?: boolean;
}

/**
 * History events of one execution (Standard executions hold at most 25,000), with P pages of S moves and W slot
 * waits in it: at most 40 per execution (input, approval, start, finish or continuation) + 13 per page (PageMoves,
 * the Map, the counter, the choice) + 20 per move (Map iteration, ReserveSlot, the choice, the child with
 * `.sync:2`, RecordOutcome) + 9 per slot wait (Wait, ReserveSlot, the choice). With one page of the default 100
 * moves that is 40 + 13 + 2,000 = 2,053 events, about 8% of the limit: the other ~22,900 take ~2,550 slot waits
 * (25 per move on average, 12.7 minutes of waiting per move at 30 s), enough for the drain of one cell at the
 * default limits with migrations of up to ~3 minutes (docs/execute-plan.md, "Limits and known weak points").
 */
export const DEFAULT_PAGES_PER_EXECUTION = 1;
export const HISTORY_EVENT_LIMIT = 25_000;

/** Upper bound on the history events of one ExecutePlan execution (see DEFAULT_PAGES_PER_EXECUTION). */
export function executionHistoryBound(options: {
  pagesPerExecution: number;
  pageSize: number;
  slotWaits: number;
}): number {
  return 40 + options.pagesPerExecution * (13 + 20 * options.pageSize) + 9 * options.slotWaits;
}

/** Values of the optional props when they are not given (each documented on its prop). */
const DEFAULTS = {
  maxConcurrency: 10,
  pageSize: 100,
  pagesPerExecution: DEFAULT_PAGES_PER_EXECUTION,
  approvalTimeout: Duration.hours(24),
  taskTimeout: Duration.minutes(1),
} as const;

/** Errors the Lambda service or a table throttle raise: retried with exponential backoff and jitter. */
const THROTTLE_RETRY: RetryProps = {
  errors: ['Lambda.TooManyRequestsException', 'StorageThrottledError'],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 8,
  maxDelay: Duration.seconds(30),
  jitterStrategy: JitterType.FULL,
};
/** Starting a child execution: the Step Functions API's transient errors and throttling. */
const START_EXECUTION_RETRY: RetryProps = {
  errors: ['StepFunctions.SdkClientException', 'StepFunctions.ThrottlingException'],
  interval: Duration.seconds(2),
  backoffRate: 2,
  maxAttempts: 5,
  jitterStrategy: JitterType.FULL,
};
const TIMEOUT_RETRY: RetryProps = {
  errors: ['States.Timeout'],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 2,
};

/**
 * ExecutePlan: runs a stored movement plan.
 *
 * ValidateInput → (approval: RequestApproval, a `lambda:invoke.waitForTaskToken` step that stores the token on
 * the plan and notifies the topic; rejected → REJECTED + Fail PlanRejectedError, timed out → EXPIRED + Fail
 * PlanExpiredError) → StartRun → pages of moves by priority (PageMoves) → a Map per page with MaxConcurrency,
 * whose items each reserve a per-cell slot against the limits in `limits#migration` (waiting while none is
 * free), start the child MigratePartition (`startExecution.sync:2`, deterministic name), and record the
 * outcome (a failed child never stops the others) → the plan's cold-copy drops (DropColdCopies, looped in pieces)
 * → FinishPlan (SUCCEEDED | PARTIAL | FAILED).
 *
 * After `pagesPerExecution` pages an execution continues in a child execution of itself (ContinueInChild,
 * `startExecution.sync:2`, named `<planId>-cont-<n>`) with `{planId, approval:false, resumeAfter, continuation}`,
 * waits for it and ends with its output; the continuation skips approval and StartRun, and the last execution of
 * the chain runs FinishPlan. So no history nears the 25,000-event limit however long the plan.
 *
 * Input: `{"planId", "approval"?}` (or a continuation's). Output: `{"planId","status","outcomes","moveCount"}`.
 */
export class ExecutePlanWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  /** This state machine by its name-built ARN (what its continuations start). */
  readonly selfReference: IStateMachine;

  constructor(scope: Construct, id: string, props: ExecutePlanWorkflowProps) {
    super(scope, id);
    this.validateProps(props);
    const maxConcurrency = props.maxConcurrency ?? DEFAULTS.maxConcurrency;
    const pageSize = props.pageSize ?? DEFAULTS.pageSize;
    const pagesPerExecution = props.pagesPerExecution ?? DEFAULTS.pagesPerExecution;
    const approvalTimeout = props.approvalTimeout ?? DEFAULTS.approvalTimeout;
    const taskTimeout = Timeout.duration(props.taskTimeout ?? DEFAULTS.taskTimeout);

    const step = (
      stateName: string,
      task: ExecutePlanTaskName,
      options: { payload?: Record<string, unknown>; resultPath?: string } = {},
    ) =>
      new LambdaInvoke(this, stateName, {
        lambdaFunction: props.steps[task],
        payloadResponseOnly: true,
        ...(options.payload ? { payload: TaskInput.fromObject(options.payload) } : {}),
        resultPath: options.resultPath,
        taskTimeout,
      })
        .addRetry(THROTTLE_RETRY)
        .addRetry(TIMEOUT_RETRY);

    // Any unexpected failure of the workflow itself: the plan is FAILED, the execution fails with the cause.
    const aborted = new Fail(this, 'Aborted', { error: 'PlanExecutionError', causePath: '$.error.Cause' });
    const abort = step('AbortPlan', 'AbortPlan', {
      payload: { planId: JsonPath.stringAt('$.planId'), error: JsonPath.objectAt('$.error') },
      resultPath: '$.abort',
    });
    abort.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 });
    abort.addCatch(aborted, { errors: ['States.ALL'], resultPath: JsonPath.DISCARD });
    abort.next(aborted);
    const catchAll = { errors: ['States.ALL'], resultPath: '$.error' };

    const validate = step('ValidateInput', 'ValidateInput', { resultPath: '$.plan' }).addCatch(
      new Fail(this, 'InvalidInput', { error: 'InvalidInputError', causePath: '$.error.Cause' }),
      { errors: ['InvalidEventError', 'InvalidPlanInputError'], resultPath: '$.error' },
    );
    validate.addCatch(abort, catchAll);

    // Approval by task token.
    const requestApproval = new LambdaInvoke(this, 'RequestApproval', {
      lambdaFunction: props.steps.RequestApproval,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        planId: JsonPath.stringAt('$.plan.planId'),
        taskToken: JsonPath.taskToken,
        executionArn: JsonPath.executionId,
      }),
      resultPath: '$.approval',
      taskTimeout: Timeout.duration(approvalTimeout),
    }).addRetry(THROTTLE_RETRY);
    const closeAs = (stateName: string, outcome: 'REJECTED' | 'EXPIRED', fail: Fail) =>
      step(stateName, 'CloseUnapproved', {
        payload: { planId: JsonPath.stringAt('$.plan.planId'), outcome, error: JsonPath.objectAt('$.error') },
        resultPath: '$.closed',
      })
        .addCatch(abort, catchAll)
        .next(fail);
    requestApproval.addCatch(
      closeAs(
        'MarkRejected',
        'REJECTED',
        new Fail(this, 'Rejected', { error: 'PlanRejectedError', causePath: '$.error.Cause' }),
      ),
      { errors: ['PlanRejectedError'], resultPath: '$.error' },
    );
    requestApproval.addCatch(
      closeAs(
        'MarkExpired',
        'EXPIRED',
        new Fail(this, 'Expired', {
          error: 'PlanExpiredError',
          cause: `nobody approved the plan within ${approvalTimeout.toHumanString()}`,
        }),
      ),
      { errors: ['States.Timeout', 'States.HeartbeatTimeout'], resultPath: '$.error' },
    );
    requestApproval.addCatch(abort, catchAll);

    const startRun = step('StartRun', 'StartRun', {
      payload: { planId: JsonPath.stringAt('$.plan.planId') },
      resultPath: '$.run',
    }).addCatch(abort, catchAll);

    // Pages of moves: the plan never travels whole through the state (256 KB payload limit). `$.pages` holds
    // the cursor and the pages this execution ran; a continuation starts after its parent's last cursor.
    const firstPage = new Pass(this, 'FirstPage', {
      parameters: { next: JsonPath.stringAt('$.plan.resumeAfter'), count: 0 },
      resultPath: '$.pages',
    });
    const pageMoves = step('PageMoves', 'PageMoves', {
      payload: {
        planId: JsonPath.stringAt('$.plan.planId'),
        after: JsonPath.stringAt('$.pages.next'),
        limit: pageSize,
      },
      resultPath: '$.page',
    }).addCatch(abort, catchAll);
    const pageDone = new Pass(this, 'PageDone', {
      parameters: {
        next: JsonPath.stringAt('$.page.next'),
        count: JsonPath.mathAdd(JsonPath.numberAt('$.pages.count'), 1),
      },
      resultPath: '$.pages',
    });

    // One move: slot → child migration → outcome. Every path ends in RecordOutcome, which releases the slot.
    const recordOutcome = step('RecordOutcome', 'RecordOutcome', { resultPath: '$' });
    recordOutcome.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 5,
      jitterStrategy: JitterType.FULL,
    });
    const reserveSlot = step('ReserveSlot', 'ReserveSlot', {
      payload: {
        move: JsonPath.objectAt('$.move'),
        lastWaitSeconds: JsonPath.numberAt('$.slot.waitSeconds'),
      },
      resultPath: '$.slot',
    }).addCatch(recordOutcome, { errors: ['States.ALL'], resultPath: '$.failure' });
    const waitForSlot = new Wait(this, 'WaitForSlot', { time: WaitTime.secondsPath('$.slot.waitSeconds') });
    const startMigration = new StepFunctionsStartExecution(this, 'StartMigration', {
      stateMachine: props.migratePartition,
      integrationPattern: IntegrationPattern.RUN_JOB,
      name: JsonPath.stringAt('$.move.childName'),
      input: TaskInput.fromObject({
        partition: JsonPath.stringAt('$.move.partition'),
        targetCell: JsonPath.stringAt('$.move.to'),
        canarySteps: JsonPath.listAt('$.move.canarySteps'),
        // A boolean: a JSONPath reference keeps the value's JSON type.
        retainSource: JsonPath.stringAt('$.move.retainSource'),
        moveId: JsonPath.stringAt('$.move.moveId'),
      }),
      // Keep the child's output out of the parent's state: only what the record needs.
      resultSelector: {
        executionArn: JsonPath.stringAt('$.ExecutionArn'),
        status: JsonPath.stringAt('$.Status'),
      },
      resultPath: '$.migration',
    })
      .addRetry(START_EXECUTION_RETRY)
      .addCatch(recordOutcome, { errors: ['States.ALL'], resultPath: '$.failure' });
    startMigration.next(recordOutcome);
    const skipped = new Pass(this, 'Skipped', {
      parameters: { partition: JsonPath.stringAt('$.move.partition'), outcome: 'SKIPPED' },
    });
    const moveChain: IChainable = reserveSlot.next(
      new Choice(this, 'SlotFree?')
        .when(Condition.stringEquals('$.slot.decision', 'start'), startMigration)
        .when(Condition.stringEquals('$.slot.decision', 'skip'), skipped)
        .otherwise(waitForSlot.next(reserveSlot)),
    );

    const runMoves = new MapState(this, 'RunMoves', {
      itemsPath: '$.page.moves',
      maxConcurrency,
      // `slot.waitSeconds` 0: the move has not waited yet (ReserveSlot doubles its wait while it keeps waiting).
      itemSelector: { move: JsonPath.objectAt('$$.Map.Item.Value'), slot: { waitSeconds: 0 } },
      resultPath: JsonPath.DISCARD,
    });
    runMoves.itemProcessor(moveChain);
    runMoves.addCatch(abort, catchAll);

    const finish = step('FinishPlan', 'FinishPlan', {
      payload: { planId: JsonPath.stringAt('$.plan.planId') },
      resultPath: '$.result',
    }).addCatch(abort, catchAll);
    finish.next(
      new Choice(this, 'PlanFailed?')
        .when(
          Condition.stringEquals('$.result.status', 'FAILED'),
          new Fail(this, 'PlanFailed', {
            error: 'PlanFailedError',
            cause: 'every move of the plan failed or rolled back; see the plan header and the moves',
          }),
        )
        .otherwise(new Succeed(this, 'Done', { outputPath: '$.result' })),
    );

    // The plan's cold-copy drops, after its moves: in pieces of one invocation's budget until done. A drop never
    // changes the plan's outcome: when its retries are spent, the run goes on to FinishPlan with the error in
    // `$.dropError` (the partition keeps the drop's fence until a recovery finishes it; see drop-cold-copies.ts).
    const firstDrop = new Pass(this, 'FirstDrop', {
      parameters: { next: 0, dropped: 0, gone: 0, busy: 0, itemsDeleted: 0 },
      resultPath: '$.drops',
    });
    const dropColdCopies = step('DropColdCopies', 'DropColdCopies', {
      payload: { planId: JsonPath.stringAt('$.plan.planId'), progress: JsonPath.objectAt('$.drops') },
      resultPath: '$.drops',
    });
    dropColdCopies.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 3,
      jitterStrategy: JitterType.FULL,
    });
    dropColdCopies.addCatch(finish, { errors: ['States.ALL'], resultPath: '$.dropError' });
    firstDrop
      .next(dropColdCopies)
      .next(
        new Choice(this, 'MoreDrops?')
          .when(Condition.booleanEquals('$.drops.done', false), dropColdCopies)
          .otherwise(finish),
      );

    // After pagesPerExecution pages, the rest of the plan runs in a child execution of this state machine (a
    // fresh history), which this one waits for and whose output (the plan result) it ends with. Only the last
    // execution of the chain runs FinishPlan.
    const stack = Stack.of(this);
    const stateMachineName =
      props.stateMachineName ?? Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    // Built from the name, not the resource: a definition referring to its own state machine is a cycle.
    this.selfReference = StateMachine.fromStateMachineArn(
      this,
      'Self',
      stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: stateMachineName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    const continuationFailed = new Fail(this, 'ContinuationFailed', {
      errorPath: '$.abort.error',
      causePath: '$.abort.cause',
    });
    const abortAfterContinuation = step('AbortAfterContinuation', 'AbortPlan', {
      payload: { planId: JsonPath.stringAt('$.plan.planId'), error: JsonPath.objectAt('$.error') },
      resultPath: '$.abort',
    });
    abortAfterContinuation.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 3,
    });
    abortAfterContinuation.addCatch(aborted, { errors: ['States.ALL'], resultPath: JsonPath.DISCARD });
    abortAfterContinuation.next(continuationFailed);
    const continueInChild = new StepFunctionsStartExecution(this, 'ContinueInChild', {
      stateMachine: this.selfReference,
      integrationPattern: IntegrationPattern.RUN_JOB,
      associateWithParent: true,
      name: JsonPath.stringAt('$.plan.nextContinuation.executionName'),
      input: TaskInput.fromObject({
        planId: JsonPath.stringAt('$.plan.planId'),
        approval: false,
        resumeAfter: JsonPath.stringAt('$.pages.next'),
        continuation: JsonPath.numberAt('$.plan.nextContinuation.continuation'),
      }),
      outputPath: '$.Output',
    })
      .addRetry(START_EXECUTION_RETRY)
      .addCatch(abortAfterContinuation, { errors: ['States.ALL'], resultPath: '$.error' });

    pageMoves
      .next(runMoves)
      .next(pageDone)
      .next(
        new Choice(this, 'MorePages?')
          .when(
            Condition.and(
              Condition.booleanEquals('$.page.hasMore', true),
              Condition.numberGreaterThanEquals('$.pages.count', pagesPerExecution),
            ),
            continueInChild,
          )
          .when(Condition.booleanEquals('$.page.hasMore', true), pageMoves)
          .otherwise(firstDrop),
      );
    const run = startRun.next(firstPage).next(pageMoves);
    requestApproval.next(startRun);
    const definition = validate.next(
      new Choice(this, 'Continuation?')
        // A continuation skips approval and StartRun: its plan is RUNNING already.
        .when(Condition.numberGreaterThan('$.plan.continuation', 0), firstPage)
        .otherwise(
          new Choice(this, 'ApprovalRequired?')
            .when(Condition.booleanEquals('$.plan.approval', true), requestApproval)
            .otherwise(run),
        ),
    );

    this.stateMachine = observedStateMachine(this, {
      definition,
      stateMachineName,
      logGroup: props.logGroup,
      tracingEnabled: props.tracingEnabled,
    });
  }

  /** Fail at synth, naming the prop and its bounds, rather than deploy a workflow that cannot run a plan. */
  private validateProps(props: ExecutePlanWorkflowProps): void {
    requireSteps('ExecutePlanWorkflow', EXECUTE_PLAN_TASK_NAMES, props.steps);
    const maxConcurrency = props.maxConcurrency ?? DEFAULTS.maxConcurrency;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 1000)
      throw new Error(
        `ExecutePlanWorkflow: maxConcurrency must be an integer from 1 to 1000, got ${maxConcurrency}`,
      );
    const pageSize = props.pageSize ?? DEFAULTS.pageSize;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
      throw new Error(`ExecutePlanWorkflow: pageSize must be an integer from 1 to 1000, got ${pageSize}`);
    const pagesPerExecution = props.pagesPerExecution ?? DEFAULTS.pagesPerExecution;
    if (!Number.isInteger(pagesPerExecution) || pagesPerExecution < 1 || pagesPerExecution > 1000)
      throw new Error(
        `ExecutePlanWorkflow: pagesPerExecution must be an integer from 1 to 1000, got ${pagesPerExecution}`,
      );
    const movesBound = executionHistoryBound({ pagesPerExecution, pageSize, slotWaits: 0 });
    if (movesBound > HISTORY_EVENT_LIMIT / 2)
      throw new Error(
        `ExecutePlanWorkflow: ${pagesPerExecution} pages of ${pageSize} moves take ~${movesBound} history events ` +
          `before any slot wait, over half the ${HISTORY_EVENT_LIMIT} an execution holds; lower pagesPerExecution or pageSize`,
      );
    const approvalTimeout = (props.approvalTimeout ?? DEFAULTS.approvalTimeout).toSeconds();
    if (approvalTimeout < 1 || approvalTimeout > 365 * 86_400)
      throw new Error('ExecutePlanWorkflow: approvalTimeout must be between 1 second and 1 year');
  }
}
