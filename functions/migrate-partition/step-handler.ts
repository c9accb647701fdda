/**
 * Permissions: none of its own (shared set-up of the MigratePartition step entries; each entry lists its own).
 */
import type { MigrationTaskName } from '../../src/domain/migration/migration-tasks.ts';
import { awsMigrationDeps, readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import { createStepHandler } from '../../src/migration/step-handlers.ts';

// One set of clients per execution environment, shared by whichever step this bundle serves.
const deps = awsMigrationDeps(readDataPlaneConfig());

/** The Lambda handler of one MigratePartition Task state. */
export function stepHandler(task: MigrationTaskName) {
  const inner = createStepHandler(task, deps);
  return async (event: unknown, context: unknown) => {
    await deps.directory.refreshIfStale();
    return inner(event, context);
  };
}
