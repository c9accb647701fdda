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

/** `conflict`: a definite refusal (409, 404, ...). `unknown`: 5xx or a timeout, so it may or may not have applied. */
export type AppendOutcome = 'ok' | 'conflict' | 'unknown';

export interface AppendOp {
  readonly kind: 'append';
  readonly key: string;
  readonly element: string;
  readonly outcome: AppendOutcome;
  readonly startMs: number;
  readonly endMs: number;
  readonly client: string;
}

export interface ReadOp {
  readonly kind: 'read';
  readonly key: string;
  /** null: the read failed and tells nothing. A 404 is an empty list. */
  readonly list: readonly string[] | null;
  readonly startMs: number;
  readonly endMs: number;
  readonly client: string;
}

export interface MigrationOp {
  readonly kind: 'migration';
  readonly id: string;
  readonly partition: string;
  readonly startMs: number;
  /** null: it never ended. */
  readonly endMs: number | null;
  readonly outcome: string;
}

export type HistoryOp = AppendOp | ReadOp | MigrationOp;

export interface HistoryInput {
  readonly ops: readonly HistoryOp[];
  /** The final read of every key. A key missing here counts as an empty list, as a 404 would. */
  readonly finalLists: ReadonlyMap<string, readonly string[]>;
  readonly fencedPartitionsAtEnd: readonly string[];
}

/**
 * Element classes (lost, duplicated, phantom, unknownElement) count distinct elements, so one bad element seen
 * by a thousand reads counts once. List classes (reordered, staleRead, notPrefix, futureRead) count observed
 * lists: reads and, for reordered, final lists too.
 */
export const ANOMALY_NAMES = [
  'lost',
  'duplicated',
  'phantom',
  'reordered',
  'staleRead',
  'notPrefix',
  'unknownElement',
  'futureRead',
  'migrationsNotEnded',
  'partitionsLeftFenced',
  'nonMonotonicRead',
] as const;

export type AnomalyName = (typeof ANOMALY_NAMES)[number];

/**
 * The classes the data plane promises never to show (docs/data-plane.md), which decide `valid`. Not in it:
 * `nonMonotonicRead`, a read missing an element an earlier-completed read returned when that element's append
 * was not acknowledged before the later read began. During a migration's read shift, a write in doubt (its
 * mirror to the target failed, so it was answered 503) is on the source and not yet on the target, and two
 * clients whose leased routing differs may disagree about it until the migration's repair carries it over. It
 * is reported, not promised.
 */
export const PROMISED_ANOMALIES: readonly AnomalyName[] = ANOMALY_NAMES.filter(
  (name) => name !== 'nonMonotonicRead',
);

export interface AnomalyClass {
  readonly count: number;
  /** At most `maxExamples`, in a deterministic order. */
  readonly examples: readonly string[];
}

export interface ListAppendTotals {
  readonly appends: { readonly total: number } & Readonly<Record<AppendOutcome, number>>;
  /** Reads with a list; failed reads are counted apart and otherwise ignored. */
  readonly readsChecked: number;
  readonly readsFailed: number;
  readonly keys: number;
  readonly migrations: number;
}

export interface ListAppendReport {
  /** True iff every anomaly count is 0. */
  readonly valid: boolean;
  readonly anomalies: Readonly<Record<AnomalyName, AnomalyClass>>;
  readonly totals: ListAppendTotals;
  /** Where a check was cut short and its count is only a lower bound. */
  readonly notes: readonly string[];
}

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

/** Counts every occurrence but builds example text only while there is room for it. */
class Tally {
  count = 0;
  readonly examples: string[] = [];

  constructor(private readonly maxExamples: number) {}

  add(example: () => string): void {
    this.count++;
    if (this.examples.length < this.maxExamples) this.examples.push(example());
  }
}

interface KeyHistory {
  readonly key: string;
  readonly final: readonly string[];
  /** Successful reads, in history order. */
  readonly reads: ReadOp[];
  readonly acked: AppendOp[];
}

/** An observed list in first-occurrence order, so that duplicates (reported on their own) do not blur order. */
interface OrderedList {
  readonly order: readonly string[];
  readonly label: () => string;
}

