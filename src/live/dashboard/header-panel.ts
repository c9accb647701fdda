/**
 * The page header: what the run is doing (status, loop on or off), where the trace clock is in the window, how
 * time and requests are scaled, and the run's totals.
 */
import { escapeXml } from '../../report/svg-chart.ts';
import type { LiveRunStatus, LiveSnapshot } from '../live-snapshot.ts';
import { durationLabel, traceClockLabel } from './chart-geometry.ts';

const STATUS_TEXT: Record<LiveRunStatus, string> = {
  starting: 'starting',
  'warming-up': 'warming up',
  running: 'running',
  finished: 'finished',
  stopped: 'stopped',
  failed: 'failed',
};

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** "×720": and in words, how much trace time a wall second covers. */
export function speedLabel(speed: number): { short: string; long: string } {
  const short = `×${speed >= 100 ? formatCount(speed) : Number(speed.toPrecision(3))}`;
  return { short, long: `1 s of wall time replays ${durationLabel(speed * 1000)} of the trace` };
}

/** "1 : 500": one request sent for so many in the trace. */
export function requestScaleLabel(scale: number): { short: string; long: string } {
  if (!(scale > 0)) return { short: '—', long: 'no requests sent' };
  if (scale >= 1)
    return { short: `×${Number(scale.toPrecision(3))}`, long: 'every request in the trace is sent' };
  const per = Math.round(1 / scale);
  return {
    short: `1 : ${formatCount(per)}`,
    long: `one request sent for every ${formatCount(per)} in the trace, plus carriers; each counts as the trace demand it stands for`,
  };
}

/** How far the trace clock is through the measured window, in [0, 1]. */
export function windowProgress(snapshot: LiveSnapshot): number {
  const { startMs, endMs, nowMs } = snapshot.trace;
  if (!(endMs > startMs)) return 0;
  return Math.min(1, Math.max(0, (nowMs - startMs) / (endMs - startMs)));
}

function wallClock(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function stat(label: string, value: string, tip: string, extraClass = ''): string {
  return `<div class="stat${extraClass}" data-tip="${escapeXml(tip)}"><dt>${escapeXml(label)}</dt><dd>${escapeXml(value)}</dd></div>`;
}

export function headerPanel(snapshot: LiveSnapshot): string {
  const { trace, totals } = snapshot;
  const progress = windowProgress(snapshot);
  const speed = speedLabel(trace.speed);
  const scale = requestScaleLabel(trace.requestScale);
  const trouble = totals.writeErrors > 0 ? ' bad' : '';
  const busy = totals.http503 > 0 ? ' warn' : '';
  return [
    '<div class="title-row">',
    '<h1>prestage up</h1>',
    `<span class="status status-${snapshot.status}" data-status="${snapshot.status}">${STATUS_TEXT[snapshot.status]}</span>`,
    `<span class="loop loop-${snapshot.loop}" data-tip="${snapshot.loop === 'on' ? 'the profiler, planner and migrations run' : 'static baseline: the same traffic, no control loop'}">loop ${snapshot.loop}</span>`,
    `<span class="trace-name">${escapeXml(trace.name)}</span>`,
    `<span class="elapsed" data-tip="wall time since start">${wallClock(snapshot.wallElapsedMs)} elapsed</span>`,
    '</div>',
    '<div class="clock-row">',
    `<div class="clock" data-tip="the trace clock: demand, buckets, forecasts and plans run on it"><span class="clock-label">trace clock</span> <strong id="trace-clock">${traceClockLabel(trace.nowMs)}</strong></div>`,
    `<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(progress * 100)}" data-tip="${escapeXml(`measured window ${traceClockLabel(trace.startMs)} – ${traceClockLabel(trace.endMs)}`)}"><div class="progress-fill" style="width:${(progress * 100).toFixed(1)}%"></div><span>${Math.round(progress * 100)}% of the window</span></div>`,
    `<div class="scale" data-tip="${escapeXml(speed.long)}">speed <strong>${escapeXml(speed.short)}</strong></div>`,
    `<div class="scale" data-tip="${escapeXml(scale.long)}">requests <strong>${escapeXml(scale.short)}</strong></div>`,
    '</div>',
    '<dl class="totals">',
    stat('requests', formatCount(totals.requests), 'requests the load generator sent'),
    stat('writes acked', formatCount(totals.writesAcked), 'writes acknowledged to the load generator'),
    stat(
      'write errors',
      formatCount(totals.writeErrors),
      'writes answered with an error other than 503',
      trouble,
    ),
    stat('503s', formatCount(totals.http503), 'requests answered 503 (retry later)', busy),
    stat('bytes moved', formatBytes(totals.bytesMoved), 'bytes copied by migrations'),
    stat('moves', formatCount(totals.moves), 'partition moves made by migrations'),
    stat('cells', formatCount(totals.cellsInService), 'cells in service now'),
    '</dl>',
  ].join('');
}
