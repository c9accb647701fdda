import type { InFlightMove } from '../planning/movement-plan.ts';
import type { CellLifecycle, SimCell } from './cell-lifecycle.ts';
import type { ColdCopyStore } from './cold-copy-store.ts';
import type { MetricsAccumulator } from './metrics-accumulator.ts';
import type { PartitionPlacement } from './partition-placement.ts';
import type { MoveRequest } from './policy-driver.ts';
import type { ReplayContext } from './replay-context.ts';

interface SimMove {
  readonly partition: number;
  /** Region of the replica being moved (replicate-all), or -1 for a primary. */
  readonly replicaRegion: number;
  readonly from: number;
  readonly to: number;
  /** Bytes the move copies: the partition, or the delta since the watermark of a cold copy in the target. */
  readonly bytes: number;
  /** The target holds a cold copy of the partition: the move ships the delta, and the copy becomes the primary. */
  readonly toCopy: boolean;
  /** Keep the source as a cold copy at the cutover (the planner's decision). */
  readonly retainSource: boolean;
  readonly startedMs: number;
  readonly forced: boolean;
  remaining: number;
  active: boolean;
  rate: number;
  done: boolean;
}

/**
 * Migrations: starts the moves a policy asks for (one per partition at a time, the fence) and forced
 * drains, copies them at the per-cell migration bandwidth shared by concurrent moves (a move into a
 * PROVISIONING cell waits for it), puts the copy and catch-up load on both ends, and cuts traffic over
 * when a copy ends. Keeps each partition's move history for the cooldown and the thrash count. A move into a
 * cell holding a cold copy of the partition copies only the delta; a move told to retain its source leaves a
 * cold copy there (ColdCopyStore).
 */
export class MoveEngine {
  /** When each partition last finished a move; NaN if never. */
  readonly lastMovedAtMs: Float64Array;
  private moves: SimMove[] = [];
  private readonly movingMove: (SimMove | undefined)[];
  /** Where each partition's last move came from and when it ended (thrash: moving straight back). */
  private readonly prevFrom: Int32Array;
  private readonly prevEndMs: Float64Array;
  /** Whether migration load was set in the last sub-step (cleared once the last move finishes). */
  private migrating = false;

  constructor(
    private readonly context: ReplayContext,
    private readonly cells: CellLifecycle,
    private readonly placement: PartitionPlacement,
    private readonly metrics: MetricsAccumulator,
    private readonly copies: ColdCopyStore,
  ) {
    const { P } = context;
    this.movingMove = new Array(P).fill(undefined);
    this.lastMovedAtMs = new Float64Array(P).fill(Number.NaN);
    this.prevFrom = new Int32Array(P).fill(-1);
    this.prevEndMs = new Float64Array(P).fill(Number.NaN);
  }

  /** Start the moves a policy planned; those that target a cell that cannot take data, or a partition already moving or not where the policy believes, are rejected. */
  startRequested(requests: readonly MoveRequest[], nowMs: number): void {
    const cells = this.cells.cells;
    const cellOf = this.placement.cellOf;
    for (const request of requests) {
      const target = this.cells.cellById(request.to);
      const p = request.partition;
      if (
        !target ||
        target.status === 'RETIRED' ||
        target.status === 'DRAINING' ||
        this.movingMove[p] !== undefined ||
        cellOf[p] === target.index ||
        (request.from !== undefined && request.from !== cells[cellOf[p]].spec.id)
      ) {
        this.metrics.countRejectedMove();
        continue;
      }
      this.startMove(p, -1, cells[cellOf[p]], target, nowMs, false, request.retainSource === true);
    }
  }

  /** Move everything off a draining cell: same region first, then the nearest, emptiest cells. */
  forceDrain(cell: SimCell, nowMs: number): void {
    const { P, R } = this.context;
    const replica = this.placement.replica;
    if (this.context.mode === 'replicated') {
      for (let p = 0; p < P; p++) {
        const key = p * R + cell.region;
        if (replica[key] !== cell.index || this.movingMove[p] !== undefined) continue;
        const target = this.cells.emptiestCellIn(cell.region, cell.index);
        if (target) this.startMove(p, cell.region, cell, target, nowMs, true);
        else {
          // No other cell in the region: drop the replica; the region reads from the nearest one.
          replica[key] = -1;
          this.placement.unstore(cell, p);
        }
      }
      this.placement.recomputeRequestLoads();
      this.cells.retireIfEmpty(cell);
      return;
    }
    for (let p = 0; p < P; p++) {
      if (this.placement.cellOf[p] !== cell.index || this.movingMove[p] !== undefined) continue;
      const order = this.context.nearest[cell.region];
      let target: SimCell | undefined;
      for (let i = 0; i < order.length && !target; i++)
        target = this.cells.emptiestCellIn(order[i], cell.index);
      if (target) this.startMove(p, -1, cell, target, nowMs, true);
    }
  }

