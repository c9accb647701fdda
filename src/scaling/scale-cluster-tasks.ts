/**
 * The Lambda steps of ScaleCluster. The construct (lib/scale-cluster-workflow.ts) takes one IFunction per name,
 * the entry files are `functions/scale-cluster/<kebab-name>.ts`, and the local runner binds each name to its
 * handler. Several Task states may share a step (SetCellStatus marks cells ACTIVE, DRAINING or RETIRED).
 */
export const SCALE_CLUSTER_TASKS = {
  /** Validate and normalize the start input (alarm event, scale-out, scale-in); new cell ids. */
  ParseRequest: { entry: 'parse-request' },
  /** Cooldown check, then the region's lock (conditional put with a TTL). */
  AcquireLock: { entry: 'acquire-lock' },
  /** Register the new cells as PROVISIONING (idempotent). */
  RegisterCells: { entry: 'register-cells' },
  /** Set the status of the request's cells (payload `{cellIds, status}`). */
  SetCellStatus: { entry: 'set-cell-status' },
  /** Check that a draining cell holds no partition any more; DrainIncompleteError after the last round. */
  VerifyDrained: { entry: 'verify-drained' },
  /** Start the cooldown, release the lock, publish the scaling metric. */
  CompleteScaling: { entry: 'complete-scaling' },
  /** After a failure: put cells in a consistent status and release the lock. */
  AbortScaling: { entry: 'abort-scaling' },
} as const;

export type ScaleClusterTaskName = keyof typeof SCALE_CLUSTER_TASKS;

export const SCALE_CLUSTER_TASK_NAMES = Object.keys(SCALE_CLUSTER_TASKS) as ScaleClusterTaskName[];

/** Stages a failure is attributed to (the Catch of each state records one; AbortScaling reads it). */
export const SCALING_STAGES = [
  'register',
  'provision',
  'plan',
  'run-plan',
  'activate',
  'drain-mark',
  'verify',
  'backup',
  'delete',
  /** Deleting the retired cell's alarms, after its table is gone. */
  'delete-alarms',
  'retire',
  'complete',
] as const;
export type ScalingStage = (typeof SCALING_STAGES)[number];
