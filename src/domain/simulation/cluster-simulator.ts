import { CellLifecycle } from './cell-lifecycle.ts';
import { ColdCopyStore } from './cold-copy-store.ts';
import { MetricsAccumulator } from './metrics-accumulator.ts';
import { MoveEngine } from './move-engine.ts';
import { PartitionPlacement } from './partition-placement.ts';
import type { ClusterView, PolicyDriver } from './policy-driver.ts';
import { createReplayContext, planningBuckets, ReplayClock, type ReplayContext } from './replay-context.ts';
import type { PolicyName, PolicyResult, SimulationInput, SimulationOptions } from './simulation-options.ts';

/**
 * Discrete-time replay of a demand trace against one placement policy.
 *
 * Time advances bucket by bucket (the trace grid); inside a bucket, sub-steps of one minute (or the
 * bucket, if shorter) advance migrations at the shared per-cell bandwidth, cut traffic over when a copy
 * finishes, count overloaded cell-minutes and run the alarm-driven scale-out. The simulator sequences
 * its parts: the cells' lifecycle (CellLifecycle), where partitions are and the load they put on cells
 * (PartitionPlacement), the migrations (MoveEngine) and what is measured (MetricsAccumulator).
 */
export class ClusterSimulator {
  private readonly context: ReplayContext;
  private readonly clock: ReplayClock;
  private readonly planEvery: number;
  private readonly metrics: MetricsAccumulator;
  private readonly cells: CellLifecycle;
  private readonly placement: PartitionPlacement;
  private readonly moves: MoveEngine;
  private readonly copies: ColdCopyStore;

  constructor(
    input: SimulationInput,
    policy: PolicyName,
    private readonly driver: PolicyDriver,
    options: SimulationOptions,
  ) {
    this.context = createReplayContext(input, policy, options);
    this.clock = new ReplayClock(this.context);
    this.planEvery = planningBuckets(options.planningIntervalMs, input.trace.bucketMs);
    this.metrics = new MetricsAccumulator(this.context, this.clock);
    // Draining starts from the cells' events but is done by the moves, created just below.
    this.cells = new CellLifecycle(this.context, this.clock, this.metrics, (cell, nowMs) =>
      this.moves.forceDrain(cell, nowMs),
    );
    this.placement = new PartitionPlacement(this.context, this.clock, this.cells);
    this.copies = new ColdCopyStore(this.context, this.cells, this.placement);
    this.moves = new MoveEngine(this.context, this.cells, this.placement, this.metrics, this.copies);
    this.placement.placeInitially();
    this.cells.scheduleTopologyEvents();
  }

  run(): PolicyResult {
    const started = performance.now();
    const { context, clock, cells, placement, metrics } = this;
    const { trace } = context.input;
    const { T, bucketMs, substepMs, policy, options } = context;
    const progressEvery = Math.max(1, Math.floor(T / 200));
    for (let t = 0; t < T; t++) {
      clock.bucket = t;
      clock.bucketStartMs = trace.startMs + t * bucketMs;
      placement.loadBucketDemand(t);
      cells.processEvents(clock.bucketStartMs);
      if (t % this.planEvery === 0) this.plan();
      placement.recomputeRequestLoads();
      metrics.accountBucket(t, placement, cells.cells);
      for (let now = clock.bucketStartMs; now < clock.bucketStartMs + bucketMs; now += substepMs) {
        cells.processEvents(now);
        this.substep(now, substepMs);
      }
      metrics.closeBucket(t, cells.liveCellCount());
      this.copies.accrueWrites(placement.writeOps, bucketMs);
      this.driver.observe(t);
      if (options.onProgress && ((t + 1) % progressEvery === 0 || t === T - 1)) {
        options.onProgress({ policy, bucket: t + 1, buckets: T });
      }
    }
    const simulationMs = performance.now() - started;
    return {
      policy,
      metrics: metrics.metrics(placement.totalStoredBytes),
      details: metrics.details(this.driver, simulationMs),
      series: metrics.series,
      cellEvents: cells.cellEvents,
    };
  }

  private substep(nowMs: number, dtMs: number): void {
    // Storage is integrated from the start of the sub-step; a cutover inside it takes back the rest.
    this.clock.substepEndMs = nowMs + dtMs;
    this.metrics.addStorage(nowMs, dtMs, this.placement.totalStoredBytes, this.copies.coldBytes);
    this.moves.advance(nowMs, dtMs);
    this.copies.dropOnRetiredCells();
    this.metrics.addCellTime(nowMs, dtMs, this.cells.cells);
    this.cells.checkAlarms(nowMs, dtMs);
  }

  /** Drain by force what overstayed its grace period, then let the policy decide. */
  private plan(): void {
    const nowMs = this.clock.bucketStartMs;
    // A cell retired by this bucket's events took its copies with it: the planner must not see them.
    this.copies.dropOnRetiredCells();
    for (const cell of this.cells.cells) {
      if (cell.status === 'DRAINING' && nowMs - cell.drainingSinceMs >= this.context.options.drainGraceMs) {
        this.moves.forceDrain(cell, nowMs);
      }
    }
    const policy = this.context.policy;
    if (policy === 'static' || policy === 'replicate-all') return;
    const decision = this.driver.decide(this.view(nowMs));
    let dropped = 0;
    for (const drop of decision.dropCopies ?? []) if (this.copies.drop(drop.partition, drop.cell)) dropped++;
    this.metrics.countDroppedCopies(nowMs, dropped);
    this.moves.startRequested(decision.moves, nowMs);
    this.cells.scaleOutAhead(decision.scaleOut, nowMs);
    if (decision.scaleIn) this.cells.scaleInAhead(decision.scaleIn, nowMs);
  }

  private view(nowMs: number): ClusterView {
    const cells = this.cells.cells;
    const { topology, cellStatus } = this.cells.liveTopology();
    const cellIds = cells.map((c) => c.spec.id);
    return {
      nowMs,
      bucket: this.clock.bucket,
      topology,
      cellStatus,
      cellReadyAtMs: Object.fromEntries(
        cells.filter((c) => c.status === 'PROVISIONING').map((c) => [c.spec.id, c.readyAtMs]),
      ),
      cellIds,
      placement: this.placement.cellOf,
      inFlight: this.moves.inFlight(cellIds),
      lastMovedAtMs: this.moves.lastMovedAtMs,
      cellLoadOpsPerSec: Float64Array.from(cells, (c) => c.requestLoad + c.migrationLoad),
      lastScaleOutAtMs: this.cells.lastScaleOuts(),
      coldCopiesOf: (p) => this.copies.plannerView(p, cellIds),
    };
  }
}
