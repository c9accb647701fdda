import { InputValidationError } from '../domain/errors.ts';
import type { PartitionSpec } from '../domain/simulation/demand-trace.ts';
import { parseCsv, parseNonNegative, requireColumn } from './csv.ts';
import { readInputTextSync } from './input-file.ts';

/**
 * Partitions CSV: `partition,sizeBytes,cell`, the initial placement. `cells` are the cell ids that exist
 * at the start (the topology's `cells`); a row naming another cell is an error naming its line.
 */
export function parsePartitionsCsv(text: string, file: string, cells: readonly string[]): PartitionSpec[] {
  const table = parseCsv(text, file);
  const idCol = requireColumn(table, 'partition');
  const sizeCol = requireColumn(table, 'sizeBytes');
  const cellCol = requireColumn(table, 'cell');
  const known = new Set(cells);
  const firstLine = new Map<string, number>();
  const partitions: PartitionSpec[] = [];
  for (const row of table.rows) {
    const id = row.cells[idCol].trim();
    if (id === '') {
      throw new InputValidationError({ file, line: row.line, field: 'partition' }, 'expected a partition id');
    }
    const seen = firstLine.get(id);
    if (seen !== undefined) {
      throw new InputValidationError(
        { file, line: row.line, field: 'partition' },
        `duplicate partition '${id}' (first at line ${seen})`,
      );
    }
    firstLine.set(id, row.line);
    const sizeBytes = parseNonNegative(row.cells[sizeCol], file, row.line, 'sizeBytes');
    const cell = row.cells[cellCol].trim();
    if (!known.has(cell)) {
      throw new InputValidationError(
        { file, line: row.line, field: 'cell' },
        `unknown cell '${cell}'; expected one of the topology's cells: ${cells.join(', ')}`,
      );
    }
    partitions.push({ id, sizeBytes, cell });
  }
  if (partitions.length === 0) {
    throw new InputValidationError({ file, line: 2 }, 'no partitions; expected at least one data row');
  }
  return partitions;
}

export function readPartitionsCsv(path: string, cells: readonly string[]): PartitionSpec[] {
  return parsePartitionsCsv(readInputTextSync(path), path, cells);
}
