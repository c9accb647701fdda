import { DEFAULT_PLANNING_QUANTILE } from '../domain/forecasting/planning-quantile.ts';
import { forecastCapacity } from '../domain/planning/capacity-forecast.ts';
import { cellHourPriceUsd } from '../domain/planning/cell-price.ts';
import type { CapacityShortfall, CellStatus, PlannerInput } from '../domain/planning/movement-plan.ts';
import {
  decideScaleIns,
  homeRegionOf,
  type ScaleInDecision,
  type ScaleInOptions,
} from '../domain/planning/scale-in.ts';
import {
  assessScaleOuts,
  type ScaleOutAssessment,
  type ScaleOutOptions,
} from '../domain/planning/scale-out.ts';
import type { CellSnapshot } from '../domain/profiling/ports.ts';
import {
  regionsHeldFromScaleIn,
  type ShortfallMemory,
  triggerShortfalls,
} from '../domain/scaling/shortfall-trigger.ts';
import {
  defaultPartitionSizeBytes,
  plannerPartitionFromScore,
  type ScoreRecord,
  UPPER_PEAK_SLOT_MS,
} from '../domain/scoring/score-record.ts';
import type { Topology } from '../domain/topology.ts';
import { type LatencyOverrides, latencyMatrix } from '../planner-service/region-latency.ts';

export interface PredictiveScaleOutOptions {
  readonly nowMs: number;
  readonly stepSeconds: number;
  /**
   * A shortfall is due when its latest start (`scaleOutByMs`) is within this time from now, or already past (the
   * time to the next cycle, as the simulator's policy has it).
   */
  readonly bufferMs: number;
  /**
   * The shortfall rule's memory of the previous cycle (domain/scaling/shortfall-trigger.ts): only a region short in
   * both is scaled out. Absent: no previous cycle, nothing is scaled out this cycle.
   */
  readonly previous?: ShortfallMemory;
  /** Time to provision a cell (CreateTable until ACTIVE). */
  readonly provisionMs: number;
  /** Copy bandwidth of one migration, for the time to fill new cells. */
  readonly migrationBandwidthBytesPerSec: number;
  /** Usable fraction of a cell's capacity (the capacity alarm's threshold). @default 0.8 */
  readonly headroom?: number;
  /** Forecast-driven scale-in with these knobs (domain/planning/scale-in.ts); false: never. @default {} */
  readonly scaleIn?: ScaleInOptions | false;
  /** Price of a cell-hour; absent: the cell's capacity priced as DynamoDB provisioned capacity (cell-price.ts). */
  readonly cellHourPriceUsd?: number;
  /**
   * Price each due scale-out against the cell-hours it buys (domain/planning/scale-out.ts) with these knobs; false:
   * start every due shortfall's cells. @default {}
   */
  readonly scaleOut?: ScaleOutOptions | false;
  /** Capacity of the cell a scale-out adds (ScaleCluster's `cellCapacityOpsPerSec`); absent: the region's mean. */
  readonly newCellCapacityOpsPerSec?: number;
  /**
   * Measured inter-region round trips, ms, over the planner's estimates (the planner service's `latencyOverrides`):
   * the priced scale-out's locality term uses the latencies the planner will place on.
   */
  readonly latencyOverrides?: LatencyOverrides;
}

export interface ScaleOutDecision {
  readonly region: string;
  readonly cells: number;
  readonly shortfall: CapacityShortfall;
  /** The priced verdict (absent when pricing is off): expected load penalty saved against the cell-hours. */
  readonly benefitUsd?: number;
  /** The part of `benefitUsd` that is latency won back by partitions coming home. */
  readonly localityUsd?: number;
  readonly costUsd?: number;
}

export interface CapacityCheck {
  readonly shortfalls: readonly CapacityShortfall[];
  /** Regions with a due shortfall this cycle: the rule's memory for the next cycle (the caller persists it). */
  readonly shortRegions: readonly string[];
  readonly scaleOuts: readonly ScaleOutDecision[];
  /** Cells to drain and retire ahead of time: the same decision as the simulator's predictive policy. */
  readonly scaleIns: readonly ScaleInDecision[];
  /** Due shortfalls whose cells were not worth their hours (priced scale-out), for the log. */
  readonly declinedScaleOuts: readonly ScaleOutDecision[];
  /** Records skipped because their cell is not in the topology any more. */
  readonly skipped: number;
}

