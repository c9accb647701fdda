import { describe, expect, it } from 'vitest';
import { solveExact, solveExactDetailed } from '../../../../src/domain/planning/ilp-reference.ts';
import { planMoves } from '../../../../src/domain/planning/placement-planner.ts';
import { evaluatePlan } from '../../../../src/domain/planning/plan-evaluator.ts';
import { generatePlannerInstance } from '../../../../src/domain/planning/synthetic-instance.ts';
import { GiB, partition, plannerInput } from './planner-fixtures.ts';

describe('solveExact (HiGHS)', () => {
  it('finds the same plan as the heuristic on a trivial instance', async () => {
    const input = plannerInput([
      partition('p1', 'use1-a', { 'eu-west-1': 200 }),
      partition('p2', 'euw1-a', { 'eu-west-1': 50 }),
    ]);
    const exact = await solveExact(input);
    const heuristic = planMoves(input);
    expect(exact.moves.map((m) => [m.partition, m.to])).toEqual(
      heuristic.moves.map((m) => [m.partition, m.to]),
    );
    expect(exact.costAfter).toBeCloseTo(heuristic.costAfter, 9);
  });

  it('optimizes the same objective: its own cost equals the shared evaluator, and the heuristic is never better', async () => {
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const input = generatePlannerInstance({
        seed,
        partitions: 24,
        regions: 2,
        cellsPerRegion: 2,
        utilization: 0.75,
        misplacedFraction: 0.35,
        relationshipsPerPartition: 0.6,
        surgeFraction: 0.2,
        limits: { maxConcurrentMovesPerCell: 2, maxBytesPerCycle: 4 * GiB },
      });
      const exact = await solveExactDetailed(input, { timeLimitSeconds: 60 });
      expect(exact.optimal).toBe(true);
      const optimal = evaluatePlan(input, exact.plan.moves);
      expect(optimal.violations).toEqual([]);
      expect(exact.modelCost).toBeCloseTo(optimal.cost, 5);
      expect(exact.plan.costAfter).toBeCloseTo(optimal.cost, 9);
      expect(exact.lowerBound).toBeLessThanOrEqual(optimal.cost + 1e-6);
      const heuristic = evaluatePlan(input, planMoves(input).moves);
      expect(heuristic.cost).toBeGreaterThanOrEqual(optimal.cost - 1e-6);
    }
  });

  it('drains and fills like the heuristic when the objective says so', async () => {
    const partitions = [1, 2, 3].map((i) => partition(`d${i}`, 'euw1-b', { 'eu-west-1': 100 * i }));
    const input = plannerInput(partitions, { cellStatus: { 'euw1-b': 'DRAINING' } });
    const exact = await solveExact(input);
    expect(exact.moves.map((m) => m.partition).sort()).toEqual(['d1', 'd2', 'd3']);
    expect(exact.moves.every((m) => m.to !== 'euw1-b')).toBe(true);
  });
});
