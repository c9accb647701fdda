import type { CellStatus } from './movement-plan.ts';
import { DEFAULT_LIMITS, DEFAULT_PLANNER_OPTIONS, type LoadPenaltyKnee } from './planner-options.ts';
import { packs, RegionLoads } from './region-load.ts';

/**
 * Correlation of the partitions' forecast errors within a region, for the scaling decisions (scale-in and the
 * priced scale-out): 0 treats them as independent (the region's spread grows with √n), 1 adds the gaps to the upper
 * quantile up, as the capacity forecast does. Chosen on the scenario suite's tuning half (BENCHMARKS.md, issue 12).
 */
export const DEFAULT_ERROR_CORRELATION = 0.5;

/**
 * Forecast-driven scale-in: which cell, if any, each region should drain and retire now.
 *
 * A region gives up its cheapest cell to drain (the fewest bytes) when, without that cell, its remaining ACTIVE
 * cells would carry the region's load at or below `utilization` of their capacity
 * - at every step of the forecast horizon, on the upper quantile capacity plans on, and
 * - at every slot of the last `lookbackMs` of what capacity planned on (the highest upper forecast over the
 *   horizon in each slot's cycles), taken as the seasonal-naive forecast of the same slots one
 *   period later: the spare capacity has lasted that long and is expected to last as long again. On the forecast
 *   capacity planned on, not on observed load, so that the scale-out (which fires on the same upper forecast above
 *   the headroom) does not buy the cell back at the next daily peak,
 *
 * and when, in one objective in US dollars, the cell-hours saved over that time outweigh the drain (one move per
 * partition on the cell, the planner's per-move overhead, plus its bytes at the intra-region transfer price) and
 * the extra latency the region's load pays on fewer cells (the planner's convex load penalty, with the load
 * balanced over the remaining cells). `utilization` below the capacity forecast's headroom is the hysteresis: a
 * region that just scaled in is not short of capacity on the next forecast, and the margin up to the headroom
 * covers a forecast miss for the provisioning time a scale-out would need to bring the cell back. A region does
 * not scale in within `quietAfterScaleOutMs` of its last scale-out, nor while one of its cells is provisioning or
 * draining. Pure: the simulator's predictive policy and the profiler (which starts ScaleCluster's scale-in for
 * the chosen cell) call it with the same inputs.
 */

export interface ScaleInCell {
  readonly id: string;
  readonly region: string;
  readonly status: CellStatus;
  readonly capacityOpsPerSec: number;
  /** Price of one hour of this cell in service, US dollars (cell-price.ts). */
  readonly hourPriceUsd: number;
}

export interface ScaleInPartition {
  /** Primary cell. */
  readonly cell: string;
  readonly sizeBytes: number;
  /** Upper forecast of its ops/s from every region of origin, per forecast step. */
  readonly upper: ArrayLike<number>;
  /**
   * The upper forecast capacity planned on (ops/s from every region), the highest in each slot of `recentSlotMs`,
   * oldest first, ending now (`PeakWindow.values`); undefined, or shorter than the lookback, while its history is.
   */
  readonly recentPeaks: ArrayLike<number> | undefined;
  /** Mean forecast of its ops/s from every region, per forecast step; absent: the region counts `upper` whole. */
  readonly mean?: ArrayLike<number>;
  /**
   * The mean forecast in the same slots as `recentPeaks` (the highest over the horizon in each slot); with `mean`,
   * the region's load is the means plus the gaps up to the upper forecast aggregated with `errorCorrelation`.
   */
  readonly recentMeans?: ArrayLike<number>;
  /**
   * The region most of its demand comes from (the planner's locality wants it there). A region keeps the cells its
   * own partitions need, hosted there or not: shrinking it below that would push them to remote cells.
   */
  readonly homeRegion?: string;
}

export interface ScaleInInput {
  readonly nowMs: number;
  /** Length of one forecast step. */
  readonly stepMs: number;
  /** Length of one slot of `recentPeaks`. */
  readonly recentSlotMs: number;
  readonly cells: readonly ScaleInCell[];
  readonly partitions: readonly ScaleInPartition[];
  /** When each region last scaled out (any trigger), if known. */
  readonly lastScaleOutAtMs?: Readonly<Record<string, number>>;
  /** Regions scaling out this cycle (a shortfall is due): they keep their cells. */
  readonly shortRegions?: readonly string[];
  /**
   * When cells known to leave will start draining (a topology's scheduled removals in the backtest): within the
   * lookback before one, no region scales in, since the leaving cell's partitions need the room (a drain may cross
   * regions).
   */
  readonly removalsAtMs?: readonly number[];
}