interface Inversion {
  /** Index in the first list at which its prefix first holds a pair the other list orders the other way. */
  readonly index: number;
  readonly before: string;
  readonly after: string;
}

/**
 * A set of observed lists that are all prefixes of one of them, the representative. Two lists of one shape
 * never disagree on order, and a member of length ℓ disagrees with some list of another shape iff it
 * disagrees with that shape's representative, iff ℓ exceeds the representative's first inversion against it.
 */
interface OrderShape {
  readonly rep: OrderedList;
  readonly pos: ReadonlyMap<string, number>;
  readonly members: OrderedList[];
  minInversion: number;
  witness: { readonly before: string; readonly after: string; readonly other: OrderedList } | null;
}

interface Context {
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
            `migration ${op.id} of partition ${op.partition}, started at ${ms(op.startMs)} ms, never ended ` +
            `(outcome: ${op.outcome})`,
        );
    }
  }
  for (const key of input.finalLists.keys()) keyHistory(key);
  for (const partition of input.fencedPartitionsAtEnd)
    tallies.partitionsLeftFenced.add(() => `partition ${partition} is still fenced at the end of the run`);

  const context: Context = {
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

function perAnomaly<T>(make: (name: AnomalyName) => T): Record<AnomalyName, T> {
  const record = {} as Record<AnomalyName, T>;
  for (const name of ANOMALY_NAMES) record[name] = make(name);
  return record;
}

function checkKey(context: Context, history: KeyHistory): void {
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

/** Element-level classes for one observed list; `read` is null for the final list. */
function scanElements(
  context: Context,
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
function checkStaleReads(
  context: Context,
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

function checkPrefix(context: Context, read: ReadOp, final: readonly string[]): void {
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

/**
 * Groups the key's observed lists into shapes (see OrderShape), then finds for each shape the shortest prefix of
 * its representative that some other shape contradicts. In a correct run every list is a prefix of the final
 * list, there is one shape, and this is a single pass over each read.
 */
function checkOrder(
  context: Context,
  history: KeyHistory,
  final: OrderedList,
  finalPos: ReadonlyMap<string, number>,
): void {
  const finalShape: OrderShape = {
    rep: final,
    pos: finalPos,
    members: [final],
    minInversion: Infinity,
    witness: null,
  };
  const divergent: OrderedList[] = [];
  for (const read of history.reads) {
    const list: OrderedList = {
      order: firstOccurrences(context, read.list!),
      label: () => describeRead(read),
    };
    if (isPrefix(list.order, final.order)) finalShape.members.push(list);
    else divergent.push(list);
  }
  if (divergent.length === 0) return;

  // Longest first, so that shorter lists join an existing shape instead of starting their own.
  divergent.sort((a, b) => b.order.length - a.order.length);
  const shapes: OrderShape[] = [finalShape];
  const overflow: OrderedList[] = [];
  for (const list of divergent) {
    const last = list.order[list.order.length - 1];
    const host = shapes.find(
      (shape, index) =>
        index > 0 && shape.pos.get(last) === list.order.length - 1 && isPrefix(list.order, shape.rep.order),
    );
    if (host) host.members.push(list);
    else if (shapes.length - 1 < context.maxOrderShapesPerKey)
      shapes.push({
        rep: list,
        pos: positions(list.order),
        members: [list],
        minInversion: Infinity,
        witness: null,
      });
    else overflow.push(list);
  }

  // Against the final list always: linear in the lists, and it finds every reorder of elements it holds.
  for (const shape of shapes.slice(1)) {
    compareShapes(shape, finalShape.rep, finalShape.pos);
    compareShapes(finalShape, shape.rep, shape.pos);
  }
  let skippedPairs = false;
  for (let i = 1; i < shapes.length && !skippedPairs; i++) {
    for (let j = 1; j < shapes.length; j++) {
      if (i === j) continue;
      const cost = shapes[i].rep.order.length;
      if (context.orderBudget < cost) {
        skippedPairs = true;
        break;
      }
      context.orderBudget -= cost;
      compareShapes(shapes[i], shapes[j].rep, shapes[j].pos);
    }
  }
  if (skippedPairs && !context.orderBudgetExhausted) {
    context.orderBudgetExhausted = true;
    context.notes.push(
      `reordered: the order comparison budget ran out at key ${history.key}; from there some divergent read ` +
        'orders were compared with the final list only, so the count is a lower bound',
    );
  }
  if (overflow.length > 0)
    context.notes.push(
      `reordered: key ${history.key} has more than ${context.maxOrderShapesPerKey} divergent read orders; ` +
        `${overflow.length} reads were compared with the final list only, so the count is a lower bound`,
    );

  const { reordered } = context.tallies;
  for (const list of overflow) {
    const inversion = firstInversion(list.order, finalPos);
    if (inversion) reordered.add(() => describeReorder(list, inversion, final));
    compareShapes(finalShape, list, positions(list.order));
  }
  for (const shape of shapes) {
    const witness = shape.witness;
    if (!witness) continue;
    for (const member of shape.members)
      if (member.order.length > shape.minInversion)
        reordered.add(() => describeReorder(member, witness, witness.other));
  }
}

function compareShapes(shape: OrderShape, other: OrderedList, otherPos: ReadonlyMap<string, number>): void {
  const inversion = firstInversion(shape.rep.order, otherPos);
  if (inversion && inversion.index < shape.minInversion) {
    shape.minInversion = inversion.index;
    shape.witness = { before: inversion.before, after: inversion.after, other };
  }
}

/** The first element of `order` that `otherPos` places before an element preceding it in `order`. */
function firstInversion(order: readonly string[], otherPos: ReadonlyMap<string, number>): Inversion | null {
  let maxPos = -1;
  let maxElement = '';
  for (let index = 0; index < order.length; index++) {
    const pos = otherPos.get(order[index]);
    if (pos === undefined) continue;
    if (pos < maxPos) return { index, before: maxElement, after: order[index] };
    maxPos = pos;
    maxElement = order[index];
  }
  return null;
}

function describeReorder(
  list: OrderedList,
  pair: { readonly before: string; readonly after: string },
  other: OrderedList,
): string {
  return `${list.label()} has ${pair.before} before ${pair.after}, but ${other.label()} has ${pair.after} before ${pair.before}`;
}

/** The list without repeats, keeping first occurrences; the list itself when it has none. */
function firstOccurrences(context: Context, list: readonly string[]): readonly string[] {
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

function positions(order: readonly string[]): Map<string, number> {
  const pos = new Map<string, number>();
  for (let index = 0; index < order.length; index++) pos.set(order[index], index);
  return pos;
}

function isPrefix(list: readonly string[], of: readonly string[]): boolean {
  if (list.length > of.length) return false;
  for (let index = 0; index < list.length; index++) if (list[index] !== of[index]) return false;
  return true;
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

/** Up to microseconds: rounding further could print two different times as one and muddle "before". */
function ms(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

function describeRead(read: ReadOp): string {
  return `read of ${read.key} by ${read.client} [${ms(read.startMs)}–${ms(read.endMs)} ms]`;
}

function describeAppend(append: AppendOp): string {
  return `appended to ${append.key} by ${append.client} [${ms(append.startMs)}–${ms(append.endMs)} ms]`;
}

/** One line per anomaly class, its examples indented under it, for test output and benchmarks. */
export function formatReport(report: ListAppendReport): string {
  const { totals } = report;
  const failing = ANOMALY_NAMES.filter((name) => report.anomalies[name].count > 0);
  const lines = [
    report.valid
      ? 'list-append check: VALID'
      : `list-append check: INVALID (${failing.length} anomaly classes: ${failing.join(', ')})`,
    `appends ${totals.appends.total} (ok ${totals.appends.ok}, conflict ${totals.appends.conflict}, ` +
      `unknown ${totals.appends.unknown}) · reads ${totals.readsChecked} checked, ${totals.readsFailed} failed · ` +
      `keys ${totals.keys} · migrations ${totals.migrations}`,
  ];
  for (const name of ANOMALY_NAMES) {
    const { count, examples } = report.anomalies[name];
    lines.push(`  ${name.padEnd(22)}${String(count).padStart(8)}`);
    for (const example of examples) lines.push(`      - ${example}`);
  }
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
