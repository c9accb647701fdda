/**
 * The cost panels: what each policy pays for its locality over the measured window, in cell-hours and in
 * cross-region transfer.
 */
import type { BacktestResult } from '../domain/simulation/backtest.ts';
import type { PolicyName } from '../domain/simulation/simulation-options.ts';
import { PRESTAGE_POLICY, policyLabel } from './comparison-table.ts';
import { GIB, HOUR_MS } from './report-series.ts';
import { POLICY_STYLES } from './report-styles.ts';
import { type BarRow, barChart } from './svg-chart.ts';

const TRANSFER_KINDS = [
  { key: 'migrationTransferBytes', name: 'migration copies', color: '#0072b2' },
  { key: 'remoteRequestBytes', name: 'remote requests', color: '#e69f00' },
  { key: 'replicatedWriteBytes', name: 'replicated writes', color: '#cc79a7' },
] as const;

/** Cell-hours in service and cross-region transfer per policy, over the measured window. */
export function costPanels(result: BacktestResult): { note: string; panels: string[] } {
  const names = Object.keys(result.policies) as PolicyName[];
  const measuredHours = (result.trace.endMs - result.evaluationStartMs) / HOUR_MS;
  const cellRows: BarRow[] = names.map((name) => {
    const d = result.policies[name]!.details;
    return {
      label: policyLabel(name),
      swatch: POLICY_STYLES[name].color,
      emphasis: name === PRESTAGE_POLICY,
      note: `${Math.round(d.cellHours).toLocaleString('en-US')} cell-h`,
      segments: [
        {
          value: d.cellHours,
          color: POLICY_STYLES[name].color,
          tip: `${policyLabel(name)}: ${Math.round(d.cellHours).toLocaleString('en-US')} cell-hours\nmean ${d.cellsInServiceAvg.toFixed(1)} cells in service over ${measuredHours.toFixed(0)} h`,
        },
      ],
    };
  });
  const transferRows: BarRow[] = names.map((name) => {
    const { details: d, metrics: m } = result.policies[name]!;
    return {
      label: policyLabel(name),
      swatch: POLICY_STYLES[name].color,
      emphasis: name === PRESTAGE_POLICY,
      note: `$${m.transferCostUsd.toFixed(2)}`,
      segments: TRANSFER_KINDS.map((kind) => ({
        value: d[kind.key] / GIB,
        color: kind.color,
        tip: `${policyLabel(name)}: ${(d[kind.key] / GIB).toFixed(1)} GiB of ${kind.name}`,
      })),
    };
  });
  // The result carries the price only inside transferCostUsd; recover it to say what the bars are worth.
  const priced = names
    .map((n) => result.policies[n]!)
    .find((r) => TRANSFER_KINDS.some((k) => r.details[k.key] > 0));
  const pricePerGb = priced
    ? priced.metrics.transferCostUsd /
      (TRANSFER_KINDS.reduce((sum, k) => sum + priced.details[k.key], 0) / GIB)
    : undefined;
  const note = `What each policy pays for its locality: the cells it keeps in service (the topology gives no price per cell-hour) and the bytes it sends between regions${
    pricePerGb === undefined ? '' : `, at $${pricePerGb.toFixed(3)} per GB`
  }. Measured window: ${measuredHours.toFixed(0)} h.`;
  return {
    note,
    panels: [
      barChart({
        title: 'Cell-hours in service',
        unit: 'cell-hours',
        rows: cellRows,
        noteWidth: 90,
        caption: `mean cells in service × ${measuredHours.toFixed(0)} measured hours`,
      }),
      barChart({
        title: 'Cross-region transfer',
        unit: 'GiB',
        rows: transferRows,
        legend: TRANSFER_KINDS.map((k) => ({ name: k.name, color: k.color })),
        noteWidth: 80,
      }),
    ],
  };
}
