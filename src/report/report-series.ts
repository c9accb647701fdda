/**
 * The arithmetic that turns a policy's per-slot series into what a chart plots (coarser slots, or a running
 * total), and the units the report's charts and panels share.
 */
import type { PolicySeries } from '../domain/simulation/simulation-options.ts';

export const HOUR_MS = 3_600_000;
export const GIB = 2 ** 30;

/** Aggregate `hours` of slots into one (mean or max), scaled by `scale`. */
export function resample(
  values: Float64Array,
  series: PolicySeries,
  hours: number,
  how: 'mean' | 'max',
  scale = 1,
): { values: Float64Array; stepMs: number } {
  const factor = Math.max(1, Math.round((hours * HOUR_MS) / series.stepMs));
  const out = new Float64Array(Math.ceil(values.length / factor));
  for (let i = 0; i < out.length; i++) {
    let acc = how === 'max' ? Number.NEGATIVE_INFINITY : 0;
    let count = 0;
    for (let j = i * factor; j < Math.min(values.length, (i + 1) * factor); j++) {
      if (!Number.isFinite(values[j])) continue;
      acc = how === 'max' ? Math.max(acc, values[j]) : acc + values[j];
      count++;
    }
    out[i] = count === 0 ? Number.NaN : (how === 'max' ? acc : acc / count) * scale;
  }
  return { values: out, stepMs: factor * series.stepMs };
}

/** Running total from `fromMs` (NaN before it), divided by `unit`. */
export function cumulative(
  values: Float64Array,
  series: PolicySeries,
  fromMs: number,
  unit: number,
): { values: Float64Array; stepMs: number } {
  const out = new Float64Array(values.length);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    if (series.startMs + i * series.stepMs < fromMs) {
      out[i] = Number.NaN;
      continue;
    }
    total += values[i];
    out[i] = total / unit;
  }
  return { values: out, stepMs: series.stepMs };
}
