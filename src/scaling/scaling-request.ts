import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CellRecord } from '../domain/data-plane/cell-record.ts';
import { InvalidScalingRequestError } from '../domain/scaling/scaling-errors.ts';
import {
  type CellAlarmDefinitions,
  type CellAlarmSettings,
  cellAlarmDefinitions,
  cellAlarmNames,
} from './cell-alarm-definitions.ts';

/**
 * The inputs ScaleCluster accepts, and their normalized form.
 *
 * - an EventBridge `CloudWatch Alarm State Change` event of a cell capacity alarm (`<capacityAlarmPrefix><cellId>`)
 *   in state ALARM: one new cell in the alarmed cell's region;
 * - `{"action":"scale-out","region","cells"?,"capacityOpsPerSec"?,"capacityBytes"?,"reason"?,"force"?}` (manual);
 * - `{"action":"scale-out","region","cells","reason":"predicted-shortfall","source":"profiler",…}` (predictive);
 * - `{"action":"scale-in","cellId","reason"?,"force"?}` (manual);
 * - `{"action":"scale-in","cellId","reason":"predicted-spare-capacity","source":"profiler"}` (predictive: the cell
 *   the domain's forecast-driven scale-in chose, src/domain/planning/scale-in.ts).
 *
 * `force` skips the cooldown (never the lock). Manual inputs are strict: an unknown field is an error, so a typo
 * in the console does not pass silently; the profiler may add fields of its own.
 */

/** At most this many cells per scale-out (a guard against a typo in the console). */
export const MAX_CELLS_PER_SCALE_OUT = 10;

export type ScalingSource = 'alarm' | 'manual' | 'profiler';

export interface NewCellSpec {
  readonly cellId: string;
  readonly region: string;
  readonly table: string;
  readonly capacityOpsPerSec: number;
  readonly capacityBytes: number;
  /** PutMetricAlarm input of the cell's capacity and canary alarms, created before the cell turns ACTIVE. */
  readonly alarms: CellAlarmDefinitions;
}

interface RequestBase {
  readonly region: string;
  /** Cells the planner treats as PROVISIONING (scale-out) or DRAINING (scale-in). */
  readonly cellIds: readonly string[];
  readonly reason: string;
  readonly source: ScalingSource;
  readonly force: boolean;
}

export interface ScaleOutRequest extends RequestBase {
  readonly action: 'scale-out';
  readonly cells: readonly NewCellSpec[];
  readonly alarmName?: string;
}

export interface ScaleInRequest extends RequestBase {
  readonly action: 'scale-in';
  readonly cellId: string;
  readonly table: string;
  /** Name of the on-demand backup taken before the table is deleted. */
  readonly backupName: string;
  /** The cell's capacity and canary alarms, deleted after its table. */
  readonly alarmNames: readonly string[];
}

export type ScalingRequest = ScaleOutRequest | ScaleInRequest;

export interface ScalingRequestContext {
  readonly cells: readonly CellRecord[];
  readonly homeRegion: string;
  /** Regions with a data stack; empty means "the home region and every region that has a cell". */
  readonly dataRegions: readonly string[];
  readonly cellTablePrefix: string;
  /** Names and threshold of the cells' alarms (an alarm event names its cell after the capacity prefix). */
  readonly alarms: CellAlarmSettings;
  /** The ScaleCluster execution name: new cell ids derive from it, so a retried step registers the same cells. */
  readonly executionName: string;
}

const positive = z.number().finite().positive();

const alarmEventSchema = z.object({
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  source: z.literal('aws.cloudwatch'),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.string(), reason: z.string().optional() }),
  }),
});

const scaleOutShape = {
  action: z.literal('scale-out'),
  region: z.string().min(1),
  cells: z.number().int().min(1).max(MAX_CELLS_PER_SCALE_OUT).default(1),
  capacityOpsPerSec: positive.optional(),
  capacityBytes: positive.optional(),
  reason: z.string().max(500).optional(),
  source: z.enum(['manual', 'profiler']).default('manual'),
  force: z.boolean().default(false),
};
const scaleInShape = {
  action: z.literal('scale-in'),
  cellId: z.string().min(1),
  reason: z.string().max(500).optional(),
  source: z.enum(['manual', 'profiler']).default('manual'),
  force: z.boolean().default(false),
};

