import { z } from 'zod';
import type { CellRecord, CellStatus } from '../domain/data-plane/cell-record.ts';
import type { CellRepository, PartitionRepository } from '../domain/data-plane/ports.ts';
import type { ScalingCoordination } from '../domain/scaling/scaling-coordination.ts';
import { DrainIncompleteError } from '../domain/scaling/scaling-errors.ts';
import { SCALING_STAGES } from './scale-cluster-tasks.ts';
import { normalizeScalingRequest, type ScalingRequest } from './scaling-request.ts';

/**
 * What the ScaleCluster steps need: ports, bound to AWS in the Lambdas (src/lambda/aws-scale-cluster-deps.ts),
 * to dynalite in the local runs, and to memory in the unit tests.
 */
export interface ScaleClusterDeps {
  readonly cells: CellRepository;
  readonly partitions: Pick<PartitionRepository, 'list' | 'update'>;
  readonly coordination: ScalingCoordination;
  readonly config: ScaleClusterConfig;
  /** Whether a ScaleCluster execution still runs (frees locks of stopped executions). @default unknown */
  readonly isExecutionRunning?: (executionArn: string) => Promise<boolean>;
  readonly now: () => number;
}

export interface ScaleClusterConfig {
  readonly homeRegion: string;
  readonly dataRegions: readonly string[];
  readonly cellTablePrefix: string;
  readonly capacityAlarmPrefix: string;
  readonly canaryAlarmPrefix: string;
  /** Share of a cell's ops/s capacity above which its capacity alarm fires, in (0, 1]. */
  readonly capacityAlarmThreshold: number;
  readonly cooldownMinutes: number;
  /** Lock lifetime; above the state machine's timeout. @default 26 h */
  readonly lockTtlSeconds?: number;
  /** Plan → run → verify rounds of a scale-in before DrainIncompleteError. @default 3 */
  readonly maxDrainRounds?: number;
}

export const DEFAULT_LOCK_TTL_SECONDS = 26 * 3600;
export const DEFAULT_MAX_DRAIN_ROUNDS = 3;

const executionSchema = z.object({ name: z.string().min(1), id: z.string().min(1) });
const newCellSchema = z.object({
  cellId: z.string().min(1),
  region: z.string().min(1),
  table: z.string().min(3),
  capacityOpsPerSec: z.number().positive(),
  capacityBytes: z.number().positive(),
});
const common = {
  region: z.string().min(1),
  cellIds: z.array(z.string().min(1)).min(1),
  reason: z.string(),
  source: z.enum(['alarm', 'manual', 'profiler']),
  force: z.boolean(),
};
const scaleOutSchema = z.object({
  action: z.literal('scale-out'),
  ...common,
  cells: z.array(newCellSchema).min(1),
  alarmName: z.string().optional(),
});
const scaleInSchema = z.object({
  action: z.literal('scale-in'),
  ...common,
  cellId: z.string().min(1),
  table: z.string().min(3),
  backupName: z.string().min(3),
});
const requestSchema = z.discriminatedUnion('action', [scaleOutSchema, scaleInSchema]);
const guardSchema = z.object({ acquired: z.boolean() }).loose();
const drainSchema = z.object({ round: z.number().int().positive() }).loose();

export const parseRequestEventSchema = z.object({ input: z.unknown(), execution: executionSchema });
export const lockEventSchema = z.object({ execution: executionSchema, request: requestSchema });
export const registerCellsEventSchema = z.object({ execution: executionSchema, request: scaleOutSchema });
export const setCellStatusEventSchema = z.object({
  cellIds: z.array(z.string().min(1)).min(1),
  status: z.enum(['ACTIVE', 'PROVISIONING', 'DRAINING', 'RETIRED']),
});
export const verifyDrainedEventSchema = z.object({ request: scaleInSchema, drain: drainSchema });
export const completeScalingEventSchema = lockEventSchema;
export const abortScalingEventSchema = z.object({
  execution: executionSchema,
  request: requestSchema.optional(),
  guard: guardSchema.optional(),
  drain: drainSchema.optional(),
  failedStage: z.enum(SCALING_STAGES).optional(),
  error: z.object({ Error: z.string(), Cause: z.string().optional() }).loose().optional(),
});

export type Execution = z.infer<typeof executionSchema>;

