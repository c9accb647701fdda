import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { parseCsv } from '../../../src/io/csv.ts';
import { readInputText, readInputTextSync } from '../../../src/io/input-file.ts';
import { parseJsonDocument } from '../../../src/io/json-document.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

const dir = suiteTempDir('prestage-input-file-');
const CSV = 'timestamp,value\n2024-01-01T00:00:00Z,1\n';

describe('readInputText', () => {
  it('recognises gzip by its content, whatever the name says', async () => {
    const gzipNamedCsv = join(dir, 'series.csv');
    writeFileSync(gzipNamedCsv, gzipSync(CSV));
    const plainNamedGz = join(dir, 'series.csv.gz');
    writeFileSync(plainNamedGz, CSV);
    expect(readInputTextSync(gzipNamedCsv)).toBe(CSV);
    expect(await readInputText(plainNamedGz)).toBe(CSV);
  });

  it('turns a missing file and a directory into errors that name the path', async () => {
    const missing = join(dir, 'nope.csv');
    expect(() => readInputTextSync(missing)).toThrow(
      new InputValidationError({ file: missing }, 'file not found'),
    );
    await expect(readInputText(dir)).rejects.toThrow(`${dir}: is a directory; expected a file`);
  });
});

describe('a file in the other format', () => {
  it('parseCsv refuses JSON, with or without a byte-order mark and leading blank lines', () => {
    expect(() => parseCsv('\uFEFF\n  [1, 2]', 'x.csv')).toThrow('x.csv, line 1: this is JSON, not CSV');
    expect(() => parseCsv('{"a": 1}', 'x.csv')).toThrow('expected a CSV file with a header row');
  });

  it('parseJsonDocument names CSV as CSV, and leaves ordinary JSON syntax errors alone', () => {
    expect(() => parseJsonDocument('id,region\na,b\n', 't.json')).toThrow(
      "t.json, line 1: this looks like CSV (header 'id,region'), not JSON",
    );
    expect(() => parseJsonDocument('{"a": [1,]}', 't.json')).toThrow('t.json, line 1: invalid JSON');
  });
});