/**
 * The predictive scaling decisions of one profiler cycle. Scale-out: the capacity forecast of the current placement over every partition scored this cycle
 * (domain/planning/capacity-forecast.ts, the planner's own), and the regions whose shortfall must be acted on
 * now: a scale-out started later than `scaleOutByMs` would not provision and fill its cells before demand
 * exceeds usable capacity, and the reactive capacity alarm would only fire once it has.
 */
export function checkCapacity(
  records: readonly ScoreRecord[],
  cells: readonly CellSnapshot[],
  options: PredictiveScaleOutOptions,
): CapacityCheck {
  const live = cells.filter((c) => c.status !== 'RETIRED');
  if (live.length === 0 || records.length === 0)
    return {
      shortfalls: [],
      shortRegions: [],
      scaleOuts: [],
      scaleIns: [],
      declinedScaleOuts: [],
      skipped: 0,
    };
  const cellIds = new Set(live.map((c) => c.id));
  const usable = records.filter((r) => cellIds.has(r.cell));
  let steps = 0;
  for (const r of usable) for (const region in r.mean) steps = Math.max(steps, r.mean[region].length);
  // The time to fill new cells counts the bytes moved: unmeasured partitions count as a typical measured one.
  const defaultSizeBytes = defaultPartitionSizeBytes(
    usable.flatMap((r) => (r.sizeBytes !== undefined ? [r.sizeBytes] : [])),
  );
  const planned = usable.filter((r) => {
    for (const region in r.mean) if (r.mean[region].length !== steps) return false;
    return true;
  });
  const partitions = planned.map((r) => plannerPartitionFromScore(r, { defaultSizeBytes }));
  const regionIds = new Set(live.map((c) => c.region));
  for (const p of partitions) for (const region in p.forecast) regionIds.add(region);
  // The planner's latencies (planner-input.ts builds its topology the same way): the capacity forecast ignores
  // them; the priced scale-out's locality term weighs partitions kept away from home with them.
  const latencyMs = latencyMatrix([...regionIds].sort(), options.latencyOverrides);
  const topology: Topology = {
    regions: Object.fromEntries([...regionIds].map((r) => [r, { utcOffsetHours: 0 }])),
    latencyMs,
    transferCostPerGB: 0,
    migrationBandwidthBytesPerSec: options.migrationBandwidthBytesPerSec,
    cells: live.map((c) => ({
      id: c.id,
      region: c.region,
      capacityOpsPerSec: c.capacityOpsPerSec,
      capacityBytes: c.capacityBytes,
    })),
    scalingEvents: [],
  };
  const cellStatus: Record<string, CellStatus> = Object.fromEntries(live.map((c) => [c.id, c.status]));
  const input: PlannerInput = {
    nowMs: options.nowMs,
    stepSeconds: options.stepSeconds,
    topology,
    cellStatus,
    partitions,
    limits: options.headroom !== undefined ? { headroom: options.headroom } : undefined,
  };
  const shortfalls = forecastCapacity(input, {
    provisionMs: options.provisionMs,
    demandBeyondCapacity: 'report',
  });
  // The simulator's rule, the same function: due before the next cycle, and due in the previous cycle too.
  const trigger = triggerShortfalls({
    shortfalls,
    nextCycleMs: options.nowMs + options.bufferMs,
    ...(options.previous && { previous: options.previous }),
  });
  const due = trigger.confirmed;
  const stepMs = options.stepSeconds * 1000;
  const sums = partitions.map((p) => ({
    mean: totalOver(p.forecast, steps),
    upper: totalOver(p.forecastUpper ?? p.forecast, steps),
  }));
  const scaleCells = live.map((c) => ({
    id: c.id,
    region: c.region,
    status: c.status,
    capacityOpsPerSec: c.capacityOpsPerSec,
    hourPriceUsd: cellHourPriceUsd({ cellHourPriceUsd: options.cellHourPriceUsd }, c),
  }));
  let scaleOuts: ScaleOutDecision[];
  let declinedScaleOuts: ScaleOutDecision[] = [];
  if (options.scaleOut === false || due.length === 0) {
    scaleOuts = due.map((s) => ({ region: s.region, cells: s.cellsNeeded, shortfall: s }));
  } else {
    const capacity = options.newCellCapacityOpsPerSec;
    const verdicts = assessScaleOuts(
      {
        nowMs: options.nowMs,
        stepMs,
        cells: scaleCells,
        partitions: partitions.map((p, i) => ({
          cell: p.cell,
          ...sums[i],
          demand: p.forecast,
          ...(p.writeFraction !== undefined && { writeFraction: p.writeFraction }),
        })),
        shortfalls: due,
        latencyMs,
        ...(capacity !== undefined && {
          newCell: {
            capacityOpsPerSec: capacity,
            hourPriceUsd: cellHourPriceUsd(
              { cellHourPriceUsd: options.cellHourPriceUsd },
              { capacityOpsPerSec: capacity },
            ),
          },
        }),
      },
      {
        upperLevel: planned[0]?.upperLevel ?? DEFAULT_PLANNING_QUANTILE,
        provisionMs: options.provisionMs,
        ...options.scaleOut,
      },
    );
    const decisionOf = (v: ScaleOutAssessment): ScaleOutDecision => ({
      region: v.region,
      cells: v.cells,
      shortfall: v.shortfall,
      benefitUsd: v.benefitUsd,
      localityUsd: v.localityUsd,
      costUsd: v.costUsd,
    });
    scaleOuts = verdicts.filter((v) => v.cells > 0).map(decisionOf);
    declinedScaleOuts = verdicts.filter((v) => v.cells === 0).map(decisionOf);
  }
  // The quiet time after a region's last scale-out (alarm or forecast), from the cells ScaleCluster registered.
  const lastScaleOutAtMs: Record<string, number> = {};
  for (const c of cells)
    if (c.scaledOutAtMs !== undefined)
      lastScaleOutAtMs[c.region] = Math.max(
        lastScaleOutAtMs[c.region] ?? Number.NEGATIVE_INFINITY,
        c.scaledOutAtMs,
      );
  const scaleIns =
    options.scaleIn === false
      ? []
      : decideScaleIns(
          {
            nowMs: options.nowMs,
            stepMs,
            recentSlotMs: UPPER_PEAK_SLOT_MS,
            cells: scaleCells,
            partitions: partitions.map((p, i) => {
              const peaks = planned[i].upperPeaks;
              const means = planned[i].meanPeaks;
              const home = homeRegionOf(p.forecast);
              return {
                ...(home !== undefined && { homeRegion: home }),
                cell: p.cell,
                sizeBytes: p.sizeBytes,
                upper: sums[i].upper,
                mean: sums[i].mean,
                recentPeaks: peaks?.slotMs === UPPER_PEAK_SLOT_MS ? peaks.values : undefined,
                recentMeans: means?.slotMs === UPPER_PEAK_SLOT_MS ? means.values : undefined,
              };
            }),
            lastScaleOutAtMs,
            // A region with a due shortfall keeps its cells, confirmed or not, bought or not.
            shortRegions: regionsHeldFromScaleIn(
              trigger,
              scaleOuts.map((s) => s.region),
            ),
          },
          options.scaleIn,
        );
  return {
    shortfalls,
    shortRegions: trigger.shortRegions,
    scaleOuts,
    scaleIns,
    declinedScaleOuts,
    skipped: records.length - partitions.length,
  };
}

/** Σ over regions of a per-region forecast, per step. */
function totalOver(series: Readonly<Record<string, ArrayLike<number>>>, steps: number): Float64Array {
  const out = new Float64Array(steps);
  for (const values of Object.values(series)) for (let h = 0; h < steps; h++) out[h] += values[h] ?? 0;
  return out;
}
