import { z } from 'zod';
import { formatLocation, InputValidationError } from '../domain/errors.ts';
import type { CellStatus, PlannerInput, PlannerPartition } from '../domain/planning/movement-plan.ts';
import { parseTopology, raiseSchemaError, type Topology } from '../domain/topology.ts';
import { readInputText } from './input-file.ts';
import { parseJsonDocument } from './json-document.ts';

/**
 * A cluster snapshot for `prestage plan` (a dry run of the planner):
 *
 * {"topology": <Topology>, "stepSeconds": 300, "now"?: ISO,
 *  "partitions": [{"id", "sizeBytes", "cell", "forecast": {"<region>": [mean ops/s per step…]},
 *                  "forecastUpper"?: {"<region>": [upper ops/s per step…]}, "writeFraction"?, "affinity"?, "lastMovedAt"?: ISO}],
 *  "relationships"?: [{"a", "b", "coAccessPerSec"}],
 *  "inFlight"?: [{"partition", "from", "to", "bytes"}],
 *  "limits"?: {"maxConcurrentMovesPerCell"?, "maxBytesPerCycle"?, "minBenefitMargin"?, "cooldownMs"?, "headroom"?},
 *  "cellStatus"?: {"<cell id>": "ACTIVE" | "PROVISIONING" | "DRAINING" | "RETIRED"}}
 *
 * Errors name the file and the field path (`partitions[3].forecast.eu-west-1[5]`); unknown cells and
 * regions list the known ones; forecast arrays must all have the same length.
 */

const nonNegative = z.number().finite().nonnegative();
const isoTime = z.iso.datetime({ offset: true });

const snapshotSchema = z.strictObject({
  topology: z.unknown(),
  stepSeconds: z.number().finite().positive(),
  now: isoTime.optional(),
  partitions: z.array(
    z.strictObject({
      id: z.string().min(1),
      sizeBytes: nonNegative,
      cell: z.string().min(1),
      forecast: z.record(z.string(), z.array(nonNegative)),
      forecastUpper: z.record(z.string(), z.array(nonNegative)).optional(),
      writeFraction: z.number().min(0).max(1).optional(),
      affinity: z.number().min(0).max(1).optional(),
      lastMovedAt: isoTime.optional(),
    }),
  ),
  relationships: z
    .array(z.strictObject({ a: z.string().min(1), b: z.string().min(1), coAccessPerSec: nonNegative }))
    .optional(),
  inFlight: z
    .array(
      z.strictObject({
        partition: z.string().min(1),
        from: z.string().min(1),
        to: z.string().min(1),
        bytes: nonNegative,
      }),
    )
    .optional(),
  limits: z
    .strictObject({
      maxConcurrentMovesPerCell: z.number().int().nonnegative().optional(),
      maxBytesPerCycle: nonNegative.optional(),
      minBenefitMargin: nonNegative.optional(),
      cooldownMs: nonNegative.optional(),
      headroom: z.number().gt(0).lte(1).optional(),
    })
    .optional(),
  cellStatus: z.record(z.string(), z.enum(['ACTIVE', 'PROVISIONING', 'DRAINING', 'RETIRED'])).optional(),
});

export interface PlanSnapshotOptions {
  /** Planning time when the snapshot has no `now`. @default Date.now() at parse time */
  readonly nowMs?: number;
}

export async function readPlanSnapshot(path: string, options?: PlanSnapshotOptions): Promise<PlannerInput> {
  return parsePlanSnapshot(await readInputText(path), path, options);
}

