/**
 * A snapshot as the page's panels: one HTML string per panel id. The server renders the first page with it, and
 * the browser (dashboard-client.ts) re-renders on every poll and replaces only the panels whose HTML changed.
 */
import type { LiveErrorPoint, LiveLatencyPoint, LiveSnapshot } from '../live-snapshot.ts';
import { cellsPanel, migrationsPanel, planPanel } from './activity-panels.ts';
import { binByTime, binWidthMs, dayTime, durationLabel } from './chart-geometry.ts';
import { headerPanel } from './header-panel.ts';
import { ACTUAL_COLOR, FORECAST_COLOR, HTTP_503_COLOR, regionStyle, WRITE_ERROR_COLOR } from './palette.ts';
import { placementPanel } from './placement-panel.ts';
import { type TimeMarker, type TimeSeries, timeChart } from './time-chart.ts';

/** The panels in page order; each is an element with this id. */
export const PANEL_IDS = [
  'header',
  'p50',
  'p99',
  'local-share',
  'placement',
  'migrations',
  'forecasts',
  'plan',
  'errors',
  'cells',
] as const;

export type PanelId = (typeof PANEL_IDS)[number];

/** What the reader changed on the page and a re-render keeps: series switched off, per chart id. */
export interface PanelView {
  readonly hidden: ReadonlyMap<string, ReadonlySet<string>>;
}

export const DEFAULT_VIEW: PanelView = { hidden: new Map() };

/** Cells added and removed, as markers on every time chart. */
export function cellMarkers(snapshot: LiveSnapshot): TimeMarker[] {
  return snapshot.cellEvents.map((e) => ({
    atMs: e.traceMs,
    glyph: e.kind === 'added' ? '+' : '−',
    tip: `${dayTime(e.traceMs)} UTC: cell ${e.cell} ${e.kind} (${e.region})`,
  }));
}

/** At most this many points per line: about one per two pixels of a chart at its usual size. */
export const MAX_POINTS_PER_LINE = 200;

/** How a latency measure combines over the buckets of one bin. */
export type LatencyMeasure = 'p50' | 'p99' | 'localShare';

/**
 * One bin's value of a measure: p50 and local share as request-weighted means of the buckets', p99 as their
 * largest (a tail must not be averaged away). null when the bin saw no request.
 */
export function combineLatency(points: readonly LiveLatencyPoint[], measure: LatencyMeasure): number | null {
  const requests = points.reduce((sum, p) => sum + p.requests, 0);
  if (requests <= 0) return null;
  if (measure === 'p99') return Math.max(...points.filter((p) => p.requests > 0).map((p) => p.p99Ms));
  const value = (p: LiveLatencyPoint) => (measure === 'p50' ? p.p50Ms : p.localShare * 100);
  return points.reduce((sum, p) => sum + value(p) * p.requests, 0) / requests;
}

function chartBinMs(snapshot: LiveSnapshot): number {
  const { startMs, endMs, bucketMs } = snapshot.trace;
  return binWidthMs(startMs, endMs, bucketMs, MAX_POINTS_PER_LINE);
}

/** One line per region of a latency measure, binned to at most MAX_POINTS_PER_LINE; no request is a gap. */
export function regionSeries(snapshot: LiveSnapshot, measure: LatencyMeasure): TimeSeries[] {
  const binMs = chartBinMs(snapshot);
  return snapshot.regions.map((region) => {
    const style = regionStyle(snapshot.regions, region);
    const bins = binByTime(
      snapshot.latency.filter((p) => p.region === region),
      (p) => p.traceMs,
      snapshot.trace.startMs,
      binMs,
    );
    return {
      name: region,
      color: style.color,
      symbol: style.symbol,
      dash: style.dash,
      points: bins.map((bin) => ({ t: bin.startMs, v: combineLatency(bin.items, measure) })),
    };
  });
}

