/**
 * The live page's time charts, as SVG strings: pure functions of their data, so the server renders the first
 * page and the browser re-renders each poll with the same code, and the geometry is tested in Node.
 *
 * Unlike the backtest report's charts (src/report/svg-chart.ts, whose helpers this reuses), the x axis is the
 * run's whole trace window from the start: the lines grow to the right as the trace clock advances, the part
 * not replayed yet is shaded, and points sit at their own trace instants (series need not share a grid).
 * Each chart carries its hover data in `data-chart` for dashboard-client.ts.
 */
import { defaultFormat, escapeXml, niceTicks, type SymbolShape, symbolSvg } from '../../report/svg-chart.ts';
import { type Box, f1, timeTicks } from './chart-geometry.ts';

export interface TimePoint {
  readonly t: number;
  /** null draws a gap. */
  readonly v: number | null;
}

export interface TimeSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly TimePoint[];
  readonly symbol?: SymbolShape;
  readonly dash?: string;
  readonly strokeWidth?: number;
}

/** A vertical line at one instant (a cell added or removed), with a glyph and a hover text. */
export interface TimeMarker {
  readonly atMs: number;
  readonly glyph: string;
  readonly tip: string;
}

export interface TimeChartSpec {
  /** Stable across polls: the client keys hidden series and hover by it. */
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly startMs: number;
  readonly endMs: number;
  /** The trace clock: the window after it is shaded as not replayed yet. */
  readonly nowMs?: number;
  readonly series: readonly TimeSeries[];
  readonly markers?: readonly TimeMarker[];
  /** Series names the reader switched off in the legend. */
  readonly hidden?: ReadonlySet<string>;
  /** Fix the y axis (for shares); otherwise it starts at 0 and ends at a round number above the data. */
  readonly yRange?: readonly [number, number];
  /** Counts: ticks on whole numbers (the axis reaches at least 4). */
  readonly integer?: boolean;
  readonly format?: (value: number) => string;
  /** Written in the plot while no series has a point. */
  readonly emptyText?: string;
  readonly width?: number;
  readonly height?: number;
  /** Significant digits of the values on hover. @default 3 */
  readonly hoverDigits?: number;
  /** Draw the legend (its entries switch series off). Small multiples share one legend outside. @default true */
  readonly showLegend?: boolean;
}

/** What dashboard-client.ts reads from `data-chart` to show values under the pointer. */
export interface TimeChartHoverData {
  readonly id: string;
  /** The plot area in SVG units: left, top, right, bottom. */
  readonly plot: readonly [number, number, number, number];
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
  readonly unit: string;
  /** Every instant any series has a point at, ascending; values are aligned to it. */
  readonly times: readonly number[];
  readonly series: readonly {
    readonly name: string;
    readonly color: string;
    readonly hidden: boolean;
    readonly values: readonly (number | null)[];
  }[];
}

const PAD = { left: 46, right: 12, top: 28, bottom: 22 } as const;
const LEGEND_ROW = 15;

/** Linear maps from trace time and value to SVG coordinates inside `box`. */
export function scales(
  box: Box,
  xDomain: readonly [number, number],
  yDomain: readonly [number, number],
): { x: (t: number) => number; y: (v: number) => number } {
  const [t0, t1] = xDomain;
  const [v0, v1] = yDomain;
  return {
    x: (t) => box.left + ((t - t0) / (t1 - t0 || 1)) * (box.right - box.left),
    y: (v) => box.bottom - ((Math.min(Math.max(v, v0), v1) - v0) / (v1 - v0 || 1)) * (box.bottom - box.top),
  };
}

