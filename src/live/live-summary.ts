import type { LiveBacktest } from './live-backtest.ts';
import type { LiveWindow } from './live-input.ts';
import type { LiveFigures, LiveResult } from './live-run.ts';

/** The `--json` document: at least the issue's shape, plus what explains it. */
export interface LiveJson {
  readonly trace: {
    readonly name: string;
    readonly windowStart: string;
    readonly windowEnd: string;
    readonly speed: number;
    readonly requestScale: number;
  };
  readonly status: string;
  readonly loop: 'on' | 'off';
  readonly live: LiveFigures;
  readonly backtest?: LiveBacktest;
  readonly writeCheck: { readonly keysChecked: number; readonly problems: readonly string[] };
  readonly wallSeconds: number;
}

export function liveJson(
  name: string,
  window: LiveWindow,
  loop: 'on' | 'off',
  result: LiveResult,
  backtest: LiveBacktest | undefined,
): LiveJson {
  return {
    trace: {
      name,
      windowStart: new Date(window.startMs).toISOString(),
      windowEnd: new Date(window.endMs).toISOString(),
      speed: window.speed,
      requestScale: window.requestScale,
    },
    status: result.status,
    loop,
    live: result.figures,
    ...(backtest ? { backtest } : {}),
    writeCheck: {
      keysChecked: result.writeCheck.keysChecked,
      problems: result.writeCheck.problems.slice(0, 20),
    },
    wallSeconds: result.wallMs / 1000,
  };
}

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–');
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)}` : '–');
const loopDelay = (d: { p50: number; p99: number; max: number }) =>
  `${d.p50.toFixed(0)}/${d.p99.toFixed(0)}/${d.max.toFixed(0)}`;
const gib = (v: number) => (Number.isFinite(v) ? (v / 2 ** 30).toFixed(1) : '–');

/** The end-of-run table: live against the backtest of the same trace and window, and the write check. */
export function formatLiveSummary(json: LiveJson, regions: readonly string[]): string {
  const live = json.live;
  const bt = json.backtest;
  const columns: { name: string; cells: string[] }[] = [];
  const row = (label: string, values: string[]) =>
    `  ${label.padEnd(26)}${values.map((v) => v.padStart(14)).join('')}`;
  const liveName = json.loop === 'on' ? 'live (loop)' : 'live (no loop)';
  const names = [
    liveName,
    ...(bt ? ['static', 'predictive', ...(bt.predictivePaced ? ['pred. paced'] : [])] : []),
  ];
  const policies = bt ? [bt.static, bt.predictive, ...(bt.predictivePaced ? [bt.predictivePaced] : [])] : [];
  const lines = [
    '',
    `${json.trace.name}: window ${json.trace.windowStart.slice(0, 16)} → ${json.trace.windowEnd.slice(0, 16)} UTC, ` +
      `${json.trace.speed.toFixed(0)}× real time, a counted sample: 1 request sent per ${(1 / json.trace.requestScale).toFixed(0)} in the trace plus carriers` +
      (json.status === 'stopped' ? ' (stopped early: figures so far)' : ''),
    '',
    row('', names),
    row('remote share', [pct(live.remoteShare), ...policies.map((p) => pct(p.remoteShare))]),
    row('mean latency ms', [ms(live.meanLatencyMs), ...policies.map((p) => ms(p.meanLatencyMs))]),
    row('p50 latency ms', ['', ...policies.map((p) => ms(p.p50LatencyMs))]),
    ...regions.map((r) =>
      row(`  p50 ${r}`, [
        ms(live.p50LatencyMsByRegion[r]),
        ...policies.map((p) => ms(p.p50LatencyMsByRegion?.[r])),
      ]),
    ),
    row('p99 latency ms', ['', ...policies.map((p) => ms(p.p99LatencyMs))]),
    ...regions.map((r) =>
      row(`  p99 ${r}`, [
        ms(live.p99LatencyMsByRegion[r]),
        ...policies.map((p) => ms(p.p99LatencyMsByRegion?.[r])),
      ]),
    ),
    row('bytes moved GiB (trace)', [gib(live.bytesMoved), ...policies.map((p) => gib(p.bytesMoved))]),
    row('moves', [String(live.moves), ...policies.map((p) => String(p.moves))]),
    row('cells (avg)', [
      live.cellsInServiceAvg.toFixed(1),
      ...policies.map((p) => p.cellsInServiceAvg.toFixed(1)),
    ]),
    row('overload cell-minutes', ['n/m', ...policies.map((p) => p.overloadCellMinutes.toFixed(0))]),
    '',
    `  requests ${live.requests}; writes acknowledged ${live.writesAcked}, writes lost ${live.writesLost}; ` +
      `write errors ${live.writeErrors}; 503s ${live.http503}; requests sent late ${live.lateRequests}, dropped (their demand declared by the next of their series) ${live.requestsDropped ?? 0}` +
      `${live.foldCarriers ? ` (+${live.foldCarriers} sent at the end to declare it)` : ''}, not sent ${live.requestsNotSent}`,
    json.loop === 'on'
      ? `  loop: ${live.cycles} profiler cycles, ${live.skippedTicks} ticks skipped (a cycle still running), ${live.deadLetters ?? 0} invocations failed 3 times; ` +
        `${live.warmupMoves} moves in the warm-up; ${live.moves} moves in the window (${live.movesFailed} not completed), ` +
        `median ${(live.medianMoveWallMs / 1000).toFixed(1)} s wall = ${(live.medianMoveTraceMs / 60_000).toFixed(0)} trace minutes each, ` +
        `${(live.medianPlanToMoveEndTraceMs / 60_000).toFixed(0)} trace minutes from the planning tick to the move's end`
      : '  loop: off (the static baseline: same traffic, no profiler, planner or migrations)',
    ...(json.loop === 'on'
      ? [
          `  scaling: ${live.scaleOuts ?? 0} ScaleCluster scale-outs and ${live.scaleIns ?? 0} scale-ins started in the window ` +
            `(${live.scalingsFailed ?? 0} failed, ${live.scalingsRefused ?? 0} refused: a scaling of the region was running); cells added ${live.cellsAdded ?? 0}, retired ${live.cellsRetired ?? 0}`,
        ]
      : []),
    `  event-loop delay p50/p99/max ms: run (listeners, data plane, control plane) ${loopDelay(live.eventLoopDelayMs.run)}; ` +
      `load generator ${live.eventLoopDelayMs.loadGenerator ? loopDelay(live.eventLoopDelayMs.loadGenerator) : '–'}` +
      (json.loop === 'on'
        ? `; profiler cycle wall s median ${(live.cycleWallMs.median / 1000).toFixed(1)}, max ${(live.cycleWallMs.max / 1000).toFixed(1)}`
        : ''),
    ...(json.loop === 'on' && Object.keys(live.moveStageWallMs).length > 0
      ? [
          `  median move stage wall s: ${Object.entries(live.moveStageWallMs)
            .map(([stage, wallMs]) => `${stage} ${(wallMs / 1000).toFixed(1)}`)
            .join(', ')}`,
        ]
      : []),
  ];
  if (bt?.moveFloorMs) {
    lines.push(
      `  pred. paced: the backtest with no move in place sooner after its planning tick than the live median (${(bt.moveFloorMs / 60_000).toFixed(0)} trace minutes: cycle, ExecutePlan, migration)`,
    );
  }
  if (columns.length > 0) lines.push('');
  return `${lines.join('\n')}\n`;
}