/** Write errors and 503s summed per bin. */
export function errorSeries(snapshot: LiveSnapshot): TimeSeries[] {
  const bins = binByTime(snapshot.errors, (e) => e.traceMs, snapshot.trace.startMs, chartBinMs(snapshot));
  const sum = (items: readonly LiveErrorPoint[], key: 'writeErrors' | 'http503') =>
    items.reduce((total, e) => total + e[key], 0);
  return [
    {
      name: 'write errors',
      color: WRITE_ERROR_COLOR,
      symbol: 'triangle',
      points: bins.map((bin) => ({ t: bin.startMs, v: sum(bin.items, 'writeErrors') })),
    },
    {
      name: '503s',
      color: HTTP_503_COLOR,
      symbol: 'square',
      dash: '6 3',
      points: bins.map((bin) => ({ t: bin.startMs, v: sum(bin.items, 'http503') })),
    },
  ];
}

function chartsWindow(snapshot: LiveSnapshot) {
  const { startMs, endMs, nowMs } = snapshot.trace;
  return { startMs, endMs, nowMs, markers: cellMarkers(snapshot) };
}

function emptyText(snapshot: LiveSnapshot): string {
  return snapshot.status === 'starting' || snapshot.status === 'warming-up'
    ? 'waiting for the first measured bucket'
    : 'no measurements';
}

function forecastsPanel(snapshot: LiveSnapshot, view: PanelView): string {
  const head =
    '<h2>Forecast against actual <span class="muted">the hottest partitions, ops/s from one region</span></h2>' +
    `<div class="keys"><span class="key"><span class="line-key" style="--c:${ACTUAL_COLOR}"></span>measured</span><span class="key"><span class="line-key dashed" style="--c:${FORECAST_COLOR}"></span>forecast</span></div>`;
  if (snapshot.forecasts.length === 0) {
    return `${head}<p class="empty-note">No forecasts yet: the profiler has not run.</p>`;
  }
  const charts = snapshot.forecasts.map((series) => {
    const id = `forecast:${series.partition}:${series.region}`;
    const times = series.points.map((p) => p.traceMs);
    return timeChart({
      id,
      title: `${series.partition} from ${series.region}`,
      unit: 'ops/s',
      startMs: Math.min(...times),
      endMs: Math.max(...times),
      nowMs: snapshot.trace.nowMs,
      width: 300,
      height: 150,
      hidden: view.hidden.get(id),
      series: [
        {
          name: 'measured',
          color: ACTUAL_COLOR,
          strokeWidth: 1.6,
          points: series.points.map((p) => ({ t: p.traceMs, v: p.actual })),
        },
        {
          name: 'forecast',
          color: FORECAST_COLOR,
          dash: '5 3',
          strokeWidth: 2,
          points: series.points.map((p) => ({ t: p.traceMs, v: p.forecast })),
        },
      ],
      showLegend: false,
    });
  });
  return `${head}<div class="small-multiples">${charts.join('')}</div>`;
}

export function renderPanels(
  snapshot: LiveSnapshot,
  view: PanelView = DEFAULT_VIEW,
): Record<PanelId, string> {
  const window = chartsWindow(snapshot);
  const empty = emptyText(snapshot);
  return {
    header: headerPanel(snapshot),
    p50: timeChart({
      id: 'p50',
      title: 'p50 latency by client region',
      unit: 'ms',
      ...window,
      hidden: view.hidden.get('p50'),
      series: regionSeries(snapshot, 'p50'),
      emptyText: empty,
    }),
    p99: timeChart({
      id: 'p99',
      title: 'p99 latency by client region',
      unit: 'ms',
      ...window,
      hidden: view.hidden.get('p99'),
      series: regionSeries(snapshot, 'p99'),
      emptyText: empty,
    }),
    'local-share': timeChart({
      id: 'local-share',
      title: 'Local share: requests served in their own region',
      unit: '%',
      ...window,
      hidden: view.hidden.get('local-share'),
      series: regionSeries(snapshot, 'localShare'),
      yRange: [0, 100],
      emptyText: empty,
    }),
    placement: placementPanel(snapshot),
    migrations: migrationsPanel(snapshot),
    forecasts: forecastsPanel(snapshot, view),
    plan: planPanel(snapshot),
    errors: timeChart({
      id: 'errors',
      title: `Write errors and 503s per ${durationLabel(chartBinMs(snapshot))}`,
      unit: 'responses',
      ...window,
      hidden: view.hidden.get('errors'),
      series: errorSeries(snapshot),
      integer: true,
      emptyText: empty,
    }),
    cells: cellsPanel(snapshot),
  };
}
