import { InputValidationError } from '../domain/errors.ts';
import { type DemandTrace, emptyTrace } from '../domain/simulation/demand-trace.ts';
import { parseCsv, rejectJsonAsCsv } from './csv.ts';
import { readInputTextSync } from './input-file.ts';

/**
 * Trace CSV: `timestamp,partition,region,reads,writes`, one row per partition, region and bucket.
 * `reads`/`writes` are operation counts in the bucket; absent rows mean zero. The bucket size is the
 * smallest gap between distinct timestamps, and every timestamp must sit on that grid.
 */
export const TRACE_COLUMNS = ['timestamp', 'partition', 'region', 'reads', 'writes'] as const;

export interface TraceReadOptions {
  /** Known region names, in topology order; a row naming another region is an error. */
  readonly regions: readonly string[];
  /** Known partition ids, from the partitions file; a row naming another partition is an error. */
  readonly partitions: readonly string[];
}

/** Read a trace file (`.csv`, or gzip-compressed `.csv.gz`); errors name the file, line and field. */
export function readTraceCsv(path: string, options: TraceReadOptions): DemandTrace {
  return parseTraceCsv(readInputTextSync(path), path, options);
}

type RowVisitor = (line: number, cells: readonly string[]) => void;

/**
 * Call `onHeader` once, then `visit` for every data row. Machine-written traces have no quotes, so
 * they take a fast split path; anything quoted goes through the RFC 4180 parser.
 */
function forEachRow(
  text: string,
  file: string,
  onHeader: (header: readonly string[]) => void,
  visit: RowVisitor,
): void {
  rejectJsonAsCsv(text, file, TRACE_COLUMNS.join(','));
  if (text.includes('"')) {
    const table = parseCsv(text, file);
    onHeader(table.header);
    for (const row of table.rows) visit(row.line, row.cells);
    return;
  }
  let width = -1;
  let pos = 0;
  let line = 0;
  while (pos < text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    line++;
    let stop = end;
    if (stop > pos && text.charCodeAt(stop - 1) === 13) stop--;
    if (stop > pos) {
      const cells = text.slice(pos, stop).split(',');
      if (width < 0) {
        const header = cells.map((h) => h.trim().replace(/^\uFEFF/, ''));
        width = header.length;
        onHeader(header);
      } else if (cells.length !== width) {
        throw new InputValidationError({ file, line }, `expected ${width} fields, found ${cells.length}`);
      } else visit(line, cells);
    }
    pos = end + 1;
  }
  if (width < 0) throw new InputValidationError({ file, line: 1 }, 'file is empty; expected a header row');
}

function columnIndexes(header: readonly string[], file: string): number[] {
  return TRACE_COLUMNS.map((name) => {
    const index = header.indexOf(name);
    if (index < 0) {
      throw new InputValidationError(
        { file, line: 1, field: name },
        `missing column; expected header '${TRACE_COLUMNS.join(',')}', found '${header.join(',')}'`,
      );
    }
    return index;
  });
}

/** Parse trace CSV text; `file` names the source in errors. Counts become mean ops/s per bucket. */
export function parseTraceCsv(text: string, file: string, options: TraceReadOptions): DemandTrace {
  const regionIndex = new Map(options.regions.map((r, i) => [r, i]));
  const partitionIndex = new Map(options.partitions.map((p, i) => [p, i]));
  const rows = new RowBuffer();
  let columns: number[] = [];
  let lastStamp = '';
  let lastMs = 0;
  forEachRow(
    text,
    file,
    (header) => {
      columns = columnIndexes(header, file);
    },
    (line, cells) => {
      const stamp = cells[columns[0]];
      if (stamp !== lastStamp) {
        lastMs = parseIsoUtc(stamp, file, line);
        lastStamp = stamp;
      }
      const partition = partitionIndex.get(cells[columns[1]].trim());
      if (partition === undefined) {
        throw new InputValidationError(
          { file, line, field: 'partition' },
          `unknown partition '${cells[columns[1]]}'; expected one listed in the partitions file`,
        );
      }
      const region = regionIndex.get(cells[columns[2]].trim());
      if (region === undefined) {
        throw new InputValidationError(
          { file, line, field: 'region' },
          `unknown region '${cells[columns[2]]}'; expected one of ${options.regions.join(', ')}`,
        );
      }
      rows.push(
        lastMs,
        partition * options.regions.length + region,
        line,
        parseCount(cells[columns[3]], file, line, 'reads'),
        parseCount(cells[columns[4]], file, line, 'writes'),
      );
    },
  );
  if (rows.count === 0) {
    throw new InputValidationError({ file, line: 2 }, 'trace has no data rows; expected at least one bucket');
  }
  return assemble(file, options, rows);
}

