import type { z } from 'zod';
import { instrumentedHandler, type LambdaHandler } from '../lambda/instrumented-handler.ts';
import type { ExecutePlanDeps } from './execute-plan-deps.ts';
import { STEP_SCHEMAS, STEP_USE_CASES } from './execute-plan-steps.ts';
import type { ExecutePlanTaskName } from './execute-plan-tasks.ts';

/**
 * The Lambda handler of one ExecutePlan step: middy with Powertools (logs, EMF metrics, X-Ray), the step's zod
 * schema (InvalidEventError naming the field), then the use case. Errors keep their names for Retry/Catch.
 */
export function createExecutePlanHandler(task: ExecutePlanTaskName, deps: ExecutePlanDeps): LambdaHandler {
  const schema = STEP_SCHEMAS[task] as z.ZodType<unknown>;
  const run = STEP_USE_CASES[task] as (deps: ExecutePlanDeps, event: unknown) => Promise<unknown>;
  return instrumentedHandler({ name: `ExecutePlan.${task}`, schema }, (event) => run(deps, event));
}
