/**
 * What a time chart shows under the pointer: the nearest instant that has data, and every visible series' value
 * there, highest first. Pure, so the arithmetic is tested in Node; dashboard-client.ts only draws the result.
 */
import { escapeXml } from '../../report/svg-chart.ts';
import { dayTime } from './chart-geometry.ts';
import { scales, type TimeChartHoverData } from './time-chart.ts';

export interface HoverRow {
  readonly name: string;
  readonly color: string;
  readonly value: number;
  /** Where the series' dot goes, in SVG units. */
  readonly y: number;
}

export interface HoverReading {
  readonly atMs: number;
  /** Where the crosshair goes, in SVG units. */
  readonly x: number;
  readonly rows: readonly HoverRow[];
}

/** Index of the instant nearest to `t` in ascending `times` (the earlier on a tie); -1 when there is none. */
export function nearestIndex(times: readonly number[], t: number): number {
  if (times.length === 0) return -1;
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && t - times[lo - 1] <= times[lo] - t) return lo - 1;
  return lo;
}

/** A pointer's x on screen as an x in the SVG's viewBox (the SVG is scaled to its box's width). */
export function svgX(clientX: number, boxLeft: number, boxWidth: number, viewBoxWidth: number): number {
  return ((clientX - boxLeft) / (boxWidth || 1)) * viewBoxWidth;
}

/** The reading at `x` (SVG units); null outside the plot or when no visible series has a value there. */
export function readHover(data: TimeChartHoverData, x: number): HoverReading | null {
  const [left, top, right, bottom] = data.plot;
  if (x < left || x > right) return null;
  const box = { left, top, right, bottom };
  const scale = scales(box, data.x, data.y);
  const t = data.x[0] + ((x - left) / (right - left || 1)) * (data.x[1] - data.x[0]);
  const index = nearestIndex(data.times, t);
  if (index < 0) return null;
  const rows: HoverRow[] = [];
  for (const s of data.series) {
    const value = s.values[index];
    if (s.hidden || value === null || value === undefined) continue;
    rows.push({ name: s.name, color: s.color, value, y: scale.y(value) });
  }
  if (rows.length === 0) return null;
  rows.sort((a, b) => b.value - a.value);
  const atMs = data.times[index];
  return { atMs, x: scale.x(atMs), rows };
}

/** A value as the tooltip writes it: integers with separators, else three or four significant digits. */
export function hoverNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function hoverHtml(data: TimeChartHoverData, reading: HoverReading): string {
  const rows = reading.rows
    .map(
      (r) =>
        `<tr><td><span class="tip-swatch" style="background:${r.color}"></span>${escapeXml(r.name)}</td><td class="tip-value">${hoverNumber(r.value)} ${escapeXml(data.unit)}</td></tr>`,
    )
    .join('');
  return `<div class="tip-time">${dayTime(reading.atMs)} UTC</div><table>${rows}</table>`;
}
