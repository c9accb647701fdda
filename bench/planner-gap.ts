/**
 * Optimality gap of the planner heuristic (planMoves) against the exact ILP (solveExact, HiGHS) on seeded
 * random instances: 50–200 partitions, 3 regions with 2–3 cells each, relationships, some partitions cooling
 * down or in flight, sometimes a PROVISIONING cell, and limits drawn so that they bind in some instances.
 *
 * Both plans are scored by the same evaluator (evaluatePlan). Two figures per instance:
 * - cost gap = (heuristic cost − optimal cost) / |optimal cost|  (the target: max ≤ 2%);
 * - benefit gap = 1 − heuristic benefit / optimal benefit, benefit = cost before − cost after (stricter:
 *   the part of the objective the planner can change).
 * An instance counts only if HiGHS proved optimality; the others are listed (with their bound).
 *
 * Run: npx tsx bench/planner-gap.ts [instances=40]   (writes bench/results/planner-gap.json)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { solveExactDetailed } from '../src/domain/planning/ilp-reference.ts';
import { planMoves } from '../src/domain/planning/placement-planner.ts';
import { evaluatePlan } from '../src/domain/planning/plan-evaluator.ts';
import { generatePlannerInstance, seededRandom } from '../src/domain/planning/synthetic-instance.ts';

const INSTANCES = Number(process.argv[2] ?? 40);
const TARGET_MAX_GAP = 0.02;
const TIME_LIMIT_SECONDS = 120;

interface InstanceResult {
  readonly seed: number;
  readonly partitions: number;
  readonly cells: number;
  readonly relationships: number;
  readonly limits: { maxConcurrentMovesPerCell: number; maxBytesPerCycleGiB: number };
  readonly heuristicMoves: number;
  readonly optimalMoves: number;
  readonly bindingLimits: string[];
  readonly costBefore: number;
  readonly heuristicCost: number;
  readonly optimalCost: number;
  readonly optimal: boolean;
  readonly lowerBound: number;
  readonly costGap: number;
  readonly benefitGap: number;
  readonly heuristicMs: number;
  readonly ilpSeconds: number;
  readonly ilpVariables: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return { mean, p95: percentile(sorted, 0.95), max: sorted[sorted.length - 1] ?? Number.NaN };
}

const pct = (x: number) => `${(100 * x).toFixed(3)}%`;

const results: InstanceResult[] = [];
process.stdout.write(
  'seed  parts cells rels  L  bytesGiB  moves(h/ilp)  cost before   heuristic     optimal   cost gap  benefit gap  ilp s\n',
);
for (let i = 0; i < INSTANCES; i++) {
  const seed = 1000 + i;
  const random = seededRandom(seed * 7919);
  const partitions = 50 + Math.floor(random() * 151);
  const cellsPerRegion = 2 + Math.floor(random() * 2);
  const maxConcurrentMovesPerCell = [1, 2, 3, 5][Math.floor(random() * 4)];
  const maxBytesPerCycleGiB = Math.round(2 + random() * 38);
  const input = generatePlannerInstance({
    seed,
    partitions,
    regions: 3,
    cellsPerRegion,
    utilization: 0.5 + 0.3 * random(),
    misplacedFraction: 0.1 + 0.2 * random(),
    relationshipsPerPartition: 0.3 + 0.7 * random(),
    surgeFraction: 0.1,
    coolingFraction: 0.05,
    inFlightFraction: 0.01,
    provisioningCells: random() < 0.25 ? 1 : 0,
    limits: { maxConcurrentMovesPerCell, maxBytesPerCycle: maxBytesPerCycleGiB * 2 ** 30 },
    nowMs: Date.parse('2026-01-15T00:00:00Z') + Math.floor(random() * 24) * 3_600_000,
  });
  const started = performance.now();
  const heuristic = planMoves(input);
  const heuristicMs = performance.now() - started;
  const exact = await solveExactDetailed(input, { timeLimitSeconds: TIME_LIMIT_SECONDS });
  const h = evaluatePlan(input, heuristic.moves);
  const o = evaluatePlan(input, exact.plan.moves);
  if (h.violations.length > 0 || o.violations.length > 0) {
    throw new Error(`seed ${seed}: plan violates limits: ${[...h.violations, ...o.violations].join('; ')}`);
  }
  const costGap = (h.cost - o.cost) / Math.abs(o.cost);
  const optimalBenefit = o.costBefore - o.cost;
  const benefitGap = optimalBenefit > 1e-9 ? 1 - (h.costBefore - h.cost) / optimalBenefit : 0;
  const binding = Object.keys(heuristic.deferred).filter((k) => heuristic.deferred[k] > 0);
  const r: InstanceResult = {
    seed,
    partitions,
    cells: input.topology.cells.length,
    relationships: input.relationships?.length ?? 0,
    limits: { maxConcurrentMovesPerCell, maxBytesPerCycleGiB },
    heuristicMoves: heuristic.moves.length,
    optimalMoves: exact.plan.moves.length,
    bindingLimits: binding,
    costBefore: h.costBefore,
    heuristicCost: h.cost,
    optimalCost: o.cost,
    optimal: exact.optimal,
    lowerBound: exact.lowerBound,
    costGap,
    benefitGap,
    heuristicMs,
    ilpSeconds: exact.seconds,
    ilpVariables: exact.variables,
  };
  results.push(r);
  process.stdout.write(
    `${String(seed).padEnd(5)} ${String(partitions).padStart(5)} ${String(r.cells).padStart(5)} ${String(r.relationships).padStart(4)} ${String(maxConcurrentMovesPerCell).padStart(2)} ${String(maxBytesPerCycleGiB).padStart(9)} ${`${r.heuristicMoves}/${r.optimalMoves}`.padStart(13)} ${h.costBefore.toFixed(3).padStart(12)} ${h.cost.toFixed(3).padStart(11)} ${o.cost.toFixed(3).padStart(11)} ${pct(costGap).padStart(10)} ${pct(benefitGap).padStart(12)} ${exact.seconds.toFixed(1).padStart(6)}${exact.optimal ? '' : ' (not proven optimal)'}\n`,
  );
}

const proven = results.filter((r) => r.optimal);
const cost = summary(proven.map((r) => r.costGap));
const benefit = summary(proven.map((r) => r.benefitGap));
const heuristicMs = summary(results.map((r) => r.heuristicMs));
const ilpSeconds = summary(results.map((r) => r.ilpSeconds));
const limitsBound = results.filter((r) => r.bindingLimits.some((k) => k.startsWith('max'))).length;
const pass = proven.length >= 30 && cost.max <= TARGET_MAX_GAP;
process.stdout.write(
  [
    '',
    `instances: ${results.length} (${proven.length} proven optimal by HiGHS; a throttle bound in ${limitsBound})`,
    `cost gap    mean ${pct(cost.mean)}  p95 ${pct(cost.p95)}  max ${pct(cost.max)}   target: max ≤ ${pct(TARGET_MAX_GAP)} → ${pass ? 'PASS' : 'FAIL'}`,
    `benefit gap mean ${pct(benefit.mean)}  p95 ${pct(benefit.p95)}  max ${pct(benefit.max)}`,
    `heuristic time mean ${heuristicMs.mean.toFixed(1)} ms, max ${heuristicMs.max.toFixed(1)} ms; ILP mean ${ilpSeconds.mean.toFixed(1)} s, max ${ilpSeconds.max.toFixed(1)} s`,
    '',
  ].join('\n'),
);
await mkdir('bench/results', { recursive: true });
await writeFile(
  'bench/results/planner-gap.json',
  `${JSON.stringify(
    {
      benchmark: 'planner-gap',
      target: { costGapMax: TARGET_MAX_GAP },
      pass,
      instances: results.length,
      provenOptimal: proven.length,
      costGap: cost,
      benefitGap: benefit,
      heuristicMs,
      ilpSeconds,
      results,
    },
    null,
    2,
  )}\n`,
);
process.exitCode = pass ? 0 : 1;
