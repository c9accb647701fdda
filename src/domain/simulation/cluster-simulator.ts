import { InputValidationError } from '../errors.ts';
import type { CellStatus, InFlightMove } from '../planning/movement-plan.ts';
import { type CellSpec, latencyBetween, type Topology } from '../topology.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import type { ClusterView, PolicyDecision, PolicyDriver } from './policy-driver.ts';
import type {
  CellEvent,
  PolicyDetails,
  PolicyMetrics,
  PolicyName,
  PolicyResult,
  PolicySeries,
  SimulationInput,
  SimulationOptions,
} from './simulation-options.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const GIB = 1024 ** 3;

type CellOrigin = 'initial' | 'scheduled' | 'alarm' | 'forecast';

interface SimCell {
  readonly index: number;
  readonly spec: CellSpec;
  readonly region: number;
  readonly origin: CellOrigin;
  status: CellStatus;
  readyAtMs: number;
  drainingSinceMs: number;
  /** Demand (ops/s) of the partitions it serves, this bucket. */
  requestLoad: number;
  /** Copy and catch-up load (ops/s) of the moves touching it. */
  migrationLoad: number;
  storedBytes: number;
  /** Partitions (or replicas) whose data it holds and serves. */
  residents: number;
  activeOut: number;
  activeIn: number;
  /** Moves (active or waiting) touching it. */
  pendingMoves: number;
}

interface SimMove {
  readonly partition: number;
  /** Region of the replica being moved (replicate-all), or -1 for a primary. */
  readonly replicaRegion: number;
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
  readonly startedMs: number;
  readonly forced: boolean;
  remaining: number;
  active: boolean;
  rate: number;
  done: boolean;
}

interface TimedEvent {
  readonly atMs: number;
  readonly apply: (nowMs: number) => void;
}

/** Replicated (global-table) mode versus one primary per partition. */
type Mode = 'primary' | 'replicated';

/**
 * Discrete-time replay of a demand trace against one placement policy.
 *
 * Time advances bucket by bucket (the trace grid); inside a bucket, sub-steps of one minute (or the
 * bucket, if shorter) advance migrations at the shared per-cell bandwidth, cut traffic over when a copy
 * finishes, count overloaded cell-minutes and run the alarm-driven scale-out. Request load and latency
 * are accounted once per bucket and corrected at each cutover, so a bucket costs O(partitions × regions).
 */
export class ClusterSimulator {
  private readonly topology: Topology;
  private readonly options: SimulationOptions;
  private readonly mode: Mode;
  private readonly P: number;
  private readonly R: number;
  private readonly T: number;
  private readonly bucketMs: number;
  private readonly bucketSeconds: number;
  private readonly substepMs: number;
  private readonly planEvery: number;
  private readonly evalStartMs: number;
  private readonly regionNames: readonly string[];
  private readonly regionIndex: Map<string, number>;
  /** Request latency (ms) from region r to a cell in region s at r * R + s, local base included. */
  private readonly latency: Float64Array;
  /** Regions ordered by latency from each region, for the nearest replica. */
  private readonly nearest: Int32Array[];

  private readonly cells: SimCell[] = [];
  private readonly cellByIdMap = new Map<string, SimCell>();
  private readonly placement: Int32Array;
  /** Replica cell per partition and region (replicated mode), -1 where none. */
  private readonly replica: Int32Array;
  private readonly movingMove: (SimMove | undefined)[];
  private readonly lastMovedAtMs: Float64Array;
  private readonly prevFrom: Int32Array;
  private readonly prevEndMs: Float64Array;
  private moves: SimMove[] = [];
  private readonly events: TimedEvent[] = [];
  private readonly sizes: Float64Array;

  /** Demand of the current bucket, per partition. */
  private readonly totalOps: Float64Array;
  private readonly writeOps: Float64Array;
  private bucket = 0;
  private bucketStartMs = 0;
  private substepEndMs = 0;

  private readonly alarmSustainMs: Float64Array;
  private readonly lastScaleMs: Float64Array;
  private topologyVersion = 0;
  /** Whether migration load was set in the last sub-step (cleared once the last move finishes). */
  private migrating = false;
  private viewTopology: Topology | undefined;
  private viewTopologyVersion = -1;
  private cellStatusRecord: Record<string, CellStatus> = {};
  private autoCellCounter = 0;

