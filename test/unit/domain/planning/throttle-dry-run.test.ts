import { describe, expect, it } from 'vitest';
import { generateCandidates } from '../../../../src/domain/planning/candidate-moves.ts';
import { compilePlacementModel } from '../../../../src/domain/planning/placement-model.ts';
import { PlacementState } from '../../../../src/domain/planning/placement-state.ts';
import { PlanBuilder } from '../../../../src/domain/planning/plan-builder.ts';
import { PlanEditor, SearchBudget, SearchMarks } from '../../../../src/domain/planning/plan-editor.ts';
import { relocateOp } from '../../../../src/domain/planning/search-operation.ts';
import { generatePlannerInstance } from '../../../../src/domain/planning/synthetic-instance.ts';
import { ThrottleDryRun } from '../../../../src/domain/planning/throttle-dry-run.ts';

const GiB = 2 ** 30;

/**
 * The dry run must reject a RelocateAfter exactly when the editor's run would fail on a throttle in both
 * orders: the editor skips the full evaluation on its word. The ground truth runs the two relocations one
 * by one on a copy of the plan, in each order, with every limit enforced, on an instance with ample
 * capacity (so only the throttles can fail).
 */
describe('ThrottleDryRun', () => {
  it('rejects a blocker re-target exactly when both orders hit a throttle', () => {
    const input = generatePlannerInstance({
      seed: 7,
      partitions: 120,
      regions: 3,
      cellsPerRegion: 2,
      utilization: 0.2,
      bytesUtilization: 0.2,
      misplacedFraction: 0.4,
      limits: { maxConcurrentMovesPerCell: 2, maxBytesPerCycle: 8 * GiB },
    });
    const model = compilePlacementModel(input);
    const base = new PlacementState(model);
    const candidates = generateCandidates(model, base, true);
    const builder = new PlanBuilder(model, base.clone(), candidates);
    builder.greedy('gain');
    const plan = builder.state;
    const limit = model.limits.maxConcurrentMovesPerCell;
    const dryRun = new ThrottleDryRun(model, candidates, plan, limit);
    const passes = (steps: readonly [number, number][]) => {
      const editor = new PlanEditor(
        model,
        candidates,
        plan.clone(),
        new SearchMarks(model.cellCount, model.partitionCount),
        new SearchBudget(),
      );
      for (const [p, c] of steps) if (editor.apply(relocateOp(p, c)) === undefined) return false;
      return true;
    };
    const planned = [...plan.movedPartitions()];
    expect(planned.length).toBeGreaterThan(3);
    let rejected = 0;
    let checked = 0;
    for (let p = 0; p < model.partitionCount; p += 3) {
      for (let k = candidates.start[p]; k < candidates.start[p + 1]; k++) {
        const c = candidates.cell[k];
        for (const q of planned) {
          if (q === p) continue;
          const places = [model.origin[q]];
          for (let j = candidates.start[q]; j < candidates.start[q + 1]; j++) places.push(candidates.cell[j]);
          for (const qc of places) {
            const truth =
              passes([
                [q, qc],
                [p, c],
              ]) ||
              passes([
                [p, c],
                [q, qc],
              ]);
            const dry = dryRun.mayPass(p, c, q, qc, -1, -1);
            expect(dry, `p${p} → ${c} after p${q} → ${qc}`).toBe(truth);
            checked++;
            if (!dry) rejected++;
          }
        }
      }
    }
    // Not vacuous: both answers occur.
    expect(rejected).toBeGreaterThan(50);
    expect(checked - rejected).toBeGreaterThan(50);
  });
});
