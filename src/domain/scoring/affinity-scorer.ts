import type { Forecast } from '../forecasting/forecast-model.ts';
import type { Relationship } from '../planning/movement-plan.ts';
import type { AffinityScore } from './affinity-score.ts';

/**
 * Affinity scores and prediction vectors from per-region demand forecasts.
 *
 * Affinity = P(the partition is hot at some step of the horizon). "Hot" at step s means its total demand
 * D(s) (all regions) exceeds the lowest of three thresholds:
 * - cell threshold: max(fair share, room), where usable(s) = capacity × headroom − other load,
 *   fair share = usable / partitions on the cell, and room = usable − the other scored partitions'
 *   expected demand on that cell. On a roomy cell the room is large, so only a partition that would
 *   overflow the cell by itself is hot; on an over-committed cell the room is below the fair share, so
 *   every partition above its fair share is hot. Many lukewarm partitions that together exceed the cell
 *   therefore all score high, although none is individually large.
 *   room = demand − excess, with excess = the cell's expected demand − usable, one number per cell and
 *   step; a cell within `FULL_CELL_TOLERANCE` of full counts as exactly full (excess 0), so rounding
 *   cannot put the partitions of one cell on different sides of their own demand. A partition bigger
 *   than fair share + excess keeps room = demand − excess above the fair share: it is hot (above the
 *   median), but P(D > demand − excess) depends on excess / its own spread, so on an over-committed cell
 *   two such partitions are not ranked by demand (with the same relative spread the bigger, wider one
 *   scores lower). Affinity is monotone in demand / threshold, not in demand alone.
 * - fleet threshold: the `fleetPercentile` of the partitions' predicted peak demand, and at least
 *   `fleetMedianMultiple` × their median (in a fleet of equals nobody is hot for being "in the top 1%");
 * - `hotOpsPerSec`, an optional fixed threshold.
 *
 * P(D(s) > T) reads the forecast distribution: regions are summed quantile by quantile (comonotonic,
 * which is conservative for the upper tail), the CDF is interpolated linearly between quantiles, with
 * exponential tails fitted to the outer two. Steps are combined as max(max_s p_s, 1 − Π_s (1 − p_s)^(1/k)),
 * k = the number of steps within `correlationMs`: forecast errors of neighbouring steps move together, so
 * treating 24 steps as independent draws would overstate the chance.
 * Cell pressure (utilization above `utilizationAlarm`, or throttling) and hot co-accessed partitions raise
 * the score further. No per-step objects are allocated: the work is on typed scratch arrays.
 */
export interface ScoringInput {
  /**
   * Quantile levels of every `RegionForecast.quantiles`, ascending, e.g. [0.1, 0.5, 0.9]. May be empty:
   * then only the means are known and a default spread is assumed (confidence 0).
   */
  readonly quantileLevels: readonly number[];
  /** Length of one forecast step. @default 300000 (5 minutes) */
  readonly stepMs?: number;
  readonly partitions: readonly PartitionForecast[];
  /** Cells the partitions live on; a partition whose cell is not listed is judged against the fleet only. */
  readonly cells?: readonly CellState[];
  /** Co-access between partitions: a hot neighbour raises a partition's score. */
  readonly relationships?: readonly Relationship[];
  readonly options?: Partial<ScoringOptions>;
}

export interface PartitionForecast {
  readonly id: string;
  /** Current primary cell. */
  readonly cell?: string;
  /** Forecast per region of origin; every region's arrays share the horizon length. */
  readonly regions: Readonly<Record<string, RegionForecast>>;
  /** Fraction of ops that are writes. @default options.defaultWriteFraction */
  readonly writeFraction?: number;
}

export interface RegionForecast {
  /** Mean ops/s per step. */
  readonly mean: ArrayLike<number>;
  /** One array per `ScoringInput.quantileLevels` entry, ops/s per step. */
  readonly quantiles?: readonly ArrayLike<number>[];
  /** Write fraction of this region's demand; overrides the partition's. */
  readonly writeFraction?: number;
  /** Model that produced the forecast, e.g. `embedded:daily+weekly`. */
  readonly model?: string;
}

export interface CellState {
  readonly id: string;
  readonly capacityOpsPerSec: number;
  /** Demand on the cell that is not among the scored partitions (unscored tenants, copies). @default 0 */
  readonly otherLoadOpsPerSec?: number;
  /** Measured utilization now, as a fraction of capacity. */
  readonly utilization?: number;
  /** Fraction of requests throttled recently, in [0, 1]. */
  readonly throttledFraction?: number;
}

