import {
  assessScaleIns,
  type PeakWindow,
  type ResolvedScaleInOptions,
  resolveScaleInOptions,
  rollPeakWindow,
  type ScaleInAssessment,
  type ScaleInOptions,
  type ScaleInPartition,
  scaleInsOf,
} from '../planning/scale-in.ts';
import type { ClusterView, ScaleInRequest } from './policy-driver.ts';
import { pricedCellsOf, sumOverRegions } from './replay-context.ts';

const HOUR_MS = 3_600_000;

/**
 * The predictive policy's scale-in: it keeps, per partition, the highest upper forecast capacity planned on in
 * each slot of the last lookback (`rollPeakWindow`, as the profiler does in its score records), and each cycle
 * hands them with the current upper forecast to the domain's `decideScaleIns`, the function the profiler calls
 * in AWS. The simulator then drains the chosen cells.
 */
export class PolicyScaleIn {
  private readonly options: ResolvedScaleInOptions;
  readonly slotMs: number;
  private readonly slots: number;
  private readonly windows: (PeakWindow | undefined)[];
  private readonly upperTotal: Float64Array[];
  private readonly meanWindows: (PeakWindow | undefined)[];
  private readonly meanTotal: Float64Array[];
  /** Every region's verdict of the last cycle (for diagnosis: which rule held a region back). */
  lastAssessments: readonly ScaleInAssessment[] = [];

  constructor(
    private readonly P: number,
    private readonly R: number,
    private readonly H: number,
    private readonly bucketMs: number,
    private readonly sizes: readonly number[],
    /** Trace regions by index. */
    private readonly regionNames: readonly string[],
    options: ScaleInOptions,
    /** The topology's scheduled cell removals (epoch ms). */
    private readonly removalsAtMs: readonly number[] = [],
  ) {
    this.options = resolveScaleInOptions(options);
    this.slotMs = Math.max(1, Math.round(HOUR_MS / bucketMs)) * bucketMs;
    this.slots = Math.max(1, Math.round(this.options.lookbackMs / this.slotMs));
    this.windows = new Array(P).fill(undefined);
    this.upperTotal = Array.from({ length: P }, () => new Float64Array(H));
    this.meanWindows = new Array(P).fill(undefined);
    this.meanTotal = Array.from({ length: P }, () => new Float64Array(H));
  }

  /** The cells to drain now; `upper` holds the planner's capacity forecast at ((p * R) + r) * H + h. */
  decide(
    view: ClusterView,
    placementCells: readonly string[],
    upper: Float64Array,
    mean: Float64Array,
    shortRegions: readonly string[],
  ): ScaleInRequest[] {
    const { P, R, H, slots } = this;
    const partitions: ScaleInPartition[] = [];
    for (let p = 0; p < P; p++) {
      const total = this.upperTotal[p];
      const meanTotal = this.meanTotal[p];
      sumOverRegions(upper, p, R, H, total);
      sumOverRegions(mean, p, R, H, meanTotal);
      let planned = 0;
      let plannedMean = 0;
      // Over the whole horizon: the scale-out fires on any of its steps.
      for (let h = 0; h < H; h++) {
        planned = Math.max(planned, total[h]);
        plannedMean = Math.max(plannedMean, meanTotal[h]);
      }
      const window = rollPeakWindow(this.windows[p], view.nowMs, planned, this.slotMs, slots);
      this.windows[p] = window;
      const meanWindow = rollPeakWindow(this.meanWindows[p], view.nowMs, plannedMean, this.slotMs, slots);
      this.meanWindows[p] = meanWindow;
      // The region most of its mean forecast comes from, as homeRegionOf picks it.
      let home = -1;
      let homeSum = 0;
      for (let r = 0; r < R; r++) {
        const base = (p * R + r) * H;
        let sum = 0;
        for (let h = 0; h < H; h++) sum += mean[base + h];
        if (sum > homeSum) {
          home = r;
          homeSum = sum;
        }
      }
      partitions.push({
        ...(home >= 0 && { homeRegion: this.regionNames[home] }),
        cell: placementCells[p],
        sizeBytes: this.sizes[p],
        upper: total,
        mean: meanTotal,
        recentPeaks: window.values,
        recentMeans: meanWindow.values,
      });
    }
    this.lastAssessments = assessScaleIns(
      {
        nowMs: view.nowMs,
        stepMs: this.bucketMs,
        recentSlotMs: this.slotMs,
        cells: pricedCellsOf(view),
        partitions,
        lastScaleOutAtMs: view.lastScaleOutAtMs,
        shortRegions,
        removalsAtMs: this.removalsAtMs,
      },
      this.options,
    );
    return scaleInsOf(this.lastAssessments).map((d) => ({ region: d.region, cell: d.cellId }));
  }
}