export interface ScaleInOptions {
  /**
   * The remaining cells must carry the region's load (the partitions' means plus their diversified gaps to the upper
   * forecast) at or below this share of their capacity (below the 0.8 headroom; the priced scale-out does not buy a
   * cell back until the expected load penalty pays for it: hysteresis). Chosen on the scenario suite's tuning half
   * (BENCHMARKS.md, issue 12: 0.7 against 0.6).
   * @default 0.7
   */
  readonly utilization?: number;
  /** How long the spare capacity must have lasted, and is then expected to last (seasonal naive). @default 1 day */
  readonly lookbackMs?: number;
  /** No scale-in of a region within this time after its last scale-out (anti-flapping). @default 12 h */
  readonly quietAfterScaleOutMs?: number;
  /** ACTIVE cells a region keeps at least. @default 1 */
  readonly minCellsPerRegion?: number;
  /** Transfer price of the drain's bytes (intra-region). @default 0 (DynamoDB to DynamoDB in one region) */
  readonly drainTransferPerGB?: number;
  /** The planner's per-move overhead. @default planner default (0.05) */
  readonly moveOverheadDollars?: number;
  /** The planner's load penalty. @default planner default */
  readonly loadPenaltyKnees?: readonly LoadPenaltyKnee[];
  readonly dollarsPerLatencyMsPerMillionRequests?: number;
  /**
   * Correlation of the partitions' forecast errors within a region (0: independent, 1: the gaps to the upper
   * forecast add up), where the partitions give their mean. The same as the priced scale-out's. @default 0.5
   */
  readonly errorCorrelation?: number;
  /**
   * The planner's headroom: the remaining cells must also hold the region's partitions with their upper forecasts
   * added up (as the planner plans a cell) below it, or the partitions homed there cannot all be placed at home.
   * @default planner default (0.8)
   */
  readonly headroom?: number;
}

export type ResolvedScaleInOptions = Required<ScaleInOptions>;

export const DEFAULT_SCALE_IN_OPTIONS: ResolvedScaleInOptions = {
  utilization: 0.7,
  lookbackMs: 86_400_000,
  quietAfterScaleOutMs: 12 * 3_600_000,
  minCellsPerRegion: 1,
  drainTransferPerGB: 0,
  moveOverheadDollars: DEFAULT_PLANNER_OPTIONS.moveOverheadDollars,
  loadPenaltyKnees: DEFAULT_PLANNER_OPTIONS.loadPenaltyKnees,
  dollarsPerLatencyMsPerMillionRequests: DEFAULT_PLANNER_OPTIONS.dollarsPerLatencyMsPerMillionRequests,
  errorCorrelation: DEFAULT_ERROR_CORRELATION,
  headroom: DEFAULT_LIMITS.headroom,
};

export interface ScaleInDecision {
  readonly region: string;
  readonly cellId: string;
  /** Highest load the region is expected to carry (forecast horizon and the lookback's slots), ops/s. */
  readonly peakOpsPerSec: number;
  /** Capacity of the ACTIVE cells left, ops/s. */
  readonly remainingCapacityOpsPerSec: number;
  /** The objective's terms over the lookback, US dollars: saved cell-hours, the drain, the added load penalty. */
  readonly savedUsd: number;
  readonly drainUsd: number;
  readonly loadUsd: number;
}

const GIB = 2 ** 30;
const HOUR_MS = 3_600_000;

/** The region with the most forecast demand (summed over the horizon); undefined when there is none. */
export function homeRegionOf(forecast: Readonly<Record<string, ArrayLike<number>>>): string | undefined {
  let best: string | undefined;
  let bestSum = 0;
  for (const region of Object.keys(forecast).sort()) {
    const series = forecast[region];
    let sum = 0;
    for (let h = 0; h < series.length; h++) sum += series[h];
    if (sum > bestSum) {
      best = region;
      bestSum = sum;
    }
  }
  return best;
}

/** Per-slot peaks of a series up to now: `values[i]` is slot `endSlot − (values.length − 1) + i`. */
export interface PeakWindow {
  /** floor(time / slotMs) of the newest slot. */
  readonly endSlot: number;
  readonly values: readonly number[];
}