  // Metrics over the evaluation window.
  private readonly histogram = new LatencyHistogram();
  private requests = 0;
  private remoteRequests = 0;
  private bytesMoved = 0;
  private bytesMovedUnderLoad = 0;
  private migrationTransferBytes = 0;
  private remoteRequestBytes = 0;
  private replicatedWriteBytes = 0;
  private storedByteMs = 0;
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
  /** Cell-milliseconds in service (ACTIVE or DRAINING) over the evaluation window. */
  private cellMs = 0;
  private totalStoredBytes = 0;

  // Time series.
  private readonly bucketsPerSlot: number;
  private readonly slotHistogram = new LatencyHistogram();
  private readonly series: PolicySeries;
  private readonly cellEvents: CellEvent[] = [];
  private readonly slotRequests: Float64Array;
  private readonly slotRemote: Float64Array;

  constructor(
    private readonly input: SimulationInput,
    private readonly policy: PolicyName,
    private readonly driver: PolicyDriver,
    options: SimulationOptions,
  ) {
    const { trace, topology } = input;
    this.topology = topology;
    this.options = options;
    this.mode = policy === 'replicate-all' ? 'replicated' : 'primary';
    this.P = trace.partitions.length;
    this.R = trace.regions.length;
    this.T = trace.bucketCount;
    this.bucketMs = trace.bucketMs;
    this.bucketSeconds = trace.bucketMs / 1000;
    this.substepMs = gcd(trace.bucketMs, MINUTE_MS);
    this.planEvery = planningBuckets(options.planningIntervalMs, trace.bucketMs);
    this.evalStartMs = trace.startMs + options.warmupMs;
    this.regionNames = trace.regions;
    this.regionIndex = new Map(trace.regions.map((r, i) => [r, i]));
    this.latency = new Float64Array(this.R * this.R);
    for (let r = 0; r < this.R; r++) {
      for (let s = 0; s < this.R; s++) {
        this.latency[r * this.R + s] =
          latencyBetween(topology, trace.regions[r], trace.regions[s]) + options.localLatencyMs;
      }
    }
    this.nearest = trace.regions.map((_, r) =>
      Int32Array.from(
        trace.regions
          .map((__, s) => s)
          .sort((a, b) => this.latency[r * this.R + a] - this.latency[r * this.R + b]),
      ),
    );
    this.placement = new Int32Array(this.P);
    this.replica = new Int32Array(this.mode === 'replicated' ? this.P * this.R : 0).fill(-1);
    this.movingMove = new Array(this.P).fill(undefined);
    this.lastMovedAtMs = new Float64Array(this.P).fill(Number.NaN);
    this.prevFrom = new Int32Array(this.P).fill(-1);
    this.prevEndMs = new Float64Array(this.P).fill(Number.NaN);
    this.sizes = Float64Array.from(input.partitions, (p) => p.sizeBytes);
    this.totalOps = new Float64Array(this.P);
    this.writeOps = new Float64Array(this.P);
    this.alarmSustainMs = new Float64Array(this.R);
    this.lastScaleMs = new Float64Array(this.R).fill(Number.NEGATIVE_INFINITY);

    this.bucketsPerSlot = Math.max(1, Math.round(HOUR_MS / trace.bucketMs));
    const slots = Math.ceil(this.T / this.bucketsPerSlot);
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

    for (const spec of topology.cells) this.addCell(spec, 'initial', 'ACTIVE', trace.startMs);
    this.placeInitially();
    this.scheduleTopologyEvents();
  }

  run(): PolicyResult {
    const started = performance.now();
    const { trace } = this.input;
    const progressEvery = Math.max(1, Math.floor(this.T / 200));
    for (let t = 0; t < this.T; t++) {
      this.bucket = t;
      this.bucketStartMs = trace.startMs + t * this.bucketMs;
      this.loadBucketDemand(t);
      this.processEvents(this.bucketStartMs);
      if (t % this.planEvery === 0) this.plan();
      this.recomputeRequestLoads();
      this.accountBucket(t);
      for (let now = this.bucketStartMs; now < this.bucketStartMs + this.bucketMs; now += this.substepMs) {
        this.processEvents(now);
        this.substep(now, this.substepMs);
      }
      this.closeBucket(t);
      this.driver.observe(t);
      if (this.options.onProgress && ((t + 1) % progressEvery === 0 || t === this.T - 1)) {
        this.options.onProgress({ policy: this.policy, bucket: t + 1, buckets: this.T });
      }
    }
    const simulationMs = performance.now() - started;
    return {
      policy: this.policy,
      metrics: this.metrics(),
      details: this.details(simulationMs),
      series: this.series,
      cellEvents: this.cellEvents,
    };
  }