/** Growable struct-of-arrays for parsed rows, so a million-row trace costs a few typed arrays. */
class RowBuffer {
  count = 0;
  times = new Float64Array(1024);
  keys = new Int32Array(1024);
  lines = new Int32Array(1024);
  reads = new Float64Array(1024);
  writes = new Float64Array(1024);

  push(timeMs: number, key: number, line: number, reads: number, writes: number): void {
    if (this.count === this.times.length) {
      const size = this.count * 2;
      this.times = grow(this.times, new Float64Array(size));
      this.keys = grow(this.keys, new Int32Array(size));
      this.lines = grow(this.lines, new Int32Array(size));
      this.reads = grow(this.reads, new Float64Array(size));
      this.writes = grow(this.writes, new Float64Array(size));
    }
    const i = this.count++;
    this.times[i] = timeMs;
    this.keys[i] = key;
    this.lines[i] = line;
    this.reads[i] = reads;
    this.writes[i] = writes;
  }
}

function grow<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function assemble(file: string, options: TraceReadOptions, rows: RowBuffer): DemandTrace {
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < rows.count; i++) {
    startMs = Math.min(startMs, rows.times[i]);
    endMs = Math.max(endMs, rows.times[i]);
  }
  const step = inferBucketMs(rows, startMs);
  if (step === 0) {
    throw new InputValidationError(
      { file, line: rows.lines[0], field: 'timestamp' },
      'every row has the same timestamp; expected at least two buckets to infer the bucket size',
    );
  }
  const bucketCount = Math.round((endMs - startMs) / step) + 1;
  const trace = emptyTrace(startMs, step, bucketCount, options.partitions, options.regions);
  const width = options.partitions.length * options.regions.length;
  const firstLine = new Int32Array(bucketCount * width);
  const seconds = step / 1000;
  for (let i = 0; i < rows.count; i++) {
    const offset = rows.times[i] - startMs;
    const bucket = Math.round(offset / step);
    if (bucket * step !== offset) {
      throw new InputValidationError(
        { file, line: rows.lines[i], field: 'timestamp' },
        `timestamp is off the ${step / 1000}s bucket grid starting at ${new Date(startMs).toISOString()}`,
      );
    }
    const index = bucket * width + rows.keys[i];
    if (firstLine[index] !== 0) {
      throw new InputValidationError(
        { file, line: rows.lines[i], field: 'timestamp' },
        `duplicate row for this partition, region and bucket (first at line ${firstLine[index]})`,
      );
    }
    firstLine[index] = rows.lines[i];
    trace.reads[index] = rows.reads[i] / seconds;
    trace.writes[index] = rows.writes[i] / seconds;
  }
  return trace;
}

/** Smallest positive gap between distinct timestamps (0 when the trace has a single bucket). */
function inferBucketMs(rows: RowBuffer, startMs: number): number {
  const distinct = new Set<number>();
  for (let i = 0; i < rows.count; i++) distinct.add(rows.times[i] - startMs);
  const offsets = Float64Array.from(distinct).sort();
  let bucket = 0;
  for (let i = 1; i < offsets.length; i++) {
    const gap = offsets[i] - offsets[i - 1];
    if (bucket === 0 || gap < bucket) bucket = gap;
  }
  return bucket;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** ISO-8601 with an explicit zone (`Z` or `±hh:mm`); anything else names the line and field. */
function parseIsoUtc(value: string, file: string, line: number): number {
  const trimmed = value.trim();
  const ms = ISO_UTC.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InputValidationError(
      { file, line, field: 'timestamp' },
      `expected an ISO-8601 UTC timestamp such as 2015-03-01T00:15:00Z, found '${value}'`,
    );
  }
  return ms;
}

function parseCount(value: string, file: string, line: number, field: string): number {
  const trimmed = value.trim();
  const n = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(n)) {
    throw new InputValidationError({ file, line, field }, `expected a non-negative count, found '${value}'`);
  }
  if (n < 0)
    throw new InputValidationError({ file, line, field }, `expected a non-negative count, found ${n}`);
  return n;
}
