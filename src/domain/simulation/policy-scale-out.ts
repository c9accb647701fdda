import { cellHourPriceUsd } from '../planning/cell-price.ts';
import type { CapacityShortfall, MovementPlan } from '../planning/movement-plan.ts';
import {
  assessScaleOuts,
  type ResolvedScaleOutOptions,
  resolveScaleOutOptions,
  type ScaleOutAssessment,
  type ScaleOutOptions,
  type ScaleOutPartition,
} from '../planning/scale-out.ts';
import type { ClusterView, ScaleOutRequest } from './policy-driver.ts';
import { pricedCellsOf, sumOverRegions } from './replay-context.ts';

/**
 * A scheduled removal this close counts its cell as draining in the pricing: the capacity its partitions need must
 * be bought before it, and the capacity forecast does not see it coming (one daily cycle, as the scale-in's lookback).
 */
const REMOVAL_LOOKAHEAD_MS = 86_400_000;

/**
 * The predictive policy's priced scale-out: the shortfalls due this cycle go to the domain's `assessScaleOuts`
 * (the function the profiler calls in AWS) with each partition's mean and upper forecast summed over its regions
 * of origin, its mean per region of origin and write share (the locality term), on the cell the plan leaves it on,
 * with the topology's latencies; only the cells worth their hours are bought.
 */
export class PolicyScaleOut {
  private readonly options: ResolvedScaleOutOptions;
  private readonly mean: Float64Array[];
  private readonly upper: Float64Array[];
  /** Per partition, views of its mean forecast per region of origin into the buffer they were made for. */
  private demand: Readonly<Record<string, Float64Array>>[] = [];
  private demandOf: Float64Array | undefined;
  /** Every due shortfall's verdict in the last cycle (diagnosis). */
  lastAssessments: readonly ScaleOutAssessment[] = [];

  constructor(
    private readonly P: number,
    private readonly R: number,
    private readonly H: number,
    private readonly bucketMs: number,
    options: ScaleOutOptions,
    /** The topology's scheduled removals: when each cell starts draining. */
    private readonly removals: readonly { readonly cellId: string; readonly atMs: number }[] = [],
    /** The trace's regions, in the order of the forecast buffers. */
    private readonly regions: readonly string[] = [],
  ) {
    this.options = resolveScaleOutOptions(options);
    this.mean = Array.from({ length: P }, () => new Float64Array(H));
    this.upper = Array.from({ length: P }, () => new Float64Array(H));
  }

  /**
   * `cells[p]` is partition p's cell before the plan; `mean` and `upper` hold the forecasts at ((p * R) + r) * H + h;
   * `writeFraction[p]` is p's share of writes.
   */
  decide(
    view: ClusterView,
    cells: readonly string[],
    plan: MovementPlan,
    partitionIndex: ReadonlyMap<string, number>,
    due: readonly CapacityShortfall[],
    mean: Float64Array,
    upper: Float64Array,
    writeFraction?: ArrayLike<number>,
  ): ScaleOutRequest[] {
    if (due.length === 0) {
      this.lastAssessments = [];
      return [];
    }
    const { P, R, H } = this;
    const after = [...cells];
    for (const move of plan.moves) {
      const p = partitionIndex.get(move.partition);
      if (p !== undefined) after[p] = move.to;
    }
    if (this.demandOf !== mean && this.regions.length === R) {
      this.demandOf = mean;
      this.demand = Array.from({ length: P }, (_, p) =>
        Object.fromEntries(
          this.regions.map((region, r) => [region, mean.subarray((p * R + r) * H, (p * R + r + 1) * H)]),
        ),
      );
    }
    const partitions: ScaleOutPartition[] = [];
    for (let p = 0; p < P; p++) {
      const m = this.mean[p];
      const u = this.upper[p];
      sumOverRegions(mean, p, R, H, m);
      sumOverRegions(upper, p, R, H, u);
      partitions.push({
        cell: after[p],
        mean: m,
        upper: u,
        ...(this.demandOf === mean && { demand: this.demand[p] }),
        ...(writeFraction && { writeFraction: writeFraction[p] }),
      });
    }
    const alarm = view.topology.alarmScaling;
    const newCell = alarm
      ? {
          capacityOpsPerSec: alarm.cellCapacityOpsPerSec,
          hourPriceUsd: cellHourPriceUsd(view.topology, { capacityOpsPerSec: alarm.cellCapacityOpsPerSec }),
        }
      : undefined;
    this.lastAssessments = assessScaleOuts(
      {
        nowMs: view.nowMs,
        stepMs: this.bucketMs,
        cells: pricedCellsOf(view),
        partitions,
        shortfalls: due,
        latencyMs: view.topology.latencyMs,
        leavingCells: this.removals
          .filter((r) => r.atMs >= view.nowMs && r.atMs < view.nowMs + REMOVAL_LOOKAHEAD_MS)
          .map((r) => r.cellId),
        ...(newCell && { newCell }),
      },
      this.options,
    );
    return this.lastAssessments.flatMap((a) => (a.cells > 0 ? [{ region: a.region, cells: a.cells }] : []));
  }
}
