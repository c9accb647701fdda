import { InputValidationError } from '../domain/errors.ts';

/** One parsed CSV data row, with its 1-based line number in the file for error messages. */
export interface CsvRow {
  readonly line: number;
  readonly cells: readonly string[];
}

export interface CsvTable {
  readonly file: string;
  readonly header: readonly string[];
  readonly rows: readonly CsvRow[];
}

/**
 * RFC 4180 CSV parsing (quoted fields, doubled quotes, CRLF). Blank lines are skipped.
 * Every row must have as many cells as the header; the error names the line.
 */
export function parseCsv(text: string, file: string): CsvTable {
  rejectJsonAsCsv(text, file);
  const records = splitRecords(text, file);
  if (records.length === 0)
    throw new InputValidationError({ file, line: 1 }, 'file is empty; expected a header row');
  const [headerRecord, ...dataRecords] = records;
  const header = headerRecord.cells.map((h) => h.trim().replace(/^\uFEFF/, ''));
  const rows: CsvRow[] = [];
  for (const record of dataRecords) {
    if (record.cells.length !== header.length) {
      throw new InputValidationError(
        { file, line: record.line },
        `expected ${header.length} fields (${header.join(',')}), found ${record.cells.length}`,
      );
    }
    rows.push(record);
  }
  return { file, header, rows };
}

/**
 * A JSON document given where a CSV file belongs (a topology passed as `--trace`, say) would otherwise fail
 * on a field count that makes no sense to the user. A CSV header never starts with `{` or `[`.
 */
export function rejectJsonAsCsv(text: string, file: string, expectedHeader?: string): void {
  const first = /^\uFEFF?\s*([{[])/.exec(text.slice(0, 4096));
  if (!first) return;
  throw new InputValidationError(
    { file, line: 1 },
    `this is JSON, not CSV; expected a CSV file${expectedHeader ? ` with the header '${expectedHeader}'` : ' with a header row'}`,
  );
}

function splitRecords(text: string, file: string): CsvRow[] {
  const records: CsvRow[] = [];
  let cells: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let fieldStarted = false;
  const endRecord = () => {
    if (fieldStarted || cells.length > 0) {
      cells.push(field);
      records.push({ line: recordLine, cells });
    }
    cells = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"') {
      inQuotes = true;
      fieldStarted = true;
    } else if (ch === ',') {
      cells.push(field);
      field = '';
      fieldStarted = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (inQuotes) throw new InputValidationError({ file, line: recordLine }, 'unterminated quoted field');
  endRecord();
  return records;
}

/** Index of a required column, accepting any of the given aliases; the error lists what was expected. */
export function requireColumn(table: CsvTable, ...names: string[]): number {
  for (const name of names) {
    const index = table.header.indexOf(name);
    if (index >= 0) return index;
  }
  throw new InputValidationError(
    { file: table.file, line: 1, field: names[0] },
    `missing column; expected one of ${names.map((n) => `'${n}'`).join(', ')} in header '${table.header.join(',')}'`,
  );
}

/** A finite, non-negative number, or an error naming the file, line and field. */
export function parseNonNegative(value: string, file: string, line: number, field: string): number {
  const trimmed = value.trim();
  const n = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(n)) {
    throw new InputValidationError({ file, line, field }, `expected a number, found '${value}'`);
  }
  if (n < 0)
    throw new InputValidationError({ file, line, field }, `expected a non-negative number, found ${n}`);
  return n;
}

/**
 * Timestamps: ISO-8601 (with or without zone) or NAB's `YYYY-MM-DD HH:MM:SS`.
 * A value without a zone is read as UTC, as the NAB and Prophet files are.
 */
export function parseTimestamp(value: string, file: string, line: number, field: string): number {
  const trimmed = value.trim();
  let iso = trimmed.replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += 'T00:00:00Z';
  else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) iso += 'Z';
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed) || Number.isNaN(ms)) {
    throw new InputValidationError(
      { file, line, field },
      `expected an ISO-8601 timestamp such as 2015-02-26T21:42:53Z, found '${value}'`,
    );
  }
  return ms;
}