  /** Copy for one sub-step at the shared bandwidth, with the copy load on both ends; cut finished copies over. */
  advance(nowMs: number, dtMs: number): void {
    if (this.moves.length === 0 && !this.migrating) return;
    const cells = this.cells.cells;
    for (const cell of cells) {
      cell.activeOut = 0;
      cell.activeIn = 0;
      cell.migrationLoad = 0;
    }
    this.migrating = this.moves.length > 0;
    for (const move of this.moves) {
      if (!move.active && cells[move.to].status !== 'PROVISIONING') move.active = true;
      if (move.active) {
        cells[move.from].activeOut++;
        cells[move.to].activeIn++;
      }
    }
    const bandwidth = this.context.topology.migrationBandwidthBytesPerSec;
    const copyShare = this.context.options.copyLoadShare;
    for (const move of this.moves) {
      if (!move.active) continue;
      const from = cells[move.from];
      const to = cells[move.to];
      move.rate = bandwidth / Math.max(from.activeOut, to.activeIn);
      const share = (move.rate / bandwidth) * copyShare;
      from.migrationLoad += share * from.spec.capacityOpsPerSec;
      // The target also applies the partition's writes while it catches up.
      to.migrationLoad += share * to.spec.capacityOpsPerSec + this.placement.writeOps[move.partition];
    }
    const threshold = this.context.options.underLoadUtilization;
    let finished = false;
    for (const move of this.moves) {
      if (!move.active) continue;
      const from = cells[move.from];
      const to = cells[move.to];
      const copied = Math.min(move.remaining, (move.rate * dtMs) / 1000);
      move.remaining -= copied;
      const hot =
        from.requestLoad > threshold * from.spec.capacityOpsPerSec ||
        to.requestLoad > threshold * to.spec.capacityOpsPerSec;
      this.metrics.addCopied(nowMs, copied, hot, from.region !== to.region);
      if (move.remaining <= 1e-6) {
        const copiedAtMs = nowMs + (move.rate > 0 ? (copied / move.rate) * 1000 : 0);
        // A move no shorter than the floor (a live run's real-time migration on a compressed clock).
        const readyAtMs = move.startedMs + (this.context.options.moveFloorMs ?? 0);
        if (readyAtMs <= nowMs + dtMs) {
          this.cutover(move, Math.max(copiedAtMs, readyAtMs));
          finished = true;
        }
      }
    }
    if (finished) this.moves = this.moves.filter((m) => !m.done);
  }

  /** The primary moves under way, as the planner sees them. */
  inFlight(cellIds: readonly string[]): InFlightMove[] {
    const inFlight: InFlightMove[] = [];
    for (const move of this.moves) {
      if (move.replicaRegion >= 0) continue;
      inFlight.push({
        partition: this.context.input.partitions[move.partition].id,
        from: cellIds[move.from],
        to: cellIds[move.to],
        bytes: move.bytes,
      });
    }
    return inFlight;
  }

  private startMove(
    p: number,
    replicaRegion: number,
    from: SimCell,
    to: SimCell,
    nowMs: number,
    forced: boolean,
    retainSource = false,
  ): void {
    const size = this.context.sizes[p];
    const delta = replicaRegion < 0 ? this.copies.deltaBytes(p, to.index) : undefined;
    const bytes = delta ?? size;
    const move: SimMove = {
      partition: p,
      replicaRegion,
      from: from.index,
      to: to.index,
      bytes,
      toCopy: delta !== undefined,
      retainSource: retainSource && replicaRegion < 0,
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
    // The partition's bytes count at both ends until the cutover (a cold copy in the target counts already).
    if (!move.toCopy) {
      to.storedBytes += size;
      this.placement.totalStoredBytes += size;
    } else this.metrics.countDeltaMove(nowMs);
    if (forced) this.metrics.countForcedMove(nowMs);
    if (bytes === 0) this.cutover(move, nowMs);
    if (move.done) this.moves.pop();
  }

  private cutover(move: SimMove, atMs: number): void {
    move.done = true;
    const cells = this.cells.cells;
    const placement = this.placement;
    const from = cells[move.from];
    const to = cells[move.to];
    const p = move.partition;
    const size = this.context.sizes[p];
    if (move.retainSource) this.copies.retain(p, from, atMs);
    else {
      from.storedBytes -= size;
      placement.totalStoredBytes -= size;
      this.metrics.takeBackStorage(size, atMs);
    }
    if (move.toCopy) this.copies.promote(p, move.to);
    from.residents--;
    to.residents++;
    from.pendingMoves--;
    to.pendingMoves--;
    this.movingMove[p] = undefined;
    if (move.replicaRegion >= 0) {
      placement.replica[p * this.context.R + move.replicaRegion] = move.to;
      placement.recomputeRequestLoads();
    } else {
      placement.cellOf[p] = move.to;
      from.requestLoad -= placement.totalOps[p];
      to.requestLoad += placement.totalOps[p];
      this.metrics.correctForCutover(p, from.region, to.region, atMs);
    }
    const thrash =
      move.replicaRegion < 0 &&
      this.prevFrom[p] === move.to &&
      move.startedMs - this.prevEndMs[p] <= this.context.options.thrashWindowMs;
    this.metrics.countCompletedMove(atMs, thrash);
    if (move.replicaRegion < 0) {
      this.prevFrom[p] = move.from;
      this.prevEndMs[p] = atMs;
      this.lastMovedAtMs[p] = atMs;
    }
    this.cells.retireIfEmpty(from);
  }
}