export interface ScoringOptions {
  /** Usable fraction of a cell's capacity. @default 0.8 */
  readonly headroom: number;
  /** Partitions whose demand exceeds this percentile of the fleet's predicted peaks are hot. @default 0.99 */
  readonly fleetPercentile: number;
  /** …and exceeds this multiple of the median peak. @default 2 */
  readonly fleetMedianMultiple: number;
  /** Fixed hot threshold in ops/s, in addition to the relative ones. @default Infinity (off) */
  readonly hotOpsPerSec: number;
  /** Weight of a write relative to a read in the prediction vector (remote writes cost more). @default 3 */
  readonly writeWeight: number;
  /** @default 0.2 */
  readonly defaultWriteFraction: number;
  /** Utilization above which a cell is under pressure. @default 0.8 */
  readonly utilizationAlarm: number;
  /** Throttled fraction at which pressure is full. @default 0.05 */
  readonly throttlingForFullPressure: number;
  /** Span over which forecast errors of consecutive steps are treated as one draw. @default 1 hour */
  readonly correlationMs: number;
  /** Relative half-width of the 10–90% interval assumed when a forecast has no quantiles. @default 0.25 */
  readonly defaultRelativeSpread: number;
}

export const DEFAULT_SCORING_OPTIONS: ScoringOptions = {
  headroom: 0.8,
  fleetPercentile: 0.99,
  fleetMedianMultiple: 2,
  hotOpsPerSec: Number.POSITIVE_INFINITY,
  writeWeight: 3,
  defaultWriteFraction: 0.2,
  utilizationAlarm: 0.8,
  throttlingForFullPressure: 0.05,
  correlationMs: 3_600_000,
  defaultRelativeSpread: 0.25,
};

const Z90 = 1.2815515655446004;

/**
 * A cell whose expected demand is within this fraction of its usable capacity is taken as exactly full.
 * The excess is a difference of sums of (partitions × regions) terms, each rounded to 2^-53; below
 * ~1e-10 of the cell it is rounding, whose sign would otherwise decide whether a near-point forecast
 * is hot (0.9 per step) or not (0.1 or 0).
 */
export const FULL_CELL_TOLERANCE = 1e-9;

/** A ForecastModel's output as scorer input; a level the forecast lacks is left to the mean-based fallback. */
export function toRegionForecast(forecast: Forecast, quantileLevels: readonly number[]): RegionForecast {
  const quantiles: ArrayLike<number>[] = [];
  for (const level of quantileLevels) {
    const values = forecast.quantiles.get(level);
    if (values === undefined) return { mean: forecast.mean, model: forecast.model };
    quantiles.push(values);
  }
  return { mean: forecast.mean, quantiles, model: forecast.model };
}

