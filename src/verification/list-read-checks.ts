/**
 * The checks on each observed list of a key, read by read: its elements (duplicated, unknown, phantom, from the
 * future), whether it holds everything it must have seen (stale and non-monotonic reads), and whether it is a
 * prefix of the final list.
 */
import { describeAppend, describeRead } from './list-append-anomalies.ts';
import type { CheckContext, KeyHistory } from './list-append-context.ts';
import type { AppendOp, ReadOp } from './list-append-history.ts';

/** Element-level classes for one observed list; `read` is null for the final list. */
export function scanElements(
  context: CheckContext,
  list: readonly string[],
  key: string,
  label: () => string,
  read: ReadOp | null,
): void {
  const { tallies, appends, stamp } = context;
  const id = ++context.serial;
  let future: AppendOp | null = null;
  for (const element of list) {
    const keyed = `${key}\u0000${element}`;
    if (stamp.get(element) === id) {
      if (!context.seenDuplicated.has(keyed)) {
        context.seenDuplicated.add(keyed);
        tallies.duplicated.add(() => `${element} appears more than once in ${label()}`);
      }
      continue;
    }
    stamp.set(element, id);
    const append = appends.get(element);
    if (!append || append.key !== key) {
      if (!context.seenUnknown.has(keyed)) {
        context.seenUnknown.add(keyed);
        tallies.unknownElement.add(() =>
          append
            ? `${element} in ${label()} was appended to ${append.key}, not ${key} (${describeAppend(append)})`
            : `${element} in ${label()} was never appended by any client`,
        );
      }
    }
    if (append?.outcome === 'conflict' && !context.seenPhantom.has(element)) {
      context.seenPhantom.add(element);
      tallies.phantom.add(
        () => `${element}, ${describeAppend(append)}, refused as a conflict, appears in ${label()}`,
      );
    }
    if (read && !future && append && append.key === key && append.startMs > read.endMs) future = append;
  }
  if (read && future) {
    const append = future;
    tallies.futureRead.add(
      () =>
        `${describeRead(read)} returned ${append.element}, whose append began later (${describeAppend(append)})`,
    );
  }
}

/**
 * A read must hold every element acknowledged before it began, and every element an earlier-completed read
 * returned. Rather than test each such element, count how many the read holds (one pass over its list) and
 * compare with how many there are (a binary search over end times): fewer means one is missing. This also
 * covers reads that are not prefixes of the final list, where final positions would say nothing.
 */
export function checkStaleReads(
  context: CheckContext,
  history: KeyHistory,
  firstSeen: ReadonlyMap<string, ReadOp>,
): void {
  const { key, reads } = history;
  const acked = [...history.acked].sort((a, b) => a.endMs - b.endMs);
  const ackedEnds = acked.map((append) => append.endMs);
  const seen = [...firstSeen].sort((a, b) => a[1].endMs - b[1].endMs);
  const seenEnds = seen.map(([, read]) => read.endMs);
  const { appends, stamp, tallies } = context;

  for (const read of reads) {
    const mustHoldAcked = countBelow(ackedEnds, read.startMs);
    const mustHoldSeen = countBelow(seenEnds, read.startMs);
    if (mustHoldAcked === 0 && mustHoldSeen === 0) continue;
    const list = read.list!;
    const id = ++context.serial;
    let holdsAcked = 0;
    let holdsSeen = 0;
    for (const element of list) {
      if (stamp.get(element) === id) continue;
      stamp.set(element, id);
      const append = appends.get(element);
      if (append && append.outcome === 'ok' && append.key === key && append.endMs < read.startMs)
        holdsAcked++;
      if (firstSeen.get(element)!.endMs < read.startMs) holdsSeen++;
    }
    if (holdsAcked < mustHoldAcked) {
      tallies.staleRead.add(() => {
        const present = new Set(list);
        const missing = acked.find((append) => append.endMs < read.startMs && !present.has(append.element))!;
        return (
          `${describeRead(read)} (length ${list.length}) lacks ${missing.element}, ` +
          `${describeAppend(missing)}, acknowledged before the read began`
        );
      });
    } else if (holdsSeen < mustHoldSeen) {
      tallies.nonMonotonicRead.add(() => {
        const present = new Set(list);
        const [element, earlier] = seen.find(([e, r]) => r.endMs < read.startMs && !present.has(e))!;
        return (
          `${describeRead(read)} (length ${list.length}) lacks ${element}, which ${describeRead(earlier)} ` +
          'had already returned (non-monotonic reads)'
        );
      });
    }
  }
}

export function checkPrefix(context: CheckContext, read: ReadOp, final: readonly string[]): void {
  const list = read.list!;
  const length = Math.min(list.length, final.length);
  let index = 0;
  while (index < length && list[index] === final[index]) index++;
  if (index === list.length) return;
  context.tallies.notPrefix.add(() => {
    const where =
      index === final.length
        ? `it is longer (${list.length} > ${final.length})`
        : `first difference at index ${index}: ${list[index]} where the final list has ${final[index]}`;
    return `${describeRead(read)} is not a prefix of the final list of ${read.key}: ${where}`;
  });
}

/** How many of the ascending `sorted` are strictly below `limit`. */
function countBelow(sorted: readonly number[], limit: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] < limit) low = mid + 1;
    else high = mid;
  }
  return low;
}
