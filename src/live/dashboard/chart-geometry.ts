/**
 * Geometry and formatting shared by the live page's panels: the time axis (ticks on round UTC instants, labelled
 * with the hour, or the date at midnight), trace-clock formatting and number rounding for SVG coordinates.
 */

export interface Box {
  readonly left: number;
  readonly top: number;
  readonly right: number;
  readonly bottom: number;
}

export interface TimeTick {
  readonly atMs: number;
  readonly label: string;
  /** A midnight (labelled with the date). */
  readonly major: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TICK_STEPS = [
  5 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  28 * DAY,
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** One decimal, for SVG coordinates: enough for a sharp line, short enough to keep the page small. */
export function f1(value: number): string {
  return value.toFixed(1);
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** "Mar 12" (UTC). */
export function dayLabel(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())}`;
}

/** "14:30" (UTC). */
export function clockLabel(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** "Mar 12 14:30" (UTC). */
export function dayTime(ms: number): string {
  return `${dayLabel(ms)} ${clockLabel(ms)}`;
}

/** "2015-03-12 14:30 UTC", for the header's trace clock. */
export function traceClockLabel(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${clockLabel(ms)} UTC`;
}

/**
 * Ticks on round UTC instants in [startMs, endMs], at most `maxTicks` of them: the finest of 5 min … 28 days
 * that fits. Midnights are labelled with the date, other instants with the time of day.
 */
export function timeTicks(startMs: number, endMs: number, maxTicks: number): TimeTick[] {
  if (!(endMs > startMs) || maxTicks < 1) return [];
  const span = endMs - startMs;
  const step = TICK_STEPS.find((s) => span / s <= maxTicks) ?? Math.ceil(span / maxTicks / DAY) * DAY;
  const ticks: TimeTick[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) {
    const major = t % DAY === 0;
    ticks.push({ atMs: t, label: major || step >= DAY ? dayLabel(t) : clockLabel(t), major });
  }
  return ticks;
}

/** "3 h 20 min", "45 min", "2 d 4 h": a trace-time duration, two units at most. */
export function durationLabel(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / MINUTE));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/**
 * How wide a chart's bins are: the trace's bucket, or a whole number of buckets when the window holds more than
 * `maxBins` of them (a line has no use for more points than its chart has pixels, and the page stays light).
 */
export function binWidthMs(startMs: number, endMs: number, bucketMs: number, maxBins: number): number {
  if (!(bucketMs > 0)) return Math.max(1, endMs - startMs);
  const buckets = Math.ceil(Math.max(0, endMs - startMs) / bucketMs);
  return Math.max(1, Math.ceil(buckets / maxBins)) * bucketMs;
}

/** Items grouped into bins of `widthMs` from `startMs`, in time order; empty bins are left out. */
export function binByTime<T>(
  items: readonly T[],
  timeOf: (item: T) => number,
  startMs: number,
  widthMs: number,
): { readonly startMs: number; readonly items: T[] }[] {
  const bins = new Map<number, T[]>();
  for (const item of items) {
    const at = startMs + Math.floor((timeOf(item) - startMs) / widthMs) * widthMs;
    const bin = bins.get(at);
    if (bin) bin.push(item);
    else bins.set(at, [item]);
  }
  return [...bins].sort((a, b) => a[0] - b[0]).map(([at, binItems]) => ({ startMs: at, items: binItems }));
}
