import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../../src/domain/errors.ts';
import type { PlannerInput } from '../../../../src/domain/planning/movement-plan.ts';
import { planMoves } from '../../../../src/domain/planning/placement-planner.ts';
import { cell, partition, plannerInput, series, topology } from './planner-fixtures.ts';

/**
 * Ten partitions of us-east-1 demand on its one cell (capacity 10,000 ops/s, headroom 0.8): a mean of 500 ops/s
 * each and an upper forecast of 900. Added up (ρ = 1) the upper load is 9,000, above the 8,000 headroom: the
 * capacity forecast asks for a cell; diversified (ρ = 0) it is 5,000 + √10 × 400 ≈ 6,265, and it asks for none.
 */
function crowdedCell(upperCorrelation?: number): PlannerInput {
  const partitions = Array.from({ length: 10 }, (_, i) =>
    partition(`p${i}`, 'use1-a', { 'us-east-1': 500 }, { forecastUpper: { 'us-east-1': series(900) } }),
  );
  return plannerInput(partitions, {
    topology: topology([cell('use1-a', 'us-east-1'), cell('euw1-a', 'eu-west-1')]),
    ...(upperCorrelation !== undefined && { upperCorrelation }),
  });
}

describe('planMoves: a measured error correlation in the input', () => {
  const peaks = (input: PlannerInput, upperCorrelation: number) =>
    planMoves(input, { upperCorrelation, demandBeyondCapacity: 'report' }).capacityForecast.map((s) => [
      s.region,
      s.peakDemandOpsPerSec,
      s.cellsNeeded,
    ]);

  it('replaces the upperCorrelation option for that plan', () => {
    expect(peaks(crowdedCell(), 1)).toEqual([['us-east-1', 9000, 1]]);
    expect(peaks(crowdedCell(), 0)).toEqual([]);
    // The measured value wins over the option, both ways.
    expect(peaks(crowdedCell(1), 0)).toEqual([['us-east-1', 9000, 1]]);
    expect(peaks(crowdedCell(0), 1)).toEqual([]);
  });

  it('rejects a value outside [0, 1], naming the field', () => {
    expect(() => planMoves(crowdedCell(1.5))).toThrow(InputValidationError);
    expect(() => planMoves(crowdedCell(Number.NaN))).toThrow(/upperCorrelation/);
  });
});
