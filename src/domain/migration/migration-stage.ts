/**
 * The stages of MigratePartition, in order. The names are the contract shared by the step handlers, the
 * state machine, the admin API (`stage`) and fault injection (`step`).
 */
export const MIGRATION_STAGES = [
  'acquire',
  'createReplica',
  'copy',
  'catchUp',
  'verify',
  'shiftReads',
  'cutover',
  'removeSource',
  'commit',
] as const;

export type MigrationStage = (typeof MIGRATION_STAGES)[number];

/** Where a migration is, as recorded in the partition's fence: a stage, or the rollback that undoes them. */
export type FenceStage = MigrationStage | 'rollback';

export function isMigrationStage(name: string): name is MigrationStage {
  return (MIGRATION_STAGES as readonly string[]).includes(name);
}

export function stageIndex(stage: FenceStage): number {
  return stage === 'rollback' ? MIGRATION_STAGES.length : MIGRATION_STAGES.indexOf(stage);
}

/** Outcome of a migration as the admin API and the CLI report it. */
export type MigrationStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ROLLED_BACK';
