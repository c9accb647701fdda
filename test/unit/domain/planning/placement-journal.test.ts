import { describe, expect, it } from 'vitest';
import { generateCandidates } from '../../../../src/domain/planning/candidate-moves.ts';
import { compilePlacementModel } from '../../../../src/domain/planning/placement-model.ts';
import { PlacementState } from '../../../../src/domain/planning/placement-state.ts';
import { PlanBuilder } from '../../../../src/domain/planning/plan-builder.ts';
import { PlanEditor, SearchBudget, SearchMarks } from '../../../../src/domain/planning/plan-editor.ts';
import {
  dropThenRelocateOp,
  LimitEnforcement,
  relocateAfterOp,
  relocateOp,
  removeOp,
  type SearchOperation,
} from '../../../../src/domain/planning/search-operation.ts';
import { generatePlannerInstance } from '../../../../src/domain/planning/synthetic-instance.ts';
import { seededRandom } from '../../../../src/domain/seeded-random.ts';

const GiB = 2 ** 30;

/** Everything of a placement the search reads, including the order of each cell's list of moves. */
function snapshot(state: PlacementState) {
  const model = state.model;
  return {
    cellOf: [...state.cellOf],
    offsetMs: [...state.offsetMs],
    load: [...state.load],
    bytes: [...state.bytes],
    moveCount: [...state.moveCount],
    bytesMoved: state.bytesMoved,
    costs: { ...state.costs },
    moved: [...state.movedPartitions()],
    movesOnCell: Array.from({ length: model.cellCount }, (_, c) => [...state.movesOnCell(c)]),
  };
}

/**
 * A tentative change is undone exactly: the journal restores the touched cells' loads and counts, the
 * partitions, and replays its log of the cells' lists of moves and of the moved list backwards (the order
 * of those lists decides the order of later retimes, so it must come back too).
 */
describe('PlacementState journal', () => {
  const input = generatePlannerInstance({
    seed: 5,
    partitions: 150,
    regions: 3,
    cellsPerRegion: 3,
    utilization: 0.35,
    bytesUtilization: 0.3,
    misplacedFraction: 0.5,
    limits: { maxConcurrentMovesPerCell: 3, maxBytesPerCycle: 60 * GiB },
  });
  const model = compilePlacementModel(input);
  const base = new PlacementState(model);
  const candidates = generateCandidates(model, base, true);
  const builder = new PlanBuilder(model, base.clone(), candidates);
  builder.greedy('gain');

  function editorOn(state: PlacementState): PlanEditor {
    return new PlanEditor(
      model,
      candidates,
      state,
      new SearchMarks(model.cellCount, model.partitionCount),
      new SearchBudget(),
    );
  }

  /** Random changes of every kind on the plan's moved and unmoved partitions. */
  function operations(state: PlacementState, count: number): SearchOperation[] {
    const random = seededRandom(17);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
    const movable: number[] = [];
    for (let p = 0; p < model.partitionCount; p++)
      if (candidates.start[p] < candidates.start[p + 1]) movable.push(p);
    const placeOf = (p: number) => {
      const k = candidates.start[p] + Math.floor(random() * (candidates.start[p + 1] - candidates.start[p]));
      return random() < 0.2 ? model.origin[p] : candidates.cell[k];
    };
    const ops: SearchOperation[] = [];
    for (let i = 0; i < count; i++) {
      const moved = [...state.movedPartitions()];
      const p = pick(movable);
      const q = pick(moved);
      const r = pick(movable);
      switch (i % 5) {
        case 0:
          ops.push(relocateOp(p, placeOf(p)));
          break;
        case 1:
          ops.push(removeOp(q));
          break;
        case 2:
          ops.push(relocateAfterOp(p, placeOf(p), [{ partition: q, cell: placeOf(q) }]));
          break;
        case 3:
          ops.push(
            relocateAfterOp(p, placeOf(p), [
              { partition: q, cell: placeOf(q) },
              { partition: r, cell: placeOf(r) },
            ]),
          );
          break;
        default:
          ops.push(
            dropThenRelocateOp(
              p,
              placeOf(p),
              moved.filter(() => random() < 0.3),
            ),
          );
      }
    }
    return ops;
  }

  it('evaluating any change leaves the placement exactly as it was', () => {
    const state = builder.state.clone();
    const editor = editorOn(state);
    expect(state.movedPartitions().length).toBeGreaterThan(5);
    const before = snapshot(state);
    let feasible = 0;
    for (const op of operations(state, 3000)) {
      for (const enforce of [LimitEnforcement.All, LimitEnforcement.CapacityOnly, LimitEnforcement.None]) {
        if (editor.evaluate(op, enforce) !== undefined) feasible++;
      }
      expect(snapshot(state)).toEqual(before);
    }
    // Not vacuous: many changes ran to the end (and were undone), not only the ones a throttle stops early.
    expect(feasible).toBeGreaterThan(1000);
  });

  it('control: an applied change does show, in the lists of moves too; and undoing one keeps the others in order', () => {
    const state = builder.state.clone();
    const editor = editorOn(state);
    const before = snapshot(state);
    const moved = [...state.movedPartitions()];
    const first = moved[0];
    expect(editor.apply(removeOp(first))).toBeDefined();
    const after = snapshot(state);
    expect(after).not.toEqual(before);
    expect(after.moved).toEqual(moved.slice(1));
    const cell = before.cellOf[first];
    expect(after.movesOnCell[cell]).toEqual(before.movesOnCell[cell].filter((q) => q !== first));
  });
});
