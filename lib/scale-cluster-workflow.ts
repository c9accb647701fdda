import {
  Choice,
  Condition,
  Fail,
  type IChainable,
  JsonPath,
  Pass,
  type StateMachine,
  Succeed,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  SCALE_CLUSTER_TASK_NAMES,
  SCALE_CLUSTER_TASKS,
  type ScaleClusterTaskName,
} from '../src/scaling/scale-cluster-tasks.ts';
import { observedStateMachine, requireSteps } from './observed-state-machine.ts';
import type { ScaleClusterBranchContext } from './scale-cluster-branch-context.ts';
import { buildScaleIn } from './scale-cluster-scale-in.ts';
import { buildScaleOut } from './scale-cluster-scale-out.ts';
import { CellSdkCalls, ScalingFailurePath, ScalingLambdaTasks } from './scale-cluster-states.ts';
import {
  DEFAULTS,
  type ScaleClusterWorkflowProps,
  validateNamePrefixes,
  validateRegions,
  validateWaitLimits,
} from './scale-cluster-workflow-props.ts';

export type { ScaleClusterStepFunctions, ScaleClusterWorkflowProps } from './scale-cluster-workflow-props.ts';

/** Entry file of each ScaleCluster step Lambda, relative to the repository root. */
export const SCALE_CLUSTER_STEP_ENTRIES: Readonly<Record<ScaleClusterTaskName, string>> = Object.fromEntries(
  SCALE_CLUSTER_TASK_NAMES.map((name) => [
    name,
    `functions/scale-cluster/${SCALE_CLUSTER_TASKS[name].entry}.ts`,
  ]),
) as Record<ScaleClusterTaskName, string>;

/** The planner's entry file (it serves `{trigger:'scaling',…}` for ScaleCluster). */
export const PLANNER_ENTRY = 'functions/planner/handler.ts';

/**
 * ScaleCluster: add cells to a region (scale-out) or remove one (scale-in), safely and one region at a time.
 *
 * Prepare → ParseRequest (InvalidInputError) → AcquireLock (cooldown → Succeed "SkippedCooldown"; lock held →
 * Fail ScalingInProgressError) → by action:
 * - scale-out: RegisterCells (PROVISIONING) → ProvisionTables (Map over the cells: Choice on region →
 *   CreateTable, Wait/DescribeTable until ACTIVE, UpdateContinuousBackups (PITR), UpdateTimeToLive, then
 *   PutMetricAlarm for the cell's capacity and canary alarms, the data stack's definitions) →
 *   MarkCellsActive (MigratePartition moves only into ACTIVE cells) → planner (`{trigger:'scaling',
 *   action:'scale-out'}` → `{planId, moveCount}`; it plans the new cells as PROVISIONING, so they fill first) →
 *   ExecutePlan (`startExecution.sync:2`, skipped for an empty plan) → CompleteScaling (cooldown, lock
 *   released) → ScaledOut;
 * - scale-in: MarkDraining → rounds of planner (drain by predicted demand) → ExecutePlan → VerifyDrained
 *   (DrainIncompleteError after the last round) → Choice on region → CreateBackup, Wait/DescribeBackup until
 *   AVAILABLE → DeleteTable → DeleteAlarms (the cell's two alarms) → MarkRetired → CompleteScaling → ScaledIn.
 * Every failure after the lock passes a Pass that names the stage, then AbortScaling (cell statuses made
 * consistent, lock released), then a Fail that keeps the error's name.
 *
 * Input: a `CloudWatch Alarm State Change` event, `{"action":"scale-out","region","cells"}` or
 * `{"action":"scale-in","cellId"}` (see src/scaling/scaling-request.ts and docs/scaling.md).
 */
export class ScaleClusterWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  private readonly lambdaTasks: ScalingLambdaTasks;

  constructor(scope: Construct, id: string, props: ScaleClusterWorkflowProps) {
    super(scope, id);
    this.validateProps(props);
    const stepTimeout = Timeout.duration(props.stepTimeout ?? DEFAULTS.stepTimeout);
    const failurePath = new ScalingFailurePath(this, props.steps.AbortScaling, stepTimeout);
    this.lambdaTasks = new ScalingLambdaTasks(this, {
      steps: props.steps,
      planner: props.planner,
      executePlan: props.executePlan,
      stepTimeout,
      plannerTimeout: Timeout.duration(props.plannerTimeout ?? DEFAULTS.plannerTimeout),
    });
    const cellSdkCalls = new CellSdkCalls(this, {
      homeRegion: props.homeRegion,
      cellTablePrefix: props.cellTablePrefix,
      cellKeyAlias: props.cellKeyAlias ?? DEFAULTS.cellKeyAlias,
    });
    const branchContext: ScaleClusterBranchContext = {
      scope: this,
      props,
      regions: [props.homeRegion, ...props.dataRegions.filter((r) => r !== props.homeRegion)],
      failurePath,
      lambdaTasks: this.lambdaTasks,
      cellSdkCalls,
    };
    // Scale-out before scale-in: CDK adds each cross-region call's IAM statement to one shared Lambda's role in
    // the order the calls are built, so this order keeps the synthesized policy what it has always been.
    const scaleOut = buildScaleOut(branchContext);
    const scaleIn = buildScaleIn(branchContext);
    this.stateMachine = observedStateMachine(this, {
      definition: this.buildEntry(scaleOut, scaleIn),
      stateMachineName: props.stateMachineName,
      timeout: props.timeout ?? DEFAULTS.timeout,
      logGroup: props.logGroup,
      tracingEnabled: props.tracingEnabled,
    });
  }

  /** Fail at synth, naming the prop and what it must be, rather than deploy a workflow that cannot work. */
  private validateProps(props: ScaleClusterWorkflowProps): void {
    requireSteps('ScaleClusterWorkflow', SCALE_CLUSTER_TASK_NAMES, props.steps);
    validateRegions(props);
    validateNamePrefixes(props);
    validateWaitLimits(props);
  }

  /** Prepare → ParseRequest → AcquireLock → by action (or SkippedCooldown). */
  private buildEntry(scaleOut: IChainable, scaleIn: IChainable): IChainable {
    const prepare = new Pass(this, 'Prepare', {
      parameters: {
        input: JsonPath.entirePayload,
        execution: {
          name: JsonPath.stringAt('$$.Execution.Name'),
          id: JsonPath.stringAt('$$.Execution.Id'),
          startTime: JsonPath.stringAt('$$.Execution.StartTime'),
        },
      },
    });
    const parse = this.lambdaTasks
      .step('ParseRequest', 'ParseRequest', '$.request')
      .addCatch(new Fail(this, 'InvalidInput', { error: 'InvalidInputError', causePath: '$.error.Cause' }), {
        errors: ['InvalidScalingRequestError', 'InvalidEventError'],
        resultPath: '$.error',
      });
    const acquire = this.lambdaTasks
      .step('AcquireLock', 'AcquireLock', '$.guard')
      .addCatch(
        new Fail(this, 'ScalingInProgress', { error: 'ScalingInProgressError', causePath: '$.error.Cause' }),
        { errors: ['ScalingInProgressError'], resultPath: '$.error' },
      );
    return prepare
      .next(parse)
      .next(acquire)
      .next(
        new Choice(this, 'Action?')
          .when(Condition.booleanEquals('$.guard.acquired', false), new Succeed(this, 'SkippedCooldown'))
          .when(Condition.stringEquals('$.request.action', 'scale-out'), scaleOut)
          .otherwise(scaleIn),
      );
  }
}