  // ---------------------------------------------------------------- setup

  private logCell(cell: SimCell, kind: CellEvent['kind'], atMs: number): void {
    this.cellEvents.push({ atMs, cell: cell.spec.id, region: cell.spec.region, kind });
  }

  /** Best-known current time for events raised outside a sub-step. */
  private nowForEvents(): number {
    return Math.max(this.bucketStartMs, this.substepEndMs - this.substepMs);
  }

  private addCell(spec: CellSpec, origin: CellOrigin, status: CellStatus, readyAtMs: number): SimCell {
    const region = this.regionIndex.get(spec.region);
    if (region === undefined) {
      throw new InputValidationError({ field: `cells.${spec.id}.region` }, `unknown region '${spec.region}'`);
    }
    const cell: SimCell = {
      index: this.cells.length,
      spec,
      region,
      origin,
      status,
      readyAtMs,
      drainingSinceMs: Number.NaN,
      requestLoad: 0,
      migrationLoad: 0,
      storedBytes: 0,
      residents: 0,
      activeOut: 0,
      activeIn: 0,
      pendingMoves: 0,
    };
    this.cells.push(cell);
    this.cellByIdMap.set(spec.id, cell);
    this.topologyVersion++;
    if (origin !== 'initial') {
      this.logCell(
        cell,
        origin === 'alarm'
          ? 'added-by-alarm'
          : origin === 'forecast'
            ? 'added-by-forecast'
            : 'added-as-scheduled',
        readyAtMs - (status === 'PROVISIONING' ? this.provisionMs() : 0),
      );
    }
    return cell;
  }

  private placeInitially(): void {
    const { partitions } = this.input;
    for (let p = 0; p < this.P; p++) {
      const cell = this.cellByIdMap.get(partitions[p].cell);
      if (!cell) {
        throw new InputValidationError(
          { field: `partitions.${partitions[p].id}.cell` },
          `unknown cell '${partitions[p].cell}'`,
        );
      }
      this.placement[p] = cell.index;
      if (this.mode === 'primary') this.store(cell, p);
    }
    if (this.mode === 'replicated') {
      // One replica per region: the home cell in its own region, the emptiest cell elsewhere.
      for (let p = 0; p < this.P; p++) {
        const home = this.cells[this.placement[p]];
        for (let r = 0; r < this.R; r++) {
          const target = r === home.region ? home : this.emptiestCellIn(r, -1);
          if (target) {
            this.replica[p * this.R + r] = target.index;
            this.store(target, p);
          }
        }
      }
    }
  }

  private store(cell: SimCell, p: number): void {
    cell.storedBytes += this.sizes[p];
    cell.residents++;
    this.totalStoredBytes += this.sizes[p];
  }

  private scheduleTopologyEvents(): void {
    const provisionMs = this.provisionMs();
    const startMs = this.input.trace.startMs;
    for (const event of this.topology.scalingEvents) {
      const atMs = Math.max(startMs, Date.parse(event.at));
      if (event.action === 'add') {
        const spec = event.cell;
        this.schedule(atMs, (now) => {
          const cell = this.addCell(spec, 'scheduled', 'PROVISIONING', now + provisionMs);
          this.schedule(now + provisionMs, () => this.activate(cell));
        });
      } else {
        const cellId = event.cellId;
        this.schedule(atMs, (now) => {
          const cell = this.cellByIdMap.get(cellId);
          if (cell && cell.status !== 'RETIRED') this.startDraining(cell, now);
        });
      }
    }
  }

  private provisionMs(): number {
    const alarm = this.topology.alarmScaling;
    return alarm ? alarm.provisionMinutes * MINUTE_MS : this.options.provisionMs;
  }

  private schedule(atMs: number, apply: (nowMs: number) => void): void {
    let i = this.events.length;
    while (i > 0 && this.events[i - 1].atMs > atMs) i--;
    this.events.splice(i, 0, { atMs, apply });
  }

  private processEvents(nowMs: number): void {
    while (this.events.length > 0 && this.events[0].atMs <= nowMs) {
      const event = this.events.shift()!;
      event.apply(nowMs);
    }
  }

  private activate(cell: SimCell): void {
    if (cell.status === 'PROVISIONING') {
      cell.status = 'ACTIVE';
      this.topologyVersion++;
    }
  }

