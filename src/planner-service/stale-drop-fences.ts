import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type { ColdCopyDrop, MovementPlan } from '../domain/planning/movement-plan.ts';
import { MAX_COLD_COPY_DROPS_PER_PLAN } from '../domain/planning/plan-record.ts';
import { DROP_FENCE_STALE_MS, isColdCopyDropOwner } from '../migration/cold-copy-gc.ts';

/**
 * Drops an earlier plan started and never finished: ExecutePlan's DropColdCopies spent its retries mid-deletion,
 * and the partition still holds the drop's fence (its copy's replica entry already gone, some items left in the
 * cell). Nothing else would ever finish them: the planner no longer sees the copy. A fence untouched for
 * DROP_FENCE_STALE_MS has no live invocation behind it, so the next plan resumes it under the same owner.
 */
export function staleDropResumes(partitions: readonly PartitionRecord[], nowMs: number): ColdCopyDrop[] {
  const resumes: ColdCopyDrop[] = [];
  for (const record of partitions) {
    const fence = record.fence;
    if (!fence || !isColdCopyDropOwner(fence.owner)) continue;
    if (nowMs - record.updatedAtMs < DROP_FENCE_STALE_MS) continue;
    resumes.push({
      partition: record.partition,
      cell: fence.targetCell,
      bytes: record.sizeBytes ?? 0,
      reason: 'resume',
      owner: fence.owner,
    });
  }
  return resumes.sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
}

/** The plan with the unfinished drops first (they hold fences), then its own, within the per-plan bound. */
export function withStaleDropResumes(
  plan: MovementPlan,
  partitions: readonly PartitionRecord[],
  nowMs: number,
): MovementPlan {
  const resumes = staleDropResumes(partitions, nowMs);
  if (resumes.length === 0) return plan;
  const resumed = new Set(resumes.map((d) => d.partition));
  const own = (plan.coldCopyDrops ?? []).filter((d) => !resumed.has(d.partition));
  return { ...plan, coldCopyDrops: [...resumes, ...own].slice(0, MAX_COLD_COPY_DROPS_PER_PLAN) };
}
