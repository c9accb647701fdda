import type { ColdCopy } from '../planning/movement-plan.ts';
import type { CellLifecycle, SimCell } from './cell-lifecycle.ts';
import type { PartitionPlacement } from './partition-placement.ts';
import type { ReplayContext } from './replay-context.ts';

/** One retained copy: the cell that holds it, and the partition's write count when it was retained. */
interface SimCopy {
  readonly cell: number;
  readonly watermarkMs: number;
  /** The partition's cumulative written bytes at the watermark: the delta is what was written since. */
  readonly writtenAtWatermark: number;
}

/**
 * Retained cold copies, as MigratePartition keeps them with `retainSource`: a former source keeps the partition's
 * bytes (counted in the cell's and the cluster's stored bytes) and a watermark. A later move to that cell ships
 * the writes since the watermark (the partition's writes × `writeBytes`, at most its size) at the shared
 * bandwidth, and the copy becomes the primary. The planner drops copies (age, staleness, budget); a cell that
 * retires loses its copies.
 */
export class ColdCopyStore {
  private readonly copies: (SimCopy[] | undefined)[];
  /** Bytes each partition has been written since the replay began (its writes × `writeBytes`). */
  private readonly written: Float64Array;
  /** Bytes held by cold copies over all cells. */
  coldBytes = 0;
  private count = 0;

  constructor(
    private readonly context: ReplayContext,
    private readonly cells: CellLifecycle,
    private readonly placement: PartitionPlacement,
  ) {
    this.copies = new Array(context.P).fill(undefined);
    this.written = new Float64Array(context.P);
  }

  /** Count a bucket's writes (ops/s over the bucket) into every partition's written bytes. */
  accrueWrites(writeOps: Float64Array, bucketMs: number): void {
    const perOp = (this.context.options.writeBytes * bucketMs) / 1000;
    for (let p = 0; p < writeOps.length; p++) this.written[p] += writeOps[p] * perOp;
  }

  /** Bytes a move of p to `cell` ships if `cell` holds a copy of p; undefined when it holds none. */
  deltaBytes(p: number, cell: number): number | undefined {
    const copy = this.copies[p]?.find((c) => c.cell === cell);
    if (!copy) return undefined;
    return Math.min(this.context.sizes[p], this.written[p] - copy.writtenAtWatermark);
  }

  /** The cell's former primary of p stays as a cold copy (its stored bytes stay where they are). */
  retain(p: number, cell: SimCell, watermarkMs: number): void {
    this.copies[p] ??= [];
    const list = this.copies[p];
    list.push({ cell: cell.index, watermarkMs, writtenAtWatermark: this.written[p] });
    this.coldBytes += this.context.sizes[p];
    this.count++;
  }

  /** A move landed on p's copy in `cell`: the copy is the primary now (its bytes are the primary's). */
  promote(p: number, cell: number): void {
    if (this.remove(p, cell)) this.coldBytes -= this.context.sizes[p];
  }

  /** Garbage-collect p's copy in the cell with id `cellId`: its bytes leave the cell. False when there is none. */
  drop(p: number, cellId: string): boolean {
    const cell = this.cells.cellById(cellId);
    if (!cell || !this.remove(p, cell.index)) return false;
    this.release(p, cell);
    return true;
  }

  /** A retired cell's table is gone, and the copies in it. */
  dropOnRetiredCells(): void {
    if (this.count === 0) return;
    const cells = this.cells.cells;
    for (let p = 0; p < this.copies.length; p++) {
      const list = this.copies[p];
      if (!list) continue;
      for (let i = list.length - 1; i >= 0; i--) {
        const cell = cells[list[i].cell];
        if (cell.status !== 'RETIRED') continue;
        list.splice(i, 1);
        this.count--;
        this.release(p, cell);
      }
    }
  }

  /** The copies of partition p as the planner sees them (undefined when none). */
  plannerView(p: number, cellIds: readonly string[]): ColdCopy[] | undefined {
    const list = this.copies[p];
    if (!list || list.length === 0) return undefined;
    return list.map((c) => ({ cell: cellIds[c.cell], watermarkMs: c.watermarkMs }));
  }

  private release(p: number, cell: SimCell): void {
    const size = this.context.sizes[p];
    cell.storedBytes -= size;
    this.placement.totalStoredBytes -= size;
    this.coldBytes -= size;
  }

  private remove(p: number, cell: number): boolean {
    const list = this.copies[p];
    const i = list ? list.findIndex((c) => c.cell === cell) : -1;
    if (!list || i < 0) return false;
    list.splice(i, 1);
    this.count--;
    return true;
  }
}
