import type { SimCell } from './cell-lifecycle.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import type { PartitionPlacement } from './partition-placement.ts';
import type { PolicyDriver } from './policy-driver.ts';
import { MINUTE_MS, type ReplayClock, type ReplayContext } from './replay-context.ts';
import type { PolicyDetails, PolicyMetrics, PolicySeries } from './simulation-options.ts';

const HOUR_MS = 3_600_000;
const GIB = 1024 ** 3;

/**
 * Everything a replay measures: totals over the evaluation window (after the warm-up) for the metrics and
 * details, and hourly slots for the series. Requests are accounted once per bucket at the placement of its
 * start and corrected at each cutover, so a bucket costs O(partitions × regions).
 */
export class MetricsAccumulator {
  readonly series: PolicySeries;
  private readonly histogram = new LatencyHistogram();
  /** The evaluation window's latencies by the caller's region. */
  private readonly regionHistograms: LatencyHistogram[];
  private requests = 0;
  private remoteRequests = 0;
  private bytesMoved = 0;
  private bytesMovedUnderLoad = 0;
  private migrationTransferBytes = 0;
  private remoteRequestBytes = 0;
  private replicatedWriteBytes = 0;
  private storedByteMs = 0;
  private coldCopyByteMs = 0;
  private deltaMoves = 0;
  private coldCopiesDropped = 0;
  private evalMs = 0;
  private overloadCellMinutes = 0;
  private completedMoves = 0;
  private thrashMoves = 0;
  private forcedMoves = 0;
  private rejectedMoves = 0;
  private cellsAddedByAlarm = 0;
  private cellsAddedByForecast = 0;
  private cellsRetired = 0;
  private cellsAddedInWarmup = 0;
  private cellsScaledIn = 0;
  private scaleFlaps = 0;
  /** Cell-milliseconds in service (ACTIVE or DRAINING) over the evaluation window. */
  private cellMs = 0;

  // The current hourly slot.
  private readonly bucketsPerSlot: number;
  private readonly slotHistogram = new LatencyHistogram();
  private readonly slotRequests: Float64Array;
  private readonly slotRemote: Float64Array;

  constructor(
    private readonly context: ReplayContext,
    private readonly clock: ReplayClock,
  ) {
    const { trace } = context.input;
    this.bucketsPerSlot = Math.max(1, Math.round(HOUR_MS / trace.bucketMs));
    this.regionHistograms = Array.from({ length: context.R }, () => new LatencyHistogram());
    const slots = Math.ceil(context.T / this.bucketsPerSlot);
    this.series = {
      startMs: trace.startMs,
      stepMs: this.bucketsPerSlot * trace.bucketMs,
      remoteShare: new Float64Array(slots),
      meanLatencyMs: new Float64Array(slots),
      p99LatencyMs: new Float64Array(slots),
      bytesMoved: new Float64Array(slots),
      overloadCellMinutes: new Float64Array(slots),
      cells: new Float64Array(slots),
      demandOpsPerSec: new Float64Array(slots),
    };
    this.slotRequests = new Float64Array(slots);
    this.slotRemote = new Float64Array(slots);
  }

  /** Latency, locality and request transfer of the whole bucket at the current placement. */
  accountBucket(t: number, placement: PartitionPlacement, cells: readonly SimCell[]): void {
    const { P, R, latency, options, mode } = this.context;
    const { reads, writes } = this.context.input.trace;
    const seconds = this.context.bucketSeconds;
    const evaluating = this.clock.isEval();
    const slot = Math.floor(t / this.bucketsPerSlot);
    let requests = 0;
    let remote = 0;
    let remoteBytes = 0;
    let replicatedBytes = 0;
    const base = t * P * R;
    for (let p = 0; p < P; p++) {
      const primaryRegion = mode === 'primary' ? cells[placement.cellOf[p]].region : -1;
      let replicas = 0;
      for (let r = 0; r < R; r++) {
        const i = base + p * R + r;
        const ops = (reads[i] + writes[i]) * seconds;
        let servedIn = primaryRegion;
        if (mode === 'replicated') {
          if (placement.replica[p * R + r] >= 0) replicas++;
          const serving = placement.servingReplica(p, r);
          servedIn = serving >= 0 ? cells[serving].region : r;
        }
        if (ops === 0) continue;
        const ms = latency[r * R + servedIn];
        this.slotHistogram.add(ms, ops);
        if (evaluating) {
          this.histogram.add(ms, ops);
          this.regionHistograms[r].add(ms, ops);
        }
        requests += ops;
        if (servedIn !== r) {
          remote += ops;
          remoteBytes += (reads[i] * options.readBytes + writes[i] * options.writeBytes) * seconds;
        }
      }
      if (replicas > 1)
        replicatedBytes += placement.writeOps[p] * seconds * options.writeBytes * (replicas - 1);
    }
    this.slotRequests[slot] += requests;
    this.slotRemote[slot] += remote;
    this.series.demandOpsPerSec[slot] += requests / seconds / this.bucketsPerSlot;
    if (evaluating) {
      this.requests += requests;
      this.remoteRequests += remote;
      this.remoteRequestBytes += remoteBytes;
      this.replicatedWriteBytes += replicatedBytes;
    }
  }

