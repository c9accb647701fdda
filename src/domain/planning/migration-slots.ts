/**
 * Per-cell migration slots: how many moves may touch a cell (as source or target) at once, and in total,
 * under limits an operator changes while plans run. Every ExecutePlan execution shares them. The rules live
 * here; the store (src/adapters/dynamodb/migration-slots.ts) only makes the read-decide-write atomic.
 */

export interface MigrationLimits {
  /** Moves touching one cell (as source or target) at once; 0 pauses: no new move starts. */
  readonly maxConcurrentMovesPerCell: number;
  /** Moves in flight across all plans; unlimited when absent. */
  readonly maxConcurrency?: number;
}

export interface SlotHolder {
  readonly from: string;
  readonly to: string;
  /** A holder whose execution died without releasing is ignored after this time. */
  readonly expiresAtMs: number;
}

export type ReserveResult =
  | { readonly reserved: true; readonly inFlight: number; readonly perCell: Record<string, number> }
  | {
      readonly reserved: false;
      readonly inFlight: number;
      readonly perCell: Record<string, number>;
      /** The limit that held the move back. */
      readonly blockedBy: 'maxConcurrentMovesPerCell' | 'maxConcurrency';
    };

export interface ReserveOptions {
  readonly limits: MigrationLimits;
  readonly nowMs: number;
  /** How long a new holder keeps its slot if it never releases it. */
  readonly leaseMs: number;
}

/** The slots of every ExecutePlan execution. */
export interface MigrationSlots {
  /** The limits in force now. */
  readLimits(): Promise<MigrationLimits>;
  /**
   * Take a slot on both cells of a move if the limits allow it. Idempotent: a move that already holds its slot
   * gets it again (a redelivered step).
   */
  reserve(
    moveId: string,
    move: { from: string; to: string },
    options: ReserveOptions,
  ): Promise<ReserveResult>;
  /** Give a move's slot back (a no-op when it holds none). Returns the moves still in flight. */
  release(moveId: string, nowMs: number): Promise<number>;
}

/** Moves per cell among live holders. */
export function countPerCell(holders: Readonly<Record<string, SlotHolder>>, nowMs: number) {
  const perCell: Record<string, number> = {};
  let inFlight = 0;
  for (const holder of Object.values(holders)) {
    if (holder.expiresAtMs <= nowMs) continue;
    inFlight++;
    perCell[holder.from] = (perCell[holder.from] ?? 0) + 1;
    if (holder.to !== holder.from) perCell[holder.to] = (perCell[holder.to] ?? 0) + 1;
  }
  return { perCell, inFlight };
}

/**
 * The reservation decision on the holders as read: expired holders are dropped; a move that holds a slot keeps
 * it; otherwise the per-cell limit, then the total, may hold it back. `holders` is what the store must write
 * (atomically, over what it read) to grant the slot; absent when nothing is to be written.
 */
export function decideReservation(
  current: Readonly<Record<string, SlotHolder>>,
  moveId: string,
  move: { from: string; to: string },
  options: ReserveOptions,
): { readonly result: ReserveResult; readonly holders?: Record<string, SlotHolder> } {
  const live: Record<string, SlotHolder> = {};
  for (const [id, holder] of Object.entries(current))
    if (holder.expiresAtMs > options.nowMs) live[id] = holder;
  const { perCell, inFlight } = countPerCell(live, options.nowMs);
  if (live[moveId]) return { result: { reserved: true, inFlight, perCell } };
  const limit = options.limits.maxConcurrentMovesPerCell;
  if ((perCell[move.from] ?? 0) >= limit || (perCell[move.to] ?? 0) >= limit)
    return { result: { reserved: false, inFlight, perCell, blockedBy: 'maxConcurrentMovesPerCell' } };
  if (options.limits.maxConcurrency !== undefined && inFlight >= options.limits.maxConcurrency)
    return { result: { reserved: false, inFlight, perCell, blockedBy: 'maxConcurrency' } };
  live[moveId] = { from: move.from, to: move.to, expiresAtMs: options.nowMs + options.leaseMs };
  return { result: { reserved: true, ...countPerCell(live, options.nowMs) }, holders: live };
}
