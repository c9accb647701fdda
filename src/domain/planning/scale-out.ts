import { DEFAULT_PLANNING_QUANTILE } from '../forecasting/planning-quantile.ts';
import type { CapacityShortfall } from './movement-plan.ts';
import { DEFAULT_LIMITS, DEFAULT_PLANNER_OPTIONS, type LoadPenaltyKnee } from './planner-options.ts';
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
 * forever. Steps before a new cell could be provisioned gain nothing from it.
 *
 * Locality (off by default, `localityMs`): a region at the planner's headroom also keeps out the partitions whose
 * demand wants them there (their best region by the planner's locality cost) but that sit in another region for want
 * of room. The room the new cells add below the headroom (on the partitions' upper forecasts added up, as the planner
 * plans a cell) lets the planner bring the most valuable of them home; the latency they would stop paying (the
 * planner's locality term: requests × inter-region latency × write weight × its latency price) is added to the
 * benefit, at the horizon's mean rate for `localityMs`. Off because it did not pay on the scenario suite's tuning
 * half (BENCHMARKS.md, issue 12, "A locality term in the scale-out price"): over the 12 h hold it won back locality
 * (gap closed 79.8% → 87.3%) for cells (1.07× → 1.17× the oracle), over the 2 h horizon less of both (cells 1.11×
 * on 12 of 13 scenarios; the 13th crashed on a scale-in); the cells it bought were mostly on day 2, on upper
 * forecasts about 3× the true demand, and lived for days. Pure: the
 * simulator's predictive policy and the profiler call it with the same inputs.
 */

export interface ScaleOutPartition {
  /** Primary cell (after the cycle's planned moves, where the caller knows them). */
  readonly cell: string;
  /** Mean forecast of its ops/s from every region of origin, per forecast step. */
  readonly mean: ArrayLike<number>;
  /** The upper forecast capacity plans on (same steps). */
  readonly upper: ArrayLike<number>;
  /**
   * Mean forecast of its ops/s per region of origin (same steps), for the locality term; absent: the partition is
   * never counted as kept away from home.
   */
  readonly demand?: Readonly<Record<string, ArrayLike<number>>>;
  /** Share of writes, which pay `writeLatencyWeight` times a read's latency. @default planner default (0.2) */
  readonly writeFraction?: number;
}

/** Round-trip latency in ms between regions; each pair may be listed once, either way round (as `Topology.latencyMs`). */
export type RegionLatencies = Readonly<Record<string, Readonly<Record<string, number>>>>;

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
  /** Inter-region latencies (the planner's topology); absent: no locality term. */
  readonly latencyMs?: RegionLatencies;
}

export interface ScaleOutOptions {
  /**
   * Quantile level of the upper forecast (the simulator's `planningQuantile`, the profiler's `upperLevel`).
   * @default DEFAULT_PLANNING_QUANTILE (0.95)
   */
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
  /**
   * How long the latency saved by the partitions the new cells let come home counts, at the horizon's mean rate
   * (the hold, 12 h: the homecoming lasts as long as the cell is paid for; the horizon, 2 h in the backtest: as
   * long as the load penalty is counted). 0 turns the locality term off: neither paid on the scenario suite's
   * tuning half (BENCHMARKS.md, issue 12). @default 0
   */
  readonly localityMs?: number;
  /** The planner's weight of a remote write against a read. @default planner default (2) */
  readonly writeLatencyWeight?: number;
  /** The planner's write share of a partition that gives none. @default planner default (0.2) */
  readonly defaultWriteFraction?: number;
  /** The planner's headroom: the room a new cell adds for partitions coming home. @default planner default (0.8) */
  readonly headroom?: number;
}

export type ResolvedScaleOutOptions = Required<ScaleOutOptions>;

export const DEFAULT_SCALE_OUT_OPTIONS: ResolvedScaleOutOptions = {
  upperLevel: DEFAULT_PLANNING_QUANTILE,
  errorCorrelation: DEFAULT_ERROR_CORRELATION,
  holdMs: 12 * 3_600_000,
  provisionMs: 5 * 60_000,
  loadPenaltyKnees: DEFAULT_PLANNER_OPTIONS.loadPenaltyKnees,
  dollarsPerLatencyMsPerMillionRequests: DEFAULT_PLANNER_OPTIONS.dollarsPerLatencyMsPerMillionRequests,
  drainDollarsPerPartition: DEFAULT_PLANNER_OPTIONS.drainDollarsPerPartition,
  localityMs: 0,
  writeLatencyWeight: DEFAULT_PLANNER_OPTIONS.writeLatencyWeight,
  defaultWriteFraction: DEFAULT_PLANNER_OPTIONS.defaultWriteFraction,
  headroom: DEFAULT_LIMITS.headroom,
};

export interface ScaleOutAssessment {
  readonly region: string;
  readonly shortfall: CapacityShortfall;
  /** Cells to add now (0: not worth it). */
  readonly cells: number;
  /**
   * What `cells` (or one cell when 0) are worth, US dollars: the expected load penalty saved over the horizon, the
   * drain, and the latency of the partitions they let come home (`localityUsd`).
   */
  readonly benefitUsd: number;
  /** The locality part of `benefitUsd`. */
  readonly localityUsd: number;
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
  if (!(o.localityMs >= 0)) throw new RangeError(`scale-out localityMs ${o.localityMs}`);
  if (!(o.headroom > 0 && o.headroom <= 1)) throw new RangeError(`scale-out headroom ${o.headroom}`);
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
  const awayFromHome = awayFromHomeByRegion(input, o, steps, firstUseful);
  const out: ScaleOutAssessment[] = [];
  for (const shortfall of input.shortfalls) {
    const region = shortfall.region;
    const mean = new Float64Array(steps);
    const gapSum = new Float64Array(steps);
    const gapSquares = new Float64Array(steps);
    // What the planner packs the region's cells on: the upper forecasts added up.
    const upperSum = new Float64Array(steps);
    for (const p of input.partitions) {
      if (cellRegion.get(p.cell) !== region) continue;
      for (let t = 0; t < p.mean.length; t++) {
        const m = p.mean[t];
        const g = Math.max(0, (p.upper[t] ?? m) - m);
        upperSum[t] += p.upper[t] ?? m;
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
    const away = awayFromHome.get(region) ?? [];
    let best = { cells: 0, net: 0, benefit: 0, cost: 0, locality: 0 };
    let first: { benefit: number; cost: number; locality: number } | undefined;
    for (let k = 1; k <= Math.max(1, shortfall.cellsNeeded); k++) {
      const withCells = capacity + k * newCell.capacityOpsPerSec;
      const locality = homecomingUsd(away, upperSum, o.headroom * withCells, firstUseful, steps);
      const benefit = without - penaltyUsd(withCells) + drainUsd + locality;
      const cost = (k * newCell.hourPriceUsd * o.holdMs) / HOUR_MS;
      first ??= { benefit, cost, locality };
      if (benefit - cost > best.net) best = { cells: k, net: benefit - cost, benefit, cost, locality };
    }
    const verdict = best.cells > 0 ? best : (first ?? { benefit: 0, cost: 0, locality: 0 });
    out.push({
      region,
      shortfall,
      cells: best.cells,
      benefitUsd: verdict.benefit,
      costUsd: verdict.cost,
      localityUsd: verdict.locality,
    });
  }
  return out;
}

/** A partition served from another region than the one its demand wants it in, and what that costs. */
interface AwayFromHome {
  /** Its upper forecast per step: the room it takes at home. */
  readonly upper: ArrayLike<number>;
  /** Latency dollars it would save at home over the useful steps, scaled to `localityMs`. */
  readonly savingUsd: number;
  /** `savingUsd` per ops/s of its peak upper forecast: the order in which room is handed out. */
  readonly density: number;
}

/**
 * Per region, the partitions hosted elsewhere whose best region by the planner's locality cost is this one, and
 * the latency they would save there, best value per unit of room first.
 */
function awayFromHomeByRegion(
  input: ScaleOutInput,
  o: ResolvedScaleOutOptions,
  steps: number,
  firstUseful: number,
): Map<string, AwayFromHome[]> {
  const out = new Map<string, AwayFromHome[]>();
  const matrix = input.latencyMs;
  const useful = steps - firstUseful;
  if (!matrix || o.localityMs <= 0 || useful <= 0) return out;
  const latency = (a: string, b: string) => matrix[a]?.[b] ?? matrix[b]?.[a] ?? (a === b ? 0 : Number.NaN);
  const cellRegion = new Map(input.cells.filter((c) => c.status !== 'RETIRED').map((c) => [c.id, c.region]));
  const regions = [...new Set(cellRegion.values())].sort();
  // The planner's locality price per ops/s-ms over one step, before the write weight (placement-model.ts).
  const stepDollarsPerOpsMs = ((input.stepMs / 1000) * o.dollarsPerLatencyMsPerMillionRequests) / 1e6;
  const toHold = o.localityMs / (useful * input.stepMs);
  const cost = new Float64Array(regions.length);
  for (const p of input.partitions) {
    const at = cellRegion.get(p.cell);
    if (at === undefined || !p.demand) continue;
    const wf = p.writeFraction ?? o.defaultWriteFraction;
    const weight = stepDollarsPerOpsMs * (1 - wf + wf * o.writeLatencyWeight);
    // Its locality cost over the useful steps if served from each region.
    cost.fill(0);
    for (const [origin, series] of Object.entries(p.demand)) {
      let requests = 0;
      for (let t = firstUseful; t < Math.min(steps, series.length); t++) requests += series[t];
      if (requests === 0) continue;
      regions.forEach((g, i) => {
        cost[i] += requests * latency(origin, g);
      });
    }
    let home = -1;
    for (let i = 0; i < regions.length; i++)
      if (!Number.isNaN(cost[i]) && (home < 0 || cost[i] < cost[home])) home = i;
    if (home < 0 || regions[home] === at) continue;
    const here = cost[regions.indexOf(at)];
    const savingUsd = (here - cost[home]) * weight * toHold;
    if (!(savingUsd > 0)) continue;
    let peak = 0;
    for (let t = firstUseful; t < Math.min(steps, p.upper.length); t++) peak = Math.max(peak, p.upper[t]);
    const list = out.get(regions[home]) ?? [];
    list.push({ upper: p.upper, savingUsd, density: peak > 0 ? savingUsd / peak : Number.POSITIVE_INFINITY });
    out.set(regions[home], list);
  }
  for (const list of out.values()) list.sort((a, b) => b.density - a.density || b.savingUsd - a.savingUsd);
  return out;
}

/**
 * Latency dollars won back when the region's cells can hold `usable` ops/s of upper forecast: the partitions away
 * from home, best value per unit of room first, come home while they fit under it at every useful step beside the
 * load the region hosts (first fit over the region's total, as the capacity forecast; no per-cell packing).
 */
function homecomingUsd(
  away: readonly AwayFromHome[],
  hostedUpper: Float64Array,
  usable: number,
  firstUseful: number,
  steps: number,
): number {
  if (away.length === 0) return 0;
  const room = new Float64Array(steps);
  for (let t = firstUseful; t < steps; t++) room[t] = usable - hostedUpper[t];
  let usd = 0;
  for (const p of away) {
    let fits = true;
    for (let t = firstUseful; t < steps && fits; t++) if ((p.upper[t] ?? 0) > room[t]) fits = false;
    if (!fits) continue;
    for (let t = firstUseful; t < steps; t++) room[t] -= p.upper[t] ?? 0;
    usd += p.savingUsd;
  }
  return usd;
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