const EXPECTED =
  'expected a CloudWatch Alarm State Change event, {"action":"scale-out","region","cells"} or {"action":"scale-in","cellId"}';

function invalid(field: string, problem: string): never {
  throw new InvalidScalingRequestError(`input field '${field}': ${problem}`);
}

function parseWith<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    invalid(issue.path.join('.') || '(input)', issue.message);
  }
  return parsed.data;
}

function rejectUnknownFields(input: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length > 0) invalid(unknown[0], `unknown field; expected one of ${known.join(', ')}`);
}

/** A short, stable digest of the execution name (ids and names derived from it stay short). */
export function executionDigest(executionName: string): string {
  return createHash('sha256').update(executionName).digest('hex').slice(0, 6);
}

/** Deterministic ids of the cells one scale-out adds: `<region>-s<digest>-<n>`. */
export function newCellIds(region: string, executionName: string, count: number): string[] {
  const digest = executionDigest(executionName);
  return Array.from({ length: count }, (_, i) => `${region}-s${digest}-${i + 1}`);
}

/** A DynamoDB backup name (3–255 of `[A-Za-z0-9_.-]`) for a cell's final backup. */
export function finalBackupName(table: string, executionName: string): string {
  const suffix = `-final-${executionName.replace(/[^A-Za-z0-9_.-]/g, '_')}`.slice(0, 96);
  return `${table.slice(0, 255 - suffix.length)}${suffix}`;
}

function allowedRegions(context: ScalingRequestContext): Set<string> {
  const regions = new Set([context.homeRegion, ...context.dataRegions]);
  if (context.dataRegions.length === 0) for (const cell of context.cells) regions.add(cell.region);
  return regions;
}

function checkRegion(region: string, field: string, context: ScalingRequestContext): void {
  const allowed = allowedRegions(context);
  if (!allowed.has(region))
    invalid(field, `region '${region}' has no data stack; expected one of ${[...allowed].sort().join(', ')}`);
}

function findCell(cellId: string, field: string, context: ScalingRequestContext): CellRecord {
  const cell = context.cells.find((c) => c.id === cellId);
  if (!cell) {
    const known = context.cells.map((c) => c.id);
    invalid(
      field,
      `unknown cell '${cellId}'; expected one of ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}`,
    );
  }
  return cell;
}

/** Capacity of a new cell: as asked, else like the largest ACTIVE cell of the region, else of the cluster. */
function newCellCapacity(
  region: string,
  asked: { capacityOpsPerSec?: number; capacityBytes?: number },
  context: ScalingRequestContext,
): { capacityOpsPerSec: number; capacityBytes: number } {
  const active = context.cells.filter((c) => c.status === 'ACTIVE');
  const inRegion = active.filter((c) => c.region === region);
  const pool = inRegion.length > 0 ? inRegion : active;
  const model = pool.reduce<CellRecord | undefined>(
    (best, c) => (!best || c.capacityOpsPerSec > best.capacityOpsPerSec ? c : best),
    undefined,
  );
  const capacityOpsPerSec = asked.capacityOpsPerSec ?? model?.capacityOpsPerSec;
  const capacityBytes = asked.capacityBytes ?? model?.capacityBytes;
  if (capacityOpsPerSec === undefined || capacityBytes === undefined)
    invalid(
      'capacityOpsPerSec',
      'no ACTIVE cell to copy the capacity from; give capacityOpsPerSec and capacityBytes',
    );
  return { capacityOpsPerSec, capacityBytes };
}

