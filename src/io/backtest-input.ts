import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { InputValidationError } from '../domain/errors.ts';
import type { SimulationInput } from '../domain/simulation/simulation-options.ts';
import { raiseSchemaError } from '../domain/topology.ts';
import type { TraceProvenance } from '../report/backtest-json.ts';
import { readPartitionsCsv } from './partitions-csv.ts';
import { readRelationshipsCsv } from './relationships-csv.ts';
import { readTopologyJson } from './topology-json.ts';
import { readTraceCsv } from './trace-csv.ts';

export interface BacktestFiles {
  readonly trace: string;
  readonly partitions: string;
  readonly topology: string;
  readonly relationships?: string;
}

const provenanceSchema = z.object({
  name: z.string().optional(),
  semiSynthetic: z.boolean().optional(),
  description: z.string().optional(),
  sources: z.array(z.string()).optional(),
  license: z.string().optional(),
});

/** The name of the provenance file that may sit next to a trace (the bundled traces have one). */
export const TRACE_META_FILE = 'meta.json';

/**
 * Read and cross-check the backtest inputs: the topology first, then the partitions against its cells,
 * then the trace against its regions and the partitions (and the relationships, if any).
 */
export function readBacktestInput(files: BacktestFiles): {
  input: SimulationInput;
  provenance?: TraceProvenance;
} {
  const topology = readTopologyJson(files.topology);
  const partitions = readPartitionsCsv(
    files.partitions,
    topology.cells.map((c) => c.id),
  );
  const ids = partitions.map((p) => p.id);
  const trace = readTraceCsv(files.trace, { regions: Object.keys(topology.regions), partitions: ids });
  const relationships = files.relationships ? readRelationshipsCsv(files.relationships, ids) : undefined;
  return {
    input: { topology, trace, partitions, ...(relationships ? { relationships } : {}) },
    provenance: readProvenance(files.trace),
  };
}

/** `meta.json` next to the trace, if there is one. */
export function readProvenance(tracePath: string): TraceProvenance | undefined {
  const path = join(dirname(tracePath), TRACE_META_FILE);
  if (!existsSync(path)) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InputValidationError({ file: path }, `invalid JSON: ${(error as Error).message}`);
  }
  const parsed = provenanceSchema.safeParse(document);
  if (!parsed.success) raiseSchemaError(parsed.error, path);
  return parsed.data;
}
