import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../../src/domain/errors.ts';
import { forecastCapacity } from '../../../../src/domain/planning/capacity-forecast.ts';
import { compilePlacementModel } from '../../../../src/domain/planning/placement-model.ts';
import { planMoves } from '../../../../src/domain/planning/placement-planner.ts';
import { partition, plannerInput, STEPS, series } from './planner-fixtures.ts';

/** Capacity demand the model puts on cell c at step t (no plan). */
function cellLoad(input: ReturnType<typeof plannerInput>, cellId: string, rho: number, t = 0): number {
  const model = compilePlacementModel(input, { upperCorrelation: rho });
  return model.initialLoad[model.cellIndex.get(cellId)! * model.steps + t];
}

describe('forecastUpper', () => {
  const upper = (value: number) => ({ forecastUpper: { 'us-east-1': series(value) } });

  it('aggregates gaps per cell: √ of squares when independent, linearly for related groups or ρ = 1', () => {
    // Four partitions of mean 1000 and upper 1300 (gap 300) on one cell.
    const parts = [0, 1, 2, 3].map((i) => partition(`p${i}`, 'use1-a', { 'us-east-1': 1000 }, upper(1300)));
    const independent = plannerInput(parts);
    expect(cellLoad(independent, 'use1-a', 0)).toBeCloseTo(4000 + Math.sqrt(4 * 300 ** 2), 6);
    expect(cellLoad(independent, 'use1-a', 1)).toBeCloseTo(4000 + 4 * 300, 6);
    // p0–p1 related: one group of gap 600, two singletons of 300.
    const related = plannerInput(parts, { relationships: [{ a: 'p0', b: 'p1', coAccessPerSec: 1 }] });
    expect(cellLoad(related, 'use1-a', 0)).toBeCloseTo(4000 + Math.sqrt(600 ** 2 + 2 * 300 ** 2), 6);
    // Partitions without an upper forecast plan on their mean; other cells are untouched.
    expect(cellLoad(plannerInput([partition('q', 'use1-b', { 'us-east-1': 1000 })]), 'use1-b', 0)).toBe(1000);
  });

  it('counts the mean of regions missing from forecastUpper', () => {
    const p = partition('p', 'use1-a', { 'us-east-1': 1000, 'eu-west-1': 500 }, upper(1400));
    expect(cellLoad(plannerInput([p]), 'use1-a', 0)).toBeCloseTo(1900, 6);
  });

  it('tightens capacity: a move that fits on the mean is not planned when the upper forecast would not fit', () => {
    // euw1-a is busy (7000 of 10,000, headroom 0.8 = 8000); p's eu demand (900) fits on the mean only.
    const busy = partition('busy', 'euw1-a', { 'eu-west-1': 7000 });
    const busyB = partition('busyB', 'euw1-b', { 'eu-west-1': 7000 });
    const p = partition('p', 'use1-a', { 'eu-west-1': 900 });
    const onMean = planMoves(plannerInput([busy, busyB, p]));
    expect(onMean.moves.map((m) => m.partition)).toEqual(['p']);
    const pUpper = { ...p, forecastUpper: { 'eu-west-1': series(1500) } };
    const onUpper = planMoves(plannerInput([busy, busyB, pUpper]));
    expect(onUpper.moves).toEqual([]);
  });

  it('raises the capacity forecast', () => {
    const parts = [0, 1].map((i) => partition(`p${i}`, `use1-${i ? 'a' : 'b'}`, { 'us-east-1': 7000 }));
    expect(forecastCapacity(plannerInput(parts))).toEqual([]);
    const withUpper = parts.map((p) => ({ ...p, forecastUpper: { 'us-east-1': series(9000) } }));
    const [shortfall] = forecastCapacity(plannerInput(withUpper));
    expect(shortfall.region).toBe('us-east-1');
    expect(shortfall.peakDemandOpsPerSec).toBeCloseTo(18_000, 6);
  });

  it('rejects a bad upper forecast naming the field', () => {
    const bad = partition('p', 'use1-a', { 'us-east-1': 1 }, { forecastUpper: { 'us-east-1': [1, 2] } });
    expect(() => planMoves(plannerInput([bad]))).toThrow(InputValidationError);
    expect(() => planMoves(plannerInput([bad]))).toThrow(/partitions\[0\]\.forecastUpper\.us-east-1/);
    const neg = partition('p', 'use1-a', { 'us-east-1': 1 }, { forecastUpper: { 'us-east-1': series(-1) } });
    expect(() => planMoves(plannerInput([neg]))).toThrow(/forecastUpper\.us-east-1\[0\]/);
    expect(STEPS).toBeGreaterThan(2);
  });
});

describe('hot-move rule (hotMoveUtilization)', () => {
  it('defers a non-urgent move into a cell forecast hot while it copies, and lets urgent moves through', () => {
    // p is served from us-east-1 but its demand is in eu-west-1; both eu cells run at 75%.
    const euA = partition('euA', 'euw1-a', { 'eu-west-1': 7500 });
    const euB = partition('euB', 'euw1-b', { 'eu-west-1': 7500 });
    const p = partition('p', 'use1-a', { 'eu-west-1': 200 });
    const input = plannerInput([euA, euB, p]);
    expect(planMoves(input).moves.map((m) => m.partition)).toEqual(['p']);
    const hot = planMoves(input, { hotMoveUtilization: 0.7 });
    expect(hot.moves).toEqual([]);
    expect(hot.deferred.hotCells).toBe(1);
    // Cool after the first two steps: the copy (1 min setup + 10 s) ends within step 0, still hot → deferred;
    // hot only from step 6 on: the move runs before the peak.
    const later = [euA, euB].map((q) => ({
      ...q,
      forecast: { 'eu-west-1': series([...Array(6).fill(5000), ...Array(STEPS - 6).fill(7500)]) },
    }));
    const early = planMoves(plannerInput([...later, p]), { hotMoveUtilization: 0.7 });
    expect(early.moves.map((m) => m.partition)).toEqual(['p']);
    // Leaving a draining cell is urgent.
    const draining = plannerInput([euA, euB, p], { cellStatus: { 'use1-a': 'DRAINING' } });
    expect(planMoves(draining, { hotMoveUtilization: 0.7 }).moves.map((m) => m.partition)).toEqual(['p']);
  });
});
