import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  loadPenalty,
  moveDurationMs,
  presenceAt,
  sumTerms,
  zeroTerms,
} from '../../../../src/domain/planning/placement-cost.ts';
import { compilePlacementModel } from '../../../../src/domain/planning/placement-model.ts';
import { PlacementState } from '../../../../src/domain/planning/placement-state.ts';
import { generatePlannerInstance } from '../../../../src/domain/planning/synthetic-instance.ts';
import { assertProperty } from '../../../support/property.ts';
import { GiB, partition, plannerInput } from './planner-fixtures.ts';

describe('placement cost', () => {
  it('counts a move only for the part of each step after it completes', () => {
    const step = 300_000;
    expect(presenceAt(step, 0, 0)).toBe(1);
    expect(presenceAt(step, 0, 1.5 * step)).toBe(0);
    expect(presenceAt(step, 1, 1.5 * step)).toBe(0.5);
    expect(presenceAt(step, 2, 1.5 * step)).toBe(1);
  });

  it('splits a cell’s bandwidth between the moves on it', () => {
    const model = compilePlacementModel(plannerInput([partition('p', 'use1-a', { 'us-east-1': 1 })]));
    const copy = (GiB / 100e6) * 1000;
    expect(moveDurationMs(model, 0, 1, 1)).toBeCloseTo(60_000 + copy, 6);
    expect(moveDurationMs(model, 0, 3, 1)).toBeCloseTo(60_000 + 3 * copy, 6);
  });

  it('starts a move into a cell still being provisioned only once the cell is ready', () => {
    const base = plannerInput([partition('p', 'use1-a', { 'us-east-1': 1 })]);
    const target = base.topology.cells[1].id;
    const model = compilePlacementModel({
      ...base,
      cellStatus: { [target]: 'PROVISIONING' },
      cellReadyAtMs: { [target]: base.nowMs + 240_000 },
    });
    const copy = (GiB / 100e6) * 1000;
    expect(moveDurationMs(model, 0, 1, 1)).toBeCloseTo(240_000 + 60_000 + copy, 6);
    // A ready time in the past is no delay; an unknown cell is named.
    const ready = compilePlacementModel({ ...base, cellReadyAtMs: { [target]: base.nowMs - 1 } });
    expect(moveDurationMs(ready, 0, 1, 1)).toBeCloseTo(60_000 + copy, 6);
    expect(() => compilePlacementModel({ ...base, cellReadyAtMs: { nope: base.nowMs } })).toThrow(
      /cellReadyAtMs\.nope/,
    );
  });

  it('has a soft load penalty that is zero below the first knee, piecewise linear and convex', () => {
    const model = compilePlacementModel(plannerInput([partition('p', 'use1-a', { 'us-east-1': 1 })]));
    expect(loadPenalty(model, 0, 4_999)).toBe(0);
    assertProperty(
      fc.property(
        fc.double({ min: 0, max: 12_000, noNaN: true }),
        fc.double({ min: 1, max: 500, noNaN: true }),
        (x, h) => {
          const mid = loadPenalty(model, 0, x);
          const second = loadPenalty(model, 0, x + h) - 2 * mid + loadPenalty(model, 0, Math.max(0, x - h));
          expect(second).toBeGreaterThanOrEqual(-1e-12);
          expect(mid).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('evaluates a move exactly as applying it does, and rollback restores the exact state', () => {
    const input = generatePlannerInstance({
      seed: 5,
      partitions: 60,
      regions: 3,
      cellsPerRegion: 2,
      relationshipsPerPartition: 1,
    });
    const model = compilePlacementModel(input);
    const state = new PlacementState(model);
    const before = { costs: { ...state.costs }, load: state.load.slice(), bytes: state.bytes.slice() };
    const evaluated = zeroTerms();
    const applied = zeroTerms();
    for (let p = 0; p < model.partitionCount; p += 7) {
      const target = (model.origin[p] + 1) % model.cellCount;
      const offset = moveDurationMs(model, p, 2, target);
      state.evaluateMove(p, target, offset, evaluated);
      state.begin();
      state.applyMove(p, target, offset, applied);
      expect(sumTerms(applied)).toBeCloseTo(sumTerms(evaluated), 9);
      expect(state.total()).toBeCloseTo(sumTerms(before.costs) + sumTerms(applied), 9);
      state.rollback();
      Object.assign(applied, zeroTerms());
      expect(state.costs).toEqual(before.costs);
      expect(state.load).toEqual(before.load);
      expect(state.bytes).toEqual(before.bytes);
      expect(state.isMoved(p)).toBe(false);
    }
  });

  it('undoing a move returns to the cost before it', () => {
    const input = generatePlannerInstance({
      seed: 9,
      partitions: 30,
      regions: 2,
      cellsPerRegion: 2,
      relationshipsPerPartition: 1,
    });
    const model = compilePlacementModel(input);
    const state = new PlacementState(model);
    const before = state.total();
    state.applyMove(3, (model.origin[3] + 1) % model.cellCount, 90_000);
    state.applyMove(4, (model.origin[4] + 2) % model.cellCount, 120_000);
    state.retime(3, 200_000);
    state.undoMove(3);
    state.undoMove(4);
    expect(state.total()).toBeCloseTo(before, 9);
    expect(state.movedPartitions()).toEqual([]);
  });
});
