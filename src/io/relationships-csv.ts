import { InputValidationError } from '../domain/errors.ts';
import type { Relationship } from '../domain/planning/movement-plan.ts';
import { parseCsv, parseNonNegative, requireColumn } from './csv.ts';
import { readInputTextSync } from './input-file.ts';

/** Relationships CSV: `a,b,coAccessPerSec`, co-accessed partition pairs; both must be known partitions. */
export function parseRelationshipsCsv(
  text: string,
  file: string,
  partitions: readonly string[],
): Relationship[] {
  const table = parseCsv(text, file);
  const aCol = requireColumn(table, 'a');
  const bCol = requireColumn(table, 'b');
  const rateCol = requireColumn(table, 'coAccessPerSec');
  const known = new Set(partitions);
  return table.rows.map((row) => {
    const [a, b] = [row.cells[aCol].trim(), row.cells[bCol].trim()];
    for (const [field, id] of [
      ['a', a],
      ['b', b],
    ] as const) {
      if (!known.has(id)) {
        throw new InputValidationError(
          { file, line: row.line, field },
          `unknown partition '${id}'; expected one listed in the partitions file`,
        );
      }
    }
    if (a === b) {
      throw new InputValidationError(
        { file, line: row.line, field: 'b' },
        `a partition cannot relate to itself`,
      );
    }
    return { a, b, coAccessPerSec: parseNonNegative(row.cells[rateCol], file, row.line, 'coAccessPerSec') };
  });
}

export function readRelationshipsCsv(path: string, partitions: readonly string[]): Relationship[] {
  return parseRelationshipsCsv(readInputTextSync(path), path, partitions);
}
