/**
 * The report's HTML tables: the policy comparison (the columns of the CLI's table) and the targets for
 * prestage with their verdicts.
 */
import type { BacktestResult } from '../domain/simulation/backtest.ts';
import { evaluateTargets } from '../domain/simulation/backtest-targets.ts';
import type { PolicyName } from '../domain/simulation/simulation-options.ts';
import {
  COLUMNS,
  formatTargetThreshold,
  formatTargetValue,
  PRESTAGE_POLICY,
  policyLabel,
} from './comparison-table.ts';
import { POLICY_STYLES } from './report-styles.ts';
import { escapeXml } from './svg-chart.ts';

/** One row per policy, prestage's highlighted, with a swatch of the policy's chart colour. */
export function comparisonTable(result: BacktestResult): string {
  const names = Object.keys(result.policies) as PolicyName[];
  return `<table class="metrics"><thead><tr><th>policy</th>${COLUMNS.map(
    (c) => `<th>${escapeXml(c.header)}<br><span class="unit">${escapeXml(c.unit)}</span></th>`,
  ).join('')}</tr></thead><tbody>${names
    .map((name) => {
      const m = result.policies[name]!;
      const cls = name === PRESTAGE_POLICY ? ' class="prestage"' : '';
      return `<tr${cls}><td><span class="swatch" style="background:${POLICY_STYLES[name].color}"></span>${escapeXml(
        policyLabel(name),
      )}</td>${COLUMNS.map((c) => `<td>${escapeXml(c.format(m))}</td>`).join('')}</tr>`;
    })
    .join('')}</tbody></table>`;
}

/** Each target for prestage with PASS, FAIL or n/a, its value, its threshold and how it was measured. */
export function targetsTable(result: BacktestResult): string {
  const names = Object.keys(result.policies) as PolicyName[];
  const metrics = Object.fromEntries(names.map((n) => [n, result.policies[n]!.metrics]));
  const targets = evaluateTargets(metrics);
  const rows = targets
    .map((t) => {
      const badge =
        t.pass === undefined
          ? '<span class="badge na">n/a</span>'
          : t.pass
            ? '<span class="badge pass">PASS</span>'
            : '<span class="badge fail">FAIL</span>';
      return `<tr><td>${badge}</td><td>${escapeXml(t.description)}</td><td class="num">${escapeXml(
        formatTargetValue(t),
      )}</td><td class="num">${escapeXml(formatTargetThreshold(t))}</td><td>${escapeXml(t.detail)}</td></tr>`;
    })
    .join('');
  return `<table class="targets"><tbody>${rows}</tbody></table>`;
}
