import { describe, expect, it } from 'vitest';
import { InfeasiblePlacementError } from '../../../../src/domain/errors.ts';
import type { PlannerInput } from '../../../../src/domain/planning/movement-plan.ts';
import { planMoves } from '../../../../src/domain/planning/placement-planner.ts';
import type { PlannerOptions } from '../../../../src/domain/planning/planner-options.ts';
import { generatePlannerInstance, seededRandom } from '../../../../src/domain/planning/synthetic-instance.ts';

/**
 * Golden plans: planMoves on fixed seeded instances must give exactly the plans recorded in
 * `golden/placement-planner-plans.txt` (every number bit for bit: JSON keeps a double's shortest
 * round-trip form). The file was recorded on the planner before it was split into files (candidate heap,
 * slot prices, typed operations); a refactoring of the search must not change a single move. A deliberate
 * change of the heuristic re-records it (`npx vitest run -u <this file>`) and says why in its commit.
 *
 * The cases cover every path of the search: exhaustive and non-exhaustive candidates, binding slot and
 * byte throttles (swaps, re-targets, drop-then-relocate, double swaps), in-flight and cooling partitions,
 * PROVISIONING and DRAINING cells, upper forecasts, dense co-access (pair moves), the light search of
 * large inputs, and many small random instances like the property test's.
 */

const GiB = 2 ** 30;

interface GoldenCase {
  readonly name: string;
  readonly input: PlannerInput;
  readonly options?: PlannerOptions;
}

function withDrainingCell(input: PlannerInput, index: number): PlannerInput {
  const id = input.topology.cells[index % input.topology.cells.length].id;
  return { ...input, cellStatus: { ...input.cellStatus, [id]: 'DRAINING' } };
}

function withUpperForecast(input: PlannerInput, factor: number): PlannerInput {
  return {
    ...input,
    partitions: input.partitions.map((p) => ({
      ...p,
      forecastUpper: Object.fromEntries(
        Object.entries(p.forecast).map(([region, steps]) => [
          region,
          Array.from(steps, (v, t) => v * (factor + 0.05 * (t % 3))),
        ]),
      ),
    })),
  };
}

const LARGER_CASES: GoldenCase[] = [
  {
    name: 'defaults, 2 regions × 2 cells',
    input: generatePlannerInstance({ seed: 1, partitions: 120, regions: 2, cellsPerRegion: 2 }),
  },
  {
    name: 'in flight, cooling, a provisioning cell, surges',
    input: generatePlannerInstance({
      seed: 2,
      partitions: 200,
      regions: 3,
      cellsPerRegion: 3,
      surgeFraction: 0.1,
      inFlightFraction: 0.03,
      coolingFraction: 0.05,
      provisioningCells: 1,
    }),
  },
  {
    name: 'binding slot and byte throttles',
    input: generatePlannerInstance({
      seed: 3,
      partitions: 150,
      regions: 3,
      cellsPerRegion: 2,
      misplacedFraction: 0.3,
      limits: { maxConcurrentMovesPerCell: 2, maxBytesPerCycle: 6 * GiB },
    }),
  },
  {
    name: 'non-exhaustive candidates (30 cells)',
    input: generatePlannerInstance({
      seed: 4,
      partitions: 300,
      regions: 6,
      cellsPerRegion: 5,
      misplacedFraction: 0.2,
    }),
  },
  {
    name: 'light search of a large input, bytes-bound',
    input: generatePlannerInstance({
      seed: 5,
      partitions: 400,
      regions: 3,
      cellsPerRegion: 3,
      misplacedFraction: 0.3,
      inFlightFraction: 0.01,
      coolingFraction: 0.02,
      limits: { maxConcurrentMovesPerCell: 4, maxBytesPerCycle: 10 * GiB },
    }),
    options: { largeInputPartitions: 200 },
  },
  {
    name: 'a draining cell',
    input: withDrainingCell(
      generatePlannerInstance({ seed: 6, partitions: 100, regions: 2, cellsPerRegion: 3 }),
      1,
    ),
  },
  {
    name: 'upper forecasts, hot cells',
    input: withUpperForecast(
      generatePlannerInstance({ seed: 7, partitions: 150, regions: 3, cellsPerRegion: 2, utilization: 0.8 }),
      1.3,
    ),
    options: { demandBeyondCapacity: 'report' },
  },
  {
    name: 'dense co-access, tight slots',
    input: generatePlannerInstance({
      seed: 8,
      partitions: 120,
      regions: 2,
      cellsPerRegion: 3,
      utilization: 0.9,
      relationshipsPerPartition: 2,
      misplacedFraction: 0.4,
      limits: { maxConcurrentMovesPerCell: 1 },
    }),
  },
  {
    name: 'the bench instance at simulator size',
    input: generatePlannerInstance({
      seed: 7,
      partitions: 300,
      regions: 3,
      cellsPerRegion: 4,
      utilization: 0.65,
      misplacedFraction: 0.15,
      surgeFraction: 0.1,
      inFlightFraction: 0.01,
      coolingFraction: 0.05,
    }),
  },
];

/** Small random instances drawn like the property test's, with its reduced search budget. */
function smallCases(count: number): GoldenCase[] {
  const random = seededRandom(20_260_301);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const cases: GoldenCase[] = [];
  for (let i = 0; i < count; i++) {
    let input = generatePlannerInstance({
      seed: int(0, 1_000_000),
      partitions: int(6, 40),
      regions: int(1, 3),
      cellsPerRegion: int(1, 3),
      utilization: 0.3 + 0.65 * random(),
      misplacedFraction: 0.6 * random(),
      relationshipsPerPartition: 1.5 * random(),
      inFlightFraction: 0.2 * random(),
      coolingFraction: 0.3 * random(),
      provisioningCells: int(0, 1),
      limits: { maxConcurrentMovesPerCell: int(1, 5), maxBytesPerCycle: (0.5 + 19.5 * random()) * GiB },
    });
    if (random() < 0.3) input = withDrainingCell(input, int(0, 100));
    if (random() < 0.3) input = withUpperForecast(input, 1.2);
    cases.push({
      name: `small random #${i}`,
      input,
      options: { searchBudget: 2000, demandBeyondCapacity: 'report' },
    });
  }
  return cases;
}

function record(c: GoldenCase): string {
  let body: string;
  try {
    const plan = planMoves(c.input, c.options);
    const { moves, ...summary } = plan;
    body = [JSON.stringify(summary), ...moves.map((m) => JSON.stringify(m))].join('\n');
  } catch (error) {
    if (!(error instanceof InfeasiblePlacementError)) throw error;
    body = `infeasible: ${error.message}`;
  }
  return `## ${c.name}\n${body}\n`;
}

describe('planMoves (golden plans)', () => {
  it('plans the recorded moves, bit for bit, on fixed seeded instances', async () => {
    const text = [...LARGER_CASES, ...smallCases(40)].map(record).join('\n');
    await expect(text).toMatchFileSnapshot('golden/placement-planner-plans.txt');
  });
});