/** ParseRequest: the normalized request (InvalidScalingRequestError for a bad input). */
export async function parseRequest(
  deps: ScaleClusterDeps,
  event: z.infer<typeof parseRequestEventSchema>,
): Promise<ScalingRequest> {
  const cells = await deps.cells.list();
  return normalizeScalingRequest(event.input, {
    cells,
    homeRegion: deps.config.homeRegion,
    dataRegions: deps.config.dataRegions,
    cellTablePrefix: deps.config.cellTablePrefix,
    alarms: {
      capacityAlarmPrefix: deps.config.capacityAlarmPrefix,
      canaryAlarmPrefix: deps.config.canaryAlarmPrefix,
      capacityAlarmThreshold: deps.config.capacityAlarmThreshold,
    },
    executionName: event.execution.name,
  });
}

export type GuardResult =
  | { readonly acquired: true; readonly lockKey: string; readonly expiresAt: number }
  | { readonly acquired: false; readonly reason: 'cooldown'; readonly cooldownUntil: string };

/** AcquireLock: skip during the cooldown (unless forced), else take the region's lock or fail. */
export async function acquireLock(
  deps: ScaleClusterDeps,
  event: z.infer<typeof lockEventSchema>,
): Promise<GuardResult> {
  const nowMs = deps.now();
  const { region, action, force } = event.request;
  if (!force) {
    const until = await deps.coordination.cooldownUntil(region, nowMs);
    if (until !== undefined)
      return { acquired: false, reason: 'cooldown', cooldownUntil: new Date(until).toISOString() };
  }
  const lock = await deps.coordination.acquire({
    region,
    owner: event.execution.name,
    ownerArn: event.execution.id,
    action,
    nowMs,
    ttlSeconds: deps.config.lockTtlSeconds ?? DEFAULT_LOCK_TTL_SECONDS,
    isRunning: deps.isExecutionRunning,
  });
  return { acquired: true, lockKey: `scaling-lock#${region}`, expiresAt: lock.expiresAt };
}

/** RegisterCells: the new cells, PROVISIONING (a retry registers nothing twice). */
export async function registerCells(
  deps: ScaleClusterDeps,
  event: z.infer<typeof registerCellsEventSchema>,
): Promise<{ registered: string[] }> {
  for (const cell of event.request.cells) {
    await deps.cells.register({
      id: cell.cellId,
      region: cell.region,
      table: cell.table,
      capacityOpsPerSec: cell.capacityOpsPerSec,
      capacityBytes: cell.capacityBytes,
      status: 'PROVISIONING',
      version: 1,
      scaledOutAtMs: deps.now(),
    });
  }
  return { registered: event.request.cells.map((c) => c.cellId) };
}

/** SetCellStatus: set the status of each cell (idempotent). */
export async function setCellStatus(
  deps: ScaleClusterDeps,
  event: z.infer<typeof setCellStatusEventSchema>,
): Promise<{ cellIds: string[]; status: CellStatus }> {
  for (const id of event.cellIds) await deps.cells.setStatus(id, event.status);
  return { cellIds: event.cellIds, status: event.status };
}

export interface DrainCheck {
  readonly drained: boolean;
  /** Partitions still on the cell (as primary, migration peer or fence end). */
  readonly remaining: number;
  /** Round of the next plan, when not drained. */
  readonly round: number;
  /** Retained (cold or stale) copies on the cell forgotten, once drained. */
  readonly replicasForgotten?: number;
}

/**
 * VerifyDrained: the partition table must not name the cell as primary, migration peer or fence end. Once it
 * does not, copies the cell still holds as a retained replica are forgotten (the table is about to go).
 */
export async function verifyDrained(
  deps: ScaleClusterDeps,
  event: z.infer<typeof verifyDrainedEventSchema>,
): Promise<DrainCheck> {
  const cellId = event.request.cellId;
  const round = event.drain.round;
  const partitions = await deps.partitions.list();
  const holding = partitions
    .filter(
      (p) =>
        p.cell === cellId ||
        p.routing.peer === cellId ||
        p.fence?.sourceCell === cellId ||
        p.fence?.targetCell === cellId,
    )
    .map((p) => p.partition);
  if (holding.length > 0) {
    const maxRounds = deps.config.maxDrainRounds ?? DEFAULT_MAX_DRAIN_ROUNDS;
    if (round >= maxRounds) throw new DrainIncompleteError(cellId, holding, round);
    return { drained: false, remaining: holding.length, round: round + 1 };
  }
  let replicasForgotten = 0;
  for (const p of partitions.filter((x) => x.replicas[cellId] !== undefined)) {
    await deps.partitions.update(p.partition, (current) => {
      if (current.replicas[cellId] === undefined) return undefined;
      const { [cellId]: _gone, ...replicas } = current.replicas;
      return { ...current, replicas };
    });
    replicasForgotten++;
  }
  return { drained: true, remaining: 0, round, replicasForgotten };
}