  /** Move the rest of the bucket's requests of a partition from its old region to its new one. */
  correctForCutover(p: number, fromRegion: number, toRegion: number, atMs: number): void {
    if (fromRegion === toRegion) return;
    const { P, R, latency, options, bucketMs } = this.context;
    const bucket = this.clock.bucket;
    const fraction = Math.max(0, (this.clock.bucketStartMs + bucketMs - atMs) / bucketMs);
    if (fraction === 0) return;
    const { reads, writes } = this.context.input.trace;
    const seconds = this.context.bucketSeconds * fraction;
    const evaluating = this.clock.isEval();
    const slot = Math.floor(bucket / this.bucketsPerSlot);
    const base = (bucket * P + p) * R;
    for (let r = 0; r < R; r++) {
      const ops = (reads[base + r] + writes[base + r]) * seconds;
      if (ops === 0) continue;
      const before = latency[r * R + fromRegion];
      const after = latency[r * R + toRegion];
      this.slotHistogram.add(before, -ops);
      this.slotHistogram.add(after, ops);
      const remoteDelta = (toRegion !== r ? ops : 0) - (fromRegion !== r ? ops : 0);
      this.slotRemote[slot] += remoteDelta;
      if (evaluating) {
        this.histogram.add(before, -ops);
        this.histogram.add(after, ops);
        this.regionHistograms[r].add(before, -ops);
        this.regionHistograms[r].add(after, ops);
        this.remoteRequests += remoteDelta;
        const bytes = (reads[base + r] * options.readBytes + writes[base + r] * options.writeBytes) * seconds;
        this.remoteRequestBytes += (toRegion !== r ? bytes : 0) - (fromRegion !== r ? bytes : 0);
      }
    }
  }

  private byRegion(figure: (histogram: LatencyHistogram) => number): Record<string, number> {
    return Object.fromEntries(
      this.context.regionNames.map((region, r) => [region, figure(this.regionHistograms[r])]),
    );
  }

  /** Close the hourly slot when bucket t is its last. */
  closeBucket(t: number, liveCells: number): void {
    const slot = Math.floor(t / this.bucketsPerSlot);
    const lastOfSlot = (t + 1) % this.bucketsPerSlot === 0 || t === this.context.T - 1;
    if (!lastOfSlot) return;
    const requests = this.slotRequests[slot];
    this.series.remoteShare[slot] = requests > 0 ? this.slotRemote[slot] / requests : 0;
    this.series.meanLatencyMs[slot] = this.slotHistogram.mean();
    this.series.p99LatencyMs[slot] = this.slotHistogram.quantile(0.99);
    this.series.cells[slot] = liveCells;
    const bucketsInSlot = t - slot * this.bucketsPerSlot + 1;
    if (bucketsInSlot !== this.bucketsPerSlot) {
      this.series.demandOpsPerSec[slot] *= this.bucketsPerSlot / bucketsInSlot;
    }
    this.slotHistogram.clear();
  }

  /**
   * Storage over a sub-step from its start, at `storedBytes` (a cutover inside it takes back the rest), of which
   * `coldBytes` are retained cold copies.
   */
  addStorage(nowMs: number, dtMs: number, storedBytes: number, coldBytes: number): void {
    if (nowMs >= this.context.evalStartMs) {
      this.storedByteMs += storedBytes * dtMs;
      this.coldCopyByteMs += coldBytes * dtMs;
      this.evalMs += dtMs;
    }
  }

  /** A move started into a cell holding a cold copy (it ships the delta). */
  countDeltaMove(nowMs: number): void {
    if (nowMs >= this.context.evalStartMs) this.deltaMoves++;
  }

  /** Cold copies garbage-collected. */
  countDroppedCopies(nowMs: number, count: number): void {
    if (nowMs >= this.context.evalStartMs) this.coldCopiesDropped += count;
  }

  /** A copy finished at `atMs` inside the sub-step: its source no longer stores the bytes from then on. */
  takeBackStorage(bytes: number, atMs: number): void {
    if (atMs >= this.context.evalStartMs)
      this.storedByteMs -= bytes * Math.max(0, this.clock.substepEndMs - atMs);
  }

