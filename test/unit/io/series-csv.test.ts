import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { parseSeriesCsv, readSeriesCsv } from '../../../src/io/series-csv.ts';
import { tempDir } from '../../support/temp-dir.ts';

function error(fn: () => unknown): InputValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputValidationError) return e;
    throw e;
  }
  throw new Error('expected an InputValidationError');
}

describe('parseSeriesCsv', () => {
  it('reads timestamp,value rows onto a regular grid, NaN for missing buckets', () => {
    const series = parseSeriesCsv(
      'timestamp,value\n2015-02-26 21:42:53,104\n2015-02-26 21:47:53,100\n2015-02-26 21:57:53,80\n2015-02-26 22:02:53,0\n',
      'tweets.csv',
    );
    expect(series.startMs).toBe(Date.UTC(2015, 1, 26, 21, 42, 53));
    expect(series.intervalMs).toBe(300_000);
    expect(Array.from(series.values)).toEqual([104, 100, Number.NaN, 80, 0]);
  });

  it('reads the quoted ds,y header of the Prophet files and sorts unsorted rows', () => {
    const series = parseSeriesCsv(
      '"ds","y"\n2008-01-03,30\n2008-01-01,10\n2008-01-02,20\n2008-01-05,50\n',
      'wp.csv',
    );
    expect(series.intervalMs).toBe(86_400_000);
    expect(series.startMs).toBe(Date.UTC(2008, 0, 1));
    expect(Array.from(series.values)).toEqual([10, 20, 30, Number.NaN, 50]);
  });

  it('puts jittered timestamps in the nearest bucket and reads a chosen value column', () => {
    const series = parseSeriesCsv(
      'ds,location_4,location_41\n2023-04-01 00:00:00,903,975\n2023-04-01 01:00:00,490,652\n' +
        '2023-04-01 02:00:00,1,2\n2023-04-01 03:00:20,3,4\n2023-04-01 04:00:00,5,6\n',
      'ped.csv',
      { valueColumn: 'location_41' },
    );
    expect(series.intervalMs).toBe(3_600_000);
    expect(Array.from(series.values)).toEqual([975, 652, 2, 4, 6]);
  });

  it('rejects rows in the same bucket by default, naming both lines; sums or averages them on request', () => {
    const text =
      'timestamp,value\n2014-03-09 01:55:00,10\n2014-03-09 02:00:00,20\n2014-03-09 02:00:00,40\n2014-03-09 02:05:00,5\n';
    const e = error(() => parseSeriesCsv(text, 'dup.csv'));
    expect(e.location).toEqual({ file: 'dup.csv', line: 4, field: 'timestamp' });
    expect(e.message).toContain('line 3');
    expect(Array.from(parseSeriesCsv(text, 'dup.csv', { duplicates: 'sum' }).values)).toEqual([10, 60, 5]);
    expect(Array.from(parseSeriesCsv(text, 'dup.csv', { duplicates: 'mean' }).values)).toEqual([10, 30, 5]);
  });

  it('names file, line and field for bad values, timestamps, headers and empty histories', () => {
    expect(
      error(() => parseSeriesCsv('timestamp,value\n2015-01-01 00:00:00,abc\n', 'a.csv')).location,
    ).toEqual({
      file: 'a.csv',
      line: 2,
      field: 'value',
    });
    const negative = error(() =>
      parseSeriesCsv('timestamp,value\n2015-01-01 00:00:00,1\n2015-01-01 00:05:00,-3\n', 'b.csv'),
    );
    expect(negative.location).toEqual({ file: 'b.csv', line: 3, field: 'value' });
    expect(negative.message).toContain('non-negative');
    expect(error(() => parseSeriesCsv('ds,y\nyesterday,1\n', 'c.csv')).location).toEqual({
      file: 'c.csv',
      line: 2,
      field: 'ds',
    });
    const header = error(() => parseSeriesCsv('time,count\n2015-01-01,1\n', 'd.csv'));
    expect(header.location).toMatchObject({ file: 'd.csv', line: 1, field: 'timestamp' });
    expect(header.message).toContain("'ds'");
    expect(error(() => parseSeriesCsv('timestamp,value\n', 'e.csv')).message).toContain('empty history');
    expect(error(() => parseSeriesCsv('timestamp,value\n2015-01-01,1\n', 'f.csv')).message).toContain(
      'cannot infer the interval',
    );
  });
});

describe('readSeriesCsv', () => {
  it('reads a file and the real, unsorted Prophet example', async () => {
    const dir = tempDir('prestage-series-');
    const path = join(dir, 's.csv');
    await writeFile(path, 'timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:30:00Z,2\n');
    expect(Array.from((await readSeriesCsv(path)).values)).toEqual([1, 2]);

    const wp = await readSeriesCsv('data/real/prophet/example_wp_R.csv');
    expect(wp.intervalMs).toBe(86_400_000);
    expect(wp.startMs).toBe(Date.UTC(2008, 0, 1));
    const missing = Array.from(wp.values).filter(Number.isNaN).length;
    expect(wp.values.length - missing).toBe(2863);
    expect(missing).toBeGreaterThan(0);
  });
});
