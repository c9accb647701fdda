import { CanaryUnhealthyError } from '../domain/migration/migration-errors.ts';
import type { MigrationState, ShiftResult } from '../domain/migration/migration-state.ts';
import { setReadWeight } from '../domain/migration/partition-transitions.ts';
import { catchUpRound } from './catch-up.ts';
import type { MigrationDeps } from './migration-deps.ts';
import { deadline, enter, forward, latestCatchUp, requireStage, transition } from './step-support.ts';

/**
 * The MigratePartition stages that shift reads to the target share by share, each share checked by a canary.
 * See migration-steps.ts for the stages' shared contract.
 */

/**
 * Shift the next share of reads to the target (sticky per key). A bounded catch-up round runs first, so the
 * watermark keeps up while reads shift and the cutover's final round stays short.
 */
export async function shiftReads(deps: MigrationDeps, state: MigrationState): Promise<ShiftResult> {
  await enter(deps, state, 'shiftReads');
  const previous = latestCatchUp(state);
  const caught = await catchUpRound(deps, forward(deps, state), previous, {
    items: deps.tuning.catchUpItemsPerInvocation,
    deadlineMono: deadline(deps),
  });
  const steps = state.input.canarySteps;
  const step = state.shift ? state.shift.step + 1 : 0;
  if (step >= steps.length) {
    const last = steps.length - 1;
    return {
      step: last,
      weight: steps[last] ?? 0,
      done: true,
      waitSeconds: 0,
      shiftedAtMs: deps.wallNow(),
      catchUp: caught,
    };
  }
  const weight = steps[step];
  await transition(deps, state, (r) => setReadWeight(r, state.migrationId, weight, deps.wallNow()));
  return {
    step,
    weight,
    done: step === steps.length - 1,
    waitSeconds: state.input.waitSeconds,
    shiftedAtMs: deps.wallNow(),
    catchUp: caught,
  };
}

/** Health check after a read shift; an unhealthy target rolls the migration back. */
export async function canaryHealth(deps: MigrationDeps, state: MigrationState) {
  const result = await deps.health.check(
    requireStage(state, 'acquire').targetCell,
    state.shift?.shiftedAtMs ?? 0,
  );
  if (!result.healthy) throw new CanaryUnhealthyError(result.reason ?? 'the target cell is unhealthy');
  return { healthy: true, requests: result.requests, failures: result.failures };
}
