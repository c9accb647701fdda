import { z } from 'zod';
import { coldCopyDropOwner, dropColdCopy } from '../migration/cold-copy-gc.ts';
import { METRIC } from '../support/metrics.ts';
import type { ExecutePlanDeps } from './execute-plan-deps.ts';
import { InvalidPlanInputError } from './execute-plan-tasks.ts';

/**
 * DropColdCopies: after a plan's moves, garbage-collect the cold copies the planner listed on the plan
 * (`coldCopyDrops` on the header: older than a day, a delta above half the partition, on a leaving cell, or beyond
 * the storage budget). The planner decides, ExecutePlan acts, as for moves.
 *
 * One invocation works through the drops in order until its budget is spent, then returns the index to resume at
 * (the state machine loops on `done`). A drop cut short by the budget keeps its fence and is resumed by the next
 * invocation under the same owner. A partition a migration holds is `busy` (the next plan asks again).
 *
 * Errors are thrown: the Task's retries call again, and a retried drop resumes under its owner. A drop must not
 * give up its fence before every item of the copy is deleted: items left behind in the cell would be found by a
 * later migration into that cell (a key deleted since would come back). So when the retries are exhausted the
 * state machine goes on to FinishPlan (a drop never changes the plan's outcome) and the partition keeps the
 * drop's fence; `prestage migrations recover` finishes such a drop (recoverMigration), and requests are served
 * as before meanwhile (a drop never changes routing). Bounded by MAX_COLD_COPY_DROPS_PER_PLAN.
 */

const countsShape = {
  dropped: z.number().int().nonnegative(),
  gone: z.number().int().nonnegative(),
  busy: z.number().int().nonnegative(),
  itemsDeleted: z.number().int().nonnegative(),
};

export const dropColdCopiesInputSchema = z.object({
  planId: z.string().min(1),
  /** What earlier invocations of this plan's drops did; absent on the first. */
  progress: z.object({ next: z.number().int().nonnegative(), ...countsShape }).optional(),
});
export type DropColdCopiesInput = z.infer<typeof dropColdCopiesInputSchema>;

export interface DropColdCopiesResult {
  /** Index of the next drop to run. */
  readonly next: number;
  readonly done: boolean;
  readonly total: number;
  readonly dropped: number;
  readonly gone: number;
  readonly busy: number;
  readonly itemsDeleted: number;
}

/** Run the plan's cold-copy drops from `progress.next` until done or the invocation's budget is spent. */
export async function dropColdCopies(
  deps: ExecutePlanDeps,
  input: DropColdCopiesInput,
): Promise<DropColdCopiesResult> {
  const header = await deps.plans.getHeader(input.planId);
  if (!header)
    throw new InvalidPlanInputError(
      `field 'planId': plan '${input.planId}' does not exist in the plans table (or its TTL has expired)`,
    );
  const drops = header.coldCopyDrops ?? [];
  const counts = { dropped: 0, gone: 0, busy: 0, itemsDeleted: 0, ...input.progress };
  let next = input.progress?.next ?? 0;
  const result = (done: boolean): DropColdCopiesResult => ({ next, done, total: drops.length, ...counts });
  if (next >= drops.length) return result(true);
  const store = deps.coldCopies;
  if (!store)
    throw new InvalidPlanInputError(
      `plan '${input.planId}' lists ${drops.length} cold-copy drops but this step has no data plane bound`,
    );
  const wallNow = store.wallNow ?? Date.now;
  const deadlineMs = wallNow() + deps.settings.dropBudgetMs;
  const first = next;
  while (next < drops.length) {
    // Each invocation runs at least one drop (or one piece of it), however short its budget.
    if (next > first && wallNow() >= deadlineMs) return result(false);
    const drop = drops[next];
    const outcome = await dropColdCopy(store, drop, drop.owner ?? coldCopyDropOwner(input.planId, drop), {
      deadlineMs,
      wallNow,
    });
    counts.itemsDeleted += outcome.itemsDeleted;
    // Cut short with the fence held: the next invocation resumes this drop under the same owner.
    if (outcome.outcome === 'partial') return result(false);
    counts[outcome.outcome] += 1;
    if (outcome.outcome === 'dropped') {
      deps.metrics.add(METRIC.coldCopiesDropped, 'Count', 1);
      deps.metrics.add(METRIC.coldCopyBytesFreed, 'Bytes', drop.bytes);
    }
    next += 1;
  }
  return result(true);
}
