import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  Fail,
  JitterType,
  JsonPath,
  Pass,
  Result,
  type RetryProps,
  type StateMachine,
  Succeed,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  REFUSAL_ERRORS,
  RETRYABLE_THROTTLE_ERRORS,
  RETRYABLE_WAIT_ERRORS,
} from '../src/domain/migration/migration-errors.ts';
import {
  MIGRATION_TASK_NAMES,
  MIGRATION_TASKS,
  type MigrationTaskName,
} from '../src/domain/migration/migration-tasks.ts';
import { observedStateMachine, requireSteps } from './observed-state-machine.ts';

/** Entry file of each MigratePartition step Lambda, relative to the repository root. */
export const MIGRATION_STEP_ENTRIES = Object.fromEntries(
  MIGRATION_TASK_NAMES.map((name) => [name, `functions/migrate-partition/${MIGRATION_TASKS[name].file}.ts`]),
) as Record<MigrationTaskName, string>;

/** One Lambda per MigratePartition Task state (see MIGRATION_TASKS for what each does). */
export type MigrationStepFunctions = Readonly<Record<MigrationTaskName, IFunction>>;

export interface MigratePartitionWorkflowProps {
  /** The step handlers, one per Task state. */
  readonly steps: MigrationStepFunctions;
  /**
   * Time limit of one step invocation. Keep it above the Lambdas' own timeout, so a timed-out step is a dead
   * Lambda rather than a live zombie (zombies are safe anyway, see docs/migration.md, but cost work).
   * @default Duration.minutes(2)
   */
  readonly taskTimeout?: Duration;
  /** @default a generated name */
  readonly stateMachineName?: string;
  /**
   * Where execution logs go (level ALL, with execution data).
   * @default a new log group retained for one month
   */
  readonly logGroup?: ILogGroup;
  /** @default true */
  readonly tracingEnabled?: boolean;
}

/** Time limit of one step invocation when taskTimeout is not given. */
const DEFAULT_TASK_TIMEOUT = Duration.minutes(2);

const THROTTLE_RETRY: RetryProps = {
  errors: [...RETRYABLE_THROTTLE_ERRORS],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 6,
  maxDelay: Duration.seconds(20),
  jitterStrategy: JitterType.FULL,
};
const WAIT_RETRY: RetryProps = {
  errors: [...RETRYABLE_WAIT_ERRORS],
  interval: Duration.seconds(2),
  backoffRate: 1,
  maxAttempts: 60,
};
const TIMEOUT_RETRY: RetryProps = {
  errors: ['States.Timeout'],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 2,
};

/**
 * MigratePartition: the staged, fenced migration of one partition to a target cell.
 *
 * acquire → createReplica → copy (looped, bounded pages with a cursor) → catchUp (looped until the lag is
 * small) → verify (looped: checksums per range, repair only differing ranges) → shiftReads (per canary step:
 * shift, Wait, health check) → cutover (fence, Wait out routing leases, final catch-up (looped) and switch) →
 * removeSource (looped) or retain → commit. Any failure goes to Rollback (re-entrant, with its own Wait for a
 * reverse cutover), which ends in the MigrationRolledBackError Fail state. A refused `acquire` (another
 * migration holds the fence, bad target) fails without touching anything.
 *
 * Input: `{"partition","targetCell","canarySteps"?,"waitSeconds"?,"retainSource"?,"moveId"?}`.
 */
export class MigratePartitionWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: MigratePartitionWorkflowProps) {
    super(scope, id);
    this.validateProps(props);
    const taskTimeout = props.taskTimeout ?? DEFAULT_TASK_TIMEOUT;

    const task = (name: MigrationTaskName, resultPath: string) =>
      new LambdaInvoke(this, name, {
        lambdaFunction: props.steps[name],
        payloadResponseOnly: true,
        resultPath,
        taskTimeout: Timeout.duration(taskTimeout),
      })
        .addRetry(THROTTLE_RETRY)
        .addRetry(WAIT_RETRY)
        .addRetry(TIMEOUT_RETRY);

    const rollback = task('Rollback', '$.rollback');
    rollback.addRetry({
      errors: ['States.ALL'],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 5,
    });
    const rolledBack = new Fail(this, 'RolledBack', {
      error: 'MigrationRolledBackError',
      causePath: JsonPath.stringAt('$.rollback.reason'),
    });
    const rollbackWait = new Wait(this, 'RollbackWait', {
      time: WaitTime.secondsPath('$.rollback.waitSeconds'),
    });
    const rolledBackWait = new Wait(this, 'RolledBackLeaseWait', {
      time: WaitTime.secondsPath('$.rollback.waitSeconds'),
    });
    rollback.next(
      new Choice(this, 'RollbackDone?')
        .when(Condition.booleanEquals('$.rollback.done', false), rollbackWait.next(rollback))
        .when(Condition.numberGreaterThan('$.rollback.waitSeconds', 0), rolledBackWait.next(rolledBack))
        .otherwise(rolledBack),
    );

