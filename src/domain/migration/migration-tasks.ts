import type { FenceStage } from './migration-stage.ts';

/**
 * The Task states of MigratePartition: the state name (also the step Lambda's name), the migration stage it
 * belongs to (what the admin API reports and fault injection targets), and the handler's file name under
 * functions/migrate-partition/. Shared by the CDK construct, the handlers and the local runner.
 */
export const MIGRATION_TASKS = {
  Acquire: { stage: 'acquire', file: 'acquire' },
  CreateReplica: { stage: 'createReplica', file: 'create-replica' },
  Copy: { stage: 'copy', file: 'copy' },
  CatchUp: { stage: 'catchUp', file: 'catch-up' },
  Verify: { stage: 'verify', file: 'verify' },
  ShiftReads: { stage: 'shiftReads', file: 'shift-reads' },
  CanaryHealth: { stage: 'shiftReads', file: 'canary-health' },
  CutoverFence: { stage: 'cutover', file: 'cutover-fence' },
  CutoverSwitch: { stage: 'cutover', file: 'cutover-switch' },
  RemoveSource: { stage: 'removeSource', file: 'remove-source' },
  Commit: { stage: 'commit', file: 'commit' },
  Rollback: { stage: 'rollback', file: 'rollback' },
} as const satisfies Record<string, { stage: FenceStage; file: string }>;

export type MigrationTaskName = keyof typeof MIGRATION_TASKS;
export const MIGRATION_TASK_NAMES = Object.keys(MIGRATION_TASKS) as MigrationTaskName[];