/**
 * Add `value` at `nowMs` to a window of at most `slots` slots of `slotMs` (the profiler keeps it in each score
 * record, the simulator per partition). Slots no cycle saw take the value that follows them.
 */
export function rollPeakWindow(
  previous: PeakWindow | undefined,
  nowMs: number,
  value: number,
  slotMs: number,
  slots: number,
): PeakWindow {
  const slot = Math.floor(nowMs / slotMs);
  if (!previous || previous.endSlot > slot || slot - previous.endSlot >= slots)
    return { endSlot: slot, values: [value] };
  const values = [...previous.values];
  if (slot === previous.endSlot) values[values.length - 1] = Math.max(values[values.length - 1], value);
  else for (let s = previous.endSlot + 1; s <= slot; s++) values.push(value);
  return { endSlot: slot, values: values.length > slots ? values.slice(values.length - slots) : values };
}

/** Resolve and check the options (a share in (0, 1], non-negative times). */
export function resolveScaleInOptions(options?: ScaleInOptions): ResolvedScaleInOptions {
  const o = { ...DEFAULT_SCALE_IN_OPTIONS, ...options };
  if (!(o.utilization > 0 && o.utilization <= 1))
    throw new RangeError(`scale-in utilization ${o.utilization}`);
  if (!(o.lookbackMs > 0)) throw new RangeError(`scale-in lookbackMs ${o.lookbackMs}`);
  if (!(o.quietAfterScaleOutMs >= 0)) throw new RangeError(`quietAfterScaleOutMs ${o.quietAfterScaleOutMs}`);
  if (!(o.errorCorrelation >= 0 && o.errorCorrelation <= 1))
    throw new RangeError(`scale-in errorCorrelation ${o.errorCorrelation}`);
  if (!(o.minCellsPerRegion >= 1)) throw new RangeError(`minCellsPerRegion ${o.minCellsPerRegion}`);
  return o;
}

/**
 * Load penalty, US dollars, of `load` ops/s for `seconds` on cells of `capacity` ops/s in total with the load
 * balanced in proportion to capacity: the planner's per-cell knees add up to the same knees on the sum.
 */
export function balancedLoadPenaltyUsd(
  load: number,
  capacity: number,
  seconds: number,
  o: Pick<ResolvedScaleInOptions, 'loadPenaltyKnees' | 'dollarsPerLatencyMsPerMillionRequests'>,
): number {
  let ms = 0;
  for (const knee of o.loadPenaltyKnees)
    ms += knee.extraMsPerRequest * Math.max(0, load - knee.utilization * capacity);
  return (ms * seconds * o.dollarsPerLatencyMsPerMillionRequests) / 1e6;
}

/** Why a region does not scale in this cycle: the first rule that holds it back. */
export type ScaleInBlock =
  | 'short-history'
  | 'short-of-capacity'
  | 'cell-changing'
  | 'quiet-after-scale-out'
  | 'min-cells'
  | 'utilization'
  | 'packing'
  | 'locality'
  | 'drain-fit'
  | 'not-worth-it';

/** One region's verdict: the decision, or the rule that blocked it (with the figures it was judged on). */
export interface ScaleInAssessment {
  readonly region: string;
  readonly decision?: ScaleInDecision;
  readonly blockedBy?: ScaleInBlock;
  /** Highest load to carry over the horizon and the lookback ÷ the remaining cells' capacity, when computed. */
  readonly utilizationWithout?: number;
}

/** At most one scale-in per region, the cell to drain and why; best net benefit first. */
export function decideScaleIns(input: ScaleInInput, options?: ScaleInOptions): ScaleInDecision[] {
  return scaleInsOf(assessScaleIns(input, options));
}

/** The decisions among the verdicts, best net benefit first. */
export function scaleInsOf(assessments: readonly ScaleInAssessment[]): ScaleInDecision[] {
  const out = assessments.flatMap((a) => (a.decision ? [a.decision] : []));
  const net = (d: ScaleInDecision) => d.savedUsd - d.drainUsd - d.loadUsd;
  return out.sort((a, b) => net(b) - net(a) || a.region.localeCompare(b.region));
}

