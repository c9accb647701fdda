import type { BacktestResult } from '../domain/simulation/backtest.ts';
import type { TargetResult } from '../domain/simulation/backtest-targets.ts';
import type { PolicyName, PolicyResult } from '../domain/simulation/simulation-options.ts';

/** The prestage policy, highlighted wherever policies are compared. */
export const PRESTAGE_POLICY: PolicyName = 'predictive';

export interface Column {
  readonly header: string;
  readonly unit: string;
  readonly format: (result: PolicyResult) => string;
}

const GIB = 2 ** 30;

export const COLUMNS: readonly Column[] = [
  { header: 'remote', unit: '%', format: ({ metrics: m }) => (m.remoteShare * 100).toFixed(1) },
  { header: 'latency', unit: 'mean ms', format: ({ metrics: m }) => m.meanLatencyMs.toFixed(1) },
  { header: 'p99', unit: 'ms', format: ({ metrics: m }) => m.p99LatencyMs.toFixed(0) },
  { header: 'moved', unit: 'GiB', format: ({ metrics: m }) => (m.bytesMoved / GIB).toFixed(0) },
  { header: 'at load', unit: 'GiB', format: ({ metrics: m }) => (m.bytesMovedUnderLoad / GIB).toFixed(1) },
  { header: 'transfer', unit: 'USD', format: ({ metrics: m }) => m.transferCostUsd.toFixed(2) },
  { header: 'stored', unit: 'avg GiB', format: ({ metrics: m }) => (m.storedBytesAvg / GIB).toFixed(0) },
  { header: 'overload', unit: 'cell-min', format: ({ metrics: m }) => m.overloadCellMinutes.toFixed(0) },
  { header: 'moves', unit: '', format: ({ metrics: m }) => String(m.moves) },
  { header: 'thrash', unit: '', format: ({ metrics: m }) => String(m.thrashMoves) },
  { header: 'cells+', unit: '', format: ({ metrics: m }) => String(m.cellsAdded) },
  { header: 'cells', unit: 'avg', format: ({ details: d }) => d.cellsInServiceAvg.toFixed(1) },
];

export function policyLabel(policy: PolicyName): string {
  return policy === PRESTAGE_POLICY ? `${policy} (prestage)` : policy;
}

/** Plain-text comparison table, one row per policy; the prestage row is marked with `▶`. */
export function formatComparisonTable(result: BacktestResult, color = false): string {
  const names = Object.keys(result.policies) as PolicyName[];
  const header = ['policy', ...COLUMNS.map((c) => c.header)];
  const units = ['', ...COLUMNS.map((c) => c.unit)];
  const rows = names.map((name) => [
    `${name === PRESTAGE_POLICY ? '▶ ' : '  '}${policyLabel(name)}`,
    ...COLUMNS.map((c) => c.format(result.policies[name]!)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, units[i].length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  const out = [line(header), line(units), widths.map((w) => '─'.repeat(w)).join('  ')];
  rows.forEach((row, i) => {
    const text = line(row);
    out.push(color && names[i] === PRESTAGE_POLICY ? `\x1b[1m${text}\x1b[0m` : text);
  });
  return `${out.join('\n')}\n`;
}

export function formatTargetValue(target: TargetResult): string {
  if (Number.isNaN(target.value)) return 'n/a';
  if (!Number.isFinite(target.value)) return '∞';
  return target.id === 'locality' || target.id === 'churn-thrash'
    ? `${(target.value * 100).toFixed(1)}%`
    : `${target.value.toFixed(2)}×`;
}

export function formatTargetThreshold(target: TargetResult): string {
  const value =
    target.id === 'locality' || target.id === 'churn-thrash'
      ? `${(target.threshold * 100).toFixed(0)}%`
      : `${target.threshold}×`;
  return `${target.comparator === '>=' ? '≥' : target.comparator === '<=' ? '≤' : '<'} ${value}`;
}

/** Plain-text list of the targets with PASS/FAIL. */
export function formatTargets(targets: readonly TargetResult[]): string {
  const rows = targets.map((t) => [
    t.pass === undefined ? 'n/a ' : t.pass ? 'PASS' : 'FAIL',
    t.id,
    formatTargetValue(t),
    formatTargetThreshold(t),
    `${t.description}: ${t.detail}`,
  ]);
  const widths = [4, ...[1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)))];
  return `${rows
    .map((r) =>
      [r[0], r[1].padEnd(widths[1]), r[2].padStart(widths[2]), r[3].padEnd(widths[3]), r[4]].join('  '),
    )
    .join('\n')}\n`;
}