export function scorePartitions(input: ScoringInput): AffinityScore[] {
  const options: ScoringOptions = { ...DEFAULT_SCORING_OPTIONS, ...input.options };
  const partitions = input.partitions;
  const P = partitions.length;
  if (P === 0) return [];
  const steps = horizonOf(partitions);
  const stepMs = input.stepMs ?? 300_000;
  const correlationSteps = Math.max(1, options.correlationMs / stepMs);

  // Quantile levels, plus the mean standing in for the median when 0.5 is not given; spread assumed if none.
  const given = input.quantileLevels;
  for (let i = 1; i < given.length; i++) {
    if (!(given[i] > given[i - 1])) throw new RangeError('quantileLevels must be strictly ascending');
  }
  const hasQuantiles = given.length > 0;
  const levels: number[] = hasQuantiles ? [...given] : [0.1, 0.9];
  if (!levels.includes(0.5)) levels.push(0.5);
  levels.sort((a, b) => a - b);
  const L = levels.length;
  const grid = new QuantileGrid(levels);
  // Where each level's values come from: an index into the given quantiles, or −1 for the mean
  // (standing in for the median when 0.5 is not given, and for every level when there are no quantiles).
  const source = Int32Array.from(levels, (level) => given.indexOf(level));
  const spreadZ = Float64Array.from(levels, (level) => normalQuantileApprox(level) / Z90);
  const lowPair = pairForConfidence(levels);

  // Pass 1: total mean per step, peaks, and each cell's expected demand per step.
  const cellIndex = new Map<string, number>();
  const cells = input.cells ?? [];
  cells.forEach((cell, i) => {
    cellIndex.set(cell.id, i);
  });
  const C = cells.length;
  const cellDemand = new Float64Array(C * steps);
  const cellCount = new Float64Array(C);
  const partitionCell = new Int32Array(P).fill(-1);
  // Scratch, reused for every partition: large per-call allocations would trigger full GCs over the input.
  const totals = new Float64Array(steps);
  const peak = new Float64Array(P);
  const peakStep = new Int32Array(P);
  for (let p = 0; p < P; p++) {
    const partition = partitions[p];
    sumMeans(partition, totals, steps);
    let best = 0;
    for (let s = 1; s < steps; s++) if (totals[s] > totals[best]) best = s;
    peak[p] = steps > 0 ? totals[best] : 0;
    peakStep[p] = best;
    const c = partition.cell === undefined ? undefined : cellIndex.get(partition.cell);
    if (c !== undefined) {
      partitionCell[p] = c;
      cellCount[c]++;
      for (let s = 0; s < steps; s++) cellDemand[c * steps + s] += totals[s];
    }
  }
  const sortedPeaks = Float64Array.from(peak).sort();
  const fleetThreshold = Math.max(
    percentile(sortedPeaks, options.fleetPercentile),
    options.fleetMedianMultiple * percentile(sortedPeaks, 0.5),
  );
  const pressure = new Float64Array(C);
  for (let c = 0; c < C; c++) pressure[c] = cellPressure(cells[c], options);

  // Pass 2: per-step probabilities of being hot, vectors, confidence.
  const q = new Float64Array(L * steps);
  const affinity = new Float64Array(P);
  const meanDemand = new Float64Array(P);
  const results: AffinityScore[] = new Array(P);
  const regionNames: string[] = [];
  const regionWeights: number[] = [];
  const modelScratch: string[] = [];
  let lastModels: string[] | undefined;
  for (let p = 0; p < P; p++) {
    const partition = partitions[p];
    totals.fill(0);
    q.fill(0);
    const wfPartition = partition.writeFraction ?? options.defaultWriteFraction;
    let regionCount = 0;
    let vectorTotal = 0;
    let sameModels = lastModels !== undefined;
    modelScratch.length = 0;
    for (const region in partition.regions) {
      const forecast = partition.regions[region];
      const wf = forecast.writeFraction ?? wfPartition;
      // One pass over the mean: the partition's total per step and this region's demand.
      const mean = forecast.mean;
      let demand = 0;
      for (let s = 0; s < steps; s++) {
        const v = finiteOrZero(mean[s]);
        totals[s] += v;
        demand += v;
      }
      // Writes weigh `writeWeight` times a read: moving toward a writer saves more than toward a reader.
      const weight = demand * (1 - wf + options.writeWeight * wf);
      regionNames[regionCount] = region;
      regionWeights[regionCount++] = weight;
      vectorTotal += weight;
      const model = forecast.model;
      if (model !== undefined && !modelScratch.includes(model)) {
        if (sameModels && lastModels![modelScratch.length] !== model) sameModels = false;
        modelScratch.push(model);
      }
      addRegionQuantiles(q, forecast, source, spreadZ, steps, options.defaultRelativeSpread);
    }
    const vector: Record<string, number> = {};
    if (vectorTotal > 0)
      for (let r = 0; r < regionCount; r++) vector[regionNames[r]] = regionWeights[r] / vectorTotal;
    // Most partitions share one model list: reuse the previous array instead of allocating one each.
    if (!(sameModels && lastModels!.length === modelScratch.length)) lastModels = [...modelScratch];
    const models = lastModels!;

    const c = partitionCell[p];
    let pMax = 0;
    let notHot = 1;
    let width = 0;
    let meanSum = 0;
    for (let s = 0; s < steps; s++) {
      monotone(q, s, steps, L);
      const total = totals[s];
      meanSum += total;
      width += q[lowPair[1] * steps + s] - q[lowPair[0] * steps + s];
      let threshold = Math.min(fleetThreshold, options.hotOpsPerSec);
      if (c >= 0) {
        const cell = cells[c];
        const usable = cell.capacityOpsPerSec * options.headroom - (cell.otherLoadOpsPerSec ?? 0);
        const fair = usable / cellCount[c];
        // room = usable − the others' demand = total − excess; the excess is shared by the cell's partitions.
        const expected = cellDemand[c * steps + s];
        let excess = expected - usable;
        if (Math.abs(excess) <= FULL_CELL_TOLERANCE * Math.max(Math.abs(usable), expected)) excess = 0;
        const room = total - excess;
        threshold = Math.min(threshold, Math.max(fair, room));
      }
      const ps = grid.exceedance(q, s, steps, threshold);
      if (ps > pMax) pMax = ps;
      notHot *= Math.max(1e-12, 1 - ps);
      if (notHot < 1e-200) notHot = 1e-200;
    }
    let score = notHot === 1 ? pMax : Math.max(pMax, 1 - Math.exp(Math.log(notHot) / correlationSteps));
    meanDemand[p] = steps > 0 ? meanSum / steps : 0;
    if (c >= 0 && pressure[c] > 0) {
      // A throttling or hot cell raises its partitions' scores, the bigger contributors the more.
      const fair = Math.max(1e-9, cellDemand[c * steps] / Math.max(1, cellCount[c]));
      const share = Math.min(1, totals[0] / fair);
      score = 1 - (1 - score) * (1 - pressure[c] * share);
    }
    affinity[p] = clamp01(score);
    const relativeWidth = meanSum > 0 ? (width / meanSum) * lowPair[2] : Number.POSITIVE_INFINITY;
    results[p] = {
      partition: partition.id,
      affinity: affinity[p],
      predictionVector: vector,
      confidence: hasQuantiles ? 1 / (1 + relativeWidth) : 0,
      peakStep: peakStep[p],
      peakOpsPerSec: peak[p],
      models,
    };
  }

  if (input.relationships && input.relationships.length > 0) {
    applyRelationships(input.relationships, partitions, affinity, meanDemand, results);
  }
  return results;
}

