import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../../src/domain/errors.ts';
import type { PlannerInput } from '../../../../src/domain/planning/movement-plan.ts';
import { compilePlacementModel } from '../../../../src/domain/planning/placement-model.ts';
import { planMoves } from '../../../../src/domain/planning/placement-planner.ts';
import { cell, partition, plannerInput, series, topology } from './planner-fixtures.ts';

/**
 * Ten partitions of us-east-1 demand on its one cell (capacity 10,000 ops/s, headroom 0.8): a mean of 500 ops/s
 * each and an upper forecast of 900. Added up (ρ = 1) the cell's planning load is 9,000, above the 8,000 headroom;
 * diversified (ρ = 0) it is 5,000 + √10 × 400 ≈ 6,265.
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
  const cellLoad = (input: PlannerInput, upperCorrelation: number) => {
    const model = compilePlacementModel(input, { upperCorrelation });
    return model.initialLoad[model.cellIndex.get('use1-a')! * model.steps];
  };
  const diversified = 5000 + Math.sqrt(10) * 400;

  it('replaces the upperCorrelation option for that plan', () => {
    expect(cellLoad(crowdedCell(), 1)).toBeCloseTo(9000, 6);
    expect(cellLoad(crowdedCell(), 0)).toBeCloseTo(diversified, 6);
    // The measured value wins over the option, both ways.
    expect(cellLoad(crowdedCell(1), 0)).toBeCloseTo(9000, 6);
    expect(cellLoad(crowdedCell(0), 1)).toBeCloseTo(diversified, 6);
  });

  it('leaves the capacity forecast on the upper forecasts added up, whatever the cells are packed on', () => {
    for (const rho of [0, 1]) {
      const plan = planMoves(crowdedCell(rho), { demandBeyondCapacity: 'report' });
      expect(plan.capacityForecast.map((s) => [s.region, s.peakDemandOpsPerSec, s.cellsNeeded])).toEqual([
        ['us-east-1', 9000, 1],
      ]);
    }
  });

  it('rejects a value outside [0, 1], naming the field', () => {
    expect(() => planMoves(crowdedCell(1.5))).toThrow(InputValidationError);
    expect(() => planMoves(crowdedCell(Number.NaN))).toThrow(/upperCorrelation/);
  });
});
