/**
 * What one run of the list-append checker carries from key to key: the tallies, the appends by element, the
 * order comparison budget, and the scratch stamps that let a scan visit each distinct element once.
 */
import type { AnomalyName, Tally } from './list-append-anomalies.ts';
import type { AppendOp, ReadOp } from './list-append-history.ts';

/** One key's part of the history, as checkListAppend gathers it before the per-key checks. */
export interface KeyHistory {
  readonly key: string;
  readonly final: readonly string[];
  /** Successful reads, in history order. */
  readonly reads: ReadOp[];
  readonly acked: AppendOp[];
}

export interface CheckContext {
  readonly tallies: Record<AnomalyName, Tally>;
  readonly notes: string[];
  readonly appends: ReadonlyMap<string, AppendOp>;
  /** element → id of the last list scan that saw it: distinct-element iteration without a Set per list. */
  readonly stamp: Map<string, number>;
  serial: number;
  readonly maxOrderShapesPerKey: number;
  orderBudget: number;
  orderBudgetExhausted: boolean;
  readonly seenDuplicated: Set<string>;
  readonly seenUnknown: Set<string>;
  readonly seenPhantom: Set<string>;
}

/** The list without repeats, keeping first occurrences; the list itself when it has none. */
export function firstOccurrences(context: CheckContext, list: readonly string[]): readonly string[] {
  const id = ++context.serial;
  let copy: string[] | null = null;
  for (let index = 0; index < list.length; index++) {
    const element = list[index];
    if (context.stamp.get(element) === id) {
      copy ??= list.slice(0, index);
      continue;
    }
    context.stamp.set(element, id);
    copy?.push(element);
  }
  return copy ?? list;
}
