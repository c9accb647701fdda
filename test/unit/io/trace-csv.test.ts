import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { traceIndex } from '../../../src/domain/simulation/demand-trace.ts';
import { parseTraceCsv, readTraceCsv } from '../../../src/io/trace-csv.ts';
import { assertProperty } from '../../support/property.ts';
import { tempDir } from '../../support/temp-dir.ts';

const options = { regions: ['us', 'eu'], partitions: ['a', 'b'] };
const header = 'timestamp,partition,region,reads,writes';

function failure(text: string): InputValidationError {
  try {
    parseTraceCsv(text, 'trace.csv', options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputValidationError);
    return error as InputValidationError;
  }
  throw new Error('expected an InputValidationError');
}

describe('parseTraceCsv', () => {
  it('infers the bucket, converts counts to ops/s and leaves absent rows at zero', () => {
    const trace = parseTraceCsv(
      [
        header,
        '2024-01-01T00:00:00Z,a,us,600,60',
        '2024-01-01T00:00:00Z,b,eu,300,0',
        '2024-01-01T00:10:00Z,b,eu,0,0',
        '2024-01-01T00:30:00Z,a,eu,1200,0',
      ].join('\n'),
      'trace.csv',
      options,
    );
    expect(trace.bucketMs).toBe(10 * 60_000);
    expect(trace.bucketCount).toBe(4);
    expect(trace.startMs).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(trace.reads[traceIndex(trace, 0, 0, 0)]).toBeCloseTo(1);
    expect(trace.writes[traceIndex(trace, 0, 0, 0)]).toBeCloseTo(0.1);
    expect(trace.reads[traceIndex(trace, 0, 1, 1)]).toBeCloseTo(0.5);
    expect(trace.reads[traceIndex(trace, 1, 0, 0)]).toBe(0);
    expect(trace.reads[traceIndex(trace, 2, 0, 1)]).toBe(0);
    expect(trace.reads[traceIndex(trace, 3, 0, 1)]).toBeCloseTo(2);
  });

  it('accepts CRLF, quoted fields and rows in any order', () => {
    const trace = parseTraceCsv(
      `${header}\r\n"2024-01-01T00:15:00Z",b,us,90,9\r\n2024-01-01T00:00:00Z,a,"eu",900,0\r\n`,
      'trace.csv',
      options,
    );
    expect(trace.bucketMs).toBe(15 * 60_000);
    expect(trace.reads[traceIndex(trace, 1, 1, 0)]).toBeCloseTo(0.1);
    expect(trace.reads[traceIndex(trace, 0, 0, 1)]).toBeCloseTo(1);
  });

  it.each([
    ['a negative count', '2024-01-01T00:00:00Z,a,us,-1,0', 2, 'reads'],
    ['a non-numeric count', '2024-01-01T00:00:00Z,a,us,10,lots', 2, 'writes'],
    ['an unknown region', '2024-01-01T00:00:00Z,a,mars,1,0', 2, 'region'],
    ['an unknown partition', '2024-01-01T00:00:00Z,zz,us,1,0', 2, 'partition'],
    ['a bad timestamp', 'yesterday,a,us,1,0', 2, 'timestamp'],
  ])('rejects %s, naming the file, line and field', (_, row, line, field) => {
    const error = failure(`${header}\n${row}\n2024-01-01T00:15:00Z,b,eu,1,0\n`);
    expect(error.location).toEqual({ file: 'trace.csv', line, field });
    expect(error.message).toMatch(new RegExp(`^trace.csv, line ${line}, field '${field}': `));
  });

  it('rejects a timestamp without a zone (traces are UTC, and must say so)', () => {
    const error = failure(`${header}\n2024-01-01 00:00:00,a,us,1,0\n`);
    expect(error.location.field).toBe('timestamp');
  });

  it('rejects an empty trace, a missing column and a single bucket', () => {
    expect(failure('').message).toContain('empty');
    expect(failure(`${header}\n`).message).toContain('no data rows');
    expect(failure('timestamp,partition,region,reads\n').location.field).toBe('writes');
    expect(failure(`${header}\n2024-01-01T00:00:00Z,a,us,1,0\n`).message).toContain('at least two buckets');
  });

  it('rejects a timestamp off the bucket grid and a duplicate row, naming the line', () => {
    const offGrid = failure(
      `${header}\n2024-01-01T00:00:00Z,a,us,1,0\n2024-01-01T00:10:00Z,a,us,1,0\n2024-01-01T00:25:00Z,a,us,1,0\n`,
    );
    expect(offGrid.location).toEqual({ file: 'trace.csv', line: 4, field: 'timestamp' });
    const duplicate = failure(
      `${header}\n2024-01-01T00:00:00Z,a,us,1,0\n2024-01-01T00:10:00Z,a,us,1,0\n2024-01-01T00:00:00Z,a,us,2,0\n`,
    );
    expect(duplicate.location.line).toBe(4);
    expect(duplicate.message).toContain('first at line 2');
  });

  it('reads gzip-compressed traces', () => {
    const dir = tempDir('trace-');
    const path = join(dir, 'trace.csv.gz');
    writeFileSync(
      path,
      gzipSync(`${header}\n2024-01-01T00:00:00Z,a,us,60,0\n2024-01-01T00:01:00Z,b,eu,120,0\n`),
    );
    const trace = readTraceCsv(path, options);
    expect(trace.bucketMs).toBe(60_000);
    expect(trace.reads[traceIndex(trace, 1, 1, 1)]).toBeCloseTo(2);
  });

  it('round-trips any demand grid written as rows (property)', () => {
    // Some rows are left out (they mean zero); partition a in region us stays so every bucket has a row.
    const skipped = (c: number, t: number, p: number, r: number) => c % 3 === 0 && p + r > 0 && t >= 0;
    assertProperty(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.nat({ max: 5000 }), { minLength: 48, maxLength: 48 }),
        (buckets, counts) => {
          const lines = [header];
          for (let t = 0; t < buckets; t++) {
            const stamp = new Date(Date.UTC(2024, 0, 1) + t * 300_000).toISOString();
            for (let p = 0; p < 2; p++) {
              for (let r = 0; r < 2; r++) {
                const c = counts[(t * 4 + p * 2 + r) % counts.length];
                if (skipped(c, t, p, r)) continue;
                lines.push(`${stamp},${options.partitions[p]},${options.regions[r]},${c},${c % 7}`);
              }
            }
          }
          const trace = parseTraceCsv(lines.join('\n'), 't.csv', options);
          expect(trace.bucketCount).toBe(buckets);
          for (let t = 0; t < buckets; t++) {
            for (let p = 0; p < 2; p++) {
              for (let r = 0; r < 2; r++) {
                const c = counts[(t * 4 + p * 2 + r) % counts.length];
                const expected = skipped(c, t, p, r) ? 0 : c / 300;
                expect(trace.reads[traceIndex(trace, t, p, r)]).toBeCloseTo(expected, 9);
              }
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