    // Each Task's failure passes through a Pass state that names the failed stage for the rollback record.
    const failedAt = new Map<string, Pass>();
    const failed = (name: MigrationTaskName) => {
      const stage = MIGRATION_TASKS[name].stage;
      let pass = failedAt.get(stage);
      if (!pass) {
        pass = new Pass(this, `Failed:${stage}`, {
          result: Result.fromString(stage),
          resultPath: '$.failedStage',
        });
        pass.next(rollback);
        failedAt.set(stage, pass);
      }
      return pass;
    };
    const guarded = (name: MigrationTaskName, resultPath: string) =>
      task(name, resultPath).addCatch(failed(name), { errors: ['States.ALL'], resultPath: '$.error' });

    const prepare = new Pass(this, 'Prepare', {
      parameters: {
        input: JsonPath.entirePayload,
        migrationId: JsonPath.stringAt('$$.Execution.Name'),
        startedAt: JsonPath.stringAt('$$.Execution.StartTime'),
      },
    });
    const acquire = task('Acquire', '$.acquire')
      .addCatch(new Fail(this, 'Refused', { errorPath: '$.error.Error', causePath: '$.error.Cause' }), {
        errors: [...REFUSAL_ERRORS],
        resultPath: '$.error',
      })
      .addCatch(failed('Acquire'), { errors: ['States.ALL'], resultPath: '$.error' });
    const createReplica = guarded('CreateReplica', '$.replica');
    const copy = guarded('Copy', '$.copy');
    const catchUp = guarded('CatchUp', '$.catchUp');
    const verify = guarded('Verify', '$.verify');
    const shiftReads = guarded('ShiftReads', '$.shift');
    const canaryWait = new Wait(this, 'CanaryWait', { time: WaitTime.secondsPath('$.shift.waitSeconds') });
    const canaryHealth = guarded('CanaryHealth', '$.health');
    const cutoverFence = guarded('CutoverFence', '$.cutover');
    const leaseWait = new Wait(this, 'LeaseWait', { time: WaitTime.secondsPath('$.cutover.waitSeconds') });
    const cutoverSwitch = guarded('CutoverSwitch', '$.cutover');
    const removeSource = guarded('RemoveSource', '$.remove');
    const commit = guarded('Commit', '$.commit');

    commit.next(new Succeed(this, 'Committed'));
    removeSource.next(
      new Choice(this, 'SourceRemoved?')
        .when(Condition.booleanEquals('$.remove.done', true), commit)
        .otherwise(removeSource),
    );
    cutoverFence
      .next(leaseWait)
      .next(cutoverSwitch)
      .next(
        new Choice(this, 'Switched?')
          .when(Condition.booleanEquals('$.cutover.switched', true), removeSource)
          .otherwise(cutoverSwitch),
      );
    shiftReads
      .next(canaryWait)
      .next(canaryHealth)
      .next(
        new Choice(this, 'ReadsShifted?')
          .when(Condition.booleanEquals('$.shift.done', true), cutoverFence)
          .otherwise(shiftReads),
      );
    verify.next(
      new Choice(this, 'Verified?')
        .when(Condition.booleanEquals('$.verify.clean', true), shiftReads)
        .otherwise(verify),
    );
    catchUp.next(
      new Choice(this, 'CaughtUp?')
        .when(Condition.booleanEquals('$.catchUp.caughtUp', true), verify)
        .otherwise(catchUp),
    );
    copy.next(
      new Choice(this, 'Copied?').when(Condition.booleanEquals('$.copy.done', true), catchUp).otherwise(copy),
    );
    createReplica.next(
      new Choice(this, 'DeltaOnly?')
        .when(Condition.stringEquals('$.replica.mode', 'delta'), catchUp)
        .otherwise(copy),
    );
    const definition = prepare.next(acquire).next(createReplica);

    this.stateMachine = observedStateMachine(this, {
      definition,
      stateMachineName: props.stateMachineName,
      logGroup: props.logGroup,
      tracingEnabled: props.tracingEnabled,
    });
  }

  /** Fail at synth, naming the prop, rather than deploy a workflow that cannot run. */
  private validateProps(props: MigratePartitionWorkflowProps): void {
    requireSteps('MigratePartitionWorkflow', MIGRATION_TASK_NAMES, props.steps);
    if ((props.taskTimeout ?? DEFAULT_TASK_TIMEOUT).toSeconds() < 1)
      throw new Error('MigratePartitionWorkflow: taskTimeout must be at least 1 second');
  }
}