export interface ScalingSummary {
  readonly action: ScalingRequest['action'];
  readonly region: string;
  readonly cellIds: readonly string[];
  readonly cooldownUntil?: string;
  readonly lockReleased: boolean;
}

/** CompleteScaling: start the region's cooldown and release its lock. */
export async function completeScaling(
  deps: ScaleClusterDeps,
  event: z.infer<typeof completeScalingEventSchema>,
): Promise<ScalingSummary> {
  const { region, action, cellIds } = event.request;
  const cooldownMs = deps.config.cooldownMinutes * 60_000;
  let cooldownUntil: string | undefined;
  if (cooldownMs > 0) {
    const untilMs = deps.now() + cooldownMs;
    await deps.coordination.startCooldown(region, untilMs, event.execution.name);
    cooldownUntil = new Date(untilMs).toISOString();
  }
  const lockReleased = await deps.coordination.release(region, event.execution.name);
  return { action, region, cellIds, ...(cooldownUntil ? { cooldownUntil } : {}), lockReleased };
}

export interface AbortResult {
  readonly failedStage?: string;
  readonly error?: string;
  /** Status each cell was put in (absent: left as it was). */
  readonly cellStatus: Record<string, CellStatus>;
  readonly lockReleased: boolean;
}

const SCALE_OUT_BEFORE_ACTIVE = new Set(['register', 'provision', 'activate']);

/**
 * AbortScaling, on every failure after the lock was taken:
 * - scale-out that failed before its cells were ACTIVE: those still PROVISIONING become RETIRED (inert; an
 *   empty table may be left); later failures leave them ACTIVE (real, possibly partly filled cells);
 * - scale-in that failed before its first plan ran: the cell is ACTIVE again; later, it stays DRAINING (the
 *   scheduled planner keeps draining it; a new scale-in finishes the job); once its table is deleted (backed
 *   up first), a failure deleting its alarms leaves it RETIRED: the cell is gone, only the alarms are left;
 * then the lock is released.
 */
export async function abortScaling(
  deps: ScaleClusterDeps,
  event: z.infer<typeof abortScalingEventSchema>,
): Promise<AbortResult> {
  const cellStatus: Record<string, CellStatus> = {};
  const { request, failedStage } = event;
  if (request && event.guard?.acquired) {
    const existing = new Map<string, CellRecord>();
    for (const id of request.cellIds) {
      const cell = await deps.cells.get(id);
      if (cell) existing.set(id, cell);
    }
    const set = async (id: string, status: CellStatus) => {
      if (!existing.has(id) || existing.get(id)?.status === status) return;
      await deps.cells.setStatus(id, status);
      cellStatus[id] = status;
    };
    if (request.action === 'scale-out') {
      const target = failedStage && SCALE_OUT_BEFORE_ACTIVE.has(failedStage) ? 'RETIRED' : 'ACTIVE';
      for (const id of request.cellIds) {
        if (existing.get(id)?.status === 'PROVISIONING') await set(id, target);
      }
    } else {
      const firstRound = (event.drain?.round ?? 1) === 1;
      const beforePlanRan = failedStage === 'drain-mark' || (failedStage === 'plan' && firstRound);
      if (beforePlanRan && existing.get(request.cellId)?.status === 'DRAINING')
        await set(request.cellId, 'ACTIVE');
      if (failedStage === 'delete-alarms') await set(request.cellId, 'RETIRED');
    }
  }
  const lockReleased =
    request && event.guard?.acquired
      ? await deps.coordination.release(request.region, event.execution.name)
      : false;
  return {
    ...(failedStage ? { failedStage } : {}),
    ...(event.error ? { error: event.error.Error } : {}),
    cellStatus,
    lockReleased,
  };
}
