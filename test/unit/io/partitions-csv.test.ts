import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { parsePartitionsCsv } from '../../../src/io/partitions-csv.ts';

const cells = ['us-a', 'eu-a'];

function failure(text: string): InputValidationError {
  try {
    parsePartitionsCsv(text, 'parts.csv', cells);
  } catch (error) {
    expect(error).toBeInstanceOf(InputValidationError);
    return error as InputValidationError;
  }
  throw new Error('expected an InputValidationError');
}

describe('parsePartitionsCsv', () => {
  it('reads the initial placement in file order', () => {
    const parts = parsePartitionsCsv(
      'partition,sizeBytes,cell\np1,1000,us-a\np0,5,eu-a\n',
      'parts.csv',
      cells,
    );
    expect(parts).toEqual([
      { id: 'p1', sizeBytes: 1000, cell: 'us-a' },
      { id: 'p0', sizeBytes: 5, cell: 'eu-a' },
    ]);
  });

  it('rejects an unknown cell, naming the line and field', () => {
    const error = failure('partition,sizeBytes,cell\np1,1000,us-a\np2,1000,mars-a\n');
    expect(error.location).toEqual({ file: 'parts.csv', line: 3, field: 'cell' });
    expect(error.message).toContain("unknown cell 'mars-a'");
  });

  it('rejects a bad size, a duplicate id, a missing column and an empty file', () => {
    expect(failure('partition,sizeBytes,cell\np1,-3,us-a\n').location).toEqual({
      file: 'parts.csv',
      line: 2,
      field: 'sizeBytes',
    });
    const duplicate = failure('partition,sizeBytes,cell\np1,1,us-a\np1,2,eu-a\n');
    expect(duplicate.location.line).toBe(3);
    expect(duplicate.message).toContain('first at line 2');
    expect(failure('partition,cell\np1,us-a\n').location.field).toBe('sizeBytes');
    expect(failure('partition,sizeBytes,cell\n').message).toContain('no partitions');
  });
});
