/** Markdown for the scenario suite: one row per scenario, then the pooled and worst-case rows of the half. */
import {
  type HalfSummary,
  type ScenarioFigures,
  SUITE_TARGETS,
  type TargetFigure,
  type TargetId,
} from './suite-targets.ts';

export interface ScenarioRow {
  readonly name: string;
  readonly shape: string;
  readonly figures: ScenarioFigures;
  readonly targets: readonly TargetFigure[];
  readonly seconds: number;
  readonly cpuSeconds: number;
}

const HEADERS: Readonly<Record<TargetId, string>> = {
  overload: 'overload ÷ allowance ≤ 1',
  cells: 'cells ÷ oracle ≤ 1.1',
  'bytes-moved': 'bytes ÷ reference ≤ 0.5',
  locality: 'locality gap closed ≥ 90%',
  'moved-under-load': 'under load ÷ reactive ≤ 0.5',
  thrash: 'thrash < 5%',
  storage: 'stored ÷ replicate-all ≤ 0.6',
};

export function formatValue(figure: Pick<TargetFigure, 'id' | 'value'>): string {
  const { id, value } = figure;
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return '∞';
  return id === 'locality' || id === 'thrash' ? `${(100 * value).toFixed(1)}%` : `${value.toFixed(2)}×`;
}

function verdict(pass: boolean | undefined): string {
  return pass === undefined ? '' : pass ? ' ✓' : ' ✗';
}

/** `°` marks a vacuous pass: the baseline has none of it, so the scenario does not test the target. */
function cell(figure: TargetFigure): string {
  return `${formatValue(figure)}${verdict(figure.pass)}${figure.vacuous ? '°' : ''}`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** The per-scenario targets table, with the pooled and worst-case rows at the bottom. */
export function formatSuiteTable(rows: readonly ScenarioRow[], summary: HalfSummary): string {
  const ids = SUITE_TARGETS.map((t) => t.id);
  const lines = [
    row(['scenario', 'shape', ...ids.map((id) => HEADERS[id]), 'CPU time']),
    row(['---', '---', ...ids.map(() => '---:'), '---:']),
  ];
  for (const r of rows) {
    const byId = new Map(r.targets.map((t) => [t.id, t]));
    lines.push(
      row([r.name, r.shape, ...ids.map((id) => cell(byId.get(id)!)), `${r.cpuSeconds.toFixed(0)} s`]),
    );
  }
  lines.push(row(['**pooled**', `${rows.length} scenarios`, ...summary.pooled.map(cell), '']));
  lines.push(
    row([
      '**worst**',
      'scenario with the worst figure',
      ...summary.worst.map((w) => `${cell(w)} (${w.scenario})`),
      '',
    ]),
  );
  lines.push(
    '',
    '° vacuous: reactive has none of it (no overload, or no bytes moved under load) on that scenario.',
  );
  return `${lines.join('\n')}\n`;
}

/** What each policy did, per scenario: the raw figures behind the targets. */
export function formatPolicyFigures(rows: readonly ScenarioRow[]): string {
  const lines = [
    row([
      'scenario',
      'overload cell-min static / reactive / predictive / oracle',
      'cells avg reactive / predictive / oracle',
      'remote share static / predictive / oracle',
      'GiB moved reactive / predictive / oracle',
      'predictive scale-ins / flaps',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const r of rows) {
    const f = r.figures;
    const m = (name: keyof ScenarioFigures) => f[name].metrics;
    lines.push(
      row([
        r.name,
        [m('static'), m('reactive'), m('predictive'), m('oracle')]
          .map((x) => x.overloadCellMinutes.toFixed(0))
          .join(' / '),
        [f.reactive, f.predictive, f.oracle].map((x) => x.cellsInServiceAvg.toFixed(1)).join(' / '),
        [m('static'), m('predictive'), m('oracle')]
          .map((x) => `${(100 * x.remoteShare).toFixed(1)}%`)
          .join(' / '),
        [m('reactive'), m('predictive'), m('oracle')]
          .map((x) => (x.bytesMoved / 2 ** 30).toFixed(0))
          .join(' / '),
        f.predictive.scaleIns === undefined
          ? '—'
          : `${f.predictive.scaleIns} / ${f.predictive.scaleFlaps ?? 0}`,
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Which scenarios fail each target, in words. */
export function formatFailures(summary: HalfSummary): string {
  return summary.worst
    .map(
      (w) =>
        `- ${w.id}: ${
          w.pass === undefined
            ? 'not evaluated'
            : w.failing.length === 0
              ? 'passes on every scenario'
              : `fails on ${w.failing.length} (${w.failing.join(', ')})`
        }${w.vacuousOn.length > 0 ? `, vacuous on ${w.vacuousOn.length} (${w.vacuousOn.join(', ')})` : ''}; pooled ${formatValue(summary.pooled.find((p) => p.id === w.id)!)}${verdict(summary.pooled.find((p) => p.id === w.id)!.pass)}`,
    )
    .join('\n')
    .concat('\n');
}
