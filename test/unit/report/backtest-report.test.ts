import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/domain/simulation/backtest.ts';
import { evaluateTargets } from '../../../src/domain/simulation/backtest-targets.ts';
import { backtestJson } from '../../../src/report/backtest-json.ts';
import { renderBacktestReport } from '../../../src/report/backtest-report.ts';
import { formatComparisonTable, formatTargets } from '../../../src/report/comparison-table.ts';
import {
  buildInput,
  HOUR,
  MIN,
  testDeps,
  twoRegionTopology,
} from '../domain/simulation/simulation-fixtures.ts';

const input = buildInput(
  twoRegionTopology(),
  [{ id: 'p', sizeBytes: 60e6, cell: 'e1' }],
  12,
  15 * MIN,
  (_t, _p, r) => (r === 1 ? [10, 1] : [1, 0]),
);
const result = runBacktest(input, testDeps, { warmupMs: HOUR });
const context = { files: { trace: 't.csv' }, generatedAt: '2024-01-01T00:00:00.000Z' };

describe('backtest report', () => {
  it('renders a self-contained page with the table, the targets and one chart per figure', () => {
    const html = renderBacktestReport(result, {
      ...context,
      provenance: { name: 'toy', semiSynthetic: true, sources: ['NAB realTweets/x.csv'], license: 'MIT' },
      markers: [{ atMs: input.trace.startMs + 2 * HOUR, label: '+w2' }],
    });
    expect(html).toContain('Semi-synthetic trace.');
    expect(html).toContain('NAB realTweets/x.csv');
    expect(html).toContain('<tr class="prestage">');
    expect(html.match(/<svg /g)?.length).toBe(7);
    expect(html).toMatch(/badge (pass|fail|na)/);
    expect(html).toContain('+w2');
    expect(html).not.toMatch(/<script|<link|src="http/);
  });

  it('says nothing about semi-synthetic data for a trace without provenance', () => {
    expect(renderBacktestReport(result, context)).not.toContain('Semi-synthetic');
  });

  it('writes the documented JSON keys and finite numbers', () => {
    const json = backtestJson(result, context) as {
      policies: Record<string, Record<string, number>>;
      semiSynthetic: boolean;
    };
    expect(Object.keys(json.policies)).toEqual([
      'static',
      'reactive',
      'replicate-all',
      'predictive',
      'oracle',
    ]);
    expect(json.policies.static.remoteShare).toBe(result.policies.static!.metrics.remoteShare);
    expect(json.semiSynthetic).toBe(false);
    expect(() => JSON.stringify(json)).not.toThrow();
  });

  it('prints a text table with one row per policy and the prestage row marked', () => {
    const table = formatComparisonTable(result);
    const lines = table.trim().split('\n');
    expect(lines).toHaveLength(3 + 5);
    expect(lines.filter((l) => l.startsWith('▶'))).toEqual([
      expect.stringContaining('predictive (prestage)'),
    ]);
    const targets = formatTargets(evaluateTargets({ static: result.policies.static!.metrics }));
    expect(targets).toContain('n/a');
  });
});