/** Parse and validate a snapshot document into a PlannerInput. */
export function parsePlanSnapshot(
  text: string,
  file: string,
  options: PlanSnapshotOptions = {},
): PlannerInput {
  const document = parseJsonDocument(text, file);
  const parsed = snapshotSchema.safeParse(document);
  if (!parsed.success) raiseSchemaError(parsed.error, file);
  const snapshot = parsed.data;
  const topology = topologyOf(snapshot.topology, file);

  const fail = (field: string, problem: string): never => {
    throw new InputValidationError({ file, field }, problem);
  };
  const cellIds = topology.cells.map((c) => c.id);
  const knownCells = new Set(cellIds);
  const regions = Object.keys(topology.regions);
  const knownRegions = new Set(regions);
  const checkCell = (id: string, field: string) => {
    if (!knownCells.has(id)) fail(field, `unknown cell '${id}'; expected one of ${cellIds.join(', ')}`);
  };

  const ids = new Set<string>();
  let horizon: { length: number; field: string } | undefined;
  const partitions: PlannerPartition[] = snapshot.partitions.map((p, i) => {
    const field = `partitions[${i}]`;
    if (ids.has(p.id)) fail(`${field}.id`, `duplicate partition id '${p.id}'`);
    ids.add(p.id);
    checkCell(p.cell, `${field}.cell`);
    const series = [
      ...Object.entries(p.forecast).map(
        ([region, values]) => [`${field}.forecast.${region}`, region, values] as const,
      ),
      ...Object.entries(p.forecastUpper ?? {}).map(
        ([region, values]) => [`${field}.forecastUpper.${region}`, region, values] as const,
      ),
    ];
    for (const [at, region, values] of series) {
      if (!knownRegions.has(region))
        fail(at, `unknown region '${region}'; expected one of ${regions.join(', ')}`);
      if (!horizon) horizon = { length: values.length, field: at };
      else if (values.length !== horizon.length) {
        fail(at, `has ${values.length} steps; expected ${horizon.length} like ${horizon.field}`);
      }
    }
    return {
      id: p.id,
      sizeBytes: p.sizeBytes,
      cell: p.cell,
      forecast: p.forecast,
      ...(p.forecastUpper !== undefined ? { forecastUpper: p.forecastUpper } : {}),
      ...(p.writeFraction !== undefined ? { writeFraction: p.writeFraction } : {}),
      ...(p.affinity !== undefined ? { affinity: p.affinity } : {}),
      ...(p.lastMovedAt !== undefined ? { lastMovedAtMs: Date.parse(p.lastMovedAt) } : {}),
    };
  });
  if (horizon && horizon.length === 0) fail(horizon.field, 'expected at least one forecast step');
  const unknownPartition = (id: string, field: string) => {
    if (ids.has(id)) return;
    const some = [...ids].slice(0, 10).join(', ');
    fail(field, `unknown partition '${id}'; expected one of ${some}${ids.size > 10 ? ', …' : ''}`);
  };
  (snapshot.relationships ?? []).forEach((rel, i) => {
    unknownPartition(rel.a, `relationships[${i}].a`);
    unknownPartition(rel.b, `relationships[${i}].b`);
    if (rel.a === rel.b) fail(`relationships[${i}].b`, 'a partition cannot relate to itself');
  });
  const moving = new Set<string>();
  (snapshot.inFlight ?? []).forEach((move, i) => {
    unknownPartition(move.partition, `inFlight[${i}].partition`);
    if (moving.has(move.partition)) {
      fail(`inFlight[${i}].partition`, `partition '${move.partition}' is already in flight`);
    }
    moving.add(move.partition);
    checkCell(move.from, `inFlight[${i}].from`);
    checkCell(move.to, `inFlight[${i}].to`);
  });
  const cellStatus: Record<string, CellStatus> = {};
  for (const [id, status] of Object.entries(snapshot.cellStatus ?? {})) {
    checkCell(id, `cellStatus.${id}`);
    cellStatus[id] = status;
  }
  return {
    nowMs: snapshot.now !== undefined ? Date.parse(snapshot.now) : (options.nowMs ?? Date.now()),
    stepSeconds: snapshot.stepSeconds,
    topology,
    cellStatus,
    partitions,
    relationships: snapshot.relationships ?? [],
    inFlight: snapshot.inFlight ?? [],
    ...(snapshot.limits ? { limits: snapshot.limits } : {}),
  };
}

/** The topology, with its errors re-rooted under `topology.`. */
function topologyOf(document: unknown, file: string): Topology {
  try {
    return parseTopology(document, file);
  } catch (error) {
    if (!(error instanceof InputValidationError)) throw error;
    const field = error.location.field;
    const problem = error.message.slice(formatLocation(error.location).length);
    throw new InputValidationError(
      { file, field: field && field !== '(root)' ? `topology.${field}` : 'topology' },
      problem,
    );
  }
}