/** An SVG path through the points in time order, broken at null values; '' when nothing is drawable. */
export function linePath(
  points: readonly TimePoint[],
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  let d = '';
  let pen = false;
  for (const point of [...points].sort((a, b) => a.t - b.t)) {
    if (point.v === null || !Number.isFinite(point.v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${f1(x(point.t))} ${f1(y(point.v))}`;
    pen = true;
  }
  return d;
}

/** The y domain: the fixed range, or 0 up to the round tick above the largest value (0..1 with no data). */
export function valueDomain(
  series: readonly TimeSeries[],
  fixed?: readonly [number, number],
  integer = false,
): { domain: [number, number]; ticks: number[] } {
  if (fixed) return { domain: [fixed[0], fixed[1]], ticks: niceTicks(fixed[0], fixed[1], 4) };
  let hi = 0;
  for (const s of series) for (const p of s.points) if (p.v !== null && p.v > hi) hi = p.v;
  const ticks = niceTicks(0, integer ? Math.max(4, hi) : hi > 0 ? hi : 1, 4);
  return { domain: [ticks[0], ticks[ticks.length - 1]], ticks };
}

/** Every instant any series has a point at, and each series' value there (null where it has none). */
export function alignSeries(series: readonly TimeSeries[]): {
  times: number[];
  values: (number | null)[][];
} {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const values = series.map((s) => {
    const row: (number | null)[] = times.map(() => null);
    for (const p of s.points) row[index.get(p.t)!] = p.v;
    return row;
  });
  return { times, values };
}

/** Legend entries laid out left to right, wrapping; returns each entry's origin and the rows used. */
export function legendLayout(
  names: readonly string[],
  left: number,
  right: number,
): { at: { x: number; row: number }[]; rows: number } {
  const at: { x: number; row: number }[] = [];
  let x = left;
  let row = 0;
  for (const name of names) {
    const width = legendEntryWidth(name);
    if (x > left && x + width > right) {
      x = left;
      row += 1;
    }
    at.push({ x, row });
    x += width;
  }
  return { at, rows: names.length ? row + 1 : 0 };
}

function legendEntryWidth(name: string): number {
  return 34 + name.length * 6.2;
}

export function timeChart(spec: TimeChartSpec): string {
  const width = spec.width ?? 420;
  const format = spec.format ?? defaultFormat;
  const hidden = spec.hidden ?? new Set<string>();
  const legend = legendLayout(
    spec.showLegend === false ? [] : spec.series.map((s) => s.name),
    PAD.left,
    width - PAD.right,
  );
  const height = (spec.height ?? 200) + legend.rows * LEGEND_ROW;
  const box: Box = {
    left: PAD.left,
    top: PAD.top,
    right: width - PAD.right,
    bottom: height - PAD.bottom - legend.rows * LEGEND_ROW,
  };
  const xDomain: [number, number] = [spec.startMs, Math.max(spec.endMs, spec.startMs + 1)];
  const { domain: yDomain, ticks } = valueDomain(spec.series, spec.yRange, spec.integer);
  const { x, y } = scales(box, xDomain, yDomain);
  const aligned = alignSeries(spec.series);
  const digits = spec.hoverDigits ?? 3;
  const hover: TimeChartHoverData = {
    id: spec.id,
    plot: [box.left, box.top, box.right, box.bottom],
    x: xDomain,
    y: yDomain,
    unit: spec.unit,
    times: aligned.times,
    series: spec.series.map((s, k) => ({
      name: s.name,
      color: s.color,
      hidden: hidden.has(s.name),
      values: aligned.values[k].map((v) => (v === null ? null : Number(v.toPrecision(digits + 1)))),
    })),
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}" data-chart-id="${escapeXml(spec.id)}" data-chart="${escapeXml(JSON.stringify(hover))}">`,
    `<text x="${box.left}" y="16" class="chart-title">${escapeXml(spec.title)}</text>`,
    `<text x="${box.right}" y="16" class="chart-unit" text-anchor="end">${escapeXml(spec.unit)}</text>`,
  ];
  if (spec.nowMs !== undefined && spec.nowMs < xDomain[1]) {
    const from = Math.max(box.left, x(spec.nowMs));
    parts.push(
      `<rect x="${f1(from)}" y="${box.top}" width="${f1(box.right - from)}" height="${box.bottom - box.top}" class="future"/>`,
    );
  }
  // With nothing to draw, the value axis has no scale yet: grid lines only, no numbers.
  const hasData = spec.series.some((s) => s.points.some((p) => p.v !== null && Number.isFinite(p.v)));
  for (const tick of ticks) {
    const ty = f1(y(tick));
    parts.push(`<line x1="${box.left}" x2="${box.right}" y1="${ty}" y2="${ty}" class="grid"/>`);
    if (hasData || spec.yRange) {
      parts.push(
        `<text x="${box.left - 5}" y="${ty}" dy="0.32em" text-anchor="end" class="tick">${escapeXml(format(tick))}</text>`,
      );
    }
  }
  for (const tick of timeTicks(
    xDomain[0],
    xDomain[1],
    Math.max(2, Math.floor((box.right - box.left) / 62)),
  )) {
    const tx = f1(x(tick.atMs));
    // A label centred on either end of the axis would stick out of the chart: align it inwards.
    const anchor = x(tick.atMs) > box.right - 16 ? 'end' : x(tick.atMs) < box.left + 16 ? 'start' : 'middle';
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${box.bottom}" y2="${box.bottom + 4}" class="axis"/>`,
      `<text x="${tx}" y="${box.bottom + 14}" text-anchor="${anchor}" class="tick${tick.major ? ' major' : ''}">${escapeXml(tick.label)}</text>`,
    );
  }
  parts.push(`<line x1="${box.left}" x2="${box.right}" y1="${box.bottom}" y2="${box.bottom}" class="axis"/>`);
  let drawn = 0;
  spec.series.forEach((s, k) => {
    const d = linePath(s.points, x, y);
    if (d === '') return;
    drawn += 1;
    const symbols = s.symbol ? seriesSymbols(s, k, x, y) : '';
    parts.push(
      `<g class="series${hidden.has(s.name) ? ' hidden' : ''}" data-series="${k}"><path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.strokeWidth ?? 1.8}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round" stroke-linecap="round"/>${symbols}</g>`,
    );
  });
  if (drawn === 0) {
    parts.push(
      `<text x="${f1((box.left + box.right) / 2)}" y="${f1((box.top + box.bottom) / 2)}" text-anchor="middle" class="empty">${escapeXml(spec.emptyText ?? 'no measurements yet')}</text>`,
    );
  }
  legend.at.forEach((at, k) => {
    const s = spec.series[k];
    const ly = box.bottom + PAD.bottom + at.row * LEGEND_ROW + 8;
    const off = hidden.has(s.name);
    parts.push(
      `<g class="legend-item${off ? ' off' : ''}" data-toggle="${escapeXml(s.name)}" role="button" tabindex="0" aria-pressed="${!off}">`,
      `<rect x="${at.x - 2}" y="${ly - 10}" width="${f1(legendEntryWidth(s.name) - 6)}" height="14" class="legend-hit"/>`,
      `<line x1="${at.x}" x2="${at.x + 20}" y1="${ly - 3}" y2="${ly - 3}" stroke="${s.color}" stroke-width="2.2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      s.symbol ? symbolSvg(s.symbol, at.x + 10, ly - 3, 3.2, s.color) : '',
      `<text x="${at.x + 25}" y="${ly}" class="legend">${escapeXml(s.name)}</text></g>`,
    );
  });
  parts.push(
    `<rect x="${box.left}" y="${box.top}" width="${box.right - box.left}" height="${box.bottom - box.top}" class="hover-area"/>`,
  );
  // After the hover area, so a marker's glyph takes the pointer and shows what happened there.
  for (const marker of spec.markers ?? []) {
    if (marker.atMs < xDomain[0] || marker.atMs > xDomain[1]) continue;
    const mx = f1(x(marker.atMs));
    parts.push(
      `<g class="marker" data-tip="${escapeXml(marker.tip)}"><line x1="${mx}" x2="${mx}" y1="${box.top}" y2="${box.bottom}"/>`,
      `<rect x="${f1(x(marker.atMs) - 6)}" y="${box.top}" width="12" height="12" rx="3"/>`,
      `<text x="${mx}" y="${box.top + 6}" dy="0.35em" text-anchor="middle">${escapeXml(marker.glyph)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Symbols about every eighth of the points (staggered per series, so coinciding lines show all), and the last. */
function seriesSymbols(s: TimeSeries, k: number, x: (t: number) => number, y: (v: number) => number): string {
  const points = [...s.points].filter((p) => p.v !== null).sort((a, b) => a.t - b.t);
  const every = Math.max(1, Math.round(points.length / 8));
  const offset = (k * 3) % every;
  return points
    .filter((_, i) => i % every === offset || i === points.length - 1)
    .map((p) => symbolSvg(s.symbol!, x(p.t), y(p.v!), 3.2, s.color))
    .join('');
}
