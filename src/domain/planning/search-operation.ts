/**
 * The changes the planner's search tries on a plan, as typed records: what moves where, and which other
 * moves are made or dropped first to make room. Evaluated and kept by PlanEditor.
 */

/** A partition and the cell it is to end on (its origin: its planned move is dropped). */
export interface Placement {
  readonly partition: number;
  readonly cell: number;
}

export enum OperationKind {
  /** Plan a move of a partition that is not moving yet. */
  Add,
  /** Drop a partition's planned move: it stays on its origin. */
  Remove,
  /** Move a partition, re-target its move, or drop the move when the cell is its origin. */
  Relocate,
  /**
   * Relocate other partitions first (blockers, or partners), in order, then this one. When a throttle binds
   * in that order (one's leaving frees the slot another needs), the reverse order is tried.
   */
  RelocateAfter,
  /** Drop several planned moves (to free bytes of the cycle budget), then relocate this partition. */
  DropThenRelocate,
}

export type SearchOperation =
  | { readonly kind: OperationKind.Add; readonly partition: number; readonly cell: number }
  | { readonly kind: OperationKind.Remove; readonly partition: number }
  | { readonly kind: OperationKind.Relocate; readonly partition: number; readonly cell: number }
  | {
      readonly kind: OperationKind.RelocateAfter;
      readonly partition: number;
      readonly cell: number;
      /** Relocated first, in this order (one or two). */
      readonly first: readonly Placement[];
    }
  | {
      readonly kind: OperationKind.DropThenRelocate;
      readonly partition: number;
      readonly cell: number;
      /** Planned moves dropped first. */
      readonly dropped: readonly number[];
    };

/**
 * Which limits an evaluation enforces. Only a fully enforced change may be kept; the relaxed evaluations
 * tell the search whether freeing room for a blocked change could pay at all.
 */
export enum LimitEnforcement {
  /** The throttles (concurrent moves per cell, bytes per cycle) and the hard capacity limits. */
  All,
  /** The hard capacity limits only: would the change fit once the throttles were freed? */
  CapacityOnly,
  /** Nothing: the change's value with every limit ignored, an optimistic bound. */
  None,
}

export function addOp(partition: number, cell: number): SearchOperation {
  return { kind: OperationKind.Add, partition, cell };
}

export function removeOp(partition: number): SearchOperation {
  return { kind: OperationKind.Remove, partition };
}

export function relocateOp(partition: number, cell: number): SearchOperation {
  return { kind: OperationKind.Relocate, partition, cell };
}

export function relocateAfterOp(
  partition: number,
  cell: number,
  first: readonly Placement[],
): SearchOperation {
  return { kind: OperationKind.RelocateAfter, partition, cell, first };
}

export function dropThenRelocateOp(
  partition: number,
  cell: number,
  dropped: readonly number[],
): SearchOperation {
  return { kind: OperationKind.DropThenRelocate, partition, cell, dropped };
}
