import { InputValidationError } from '../domain/errors.ts';
import type { DemandSeries } from '../domain/forecasting/forecast-model.ts';
import { parseCsv, parseNonNegative, parseTimestamp, requireColumn } from './csv.ts';
import { readInputText } from './input-file.ts';

/**
 * What to do when two rows fall into the same grid bucket (the same timestamp, or timestamps jittered
 * onto one bucket):
 * - `reject` (default): an error naming both lines; nothing is guessed.
 * - `sum`: add them (rows are separate sources of demand for that bucket, e.g. per-host logs).
 * - `mean`: average them (rows are repeated samples of one rate, e.g. a DST fall-back writing
 *   several readings under one wall-clock time, as in two NAB CloudWatch files).
 */
export type DuplicatePolicy = 'reject' | 'sum' | 'mean';

export interface SeriesCsvOptions {
  /** Value column; @default `value`, else `y` */
  readonly valueColumn?: string;
  /** @default 'reject' */
  readonly duplicates?: DuplicatePolicy;
  /** Bucket length; @default inferred as the most common positive gap between sorted timestamps */
  readonly intervalMs?: number;
}

const TIMESTAMP_COLUMNS = ['timestamp', 'ds'];
const VALUE_COLUMNS = ['value', 'y'];

/**
 * Read a demand series from `timestamp,value` or `ds,y` CSV text (quoted headers allowed, rows in any order).
 * The series is put on a regular grid that starts at the earliest timestamp; each row goes to the nearest
 * bucket, and buckets without a row are NaN (missing).
 */
export function parseSeriesCsv(text: string, file: string, options: SeriesCsvOptions = {}): DemandSeries {
  const table = parseCsv(text, file);
  const timeIndex = requireColumn(table, ...TIMESTAMP_COLUMNS);
  const valueIndex =
    options.valueColumn !== undefined
      ? requireColumn(table, options.valueColumn)
      : requireColumn(table, ...VALUE_COLUMNS);
  const timeField = table.header[timeIndex];
  const valueField = table.header[valueIndex];
  if (table.rows.length === 0) {
    throw new InputValidationError({ file, line: 2 }, 'empty history: expected at least one data row');
  }
  const n = table.rows.length;
  const times = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = table.rows[i];
    times[i] = parseTimestamp(row.cells[timeIndex], file, row.line, timeField);
    values[i] = parseNonNegative(row.cells[valueIndex], file, row.line, valueField);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => times[a] - times[b]);
  const intervalMs = options.intervalMs ?? inferIntervalMs(times, order, file);
  if (!(intervalMs > 0)) {
    throw new InputValidationError(
      { file, field: 'intervalMs' },
      `expected a positive interval, got ${intervalMs}`,
    );
  }
  const startMs = times[order[0]];
  const buckets = Math.round((times[order[n - 1]] - startMs) / intervalMs) + 1;
  const grid = new Float64Array(buckets).fill(Number.NaN);
  const counts = new Uint32Array(buckets);
  const firstLine = new Int32Array(buckets);
  const policy = options.duplicates ?? 'reject';
  for (const i of order) {
    const bucket = Math.round((times[i] - startMs) / intervalMs);
    const line = table.rows[i].line;
    if (counts[bucket] === 0) {
      grid[bucket] = values[i];
      firstLine[bucket] = line;
    } else if (policy === 'reject') {
      const [a, b] = [firstLine[bucket], line].sort((x, y) => x - y);
      throw new InputValidationError(
        { file, line: b, field: timeField },
        `timestamp '${table.rows[i].cells[timeIndex].trim()}' falls in the same ${intervalMs / 1000}s bucket ` +
          `(${new Date(startMs + bucket * intervalMs).toISOString()}) as line ${a}; ` +
          'remove the duplicate, or set duplicates to sum or mean (CLI: --duplicates sum|mean)',
      );
    } else {
      grid[bucket] += values[i];
    }
    counts[bucket]++;
  }
  if (policy === 'mean') {
    for (let b = 0; b < buckets; b++) if (counts[b] > 1) grid[b] /= counts[b];
  }
  return { startMs, intervalMs, values: grid };
}

/** The most common positive gap between consecutive sorted timestamps (ties: the smaller gap). */
export function inferIntervalMs(times: Float64Array, order: readonly number[], file: string): number {
  const counts = new Map<number, number>();
  for (let k = 1; k < order.length; k++) {
    const gap = times[order[k]] - times[order[k - 1]];
    if (gap > 0) counts.set(gap, (counts.get(gap) ?? 0) + 1);
  }
  let best = 0;
  let bestCount = 0;
  for (const [gap, count] of counts) {
    if (count > bestCount || (count === bestCount && gap < best)) {
      best = gap;
      bestCount = count;
    }
  }
  if (bestCount === 0) {
    throw new InputValidationError(
      { file, line: 2 },
      'cannot infer the interval: expected at least two rows with distinct timestamps',
    );
  }
  return best;
}

/** Read and parse a series CSV file; the file name appears in every error. */
export async function readSeriesCsv(path: string, options: SeriesCsvOptions = {}): Promise<DemandSeries> {
  const text = await readInputText(path);
  return parseSeriesCsv(text, path, options);
}
