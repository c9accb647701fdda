/**
 * What the list-append checker reports: the anomaly classes, which of them the data plane promises never to
 * show, the report with its examples, and the text of those examples.
 */
import type { AppendOp, AppendOutcome, ReadOp } from './list-append-history.ts';

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

/** Counts every occurrence but builds example text only while there is room for it. */
export class Tally {
  count = 0;
  readonly examples: string[] = [];

  constructor(private readonly maxExamples: number) {}

  add(example: () => string): void {
    this.count++;
    if (this.examples.length < this.maxExamples) this.examples.push(example());
  }
}

export function perAnomaly<T>(make: (name: AnomalyName) => T): Record<AnomalyName, T> {
  const record = {} as Record<AnomalyName, T>;
  for (const name of ANOMALY_NAMES) record[name] = make(name);
  return record;
}

/** Up to microseconds: rounding further could print two different times as one and muddle "before". */
export function formatMs(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

export function describeRead(read: ReadOp): string {
  return `read of ${read.key} by ${read.client} [${formatMs(read.startMs)}–${formatMs(read.endMs)} ms]`;
}

export function describeAppend(append: AppendOp): string {
  return `appended to ${append.key} by ${append.client} [${formatMs(append.startMs)}–${formatMs(append.endMs)} ms]`;
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