  private startDraining(cell: SimCell, nowMs: number): void {
    cell.status = 'DRAINING';
    cell.drainingSinceMs = nowMs;
    this.logCell(cell, 'draining', nowMs);
    this.topologyVersion++;
    // Policies without a planner are drained by force at once, so every policy pays for the removal.
    if (this.policy === 'static' || this.policy === 'replicate-all') this.forceDrain(cell, nowMs);
    this.retireIfEmpty(cell);
  }

  private retireIfEmpty(cell: SimCell): void {
    if (cell.status === 'DRAINING' && cell.residents === 0 && cell.pendingMoves === 0) {
      cell.status = 'RETIRED';
      cell.requestLoad = 0;
      cell.migrationLoad = 0;
      this.cellsRetired++;
      this.logCell(cell, 'retired', this.nowForEvents());
      this.topologyVersion++;
    }
  }

  // ---------------------------------------------------------------- per bucket

  private loadBucketDemand(t: number): void {
    const { reads, writes } = this.input.trace;
    const R = this.R;
    let offset = t * this.P * R;
    for (let p = 0; p < this.P; p++) {
      let total = 0;
      let w = 0;
      for (let r = 0; r < R; r++, offset++) {
        total += reads[offset] + writes[offset];
        w += writes[offset];
      }
      this.totalOps[p] = total;
      this.writeOps[p] = w;
    }
  }

  private recomputeRequestLoads(): void {
    for (const cell of this.cells) cell.requestLoad = 0;
    if (this.mode === 'primary') {
      for (let p = 0; p < this.P; p++) this.cells[this.placement[p]].requestLoad += this.totalOps[p];
      return;
    }
    const { reads } = this.input.trace;
    const base = this.bucket * this.P * this.R;
    for (let p = 0; p < this.P; p++) {
      for (let r = 0; r < this.R; r++) {
        const holder = this.replica[p * this.R + r];
        if (holder >= 0) this.cells[holder].requestLoad += this.writeOps[p];
        const serving = this.servingReplica(p, r);
        if (serving >= 0) this.cells[serving].requestLoad += reads[base + p * this.R + r];
      }
    }
  }

  /** Cell serving region r's reads of partition p in replicated mode: the local replica, else the nearest. */
  private servingReplica(p: number, r: number): number {
    const order = this.nearest[r];
    for (let i = 0; i < order.length; i++) {
      const holder = this.replica[p * this.R + order[i]];
      if (holder >= 0) return holder;
    }
    return -1;
  }

  private isEval(): boolean {
    return this.bucketStartMs >= this.evalStartMs;
  }

