import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InfeasiblePlacementError } from '../../../../src/domain/errors.ts';
import type { PlannerInput } from '../../../../src/domain/planning/movement-plan.ts';
import { planMoves } from '../../../../src/domain/planning/placement-planner.ts';
import { evaluatePlan } from '../../../../src/domain/planning/plan-evaluator.ts';
import { generatePlannerInstance } from '../../../../src/domain/planning/synthetic-instance.ts';
import { assertProperty } from '../../../support/property.ts';

const GiB = 2 ** 30;

const instances = fc
  .record({
    seed: fc.nat(),
    partitions: fc.integer({ min: 6, max: 40 }),
    regions: fc.integer({ min: 1, max: 3 }),
    cellsPerRegion: fc.integer({ min: 1, max: 3 }),
    utilization: fc.double({ min: 0.3, max: 0.95, noNaN: true }),
    misplacedFraction: fc.double({ min: 0, max: 0.6, noNaN: true }),
    relationshipsPerPartition: fc.double({ min: 0, max: 1.5, noNaN: true }),
    inFlightFraction: fc.double({ min: 0, max: 0.2, noNaN: true }),
    coolingFraction: fc.double({ min: 0, max: 0.3, noNaN: true }),
    provisioningCells: fc.integer({ min: 0, max: 1 }),
    maxConcurrentMovesPerCell: fc.integer({ min: 1, max: 5 }),
    maxBytesPerCycleGiB: fc.double({ min: 0.5, max: 20, noNaN: true }),
    drainCell: fc.option(fc.nat(), { nil: undefined }),
  })
  .map((spec): PlannerInput => {
    const input = generatePlannerInstance({
      ...spec,
      limits: {
        maxConcurrentMovesPerCell: spec.maxConcurrentMovesPerCell,
        maxBytesPerCycle: spec.maxBytesPerCycleGiB * GiB,
      },
    });
    if (spec.drainCell === undefined) return input;
    const cells = input.topology.cells;
    const drained = cells[spec.drainCell % cells.length].id;
    return { ...input, cellStatus: { ...input.cellStatus, [drained]: 'DRAINING' } };
  });

/** Plan, or undefined when the random instance is legitimately infeasible. */
function tryPlan(input: PlannerInput) {
  try {
    return planMoves(input, { searchBudget: 2000 });
  } catch (error) {
    if (error instanceof InfeasiblePlacementError) return undefined;
    throw error;
  }
}

describe('planMoves (property)', () => {
  it('never breaks a hard capacity limit or a throttle, never moves an in-flight or cooling partition, never raises the cost', () => {
    assertProperty(
      fc.property(instances, (input) => {
        const plan = tryPlan(input);
        fc.pre(plan !== undefined);
        if (!plan) return;
        const limits = input.limits ?? {};
        const maxMoves = limits.maxConcurrentMovesPerCell ?? 5;
        const inFlight = new Set((input.inFlight ?? []).map((m) => m.partition));
        const byId = new Map(input.partitions.map((p) => [p.id, p]));
        const status = input.cellStatus ?? {};
        const slots = new Map<string, number>();
        const planned = new Set<string>();
        for (const m of input.inFlight ?? []) {
          slots.set(m.from, (slots.get(m.from) ?? 0) + 1);
          slots.set(m.to, (slots.get(m.to) ?? 0) + 1);
        }
        let bytes = (input.inFlight ?? []).reduce((a, m) => a + m.bytes, 0);
        for (const move of plan.moves) {
          const part = byId.get(move.partition);
          expect(part).toBeDefined();
          expect(inFlight.has(move.partition)).toBe(false);
          expect(move.from).toBe(part?.cell);
          expect(move.to).not.toBe(move.from);
          expect(['DRAINING', 'RETIRED']).not.toContain(status[move.to]);
          const cooling =
            part?.lastMovedAtMs !== undefined && part.lastMovedAtMs + 6 * 3_600_000 > input.nowMs;
          if (cooling) expect(status[move.from]).toBe('DRAINING');
          slots.set(move.from, (slots.get(move.from) ?? 0) + 1);
          slots.set(move.to, (slots.get(move.to) ?? 0) + 1);
          planned.add(move.from);
          planned.add(move.to);
          bytes += move.bytes;
          const sum = Object.values(move.reasons).reduce((a, b) => a + (b ?? 0), 0);
          expect(sum).toBeCloseTo(move.benefit, 6);
        }
        for (const cellId of planned) expect(slots.get(cellId)).toBeLessThanOrEqual(maxMoves);
        if (plan.moves.length > 0)
          expect(bytes).toBeLessThanOrEqual((limits.maxBytesPerCycle ?? 50 * 2 ** 30) + 1);
        const evaluated = evaluatePlan(input, plan.moves);
        expect(evaluated.violations).toEqual([]);
        expect(evaluated.cost).toBeCloseTo(plan.costAfter, 6);
        expect(plan.costAfter).toBeLessThanOrEqual(plan.costBefore + 1e-9);
      }),
      { numRuns: 60, seed: 20260301 },
    );
  });
});