function horizonOf(partitions: readonly PartitionForecast[]): number {
  for (const partition of partitions) {
    for (const region in partition.regions) return partition.regions[region].mean.length;
  }
  return 0;
}

function sumMeans(partition: PartitionForecast, out: Float64Array, steps: number): void {
  out.fill(0);
  for (const region in partition.regions) {
    const mean = partition.regions[region].mean;
    for (let s = 0; s < steps; s++) out[s] += finiteOrZero(mean[s]);
  }
}

function finiteOrZero(x: number): number {
  return Number.isFinite(x) && x > 0 ? x : 0;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : Math.min(x, 1);
}

/**
 * Sum one region's quantiles into q (comonotonic: level by level). A level the region does not provide
 * is the mean widened by the default spread (10/90% at ±spread, other levels scaled as a normal would be).
 */
function addRegionQuantiles(
  q: Float64Array,
  forecast: RegionForecast,
  source: Int32Array,
  spreadZ: Float64Array,
  steps: number,
  spread: number,
): void {
  const L = source.length;
  for (let l = 0; l < L; l++) {
    const o = l * steps;
    const g = source[l];
    const values = g >= 0 && forecast.quantiles ? forecast.quantiles[g] : undefined;
    if (values !== undefined) {
      for (let s = 0; s < steps; s++) q[o + s] += finiteOrZero(values[s]);
    } else {
      const factor = Math.max(0, 1 + spreadZ[l] * spread);
      for (let s = 0; s < steps; s++) q[o + s] += finiteOrZero(forecast.mean[s]) * factor;
    }
  }
}

/** Make the quantiles of step s non-decreasing across levels (the mean-as-median may cross a quantile). */
function monotone(q: Float64Array, s: number, steps: number, L: number): void {
  for (let l = 1; l < L; l++) {
    const i = l * steps + s;
    const prev = q[i - steps];
    if (q[i] < prev) q[i] = prev;
  }
}

/**
 * Quantile levels with the constants of the exponential tails: beyond the last two quantiles,
 * P(D > t) = (1 − τ_L)·exp(−(t − q_L)/θ) with θ = (q_L − q_{L−1}) / ln((1 − τ_{L−1}) / (1 − τ_L)),
 * and the mirror image below the first two.
 */
export class QuantileGrid {
  readonly levels: Float64Array;
  readonly upperLog: number;
  readonly lowerLog: number;

  constructor(levels: readonly number[]) {
    this.levels = Float64Array.from(levels);
    const L = levels.length;
    this.upperLog = L >= 2 ? Math.log((1 - levels[L - 2]) / (1 - levels[L - 1])) : 0;
    this.lowerLog = L >= 2 ? Math.log(levels[1] / levels[0]) : 0;
  }

