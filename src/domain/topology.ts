import { z } from 'zod';
import { InputValidationError } from './errors.ts';

/**
 * The deployment shape shared by the planner, the simulator and the CLI:
 * regions, the region-to-region latency matrix, cells (one DynamoDB table each) and scaling events.
 */
export interface RegionInfo {
  readonly utcOffsetHours: number;
}

export interface CellSpec {
  readonly id: string;
  readonly region: string;
  readonly capacityOpsPerSec: number;
  readonly capacityBytes: number;
}

export type ScalingEvent =
  | { readonly at: string; readonly action: 'add'; readonly cell: CellSpec }
  | { readonly at: string; readonly action: 'remove'; readonly cellId: string };

/** Alarm-driven scale-out: a region above `utilizationThreshold` for `sustainMinutes` gets a new cell. */
export interface AlarmScalingConfig {
  readonly utilizationThreshold: number;
  readonly sustainMinutes: number;
  readonly provisionMinutes: number;
  readonly cooldownMinutes: number;
  readonly maxCellsPerRegion: number;
  readonly cellCapacityOpsPerSec: number;
  readonly cellCapacityBytes: number;
}

export interface Topology {
  readonly regions: Readonly<Record<string, RegionInfo>>;
  readonly latencyMs: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly transferCostPerGB: number;
  readonly migrationBandwidthBytesPerSec: number;
  readonly cells: readonly CellSpec[];
  readonly scalingEvents: readonly ScalingEvent[];
  readonly alarmScaling?: AlarmScalingConfig;
  /**
   * Price of one cell-hour in service, US dollars, for the cell-hour term of the scaling decisions. Absent: the
   * cell's capacity priced as DynamoDB provisioned capacity (`DEFAULT_PRICE_PER_OPS_HOUR_USD`, cell-price.ts).
   */
  readonly cellHourPriceUsd?: number;
}

const nonNegative = z.number().finite().nonnegative();
const positive = z.number().finite().positive();
const cellSchema = z.strictObject({
  id: z.string().min(1),
  region: z.string().min(1),
  capacityOpsPerSec: positive,
  capacityBytes: positive,
});

export const topologySchema = z.strictObject({
  regions: z.record(z.string().min(1), z.strictObject({ utcOffsetHours: z.number().min(-12).max(14) })),
  latencyMs: z.record(z.string(), z.record(z.string(), nonNegative)),
  transferCostPerGB: nonNegative,
  migrationBandwidthBytesPerSec: positive,
  cells: z.array(cellSchema).min(1),
  scalingEvents: z
    .array(
      z.discriminatedUnion('action', [
        z.strictObject({ at: z.iso.datetime({ offset: true }), action: z.literal('add'), cell: cellSchema }),
        z.strictObject({
          at: z.iso.datetime({ offset: true }),
          action: z.literal('remove'),
          cellId: z.string().min(1),
        }),
      ]),
    )
    .default([]),
  alarmScaling: z
    .strictObject({
      utilizationThreshold: z.number().gt(0).lte(1).default(0.8),
      sustainMinutes: positive.default(10),
      provisionMinutes: nonNegative.default(5),
      cooldownMinutes: nonNegative.default(60),
      maxCellsPerRegion: z.number().int().positive().default(8),
      cellCapacityOpsPerSec: positive,
      cellCapacityBytes: positive,
    })
    .optional(),
  cellHourPriceUsd: nonNegative.optional(),
});

/** Format a zod issue path as `cells[2].region`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Throw the first zod issue as an InputValidationError naming the file and field. */
export function raiseSchemaError(error: z.ZodError, file: string, fieldPrefix = ''): never {
  const issue = error.issues[0];
  const path = formatPath(issue.path);
  const field = fieldPrefix && path ? `${fieldPrefix}.${path}` : fieldPrefix || path || '(root)';
  throw new InputValidationError({ file, field }, issue.message);
}

/**
 * Validate a topology document: shape first, then cross-references
 * (every cell and latency row names a known region, every region pair has a latency, cell ids are unique).
 */
export function parseTopology(input: unknown, file = 'topology'): Topology {
  const parsed = topologySchema.safeParse(input);
  if (!parsed.success) raiseSchemaError(parsed.error, file);
  const topology = parsed.data as Topology;
  const regionNames = Object.keys(topology.regions);
  if (regionNames.length === 0) {
    throw new InputValidationError({ file, field: 'regions' }, 'expected at least one region');
  }
  const known = new Set(regionNames);
  for (const a of regionNames) {
    for (const b of regionNames) {
      const ms = topology.latencyMs[a]?.[b] ?? topology.latencyMs[b]?.[a];
      if (ms === undefined && a !== b) {
        throw new InputValidationError(
          { file, field: `latencyMs.${a}.${b}` },
          `missing latency between regions '${a}' and '${b}'`,
        );
      }
    }
  }
  for (const [a, row] of Object.entries(topology.latencyMs)) {
    if (!known.has(a)) throw unknownRegion(file, `latencyMs.${a}`, a, regionNames);
    for (const b of Object.keys(row)) {
      if (!known.has(b)) throw unknownRegion(file, `latencyMs.${a}.${b}`, b, regionNames);
    }
  }
  const ids = new Set<string>();
  const checkCell = (cell: CellSpec, field: string) => {
    if (!known.has(cell.region)) throw unknownRegion(file, `${field}.region`, cell.region, regionNames);
    if (ids.has(cell.id))
      throw new InputValidationError({ file, field: `${field}.id` }, `duplicate cell id '${cell.id}'`);
    ids.add(cell.id);
  };
  topology.cells.forEach((cell, i) => {
    checkCell(cell, `cells[${i}]`);
  });
  topology.scalingEvents.forEach((event, i) => {
    if (event.action === 'add') checkCell(event.cell, `scalingEvents[${i}].cell`);
    else if (!ids.has(event.cellId)) {
      throw new InputValidationError(
        { file, field: `scalingEvents[${i}].cellId` },
        `unknown cell '${event.cellId}'; expected one of ${[...ids].join(', ')}`,
      );
    }
  });
  return topology;
}

function unknownRegion(file: string, field: string, region: string, known: string[]): InputValidationError {
  return new InputValidationError(
    { file, field },
    `unknown region '${region}'; expected one of ${known.join(', ')}`,
  );
}

/** Symmetric latency lookup; 0 within a region unless the matrix says otherwise. */
export function latencyBetween(topology: Topology, a: string, b: string): number {
  return topology.latencyMs[a]?.[b] ?? topology.latencyMs[b]?.[a] ?? (a === b ? 0 : Number.POSITIVE_INFINITY);
}
