/**
 * A Jepsen/Elle-style checker for a list-append workload against the data plane. Clients append unique
 * elements to per-key lists with a GET then a PUT `If-Match: <version>`; readers GET keys; a final read of
 * every key ends the run. Every check here holds for a linearizable single-key store, so every anomaly count
 * is 0 for a correct system.
 *
 * Pure and deterministic: the same history always gives the same report, examples included. Cost is linear in
 * the total length of the observed lists plus a sort per key. Only pathological histories cost more: many
 * reads whose orders diverge from each other. Their pairwise comparison is capped, and the report says so in
 * `notes`.
 */
import {
  type AnomalyClass,
  describeAppend,
  describeRead,
  formatMs,
  type ListAppendReport,
  PROMISED_ANOMALIES,
  perAnomaly,
  Tally,
} from './list-append-anomalies.ts';
import { type CheckContext, firstOccurrences, type KeyHistory } from './list-append-context.ts';
import type { AppendOp, AppendOutcome, HistoryInput, ReadOp } from './list-append-history.ts';
import { checkOrder, positions } from './list-order-check.ts';
import { checkPrefix, checkStaleReads, scanElements } from './list-read-checks.ts';

export {
  ANOMALY_NAMES,
  type AnomalyClass,
  type AnomalyName,
  formatReport,
  type ListAppendReport,
  type ListAppendTotals,
  PROMISED_ANOMALIES,
} from './list-append-anomalies.ts';
export type {
  AppendOp,
  AppendOutcome,
  HistoryInput,
  HistoryOp,
  MigrationOp,
  ReadOp,
} from './list-append-history.ts';

export interface ListAppendCheckOptions {
  /** Examples kept per anomaly class; default 5. */
  readonly maxExamples?: number;
  /** Distinct divergent list orders per key compared pairwise; default 64. Beyond it, only against the final list. */
  readonly maxOrderShapesPerKey?: number;
  /** Element steps spent comparing divergent orders pairwise, over all keys; default 20 million. */
  readonly orderComparisonBudget?: number;
}

const DEFAULT_MAX_EXAMPLES = 5;
const DEFAULT_MAX_ORDER_SHAPES_PER_KEY = 64;
const DEFAULT_ORDER_COMPARISON_BUDGET = 20_000_000;

export function checkListAppend(input: HistoryInput, options: ListAppendCheckOptions = {}): ListAppendReport {
  const maxExamples = options.maxExamples ?? DEFAULT_MAX_EXAMPLES;
  const tallies = perAnomaly(() => new Tally(maxExamples));
  const appends = new Map<string, AppendOp>();
  const keys = new Map<string, KeyHistory>();
  const keyHistory = (key: string): KeyHistory => {
    let history = keys.get(key);
    if (!history) {
      history = { key, final: input.finalLists.get(key) ?? [], reads: [], acked: [] };
      keys.set(key, history);
    }
    return history;
  };
  const appendCounts: Record<AppendOutcome, number> = { ok: 0, conflict: 0, unknown: 0 };
  let readsChecked = 0;
  let readsFailed = 0;
  let migrations = 0;

  for (const op of input.ops) {
    if (op.kind === 'append') {
      const previous = appends.get(op.element);
      // Every check keys on the element, so a reused one would make the report meaningless rather than wrong.
      if (previous)
        throw new RangeError(
          `element '${op.element}' is appended twice (${describeAppend(previous)}; ${describeAppend(op)}); ` +
            'the workload must append unique elements',
        );
      appends.set(op.element, op);
      appendCounts[op.outcome]++;
      const history = keyHistory(op.key);
      if (op.outcome === 'ok') history.acked.push(op);
    } else if (op.kind === 'read') {
      if (op.list === null) {
        readsFailed++;
      } else {
        readsChecked++;
        keyHistory(op.key).reads.push(op);
      }
    } else {
      migrations++;
      if (op.endMs === null)
        tallies.migrationsNotEnded.add(
          () =>
            `migration ${op.id} of partition ${op.partition}, started at ${formatMs(op.startMs)} ms, never ended ` +
            `(outcome: ${op.outcome})`,
        );
    }
  }
  for (const key of input.finalLists.keys()) keyHistory(key);
  for (const partition of input.fencedPartitionsAtEnd)
    tallies.partitionsLeftFenced.add(() => `partition ${partition} is still fenced at the end of the run`);

  const context: CheckContext = {
    tallies,
    notes: [],
    appends,
    stamp: new Map(),
    serial: 0,
    maxOrderShapesPerKey: options.maxOrderShapesPerKey ?? DEFAULT_MAX_ORDER_SHAPES_PER_KEY,
    orderBudget: options.orderComparisonBudget ?? DEFAULT_ORDER_COMPARISON_BUDGET,
    orderBudgetExhausted: false,
    seenDuplicated: new Set(),
    seenUnknown: new Set(),
    seenPhantom: new Set(),
  };
  for (const history of keys.values()) checkKey(context, history);

  const anomalies = perAnomaly<AnomalyClass>((name) => ({
    count: tallies[name].count,
    examples: tallies[name].examples,
  }));
  return {
    valid: PROMISED_ANOMALIES.every((name) => anomalies[name].count === 0),
    anomalies,
    totals: {
      appends: { total: appendCounts.ok + appendCounts.conflict + appendCounts.unknown, ...appendCounts },
      readsChecked,
      readsFailed,
      keys: keys.size,
      migrations,
    },
    notes: context.notes,
  };
}

function checkKey(context: CheckContext, history: KeyHistory): void {
  const { key, final, reads } = history;
  const finalLabel = () => `the final list of ${key} (length ${final.length})`;
  const finalOrder = firstOccurrences(context, final);
  const finalPos = positions(finalOrder);

  for (const append of history.acked)
    if (!finalPos.has(append.element))
      context.tallies.lost.add(
        () => `${append.element}, ${describeAppend(append)}, acknowledged, is missing from ${finalLabel()}`,
      );

  scanElements(context, final, key, finalLabel, null);
  // The earliest-ending read that returned each element: after it ends, every later read must return it too.
  const firstSeen = new Map<string, ReadOp>();
  for (const read of reads) {
    scanElements(context, read.list!, key, () => describeRead(read), read);
    for (const element of read.list!) {
      const seen = firstSeen.get(element);
      if (!seen || read.endMs < seen.endMs) firstSeen.set(element, read);
    }
  }

  checkStaleReads(context, history, firstSeen);
  for (const read of reads) checkPrefix(context, read, final);
  checkOrder(context, history, { order: finalOrder, label: finalLabel }, finalPos);
}
