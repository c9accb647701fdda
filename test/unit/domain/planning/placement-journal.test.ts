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

/**
 * PlanEditor evaluates a DropThenRelocate from a copy of the plan with its drops already made (kept for a
 * few drop lists per plan revision). Its answers must be those of the evaluation from scratch, bit for bit:
 * the reference is a new editor per change (nothing kept), the subject one editor for all of them, with
 * changes sharing drop lists interleaved and the plan changed in between.
 */
describe('PlanEditor: a DropThenRelocate from the kept drops', () => {
  const input = generatePlannerInstance({
    seed: 9,
    partitions: 160,
    regions: 3,
    cellsPerRegion: 3,
    utilization: 0.4,
    bytesUtilization: 0.3,
    misplacedFraction: 0.5,
    limits: { maxConcurrentMovesPerCell: 3, maxBytesPerCycle: 50 * GiB },
  });
  const model = compilePlacementModel(input);
  const base = new PlacementState(model);
  const candidates = generateCandidates(model, base, true);
  const builder = new PlanBuilder(model, base.clone(), candidates);
  builder.greedy('gain');

  const editorOn = (state: PlacementState) =>
    new PlanEditor(
      model,
      candidates,
      state,
      new SearchMarks(model.cellCount, model.partitionCount),
      new SearchBudget(),
    );

  it('answers what an editor with nothing kept answers, across drop lists and plan changes', () => {
    const state = builder.state.clone();
    const subject = editorOn(state);
    const random = seededRandom(23);
    const movable: number[] = [];
    for (let p = 0; p < model.partitionCount; p++)
      if (candidates.start[p] < candidates.start[p + 1]) movable.push(p);
    let feasible = 0;
    let infeasible = 0;
    let differs = 0;
    for (let round = 0; round < 40; round++) {
      const moved = [...state.movedPartitions()];
      // A few drop lists (prefixes of one order, as cheapestBytes makes them), used many times each.
      const lists = [1, 2, 3, 5, 6].map((n) => moved.slice(0, n));
      lists.push(
        [moved[moved.length - 1], moved[0]],
        [moved[0], -1 as number].filter((q) => q >= 0),
      );
      for (let i = 0; i < 60; i++) {
        const dropped = lists[Math.floor(random() * lists.length)];
        const p = movable[Math.floor(random() * movable.length)];
        const k =
          candidates.start[p] + Math.floor(random() * (candidates.start[p + 1] - candidates.start[p]));
        const cell = candidates.cell[k];
        const op = dropThenRelocateOp(p, cell, dropped);
        const enforce = i % 7 === 0 ? LimitEnforcement.None : LimitEnforcement.All;
        const expected = editorOn(state.clone()).evaluate(op, enforce);
        const got = subject.evaluate(op, enforce);
        expect(got).toBe(expected);
        if (expected === undefined) infeasible++;
        else feasible++;
        // The drops matter: the same move without them costs something else.
        if (
          expected !== undefined &&
          expected !== editorOn(state.clone()).evaluate(relocateOp(p, cell), enforce)
        )
          differs++;
      }
      // Change the plan (a new revision): drop a move, or make one.
      const q = moved[Math.floor(random() * moved.length)];
      if (round % 2 === 0 || moved.length < 8) {
        const p = movable[Math.floor(random() * movable.length)];
        subject.apply(relocateOp(p, candidates.cell[candidates.start[p]]));
      } else subject.apply(removeOp(q));
    }
    // Not vacuous: both answers occur, and the drops change the answer.
    expect(feasible).toBeGreaterThan(200);
    expect(infeasible).toBeGreaterThan(50);
    expect(differs).toBeGreaterThan(100);
  });

  it('keeps copies per plan: editors of two plans sharing a budget (and its copies) answer for their own', () => {
    // The same moves, the same revision count, different placements: only the plan itself tells them apart.
    const budget = new SearchBudget();
    const marks = () => new SearchMarks(model.cellCount, model.partitionCount);
    const first = builder.state.clone();
    const second = builder.state.clone();
    const a = new PlanEditor(model, candidates, first, marks(), budget);
    const b = new PlanEditor(model, candidates, second, marks(), budget);
    const moved = [...first.movedPartitions()];
    // Change each plan once (so both are at the same revision), differently.
    expect(a.apply(removeOp(moved[moved.length - 1]))).toBeDefined();
    expect(b.apply(removeOp(moved[moved.length - 2]))).toBeDefined();
    expect(first.revision()).toBe(second.revision());
    const dropped = moved.slice(0, 2);
    let differing = 0;
    for (let p = 0; p < model.partitionCount; p++) {
      if (first.isMoved(p) || second.isMoved(p) || candidates.start[p] === candidates.start[p + 1]) continue;
      const op = dropThenRelocateOp(p, candidates.cell[candidates.start[p]], dropped);
      const onFirst = a.evaluate(op);
      const onSecond = b.evaluate(op);
      expect(onFirst).toBe(editorOn(first.clone()).evaluate(op));
      expect(onSecond).toBe(editorOn(second.clone()).evaluate(op));
      if (onFirst !== onSecond) differing++;
    }
    // Not vacuous: the two plans give different answers.
    expect(differing).toBeGreaterThan(5);
  });

  it('control: an answer kept across a plan change would be wrong', () => {
    const state = builder.state.clone();
    const subject = editorOn(state);
    const moved = [...state.movedPartitions()];
    const dropped = moved.slice(0, 2);
    // A partition whose move after the drops is feasible, before and after an unrelated plan change.
    for (let p = 0; p < model.partitionCount; p++) {
      if (state.isMoved(p) || candidates.start[p] === candidates.start[p + 1]) continue;
      const op = dropThenRelocateOp(p, candidates.cell[candidates.start[p]], dropped);
      const before = subject.evaluate(op);
      if (before === undefined) continue;
      const other = moved[moved.length - 1];
      if (dropped.includes(other) || subject.apply(removeOp(other)) === undefined) continue;
      const after = subject.evaluate(op);
      expect(after).toBe(editorOn(state.clone()).evaluate(op));
      if (after !== before) return;
    }
    throw new Error('no plan change altered a DropThenRelocate: the control is vacuous');
  });
});

