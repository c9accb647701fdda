import type { CapacityShortfall } from './movement-plan.ts';
import { DEFAULT_PLANNER_OPTIONS, type LoadPenaltyKnee } from './planner-options.ts';
import { DEFAULT_ERROR_CORRELATION, type ScaleInCell } from './scale-in.ts';

/**
 * Priced scale-out: whether a region the capacity forecast finds short (capacity-forecast.ts, which also says when
 * to start so the cells are ready before the peak) should buy cells, and how many, in the same dollars as the
 * planner's objective.
 *
 * The capacity forecast flags a region when the sum of its partitions' upper quantiles, every error taken at its
 * worst at once, exceeds the headroom. That sum is not the region's upper quantile: errors of many partitions do
 * not all peak together. Here the region's demand at each step is a normal distribution with the partitions' mean
 * and a spread from their upper-quantile gaps aggregated with a correlation ρ (ρ = 1 adds the gaps up, 0 adds
 * their squares, as the planner's `upperCorrelation`). A cell is bought when the expected load penalty it saves
 * over the forecast horizon (the planner's convex knees: queueing latency from 50% of capacity, 125 ms per request
 * beyond it; the SLO price the planner already uses) outweighs the cell-hours it will run: its hour price for
 * `holdMs`, the least time a cell runs before the scale-in rule may retire it (scale-in.ts's quiet time), not
 * forever. Steps before a new cell could be provisioned gain nothing from it. Pure: the simulator's predictive
 * policy and the profiler call it with the same inputs.
 */

export interface ScaleOutPartition {
  /** Primary cell (after the cycle's planned moves, where the caller knows them). */
  readonly cell: string;
  /** Mean forecast of its ops/s from every region of origin, per forecast step. */
  readonly mean: ArrayLike<number>;
  /** The upper forecast capacity plans on (same steps). */
  readonly upper: ArrayLike<number>;
}

export interface ScaleOutInput {
  readonly nowMs: number;
  /** Length of one forecast step. */
  readonly stepMs: number;
  /** Live cells (RETIRED ones may be left out). */
  readonly cells: readonly ScaleInCell[];
  readonly partitions: readonly ScaleOutPartition[];
  /** The capacity forecast's shortfalls: the regions to judge, their timing and the cells they need. */
  readonly shortfalls: readonly CapacityShortfall[];
  /** Cells known to start draining soon (the backtest's scheduled removals): counted as draining. */
  readonly leavingCells?: readonly string[];
  /** Capacity and hour price of the cell a scale-out adds; default: the mean of the region's live cells. */
  readonly newCell?: { readonly capacityOpsPerSec: number; readonly hourPriceUsd: number };
}

export interface ScaleOutOptions {
  /** Quantile level of the upper forecast (the simulator's `planningQuantile`, the profiler's `upperLevel`). @default 0.9 */
  readonly upperLevel?: number;
  /**
   * Correlation of the partitions' forecast errors within a region, for the region's spread (0: independent, 1: the
   * gaps add up). Chosen on the scenario suite's tuning half (BENCHMARKS.md, issue 12). @default 0.5
   */
  readonly errorCorrelation?: number;
  /** Cell-hours a new cell is charged: the least it runs before a scale-in may retire it. @default 12 h */
  readonly holdMs?: number;
  /** Time to provision a cell: steps before it gain nothing. @default 5 min */
  readonly provisionMs?: number;
  /** The planner's load penalty. @default planner default */
  readonly loadPenaltyKnees?: readonly LoadPenaltyKnee[];
  readonly dollarsPerLatencyMsPerMillionRequests?: number;
  /**
   * The planner's price of a partition left on a draining cell: while a cell drains, the capacity a shortfall asks
   * for is where its partitions must go, and each one that cannot leave costs this. @default planner default (100)
   */
  readonly drainDollarsPerPartition?: number;
}

export type ResolvedScaleOutOptions = Required<ScaleOutOptions>;

export const DEFAULT_SCALE_OUT_OPTIONS: ResolvedScaleOutOptions = {
  upperLevel: 0.9,
  errorCorrelation: DEFAULT_ERROR_CORRELATION,
  holdMs: 12 * 3_600_000,
  provisionMs: 5 * 60_000,
  loadPenaltyKnees: DEFAULT_PLANNER_OPTIONS.loadPenaltyKnees,
  dollarsPerLatencyMsPerMillionRequests: DEFAULT_PLANNER_OPTIONS.dollarsPerLatencyMsPerMillionRequests,
  drainDollarsPerPartition: DEFAULT_PLANNER_OPTIONS.drainDollarsPerPartition,
};

export interface ScaleOutAssessment {
  readonly region: string;
  readonly shortfall: CapacityShortfall;
  /** Cells to add now (0: not worth it). */
  readonly cells: number;
  /** Expected load penalty saved over the horizon by `cells` (or by one cell when 0), US dollars. */
  readonly benefitUsd: number;
  /** Their cell-hours over `holdMs`, US dollars. */
  readonly costUsd: number;
}

const HOUR_MS = 3_600_000;

export function resolveScaleOutOptions(options?: ScaleOutOptions): ResolvedScaleOutOptions {
  const o = { ...DEFAULT_SCALE_OUT_OPTIONS, ...options };
  if (!(o.upperLevel > 0.5 && o.upperLevel < 1)) throw new RangeError(`scale-out upperLevel ${o.upperLevel}`);
  if (!(o.errorCorrelation >= 0 && o.errorCorrelation <= 1))
    throw new RangeError(`scale-out errorCorrelation ${o.errorCorrelation}`);
  if (!(o.holdMs >= 0)) throw new RangeError(`scale-out holdMs ${o.holdMs}`);
  if (!(o.provisionMs >= 0)) throw new RangeError(`scale-out provisionMs ${o.provisionMs}`);
  return o;
}

