import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { PrestageError } from '../domain/errors.ts';
import { type MigrationState, migrationStateSchema } from '../domain/migration/migration-state.ts';
import type { MigrationTaskName } from '../domain/migration/migration-tasks.ts';
import { migrationLease } from '../domain/migration/routing-lease.ts';
import { logger, metrics, tracer } from '../lambda/instrumented-handler.ts';
import type { MigrationDeps } from './migration-deps.ts';
import * as steps from './migration-steps.ts';

/** The execution state handed to a step was not a MigratePartition state (a wiring bug, never retried). */
export class InvalidStepInputError extends PrestageError {}

/** The use case behind each Task state. */
export const STEP_USE_CASES: Record<
  MigrationTaskName,
  (deps: MigrationDeps, state: MigrationState) => Promise<unknown>
> = {
  Acquire: steps.acquire,
  CreateReplica: steps.createReplica,
  Copy: steps.copy,
  CatchUp: steps.catchUp,
  Verify: steps.verify,
  ShiftReads: steps.shiftReads,
  CanaryHealth: steps.canaryHealth,
  CutoverFence: steps.cutoverFence,
  CutoverSwitch: steps.cutoverSwitch,
  RemoveSource: steps.removeSource,
  Commit: steps.commit,
  Rollback: steps.rollback,
};

/**
 * The dependencies a step runs with: the lease settings lengthened to the terms `acquire` found on (and raised
 * in) the partition record, so that no client's shorter or longer configuration can undercut the waits.
 */
export function stepDeps(deps: MigrationDeps, state: MigrationState): MigrationDeps {
  const terms = state.acquire?.leaseTerms;
  return terms ? { ...deps, lease: migrationLease(deps.lease, terms) } : deps;
}

export type StepHandler = (event: unknown, context?: unknown) => Promise<unknown>;

/**
 * A step Lambda handler on middy with Powertools (logger, EMF metrics, X-Ray): validate the execution state,
 * run one use case, return its result. Errors keep their names (Step Functions Retry/Catch match on them).
 */
export function createStepHandler(task: MigrationTaskName, deps: MigrationDeps): StepHandler {
  const run = STEP_USE_CASES[task];
  const handler = middy<unknown, unknown>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(captureLambdaHandler(tracer))
    .use({
      before: (request) => {
        const parsed = migrationStateSchema.safeParse(request.event);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new InvalidStepInputError(`${task}: ${issue.path.join('.') || '(state)'}: ${issue.message}`);
        }
        request.event = parsed.data;
      },
    })
    .handler(async (event) => run(stepDeps(deps, event as MigrationState), event as MigrationState));
  return (event, context) => handler(event, (context ?? {}) as never);
}