  /** Cells in service and overloaded cell-minutes over a sub-step. */
  addCellTime(nowMs: number, dtMs: number, cells: readonly SimCell[]): void {
    const evaluating = nowMs >= this.context.evalStartMs;
    const minutes = dtMs / MINUTE_MS;
    const slot = Math.floor(this.clock.bucket / this.bucketsPerSlot);
    for (const cell of cells) {
      if (cell.status === 'RETIRED' || cell.status === 'PROVISIONING') continue;
      if (evaluating) this.cellMs += dtMs;
      if (cell.requestLoad + cell.migrationLoad > cell.spec.capacityOpsPerSec * (1 + 1e-9)) {
        this.series.overloadCellMinutes[slot] += minutes;
        if (evaluating) this.overloadCellMinutes += minutes;
      }
    }
  }

  /** Bytes a move copied in a sub-step starting at `nowMs`; `hot` when its source or target was under load. */
  addCopied(nowMs: number, copied: number, hot: boolean, crossRegion: boolean): void {
    const slot = Math.floor(this.clock.bucket / this.bucketsPerSlot);
    this.series.bytesMoved[slot] += copied;
    if (nowMs >= this.context.evalStartMs) {
      this.bytesMoved += copied;
      if (hot) this.bytesMovedUnderLoad += copied;
      if (crossRegion) this.migrationTransferBytes += copied;
    }
  }

  /** A move cut over at `atMs`; `thrash` when it undid the partition's previous move. */
  countCompletedMove(atMs: number, thrash: boolean): void {
    if (atMs >= this.context.evalStartMs) {
      this.completedMoves++;
      if (thrash) this.thrashMoves++;
    }
  }

  countForcedMove(nowMs: number): void {
    if (nowMs >= this.context.evalStartMs) this.forcedMoves++;
  }

  countRejectedMove(): void {
    this.rejectedMoves++;
  }

  countCellAdded(origin: 'alarm' | 'forecast', evaluating: boolean): void {
    if (!evaluating) this.cellsAddedInWarmup++;
    else if (origin === 'alarm') this.cellsAddedByAlarm++;
    else this.cellsAddedByForecast++;
  }

  countScaleIn(evaluating: boolean): void {
    if (evaluating) this.cellsScaledIn++;
  }

  countScaleFlap(evaluating: boolean): void {
    if (evaluating) this.scaleFlaps++;
  }

  countCellRetired(): void {
    this.cellsRetired++;
  }

  metrics(storedBytesNow: number): PolicyMetrics {
    const transferBytes = this.migrationTransferBytes + this.remoteRequestBytes + this.replicatedWriteBytes;
    return {
      remoteShare: this.requests > 0 ? this.remoteRequests / this.requests : 0,
      meanLatencyMs: this.histogram.mean(),
      p99LatencyMs: this.histogram.quantile(0.99),
      bytesMoved: this.bytesMoved,
      bytesMovedUnderLoad: this.bytesMovedUnderLoad,
      transferCostUsd: (transferBytes / GIB) * this.context.topology.transferCostPerGB,
      storedBytesAvg: this.evalMs > 0 ? this.storedByteMs / this.evalMs : storedBytesNow,
      overloadCellMinutes: this.overloadCellMinutes,
      moves: this.completedMoves,
      thrashMoves: this.thrashMoves,
      cellsAdded: this.cellsAddedByAlarm + this.cellsAddedByForecast,
    };
  }

  details(driver: PolicyDriver, simulationMs: number): PolicyDetails {
    return {
      requests: this.requests,
      migrationTransferBytes: this.migrationTransferBytes,
      remoteRequestBytes: this.remoteRequestBytes,
      replicatedWriteBytes: this.replicatedWriteBytes,
      forcedMoves: this.forcedMoves,
      rejectedMoves: this.rejectedMoves,
      cellsAddedByAlarm: this.cellsAddedByAlarm,
      cellsAddedByForecast: this.cellsAddedByForecast,
      cellsRetired: this.cellsRetired,
      cellsAddedInWarmup: this.cellsAddedInWarmup,
      // Only the policies that scale in report it, so the others' results stay as they were.
      ...(this.context.scalesIn && { cellsScaledIn: this.cellsScaledIn, scaleFlaps: this.scaleFlaps }),
      cellsInServiceAvg: this.evalMs > 0 ? this.cellMs / this.evalMs : 0,
      cellHours: this.cellMs / HOUR_MS,
      coldCopyBytesAvg: this.evalMs > 0 ? this.coldCopyByteMs / this.evalMs : 0,
      deltaMoves: this.deltaMoves,
      coldCopiesDropped: this.coldCopiesDropped,
      latencyDistribution: this.histogram.distribution(),
      p50LatencyMsByRegion: this.byRegion((h) => h.quantile(0.5)),
      p99LatencyMsByRegion: this.byRegion((h) => h.quantile(0.99)),
      plannerCalls: driver.plannerCalls,
      plannerMs: driver.plannerMs,
      simulationMs,
    };
  }
}