/** One verdict per shortfall's region; `cells` > 0 where buying is worth it. */
export function assessScaleOuts(input: ScaleOutInput, options?: ScaleOutOptions): ScaleOutAssessment[] {
  const o = resolveScaleOutOptions(options);
  const z = normalQuantile(o.upperLevel);
  const cellRegion = new Map(input.cells.map((c) => [c.id, c.region]));
  const steps = Math.max(0, ...input.partitions.map((p) => p.mean.length));
  const stepSeconds = input.stepMs / 1000;
  // The first step a cell started now could serve.
  const firstUseful = Math.max(0, Math.ceil(o.provisionMs / input.stepMs - 1e-9));
  // Partitions still on a draining cell (anywhere: a drain may have to cross regions) need the room a shortfall
  // asks for; the planner prices each one left there at `drainDollarsPerPartition`, beyond any cell-hour.
  const draining = new Set([
    ...input.cells.filter((c) => c.status === 'DRAINING').map((c) => c.id),
    ...(input.leavingCells ?? []),
  ]);
  let drainingPartitions = 0;
  for (const p of input.partitions) if (draining.has(p.cell)) drainingPartitions++;
  const drainUsd = drainingPartitions * o.drainDollarsPerPartition;
  const out: ScaleOutAssessment[] = [];
  for (const shortfall of input.shortfalls) {
    const region = shortfall.region;
    const mean = new Float64Array(steps);
    const gapSum = new Float64Array(steps);
    const gapSquares = new Float64Array(steps);
    for (const p of input.partitions) {
      if (cellRegion.get(p.cell) !== region) continue;
      for (let t = 0; t < p.mean.length; t++) {
        const m = p.mean[t];
        const g = Math.max(0, (p.upper[t] ?? m) - m);
        mean[t] += m;
        gapSum[t] += g;
        gapSquares[t] += g * g;
      }
    }
    let capacity = 0;
    let liveCapacity = 0;
    let livePrice = 0;
    let live = 0;
    for (const c of input.cells) {
      if (c.region !== region || c.status === 'RETIRED') continue;
      live++;
      liveCapacity += c.capacityOpsPerSec;
      livePrice += c.hourPriceUsd;
      if (c.status === 'ACTIVE' || c.status === 'PROVISIONING') capacity += c.capacityOpsPerSec;
    }
    const newCell = input.newCell ?? {
      capacityOpsPerSec: live > 0 ? liveCapacity / live : 0,
      hourPriceUsd: live > 0 ? livePrice / live : 0,
    };
    const rho = o.errorCorrelation;
    const sigma = new Float64Array(steps);
    for (let t = 0; t < steps; t++)
      sigma[t] = Math.sqrt((1 - rho) * gapSquares[t] + rho * gapSum[t] * gapSum[t]) / z;
    const penaltyUsd = (cap: number) => {
      let usd = 0;
      for (let t = firstUseful; t < steps; t++)
        usd += expectedLoadPenaltyUsd(mean[t], sigma[t], cap, stepSeconds, o);
      return usd;
    };
    const without = penaltyUsd(capacity);
    let best = { cells: 0, net: 0, benefit: 0, cost: 0 };
    let first: { benefit: number; cost: number } | undefined;
    for (let k = 1; k <= Math.max(1, shortfall.cellsNeeded); k++) {
      const benefit = without - penaltyUsd(capacity + k * newCell.capacityOpsPerSec) + drainUsd;
      const cost = (k * newCell.hourPriceUsd * o.holdMs) / HOUR_MS;
      first ??= { benefit, cost };
      if (benefit - cost > best.net) best = { cells: k, net: benefit - cost, benefit, cost };
    }
    out.push({
      region,
      shortfall,
      cells: best.cells,
      benefitUsd: best.cells > 0 ? best.benefit : (first?.benefit ?? 0),
      costUsd: best.cells > 0 ? best.cost : (first?.cost ?? 0),
    });
  }
  return out;
}

/**
 * Expected load penalty, US dollars, of a normal demand (mean, sigma) for `seconds` on cells of `capacity` ops/s
 * with the load balanced in proportion to capacity (as scale-in.ts's `balancedLoadPenaltyUsd`, in expectation).
 */
export function expectedLoadPenaltyUsd(
  mean: number,
  sigma: number,
  capacity: number,
  seconds: number,
  o: Pick<ResolvedScaleOutOptions, 'loadPenaltyKnees' | 'dollarsPerLatencyMsPerMillionRequests'>,
): number {
  let ms = 0;
  for (const knee of o.loadPenaltyKnees)
    ms += knee.extraMsPerRequest * expectedExcess(mean, sigma, knee.utilization * capacity);
  return (ms * seconds * o.dollarsPerLatencyMsPerMillionRequests) / 1e6;
}

/** E[(D − a)+] for D ~ Normal(mean, sigma). */
export function expectedExcess(mean: number, sigma: number, a: number): number {
  if (!(sigma > 0)) return Math.max(0, mean - a);
  const k = (a - mean) / sigma;
  return sigma * normalDensity(k) + (mean - a) * (1 - normalCdf(k));
}

function normalDensity(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Φ(x), from erf (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function normalCdf(x: number): number {
  const u = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * u);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-u * u);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Φ⁻¹(p) by bisection on `normalCdf` (called once per decision: no need for a rational approximation). */
export function normalQuantile(p: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