/** Every region's verdict, in the order the regions' cells are listed (diagnosis, logs). */
export function assessScaleIns(input: ScaleInInput, options?: ScaleInOptions): ScaleInAssessment[] {
  const o = resolveScaleInOptions(options);
  const slots = Math.round(o.lookbackMs / input.recentSlotMs);
  const steps = Math.max(0, ...input.partitions.map((p) => p.upper.length));
  const stepSeconds = input.stepMs / 1000;
  const slotSeconds = input.recentSlotMs / 1000;
  // The horizon replaces the first slots of the seasonal-naive day.
  const firstSlot = Math.min(slots, Math.ceil((steps * input.stepMs) / input.recentSlotMs));
  const cellIndex = new Map(input.cells.map((c, i) => [c.id, i]));
  const regions = new Map<string, number[]>();
  input.cells.forEach((cell, i) => {
    const list = regions.get(cell.region) ?? [];
    list.push(i);
    regions.set(cell.region, list);
  });
  const cellBytes = new Float64Array(input.cells.length);
  const cellPartitions = new Float64Array(input.cells.length);
  // Per cell, its partitions' upper forecasts added up at each step, and each partition's own horizon peak: the
  // planner's view of a drain (every partition whole, on one cell, below the headroom).
  const cellUpper = new Float64Array(input.cells.length * steps);
  const horizonPeaksOn: number[][] = input.cells.map(() => []);
  // Per region, the load of the partitions it hosts and of the partitions homed there: it must carry the larger.
  const hosted = new RegionLoads(steps, slots, o.errorCorrelation);
  const homed = new RegionLoads(steps, slots, o.errorCorrelation);
  const shortHistory = new Set<string>();
  // Per region, each hosted or homed partition's own peak (horizon and lookback), for the packing check.
  const peaksIn = new Map<string, number[]>();
  const addPeak = (region: string, peak: number) => {
    const list = peaksIn.get(region) ?? [];
    list.push(peak);
    peaksIn.set(region, list);
  };
  for (const p of input.partitions) {
    const c = cellIndex.get(p.cell);
    if (c === undefined) continue;
    const region = input.cells[c].region;
    cellBytes[c] += p.sizeBytes;
    cellPartitions[c]++;
    const complete = p.recentPeaks !== undefined && p.recentPeaks.length >= slots;
    let own = 0;
    for (let t = 0; t < p.upper.length; t++) {
      own = Math.max(own, p.upper[t]);
      cellUpper[c * steps + t] += p.upper[t];
    }
    horizonPeaksOn[c].push(own);
    if (complete)
      for (let s = p.recentPeaks!.length - slots; s < p.recentPeaks!.length; s++)
        own = Math.max(own, p.recentPeaks![s]);
    hosted.add(region, p);
    addPeak(region, own);
    if (!complete) shortHistory.add(region);
    if (p.homeRegion !== undefined && p.homeRegion !== region && regions.has(p.homeRegion)) {
      homed.add(p.homeRegion, p);
      addPeak(p.homeRegion, own);
      if (!complete) shortHistory.add(p.homeRegion);
    } else homed.add(region, p);
  }
  // A cell draining anywhere, or about to: its partitions need the room, in its region or another.
  const drainingAnywhere = input.cells.some((c) => c.status === 'DRAINING');
  const removalSoon = (input.removalsAtMs ?? []).some(
    (at) => at >= input.nowMs - o.lookbackMs && at - input.nowMs <= o.lookbackMs,
  );
  const out: ScaleInAssessment[] = [];
  for (const [region, members] of regions) {
    const block = (blockedBy: ScaleInBlock, utilizationWithout?: number) =>
      out.push({ region, blockedBy, ...(utilizationWithout !== undefined && { utilizationWithout }) });
    if (shortHistory.has(region)) {
      block('short-history');
      continue;
    }
    if (input.shortRegions?.includes(region)) {
      block('short-of-capacity');
      continue;
    }
    if (
      members.some((c) => input.cells[c].status === 'PROVISIONING' || input.cells[c].status === 'DRAINING') ||
      drainingAnywhere ||
      removalSoon
    ) {
      block('cell-changing');
      continue;
    }
    const lastOut = input.lastScaleOutAtMs?.[region];
    if (lastOut !== undefined && input.nowMs - lastOut < o.quietAfterScaleOutMs) {
      block('quiet-after-scale-out');
      continue;
    }
    const active = members.filter((c) => input.cells[c].status === 'ACTIVE');
    if (active.length <= o.minCellsPerRegion) {
      block('min-cells');
      continue;
    }
    // The cheapest drain: fewest bytes, then fewest partitions, then the id.
    const candidate = [...active].sort(
      (a, b) =>
        cellBytes[a] - cellBytes[b] ||
        cellPartitions[a] - cellPartitions[b] ||
        input.cells[a].id.localeCompare(input.cells[b].id),
    )[0];
    let capacity = 0;
    for (const c of active) capacity += input.cells[c].capacityOpsPerSec;
    const remaining = capacity - input.cells[candidate].capacityOpsPerSec;
    const upper = hosted.upperOf(region, homed);
    const recent = hosted.recentOf(region, homed);
    let peak = 0;
    let loadUsd = 0;
    for (let t = 0; t < steps; t++) {
      peak = Math.max(peak, upper[t]);
      loadUsd +=
        balancedLoadPenaltyUsd(upper[t], remaining, stepSeconds, o) -
        balancedLoadPenaltyUsd(upper[t], capacity, stepSeconds, o);
    }
    for (let s = 0; s < slots; s++) {
      peak = Math.max(peak, recent[s]);
      if (s < firstSlot) continue;
      loadUsd +=
        balancedLoadPenaltyUsd(recent[s], remaining, slotSeconds, o) -
        balancedLoadPenaltyUsd(recent[s], capacity, slotSeconds, o);
    }
    const utilizationWithout = remaining > 0 ? peak / remaining : Number.POSITIVE_INFINITY;
    if (peak > o.utilization * remaining) {
      block('utilization', utilizationWithout);
      continue;
    }
    // The planner must be able to keep them in the region: each partition's peak packed (largest first, into the
    // roomiest cell) into the remaining cells at `utilization` of each; lumpy partitions may not fit a total that does.
    const rooms = active
      .filter((c) => c !== candidate)
      .map((c) => o.utilization * input.cells[c].capacityOpsPerSec);
    // Each partition's own peak is its upper forecast; shrunk by the region's diversification (its load over the
    // same load with every gap added up), so the items add up to the total judged above.
    let summed = 0;
    for (const v of hosted.upperOf(region, homed, 1)) summed = Math.max(summed, v);
    for (const v of hosted.recentOf(region, homed, 1)) summed = Math.max(summed, v);
    const shrink = summed > 0 ? Math.min(1, peak / summed) : 1;
    // Locality: the planner plans each cell on its partitions' upper forecasts added up, and moves none into a cell
    // past its headroom. Where the region's partitions, hosted or homed there, do not fit the remaining cells that
    // way, the ones placed remote today cannot come home and the planner's locality is lost (issue 12: scale-ins cost
    // tight-reseeded and business-week their locality).
    if (summed > o.headroom * remaining) {
      block('locality', summed / remaining);
      continue;
    }
    if (
      !packs(
        (peaksIn.get(region) ?? []).map((v) => v * shrink),
        rooms,
      )
    ) {
      block('packing', utilizationWithout);
      continue;
    }
    // The drained partitions must each find room, whole, below the headroom of a cell that stays (in any region:
    // a drain may cross regions). The packing above shrinks each partition by the region's diversification, so a
    // cell whose one partition is in a burst could pass it and leave the planner no place for that partition
    // (InfeasiblePlacementError in the replay of cell-swap, found with the scale-out's locality term on).
    const drainRooms: number[] = [];
    input.cells.forEach((cell, c) => {
      if (c === candidate || cell.status !== 'ACTIVE') return;
      let load = 0;
      for (let t = 0; t < steps; t++) load = Math.max(load, cellUpper[c * steps + t]);
      drainRooms.push(Math.max(0, o.headroom * cell.capacityOpsPerSec - load));
    });
    if (!packs(horizonPeaksOn[candidate], drainRooms)) {
      block('drain-fit', utilizationWithout);
      continue;
    }
    const savedUsd = (input.cells[candidate].hourPriceUsd * o.lookbackMs) / HOUR_MS;
    const drainUsd =
      cellPartitions[candidate] * o.moveOverheadDollars + (cellBytes[candidate] / GIB) * o.drainTransferPerGB;
    if (savedUsd - drainUsd - loadUsd <= 0) {
      block('not-worth-it', utilizationWithout);
      continue;
    }
    out.push({
      region,
      utilizationWithout,
      decision: {
        region,
        cellId: input.cells[candidate].id,
        peakOpsPerSec: peak,
        remainingCapacityOpsPerSec: remaining,
        savedUsd,
        drainUsd,
        loadUsd,
      },
    });
  }
  return out;
}
