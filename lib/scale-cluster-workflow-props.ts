import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { isRegionName } from '../src/domain/region-name.ts';
import type { ScaleClusterTaskName } from '../src/scaling/scale-cluster-tasks.ts';

/**
 * The props of ScaleClusterWorkflow, their defaults, and the checks that fail synth on props that cannot work.
 */

export type ScaleClusterStepFunctions = Readonly<Record<ScaleClusterTaskName, IFunction>>;

export interface ScaleClusterWorkflowProps {
  /** The step handlers, one per step name (SetCellStatus serves three Task states). */
  readonly steps: ScaleClusterStepFunctions;
  /** The planner Lambda, invoked synchronously with `{trigger:'scaling', action, region, cellIds}`. */
  readonly planner: IFunction;
  /** ExecutePlan, run with `startExecution.sync:2` and `{planId, approval:false}`. */
  readonly executePlan: IStateMachine;
  /** Region of the control plane (and of this state machine): its cell tables use the direct SDK integration. */
  readonly homeRegion: string;
  /** Regions with cell tables; those other than the home region go through CallAwsServiceCrossRegion. */
  readonly dataRegions: readonly string[];
  /** A cell's table is `<cellTablePrefix><cellId>`; IAM is scoped to this prefix. */
  readonly cellTablePrefix: string;
  /**
   * A cell's capacity alarm is `<capacityAlarmPrefix><cellId>`: scale-out creates it for each new cell (the
   * definition comes with the request, from ParseRequest), scale-in deletes it; IAM is scoped to this prefix.
   */
  readonly capacityAlarmPrefix: string;
  /** A cell's canary alarm is `<canaryAlarmPrefix><cellId>`; created and deleted like the capacity alarm. */
  readonly canaryAlarmPrefix: string;
  /**
   * KMS key alias for the SSE of new cell tables; the data stack of every region must define it.
   * @default 'alias/prestage-cell-data'
   */
  readonly cellKeyAlias?: string;
  /**
   * Where execution logs go (level ALL, with execution data).
   * @default a new log group retained for one month
   */
  readonly logGroup?: ILogGroup;
  /** @default a generated name */
  readonly stateMachineName?: string;
  /** Time limit of one execution (a large plan runs inside it). @default Duration.hours(24) */
  readonly timeout?: Duration;
  /** Pause between DescribeTable calls while a new table is created. @default Duration.seconds(10) */
  readonly tableWait?: Duration;
  /** DescribeTable calls before TableCreationTimeoutError. @default 90 */
  readonly maxTableWaits?: number;
  /** Pause between DescribeBackup calls. @default Duration.seconds(30) */
  readonly backupWait?: Duration;
  /** DescribeBackup calls before BackupTimeoutError. @default 240 */
  readonly maxBackupWaits?: number;
  /** Time limit of one step Lambda invocation. @default Duration.minutes(2) */
  readonly stepTimeout?: Duration;
  /** Time limit of one planner invocation. @default Duration.minutes(6) */
  readonly plannerTimeout?: Duration;
  /** @default true */
  readonly tracingEnabled?: boolean;
}

/** Values of the optional props when they are not given (each documented on its prop). */
export const DEFAULTS = {
  cellKeyAlias: 'alias/prestage-cell-data',
  timeout: Duration.hours(24),
  tableWait: Duration.seconds(10),
  maxTableWaits: 90,
  backupWait: Duration.seconds(30),
  maxBackupWaits: 240,
  stepTimeout: Duration.minutes(2),
  plannerTimeout: Duration.minutes(6),
} as const;

/** A cell table name starts with the prefix: DynamoDB's table name characters, with room for the cell id. */
const CELL_TABLE_PREFIX = /^[A-Za-z0-9_.-]{1,200}$/;
/** An alarm name starts with the prefix, and IAM is scoped to `alarm:<prefix>*`: no wildcard or space in it. */
const ALARM_PREFIX = /^[A-Za-z0-9_.:/-]{1,200}$/;

export function validateRegions(props: ScaleClusterWorkflowProps): void {
  if (!isRegionName(props.homeRegion))
    throw new Error(`ScaleClusterWorkflow: homeRegion '${props.homeRegion}' is not an AWS region name`);
  for (const region of props.dataRegions) {
    if (!isRegionName(region))
      throw new Error(`ScaleClusterWorkflow: dataRegions has '${region}', which is not an AWS region name`);
  }
}

/** The prefixes name resources created at run time, and IAM is scoped to them. */
export function validateNamePrefixes(props: ScaleClusterWorkflowProps): void {
  if (!CELL_TABLE_PREFIX.test(props.cellTablePrefix))
    throw new Error(
      `ScaleClusterWorkflow: cellTablePrefix '${props.cellTablePrefix}' must be 1–200 of [A-Za-z0-9_.-] (it starts DynamoDB table names)`,
    );
  for (const [name, prefix] of [
    ['capacityAlarmPrefix', props.capacityAlarmPrefix],
    ['canaryAlarmPrefix', props.canaryAlarmPrefix],
  ] as const) {
    if (!ALARM_PREFIX.test(prefix))
      throw new Error(
        `ScaleClusterWorkflow: ${name} '${prefix}' must be 1–200 of [A-Za-z0-9_.:/-] (it starts alarm names, and IAM is scoped to it)`,
      );
  }
  if (
    props.capacityAlarmPrefix.startsWith(props.canaryAlarmPrefix) ||
    props.canaryAlarmPrefix.startsWith(props.capacityAlarmPrefix)
  )
    throw new Error(
      `ScaleClusterWorkflow: capacityAlarmPrefix '${props.capacityAlarmPrefix}' and canaryAlarmPrefix '${props.canaryAlarmPrefix}' must not be prefixes of each other (capacity alarms start ScaleCluster by prefix)`,
    );
}

export function validateWaitLimits(props: ScaleClusterWorkflowProps): void {
  const maxTableWaits = props.maxTableWaits ?? DEFAULTS.maxTableWaits;
  const maxBackupWaits = props.maxBackupWaits ?? DEFAULTS.maxBackupWaits;
  if (
    !(
      Number.isInteger(maxTableWaits) &&
      maxTableWaits >= 1 &&
      Number.isInteger(maxBackupWaits) &&
      maxBackupWaits >= 1
    )
  )
    throw new Error('ScaleClusterWorkflow: maxTableWaits and maxBackupWaits must be integers >= 1');
}