  /** P(D > t) from the quantiles of step s in q (level-major, `steps` per level): linear CDF between them. */
  exceedance(q: Float64Array, s: number, steps: number, t: number): number {
    if (t < 0) return 1;
    const levels = this.levels;
    const L = levels.length;
    const last = q[(L - 1) * steps + s];
    if (t >= last) {
      const tail = 1 - levels[L - 1];
      if (L < 2) return t > last ? 0 : tail;
      const spread = last - q[(L - 2) * steps + s];
      if (!(spread > 0)) return t > last ? 0 : tail;
      const x = ((t - last) * this.upperLog) / spread;
      return x > 700 ? 0 : tail * Math.exp(-x);
    }
    const first = q[s];
    if (t < first) {
      if (L < 2) return 1;
      const spread = q[steps + s] - first;
      if (!(spread > 0)) return 1 - levels[0];
      return 1 - levels[0] * Math.exp(-((first - t) * this.lowerLog) / spread);
    }
    for (let l = 1; l < L; l++) {
      const hi = q[l * steps + s];
      if (t < hi) {
        const lo = q[(l - 1) * steps + s];
        const w = hi > lo ? (t - lo) / (hi - lo) : 1;
        return 1 - (levels[l - 1] + w * (levels[l] - levels[l - 1]));
      }
    }
    return 1 - levels[L - 1];
  }
}

/**
 * The pair of levels whose interval width measures confidence (the widest symmetric-ish pair), and the
 * factor that converts that width to a 10–90% equivalent under a normal shape.
 */
function pairForConfidence(levels: readonly number[]): [number, number, number] {
  const lo = 0;
  const hi = levels.length - 1;
  const zLo = normalQuantileApprox(levels[lo]);
  const zHi = normalQuantileApprox(levels[hi]);
  const span = zHi - zLo;
  return [lo, hi, span > 0 ? (2 * Z90) / span : 1];
}

/** Rough normal quantile (for scaling interval widths only). */
function normalQuantileApprox(p: number): number {
  // Logistic approximation: good to a few percent in the 1–99% range, enough for a width ratio.
  return Math.log(p / (1 - p)) / 1.702;
}

/** Pressure in [0, 1] from a cell's measured utilization and throttling. */
function cellPressure(cell: CellState, options: ScoringOptions): number {
  let pressure = 0;
  if (cell.utilization !== undefined && cell.utilization > options.utilizationAlarm) {
    pressure = Math.min(1, (cell.utilization - options.utilizationAlarm) / (1 - options.utilizationAlarm));
  }
  if (cell.throttledFraction !== undefined && cell.throttledFraction > 0) {
    pressure = Math.max(pressure, Math.min(1, cell.throttledFraction / options.throttlingForFullPressure));
  }
  return pressure;
}

/** The `level` percentile (nearest rank) of sorted values; +∞ for level ≥ 1, so the criterion is off. */
function percentile(sorted: Float64Array, level: number): number {
  if (sorted.length === 0 || !(level < 1)) return Number.POSITIVE_INFINITY;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(level * sorted.length) - 1));
  return sorted[rank];
}

/** A partition co-accessed with a hot one is likely to be hot with it: raise by the neighbour's score × the co-access share. */
function applyRelationships(
  relationships: readonly Relationship[],
  partitions: readonly PartitionForecast[],
  affinity: Float64Array,
  meanDemand: Float64Array,
  results: AffinityScore[],
): void {
  const index = new Map<string, number>();
  partitions.forEach((partition, i) => {
    index.set(partition.id, i);
  });
  const boost = new Float64Array(affinity.length);
  const raise = (self: number, other: number, coAccess: number) => {
    const share = meanDemand[self] > 0 ? Math.min(1, coAccess / meanDemand[self]) : 0;
    boost[self] = Math.max(boost[self], affinity[other] * share);
  };
  for (const { a, b, coAccessPerSec } of relationships) {
    const ia = index.get(a);
    const ib = index.get(b);
    if (ia === undefined || ib === undefined || !(coAccessPerSec > 0)) continue;
    raise(ia, ib, coAccessPerSec);
    raise(ib, ia, coAccessPerSec);
  }
  for (let p = 0; p < results.length; p++) {
    if (boost[p] > 0) {
      results[p] = { ...results[p], affinity: clamp01(1 - (1 - affinity[p]) * (1 - boost[p])) };
    }
  }
}