/**
 * PlanEditor.evaluateRelaxed answers `evaluate(op, None)` and whether `evaluate(op, CapacityOnly)` is
 * defined in one run (or none, right after the same change failed under every limit on capacity alone).
 * It must give exactly those answers, and count as the two evaluations.
 */
describe('PlanEditor.evaluateRelaxed', () => {
  /** Tight throttles (changes stopped by a throttle), or loose throttles and full cells (by capacity alone). */
  const instances = [
    { utilization: 0.6, limits: { maxConcurrentMovesPerCell: 2, maxBytesPerCycle: 40 * GiB } },
    { utilization: 0.85, limits: { maxConcurrentMovesPerCell: 100, maxBytesPerCycle: 100_000 * GiB } },
  ];

  it('answers the two relaxed evaluations, with or without the fully enforced one just before', () => {
    let throttled = 0;
    let capacityOnly = 0;
    for (const { utilization, limits } of instances) {
      const model = compilePlacementModel(
        generatePlannerInstance({
          seed: 3,
          partitions: 150,
          regions: 3,
          cellsPerRegion: 3,
          utilization,
          bytesUtilization: 0.4,
          misplacedFraction: 0.5,
          limits,
        }),
      );
      const base = new PlacementState(model);
      const candidates = generateCandidates(model, base, true);
      const builder = new PlanBuilder(model, base.clone(), candidates);
      builder.greedy('gain');
      const state = builder.state.clone();
      const budget = new SearchBudget();
      const editor = new PlanEditor(
        model,
        candidates,
        state,
        new SearchMarks(model.cellCount, model.partitionCount),
        budget,
      );
      for (let p = 0; p < model.partitionCount; p++) {
        for (let k = candidates.start[p]; k < candidates.start[p + 1]; k++) {
          const op = relocateOp(p, candidates.cell[k]);
          const none = editor.evaluate(op, LimitEnforcement.None);
          const fits = editor.evaluate(op, LimitEnforcement.CapacityOnly) !== undefined;
          for (const before of [false, true]) {
            let all: number | undefined;
            if (before) all = editor.evaluate(op);
            const used = budget.used;
            expect(editor.evaluateRelaxed(op)).toBe(none);
            expect(editor.relaxedFits).toBe(fits);
            expect(budget.used).toBe(used + 2);
            if (before && all === undefined && none !== undefined) {
              if (fits) throttled++;
              else if (limits.maxConcurrentMovesPerCell === 100) capacityOnly++;
            }
          }
        }
      }
    }
    // Not vacuous: changes stopped by a throttle, and by capacity alone (the reused run), both occur.
    expect(throttled).toBeGreaterThan(20);
    expect(capacityOnly).toBeGreaterThan(5);
  });
});