function scaleOut(
  region: string,
  count: number,
  asked: { capacityOpsPerSec?: number; capacityBytes?: number },
  meta: { reason: string; source: ScalingSource; force: boolean; alarmName?: string },
  context: ScalingRequestContext,
): ScaleOutRequest {
  const capacity = newCellCapacity(region, asked, context);
  const ids = newCellIds(region, context.executionName, count);
  const cells = ids.map((cellId) => {
    const existing = context.cells.find((c) => c.id === cellId);
    // Same id from an earlier attempt of this execution is fine (registration is idempotent); anything else is not.
    if (existing && existing.status !== 'PROVISIONING' && existing.status !== 'ACTIVE')
      invalid('cells', `cell id '${cellId}' is taken by a ${existing.status} cell; start a new execution`);
    const table = `${context.cellTablePrefix}${cellId}`;
    const alarms = cellAlarmDefinitions(
      { cellId, table, capacityOpsPerSec: capacity.capacityOpsPerSec },
      context.alarms,
    );
    return { cellId, region, table, ...capacity, alarms };
  });
  return { action: 'scale-out', region, cellIds: ids, cells, ...meta };
}

/** Validate and normalize a ScaleCluster start input; a bad one throws InvalidScalingRequestError. */
export function normalizeScalingRequest(input: unknown, context: ScalingRequestContext): ScalingRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) invalid('(input)', EXPECTED);
  const record = input as Record<string, unknown>;
  if ('detail-type' in record) {
    const event = parseWith(alarmEventSchema, record);
    const { alarmName, state } = event.detail;
    if (state.value !== 'ALARM')
      invalid('detail.state.value', `the alarm is in state '${state.value}'; only ALARM scales out`);
    if (!alarmName.startsWith(context.alarms.capacityAlarmPrefix))
      invalid(
        'detail.alarmName',
        `'${alarmName}' is not a cell capacity alarm; expected '${context.alarms.capacityAlarmPrefix}<cellId>'`,
      );
    const cell = findCell(
      alarmName.slice(context.alarms.capacityAlarmPrefix.length),
      'detail.alarmName',
      context,
    );
    checkRegion(cell.region, 'detail.alarmName', context);
    const why = state.reason ? `: ${state.reason}` : '';
    return scaleOut(
      cell.region,
      1,
      {},
      { reason: `alarm ${alarmName}${why}`.slice(0, 500), source: 'alarm', force: false, alarmName },
      context,
    );
  }
  if (record.action === 'scale-out') {
    const parsed = parseWith(z.object(scaleOutShape), record);
    if (parsed.source !== 'profiler') rejectUnknownFields(record, Object.keys(scaleOutShape));
    checkRegion(parsed.region, 'region', context);
    return scaleOut(
      parsed.region,
      parsed.cells,
      parsed,
      {
        reason: parsed.reason ?? (parsed.source === 'profiler' ? 'predicted-shortfall' : 'manual scale-out'),
        source: parsed.source,
        force: parsed.force,
      },
      context,
    );
  }
  if (record.action === 'scale-in') {
    const parsed = parseWith(z.object(scaleInShape), record);
    if (parsed.source !== 'profiler') rejectUnknownFields(record, Object.keys(scaleInShape));
    const cell = findCell(parsed.cellId, 'cellId', context);
    if (cell.status === 'RETIRED') invalid('cellId', `cell '${cell.id}' is already RETIRED`);
    if (cell.status === 'PROVISIONING')
      invalid('cellId', `cell '${cell.id}' is still PROVISIONING; let its scale-out finish first`);
    checkRegion(cell.region, 'cellId', context);
    if (!context.cells.some((c) => c.id !== cell.id && c.status === 'ACTIVE'))
      invalid('cellId', `cell '${cell.id}' is the last ACTIVE cell; add a cell before removing it`);
    return {
      action: 'scale-in',
      region: cell.region,
      cellId: cell.id,
      cellIds: [cell.id],
      table: cell.table,
      backupName: finalBackupName(cell.table, context.executionName),
      alarmNames: cellAlarmNames(cell.id, context.alarms),
      reason:
        parsed.reason ?? (parsed.source === 'profiler' ? 'predicted-spare-capacity' : 'manual scale-in'),
      source: parsed.source,
      force: parsed.force,
    };
  }
  return invalid(
    'action',
    `${record.action === undefined ? 'missing' : `'${String(record.action)}'`}; ${EXPECTED}`,
  );
}