  /** Latency, locality and request transfer of the whole bucket at the current placement. */
  private accountBucket(t: number): void {
    const { reads, writes } = this.input.trace;
    const R = this.R;
    const seconds = this.bucketSeconds;
    const evaluating = this.isEval();
    const slot = Math.floor(t / this.bucketsPerSlot);
    let requests = 0;
    let remote = 0;
    let remoteBytes = 0;
    let replicatedBytes = 0;
    const base = t * this.P * R;
    for (let p = 0; p < this.P; p++) {
      const primaryRegion = this.mode === 'primary' ? this.cells[this.placement[p]].region : -1;
      let replicas = 0;
      for (let r = 0; r < R; r++) {
        const i = base + p * R + r;
        const ops = (reads[i] + writes[i]) * seconds;
        let servedIn = primaryRegion;
        if (this.mode === 'replicated') {
          if (this.replica[p * R + r] >= 0) replicas++;
          const serving = this.servingReplica(p, r);
          servedIn = serving >= 0 ? this.cells[serving].region : r;
        }
        if (ops === 0) continue;
        const latency = this.latency[r * R + servedIn];
        this.slotHistogram.add(latency, ops);
        if (evaluating) this.histogram.add(latency, ops);
        requests += ops;
        if (servedIn !== r) {
          remote += ops;
          remoteBytes += (reads[i] * this.options.readBytes + writes[i] * this.options.writeBytes) * seconds;
        }
      }
      if (replicas > 1)
        replicatedBytes += this.writeOps[p] * seconds * this.options.writeBytes * (replicas - 1);
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
  private correctForCutover(p: number, fromRegion: number, toRegion: number, atMs: number): void {
    if (fromRegion === toRegion) return;
    const fraction = Math.max(0, (this.bucketStartMs + this.bucketMs - atMs) / this.bucketMs);
    if (fraction === 0) return;
    const { reads, writes } = this.input.trace;
    const R = this.R;
    const seconds = this.bucketSeconds * fraction;
    const evaluating = this.isEval();
    const slot = Math.floor(this.bucket / this.bucketsPerSlot);
    const base = (this.bucket * this.P + p) * R;
    for (let r = 0; r < R; r++) {
      const ops = (reads[base + r] + writes[base + r]) * seconds;
      if (ops === 0) continue;
      const before = this.latency[r * R + fromRegion];
      const after = this.latency[r * R + toRegion];
      this.slotHistogram.add(before, -ops);
      this.slotHistogram.add(after, ops);
      const remoteDelta = (toRegion !== r ? ops : 0) - (fromRegion !== r ? ops : 0);
      this.slotRemote[slot] += remoteDelta;
      if (evaluating) {
        this.histogram.add(before, -ops);
        this.histogram.add(after, ops);
        this.remoteRequests += remoteDelta;
        const bytes =
          (reads[base + r] * this.options.readBytes + writes[base + r] * this.options.writeBytes) * seconds;
        this.remoteRequestBytes += (toRegion !== r ? bytes : 0) - (fromRegion !== r ? bytes : 0);
      }
    }
  }

  private closeBucket(t: number): void {
    const slot = Math.floor(t / this.bucketsPerSlot);
    const lastOfSlot = (t + 1) % this.bucketsPerSlot === 0 || t === this.T - 1;
    if (!lastOfSlot) return;
    const requests = this.slotRequests[slot];
    this.series.remoteShare[slot] = requests > 0 ? this.slotRemote[slot] / requests : 0;
    this.series.meanLatencyMs[slot] = this.slotHistogram.mean();
    this.series.p99LatencyMs[slot] = this.slotHistogram.quantile(0.99);
    let live = 0;
    for (const cell of this.cells) if (cell.status !== 'RETIRED') live++;
    this.series.cells[slot] = live;
    const bucketsInSlot = t - slot * this.bucketsPerSlot + 1;
    if (bucketsInSlot !== this.bucketsPerSlot) {
      this.series.demandOpsPerSec[slot] *= this.bucketsPerSlot / bucketsInSlot;
    }
    this.slotHistogram.clear();
  }

  // ---------------------------------------------------------------- sub-steps

  private substep(nowMs: number, dtMs: number): void {
    const evaluating = nowMs >= this.evalStartMs;
    // Storage is integrated from the start of the sub-step; a cutover inside it takes back the rest.
    this.substepEndMs = nowMs + dtMs;
    if (evaluating) {
      this.storedByteMs += this.totalStoredBytes * dtMs;
      this.evalMs += dtMs;
    }
    this.advanceMoves(nowMs, dtMs);
    const minutes = dtMs / MINUTE_MS;
    const slot = Math.floor(this.bucket / this.bucketsPerSlot);
    for (const cell of this.cells) {
      if (cell.status === 'RETIRED' || cell.status === 'PROVISIONING') continue;
      if (evaluating) this.cellMs += dtMs;
      if (cell.requestLoad + cell.migrationLoad > cell.spec.capacityOpsPerSec * (1 + 1e-9)) {
        this.series.overloadCellMinutes[slot] += minutes;
        if (evaluating) this.overloadCellMinutes += minutes;
      }
    }
    this.checkAlarms(nowMs, dtMs);
  }

  private advanceMoves(nowMs: number, dtMs: number): void {
    if (this.moves.length === 0 && !this.migrating) return;
    for (const cell of this.cells) {
      cell.activeOut = 0;
      cell.activeIn = 0;
      cell.migrationLoad = 0;
    }
    this.migrating = this.moves.length > 0;
    for (const move of this.moves) {
      if (!move.active && this.cells[move.to].status !== 'PROVISIONING') move.active = true;
      if (move.active) {
        this.cells[move.from].activeOut++;
        this.cells[move.to].activeIn++;
      }
    }
    const bandwidth = this.topology.migrationBandwidthBytesPerSec;
    const copyShare = this.options.copyLoadShare;
    for (const move of this.moves) {
      if (!move.active) continue;
      const from = this.cells[move.from];
      const to = this.cells[move.to];
      move.rate = bandwidth / Math.max(from.activeOut, to.activeIn);
      const share = (move.rate / bandwidth) * copyShare;
      from.migrationLoad += share * from.spec.capacityOpsPerSec;
      // The target also applies the partition's writes while it catches up.
      to.migrationLoad += share * to.spec.capacityOpsPerSec + this.writeOps[move.partition];
    }
    const evaluating = nowMs >= this.evalStartMs;
    const slot = Math.floor(this.bucket / this.bucketsPerSlot);
    const threshold = this.options.underLoadUtilization;
    let finished = false;
    for (const move of this.moves) {
      if (!move.active) continue;
      const from = this.cells[move.from];
      const to = this.cells[move.to];
      const copied = Math.min(move.remaining, (move.rate * dtMs) / 1000);
      move.remaining -= copied;
      this.series.bytesMoved[slot] += copied;
      if (evaluating) {
        this.bytesMoved += copied;
        const hot =
          from.requestLoad > threshold * from.spec.capacityOpsPerSec ||
          to.requestLoad > threshold * to.spec.capacityOpsPerSec;
        if (hot) this.bytesMovedUnderLoad += copied;
        if (from.region !== to.region) this.migrationTransferBytes += copied;
      }
      if (move.remaining <= 1e-6) {
        const atMs = nowMs + (move.rate > 0 ? (copied / move.rate) * 1000 : 0);
        this.cutover(move, atMs);
        finished = true;
      }
    }
    if (finished) this.moves = this.moves.filter((m) => !m.done);
  }

  private cutover(move: SimMove, atMs: number): void {
    move.done = true;
    const from = this.cells[move.from];
    const to = this.cells[move.to];
    const p = move.partition;
    from.storedBytes -= move.bytes;
    from.residents--;
    to.residents++;
    from.pendingMoves--;
    to.pendingMoves--;
    this.totalStoredBytes -= move.bytes;
    if (atMs >= this.evalStartMs) this.storedByteMs -= move.bytes * Math.max(0, this.substepEndMs - atMs);
    this.movingMove[p] = undefined;
    if (move.replicaRegion >= 0) {
      this.replica[p * this.R + move.replicaRegion] = move.to;
      this.recomputeRequestLoads();
    } else {
      this.placement[p] = move.to;
      from.requestLoad -= this.totalOps[p];
      to.requestLoad += this.totalOps[p];
      this.correctForCutover(p, from.region, to.region, atMs);
    }
    if (atMs >= this.evalStartMs) {
      this.completedMoves++;
      if (
        move.replicaRegion < 0 &&
        this.prevFrom[p] === move.to &&
        move.startedMs - this.prevEndMs[p] <= this.options.thrashWindowMs
      ) {
        this.thrashMoves++;
      }
    }
    if (move.replicaRegion < 0) {
      this.prevFrom[p] = move.from;
      this.prevEndMs[p] = atMs;
      this.lastMovedAtMs[p] = atMs;
    }
    this.retireIfEmpty(from);
  }

  private checkAlarms(nowMs: number, dtMs: number): void {
    const alarm = this.topology.alarmScaling;
    if (!alarm) return;
    for (let r = 0; r < this.R; r++) {
      let load = 0;
      let capacity = 0;
      let count = 0;
      for (const cell of this.cells) {
        if (cell.region !== r || cell.status === 'RETIRED') continue;
        count++;
        if (cell.status === 'PROVISIONING') continue;
        load += cell.requestLoad + cell.migrationLoad;
        capacity += cell.spec.capacityOpsPerSec;
      }
      if (capacity > 0 && load > alarm.utilizationThreshold * capacity) this.alarmSustainMs[r] += dtMs;
      else this.alarmSustainMs[r] = 0;
      if (
        this.alarmSustainMs[r] >= alarm.sustainMinutes * MINUTE_MS &&
        nowMs - this.lastScaleMs[r] >= alarm.cooldownMinutes * MINUTE_MS &&
        count < alarm.maxCellsPerRegion
      ) {
        this.scaleOut(r, 'alarm', nowMs);
        this.alarmSustainMs[r] = 0;
      }
    }
  }

  private scaleOut(region: number, origin: 'alarm' | 'forecast', nowMs: number): void {
    const alarm = this.topology.alarmScaling;
    const template = this.cells.find((c) => c.region === region)?.spec;
    const name = this.regionNames[region];
    let id: string;
    do id = `${name}-${origin === 'alarm' ? 'a' : 'f'}${++this.autoCellCounter}`;
    while (this.cellByIdMap.has(id));
    const spec: CellSpec = {
      id,
      region: name,
      capacityOpsPerSec: alarm?.cellCapacityOpsPerSec ?? template?.capacityOpsPerSec ?? 1,
      capacityBytes: alarm?.cellCapacityBytes ?? template?.capacityBytes ?? 1,
    };
    const provisionMs = this.provisionMs();
    const cell = this.addCell(spec, origin, 'PROVISIONING', nowMs + provisionMs);
    this.schedule(nowMs + provisionMs, () => this.activate(cell));
    this.lastScaleMs[region] = nowMs;
    if (nowMs >= this.evalStartMs) {
      if (origin === 'alarm') this.cellsAddedByAlarm++;
      else this.cellsAddedByForecast++;
    } else this.cellsAddedInWarmup++;
  }

  // ---------------------------------------------------------------- planning

  private plan(): void {
    const nowMs = this.bucketStartMs;
    for (const cell of this.cells) {
      if (cell.status === 'DRAINING' && nowMs - cell.drainingSinceMs >= this.options.drainGraceMs) {
        this.forceDrain(cell, nowMs);
      }
    }
    if (this.policy === 'static' || this.policy === 'replicate-all') return;
    const decision = this.driver.decide(this.view(nowMs));
    this.apply(decision, nowMs);
  }

  private view(nowMs: number): ClusterView {
    if (this.viewTopologyVersion !== this.topologyVersion) {
      const live = this.cells.filter((c) => c.status !== 'RETIRED');
      this.viewTopology = { ...this.topology, cells: live.map((c) => c.spec), scalingEvents: [] };
      this.cellStatusRecord = Object.fromEntries(live.map((c) => [c.spec.id, c.status]));
      this.viewTopologyVersion = this.topologyVersion;
    }
    const cellIds = this.cells.map((c) => c.spec.id);
    const inFlight: InFlightMove[] = [];
    for (const move of this.moves) {
      if (move.replicaRegion >= 0) continue;
      inFlight.push({
        partition: this.input.partitions[move.partition].id,
        from: cellIds[move.from],
        to: cellIds[move.to],
        bytes: move.bytes,
      });
    }
    return {
      nowMs,
      bucket: this.bucket,
      topology: this.viewTopology!,
      cellStatus: this.cellStatusRecord,
      cellReadyAtMs: Object.fromEntries(
        this.cells.filter((c) => c.status === 'PROVISIONING').map((c) => [c.spec.id, c.readyAtMs]),
      ),
      cellIds,
      placement: this.placement,
      inFlight,
      lastMovedAtMs: this.lastMovedAtMs,
      cellLoadOpsPerSec: Float64Array.from(this.cells, (c) => c.requestLoad + c.migrationLoad),
    };
  }

  private apply(decision: PolicyDecision, nowMs: number): void {
    for (const request of decision.moves) {
      const target = this.cellByIdMap.get(request.to);
      const p = request.partition;
      if (
        !target ||
        target.status === 'RETIRED' ||
        target.status === 'DRAINING' ||
        this.movingMove[p] !== undefined ||
        this.placement[p] === target.index ||
        (request.from !== undefined && request.from !== this.cells[this.placement[p]].spec.id)
      ) {
        this.rejectedMoves++;
        continue;
      }
      this.startMove(p, -1, this.cells[this.placement[p]], target, nowMs, false);
    }
    const alarm = this.topology.alarmScaling;
    const maxCells = alarm?.maxCellsPerRegion ?? 8;
    const cooldownMs = (alarm?.cooldownMinutes ?? 0) * MINUTE_MS;
    for (const request of decision.scaleOut) {
      const r = this.regionIndex.get(request.region);
      // The alarms' cooldown holds for every scale-out of a region, so one shortfall buys cells once.
      if (r === undefined || nowMs - this.lastScaleMs[r] < cooldownMs) continue;
      let count = 0;
      let provisioning = 0;
      for (const cell of this.cells) {
        if (cell.region !== r || cell.status === 'RETIRED') continue;
        count++;
        if (cell.status === 'PROVISIONING') provisioning++;
      }
      // Cells already on their way cover the same shortfall.
      const wanted = Math.min(request.cells - provisioning, maxCells - count);
      for (let i = 0; i < wanted; i++) this.scaleOut(r, 'forecast', nowMs);
    }
  }

  private startMove(
    p: number,
    replicaRegion: number,
    from: SimCell,
    to: SimCell,
    nowMs: number,
    forced: boolean,
  ): void {
    const bytes = this.sizes[p];
    const move: SimMove = {
      partition: p,
      replicaRegion,
      from: from.index,
      to: to.index,
      bytes,
      startedMs: nowMs,
      forced,
      remaining: bytes,
      active: false,
      rate: 0,
      done: false,
    };
    this.moves.push(move);
    this.movingMove[p] = move;
    from.pendingMoves++;
    to.pendingMoves++;
    // The partition's bytes count at both ends until the cutover.
    to.storedBytes += bytes;
    this.totalStoredBytes += bytes;
    if (forced && nowMs >= this.evalStartMs) this.forcedMoves++;
    if (bytes === 0) this.cutover(move, nowMs);
    if (move.done) this.moves.pop();
  }

  /** Move everything off a draining cell: same region first, then the nearest, emptiest cells. */
  private forceDrain(cell: SimCell, nowMs: number): void {
    if (this.mode === 'replicated') {
      for (let p = 0; p < this.P; p++) {
        const key = p * this.R + cell.region;
        if (this.replica[key] !== cell.index || this.movingMove[p] !== undefined) continue;
        const target = this.emptiestCellIn(cell.region, cell.index);
        if (target) this.startMove(p, cell.region, cell, target, nowMs, true);
        else {
          // No other cell in the region: drop the replica; the region reads from the nearest one.
          this.replica[key] = -1;
          cell.storedBytes -= this.sizes[p];
          cell.residents--;
          this.totalStoredBytes -= this.sizes[p];
        }
      }
      this.recomputeRequestLoads();
      this.retireIfEmpty(cell);
      return;
    }
    for (let p = 0; p < this.P; p++) {
      if (this.placement[p] !== cell.index || this.movingMove[p] !== undefined) continue;
      const order = this.nearest[cell.region];
      let target: SimCell | undefined;
      for (let i = 0; i < order.length && !target; i++) target = this.emptiestCellIn(order[i], cell.index);
      if (target) this.startMove(p, -1, cell, target, nowMs, true);
    }
  }

  /** The ACTIVE (or PROVISIONING) cell of a region with the most free bytes, other than `exclude`. */
  private emptiestCellIn(region: number, exclude: number): SimCell | undefined {
    let best: SimCell | undefined;
    let bestFree = Number.NEGATIVE_INFINITY;
    for (const cell of this.cells) {
      if (cell.region !== region || cell.index === exclude) continue;
      if (cell.status !== 'ACTIVE' && cell.status !== 'PROVISIONING') continue;
      const free = (cell.spec.capacityBytes - cell.storedBytes) / cell.spec.capacityBytes;
      if (free > bestFree) {
        best = cell;
        bestFree = free;
      }
    }
    return best;
  }

  // ---------------------------------------------------------------- results

  private metrics(): PolicyMetrics {
    const transferBytes = this.migrationTransferBytes + this.remoteRequestBytes + this.replicatedWriteBytes;
    return {
      remoteShare: this.requests > 0 ? this.remoteRequests / this.requests : 0,
      meanLatencyMs: this.histogram.mean(),
      p99LatencyMs: this.histogram.quantile(0.99),
      bytesMoved: this.bytesMoved,
      bytesMovedUnderLoad: this.bytesMovedUnderLoad,
      transferCostUsd: (transferBytes / GIB) * this.topology.transferCostPerGB,
      storedBytesAvg: this.evalMs > 0 ? this.storedByteMs / this.evalMs : this.totalStoredBytes,
      overloadCellMinutes: this.overloadCellMinutes,
      moves: this.completedMoves,
      thrashMoves: this.thrashMoves,
      cellsAdded: this.cellsAddedByAlarm + this.cellsAddedByForecast,
    };
  }

  private details(simulationMs: number): PolicyDetails {
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
      cellsInServiceAvg: this.evalMs > 0 ? this.cellMs / this.evalMs : 0,
      plannerCalls: this.driver.plannerCalls,
      plannerMs: this.driver.plannerMs,
      simulationMs,
    };
  }
}

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}

/** Planning interval in whole buckets; it must be a positive multiple of the bucket. */
export function planningBuckets(intervalMs: number, bucketMs: number): number {
  const buckets = intervalMs / bucketMs;
  if (!Number.isInteger(buckets) || buckets < 1) {
    throw new InputValidationError(
      { field: 'interval' },
      `planning interval of ${intervalMs / 1000}s must be a positive multiple of the trace's ${bucketMs / 1000}s bucket`,
    );
  }
  return buckets;
}
