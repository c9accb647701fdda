import { InputValidationError } from '../errors.ts';
import type { CellLifecycle, SimCell } from './cell-lifecycle.ts';
import type { ReplayClock, ReplayContext } from './replay-context.ts';

/**
 * Where each partition's data is and serves from: its primary cell, or (replicate-all) a replica cell per
 * region; the stored bytes; this bucket's demand per partition and the request load it puts on each cell.
 */
export class PartitionPlacement {
  /** Primary cell index per partition. */
  readonly cellOf: Int32Array;
  /** Replica cell per partition and region (replicated mode), -1 where none. */
  readonly replica: Int32Array;
  /** Demand of the current bucket, per partition (ops/s, all regions). */
  readonly totalOps: Float64Array;
  readonly writeOps: Float64Array;
  /** Bytes stored over all cells; a moving partition counts at both ends until its cutover. */
  totalStoredBytes = 0;

  constructor(
    private readonly context: ReplayContext,
    private readonly clock: ReplayClock,
    private readonly cells: CellLifecycle,
  ) {
    const { P, R, mode } = context;
    this.cellOf = new Int32Array(P);
    this.replica = new Int32Array(mode === 'replicated' ? P * R : 0).fill(-1);
    this.totalOps = new Float64Array(P);
    this.writeOps = new Float64Array(P);
  }

  /** The input's placement; in replicated mode one replica per region (home cell, else the emptiest). */
  placeInitially(): void {
    const { input, P, R, mode } = this.context;
    const { partitions } = input;
    for (let p = 0; p < P; p++) {
      const cell = this.cells.cellById(partitions[p].cell);
      if (!cell) {
        throw new InputValidationError(
          { field: `partitions.${partitions[p].id}.cell` },
          `unknown cell '${partitions[p].cell}'`,
        );
      }
      this.cellOf[p] = cell.index;
      if (mode === 'primary') this.store(cell, p);
    }
    if (mode === 'replicated') {
      for (let p = 0; p < P; p++) {
        const home = this.cells.cells[this.cellOf[p]];
        for (let r = 0; r < R; r++) {
          const target = r === home.region ? home : this.cells.emptiestCellIn(r, -1);
          if (target) {
            this.replica[p * R + r] = target.index;
            this.store(target, p);
          }
        }
      }
    }
  }

  /** Count partition p's bytes on a cell it now holds. */
  store(cell: SimCell, p: number): void {
    cell.storedBytes += this.context.sizes[p];
    cell.residents++;
    this.totalStoredBytes += this.context.sizes[p];
  }

  /** Forget partition p's bytes on a cell that no longer holds them. */
  unstore(cell: SimCell, p: number): void {
    cell.storedBytes -= this.context.sizes[p];
    cell.residents--;
    this.totalStoredBytes -= this.context.sizes[p];
  }

  /** Per-partition demand of bucket t, summed over regions. */
  loadBucketDemand(t: number): void {
    const { reads, writes } = this.context.input.trace;
    const { P, R } = this.context;
    let offset = t * P * R;
    for (let p = 0; p < P; p++) {
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

  /** Each cell's request load this bucket: primaries take all their demand; replicas all writes and the reads they serve. */
  recomputeRequestLoads(): void {
    const { P, R, mode } = this.context;
    const cells = this.cells.cells;
    for (const cell of cells) cell.requestLoad = 0;
    if (mode === 'primary') {
      for (let p = 0; p < P; p++) cells[this.cellOf[p]].requestLoad += this.totalOps[p];
      return;
    }
    const { reads } = this.context.input.trace;
    const base = this.clock.bucket * P * R;
    for (let p = 0; p < P; p++) {
      for (let r = 0; r < R; r++) {
        const holder = this.replica[p * R + r];
        if (holder >= 0) cells[holder].requestLoad += this.writeOps[p];
        const serving = this.servingReplica(p, r);
        if (serving >= 0) cells[serving].requestLoad += reads[base + p * R + r];
      }
    }
  }

  /** Cell serving region r's reads of partition p in replicated mode: the local replica, else the nearest. */
  servingReplica(p: number, r: number): number {
    const order = this.context.nearest[r];
    const R = this.context.R;
    for (let i = 0; i < order.length; i++) {
      const holder = this.replica[p * R + order[i]];
      if (holder >= 0) return holder;
    }
    return -1;
  }
}
