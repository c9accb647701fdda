import type { CellRecord, CellStatus } from '../../src/domain/data-plane/cell-record.ts';
import {
  InvalidRequestError,
  PartitionNotFoundError,
} from '../../src/domain/data-plane/data-plane-errors.ts';
import type { PartitionRecord } from '../../src/domain/data-plane/partition-record.ts';
import type { CellRepository, PartitionRepository } from '../../src/domain/data-plane/ports.ts';
import { PrestageError } from '../../src/domain/errors.ts';
import {
  countPerCell,
  decideReservation,
  type MigrationLimits,
  type MigrationSlots,
  type ReserveOptions,
  type ReserveResult,
  type SlotHolder,
} from '../../src/domain/planning/migration-slots.ts';
import type { MovementPlan } from '../../src/domain/planning/movement-plan.ts';
import {
  type MoveKey,
  MoveNotFoundError,
  type MoveStatus,
  moveSortKey,
  moveStatusesAllowedBefore,
  newPlanHeader,
  newPlanId,
  type PlanHeader,
  type PlanMoveRecord,
  PlanNotFoundError,
  type PlanStatus,
  PlanTransitionError,
  planStatusesAllowedBefore,
} from '../../src/domain/planning/plan-record.ts';
import type {
  ApprovalNotifier,
  MovePage,
  MoveStatusChange,
  PlanMeta,
  PlanRepository,
  PlanStatusChange,
  TaskTokenSender,
} from '../../src/domain/planning/ports.ts';
import type {
  AcquireLockOptions,
  ScalingCoordination,
  ScalingLock,
} from '../../src/domain/scaling/scaling-coordination.ts';
import { ScalingInProgressError } from '../../src/domain/scaling/scaling-errors.ts';
import type { MetricName, MetricsSink, MetricUnit } from '../../src/support/metrics.ts';

/**
 * The ports of the plan workflow and of ScaleCluster in memory, with the same contracts as the DynamoDB adapters
 * (test/unit/ports/port-contracts.test.ts runs both against one suite), so the use cases can be tested without
 * dynalite. Every method copies what it stores and returns, as a table would.
 */

const copy = <T>(value: T): T => structuredClone(value);

/** Plans in memory: the lifecycle rules of plan-record.ts, pages in sort-key order. */
export class InMemoryPlanRepository implements PlanRepository {
  private readonly headers = new Map<string, PlanHeader>();
  private readonly moves = new Map<string, Map<string, PlanMoveRecord>>();
  private readonly clock: () => number;
  private generated = 0;

  /** `clock`: the time of a change that names none. */
  constructor(clock: () => number = () => 0) {
    this.clock = clock;
  }

  async create(plan: MovementPlan, meta: PlanMeta): Promise<PlanHeader> {
    const nowMs = meta.nowMs ?? this.clock();
    const planId =
      meta.planId ?? newPlanId(plan.createdAtMs, (++this.generated).toString(16).padStart(8, '0'));
    const existing = this.headers.get(planId);
    if (existing) return copy(existing);
    const expiresAt = Math.floor(plan.createdAtMs / 1000) + Math.round((meta.ttlDays ?? 30) * 86_400);
    const records = new Map<string, PlanMoveRecord>();
    for (const move of plan.moves) {
      const key = moveSortKey(move);
      if (records.has(key))
        throw new PrestageError(`plan '${planId}' has two moves with the same priority and partition`);
      records.set(key, {
        planId,
        partition: move.partition,
        from: move.from,
        to: move.to,
        bytes: move.bytes,
        priority: move.priority,
        startByMs: move.startByMs,
        deadlineMs: move.deadlineMs,
        expectedDurationMs: move.expectedDurationMs,
        benefit: move.benefit,
        reasons: move.reasons,
        ...(move.retainSource !== undefined ? { retainSource: move.retainSource } : {}),
        ...(move.delta ? { delta: move.delta } : {}),
        ...(move.notes ? { notes: move.notes } : {}),
        status: 'PENDING',
        updatedAtMs: nowMs,
        expiresAt,
      });
    }
    const header = newPlanHeader(plan, {
      planId,
      trigger: meta.trigger,
      approval: meta.approval,
      ...(meta.cycleId !== undefined ? { cycleId: meta.cycleId } : {}),
      nowMs,
      expiresAt,
    });
    this.moves.set(planId, records);
    this.headers.set(planId, header);
    return copy(header);
  }

  async getHeader(planId: string): Promise<PlanHeader | undefined> {
    const header = this.headers.get(planId);
    return header && copy(header);
  }

  async getMove(planId: string, key: MoveKey): Promise<PlanMoveRecord | undefined> {
    const move = this.moves.get(planId)?.get(moveSortKey(key));
    return move && copy(move);
  }

  /** Like a DynamoDB Query with a Limit: a full page carries a cursor, even when it ends at the last move. */
  async pageMoves(planId: string, options: { limit: number; after?: string }): Promise<MovePage> {
    const keys = [...(this.moves.get(planId)?.keys() ?? [])].sort();
    const from = options.after === undefined ? 0 : keys.findIndex((key) => key > options.after!);
    const page = from < 0 ? [] : keys.slice(from, from + options.limit);
    const moves = page.map((key) => copy(this.moves.get(planId)!.get(key)!));
    return page.length === options.limit ? { moves, next: page[page.length - 1] } : { moves };
  }

  async allMoves(planId: string): Promise<PlanMoveRecord[]> {
    const keys = [...(this.moves.get(planId)?.keys() ?? [])].sort();
    return keys.map((key) => copy(this.moves.get(planId)!.get(key)!));
  }

  async listHeaders(statuses?: readonly PlanStatus[]): Promise<PlanHeader[]> {
    return [...this.headers.values()]
      .filter((header) => !statuses || statuses.includes(header.status))
      .sort((a, b) => a.createdAtMs - b.createdAtMs || a.planId.localeCompare(b.planId))
      .map(copy);
  }

  async setPlanStatus(planId: string, to: PlanStatus, change: PlanStatusChange = {}): Promise<PlanHeader> {
    const current = this.headers.get(planId);
    if (!current) throw new PlanNotFoundError(planId);
    if (!planStatusesAllowedBefore(to).includes(current.status))
      throw new PlanTransitionError(`plan '${planId}'`, current.status, to);
    const { taskToken: _token, ...rest } = current;
    const next: PlanHeader = {
      ...(to === 'PENDING_APPROVAL' ? current : rest),
      status: to,
      updatedAtMs: change.nowMs ?? this.clock(),
      ...(change.outcomes ? { outcomes: change.outcomes } : {}),
      ...(change.statusReason !== undefined ? { statusReason: change.statusReason } : {}),
    };
    this.headers.set(planId, next);
    return copy(next);
  }

  async storeTaskToken(planId: string, taskToken: string, nowMs = this.clock()): Promise<PlanHeader> {
    const current = this.headers.get(planId);
    if (!current) throw new PlanNotFoundError(planId);
    if (current.status !== 'PENDING' && current.status !== 'PENDING_APPROVAL')
      throw new PlanTransitionError(`plan '${planId}'`, current.status, 'PENDING_APPROVAL');
    const next: PlanHeader = { ...current, status: 'PENDING_APPROVAL', taskToken, updatedAtMs: nowMs };
    this.headers.set(planId, next);
    return copy(next);
  }

  async setMoveStatus(
    planId: string,
    key: MoveKey,
    to: MoveStatus,
    change: MoveStatusChange = {},
  ): Promise<PlanMoveRecord> {
    const current = this.moves.get(planId)?.get(moveSortKey(key));
    if (!current) throw new MoveNotFoundError(planId, key);
    if (!moveStatusesAllowedBefore(to).includes(current.status))
      throw new PlanTransitionError(
        `move of partition '${key.partition}' in plan '${planId}'`,
        current.status,
        to,
      );
    const next: PlanMoveRecord = {
      ...current,
      status: to,
      updatedAtMs: change.nowMs ?? this.clock(),
      ...(change.executionArn !== undefined ? { executionArn: change.executionArn } : {}),
      ...(change.error !== undefined ? { error: change.error } : {}),
    };
    this.moves.get(planId)!.set(moveSortKey(key), next);
    return copy(next);
  }
}

/** Migration slots in memory: decideReservation over one holders map. */
export class InMemoryMigrationSlots implements MigrationSlots {
  /** The run-time limits, as an operator would change them. */
  limits: MigrationLimits;
  readonly holders: Record<string, SlotHolder> = {};

  constructor(limits: MigrationLimits) {
    this.limits = limits;
  }

  async readLimits(): Promise<MigrationLimits> {
    return { ...this.limits };
  }

  async reserve(
    moveId: string,
    move: { from: string; to: string },
    options: ReserveOptions,
  ): Promise<ReserveResult> {
    const decision = decideReservation(this.holders, moveId, move, options);
    if (decision.holders) {
      for (const id of Object.keys(this.holders)) delete this.holders[id];
      Object.assign(this.holders, decision.holders);
    }
    return decision.result;
  }

  async release(moveId: string, nowMs: number): Promise<number> {
    delete this.holders[moveId];
    return countPerCell(this.holders, nowMs).inFlight;
  }
}

/** The scaling lock and cooldown in memory, with the adapter's rules (expiry in epoch seconds, takeover). */
export class InMemoryScalingCoordination implements ScalingCoordination {
  readonly locks = new Map<string, ScalingLock>();
  readonly cooldowns = new Map<string, { untilMs: number; setBy: string }>();

  async cooldownUntil(region: string, nowMs: number): Promise<number | undefined> {
    const untilMs = this.cooldowns.get(region)?.untilMs;
    return untilMs !== undefined && untilMs > nowMs ? untilMs : undefined;
  }

  async startCooldown(region: string, untilMs: number, setBy: string): Promise<void> {
    this.cooldowns.set(region, { untilMs, setBy });
  }

  async acquire(options: AcquireLockOptions): Promise<ScalingLock> {
    const lock: ScalingLock = {
      owner: options.owner,
      ...(options.ownerArn ? { ownerArn: options.ownerArn } : {}),
      action: options.action,
      acquiredAtMs: options.nowMs,
      expiresAt: Math.ceil(options.nowMs / 1000) + options.ttlSeconds,
    };
    const holder = this.locks.get(options.region);
    const free =
      !holder ||
      holder.owner === options.owner ||
      holder.expiresAt < Math.floor(options.nowMs / 1000) ||
      (holder.ownerArn !== undefined &&
        options.isRunning !== undefined &&
        !(await options.isRunning(holder.ownerArn)));
    if (!free) throw new ScalingInProgressError(options.region, holder.owner);
    this.locks.set(options.region, lock);
    return { ...lock };
  }

  async release(region: string, owner: string): Promise<boolean> {
    if (this.locks.get(region)?.owner !== owner) return false;
    this.locks.delete(region);
    return true;
  }
}

/** Cells in memory; `setStatus` bumps the version, as the table's update does. */
export class InMemoryCellRepository implements CellRepository {
  private readonly cells = new Map<string, CellRecord>();

  constructor(cells: readonly CellRecord[] = []) {
    for (const cell of cells) this.cells.set(cell.id, copy(cell));
  }

  async list(): Promise<CellRecord[]> {
    return [...this.cells.values()].sort((a, b) => a.id.localeCompare(b.id)).map(copy);
  }

  async get(id: string): Promise<CellRecord | undefined> {
    const cell = this.cells.get(id);
    return cell && copy(cell);
  }

  async register(cell: CellRecord): Promise<CellRecord> {
    const existing = this.cells.get(cell.id);
    if (existing) return copy(existing);
    this.cells.set(cell.id, copy(cell));
    return copy(cell);
  }

  async setStatus(id: string, status: CellStatus): Promise<CellRecord> {
    const current = this.cells.get(id);
    if (!current) throw new InvalidRequestError('UNKNOWN_CELL', `unknown cell '${id}'`);
    const next = { ...current, status, version: current.version + 1 };
    this.cells.set(id, next);
    return copy(next);
  }
}

/** Partition records in memory; `update` applies the pure transition and bumps the version. */
export class InMemoryPartitionRepository implements PartitionRepository {
  private readonly records = new Map<string, PartitionRecord>();

  constructor(records: readonly PartitionRecord[] = []) {
    for (const record of records) this.records.set(record.partition, copy(record));
  }

  async get(partition: string): Promise<PartitionRecord | undefined> {
    const record = this.records.get(partition);
    return record && copy(record);
  }

  async createIfAbsent(record: PartitionRecord): Promise<PartitionRecord> {
    const existing = this.records.get(record.partition);
    if (existing) return copy(existing);
    this.records.set(record.partition, copy(record));
    return copy(record);
  }

  async update(
    partition: string,
    mutate: (current: PartitionRecord) => PartitionRecord | undefined,
  ): Promise<PartitionRecord> {
    const current = this.records.get(partition);
    if (!current) throw new PartitionNotFoundError(partition);
    const next = mutate(copy(current));
    if (next === undefined) return copy(current);
    const written = { ...next, version: current.version + 1 };
    this.records.set(partition, written);
    return copy(written);
  }

  async list(): Promise<PartitionRecord[]> {
    return [...this.records.values()].sort((a, b) => a.partition.localeCompare(b.partition)).map(copy);
  }
}

/** Every metric added, in order. */
export class MetricsRecorder implements MetricsSink {
  readonly added: { name: MetricName; unit: MetricUnit; value: number }[] = [];

  add(name: MetricName, unit: MetricUnit, value: number): void {
    this.added.push({ name, unit, value });
  }

  /** The sum of a counter's values. */
  total(name: MetricName): number {
    return this.added.filter((m) => m.name === name).reduce((sum, m) => sum + m.value, 0);
  }

  /** The last value of a gauge. */
  last(name: MetricName): number | undefined {
    return this.added.filter((m) => m.name === name).at(-1)?.value;
  }
}

/** Approval requests kept. */
export class NotifierRecorder implements ApprovalNotifier {
  readonly published: { subject: string; message: string }[] = [];

  async publish(subject: string, message: string): Promise<void> {
    this.published.push({ subject, message });
  }
}

/** Answers to waiting tasks kept; `failWith` makes the next answer fail with that error name. */
export class TaskTokenRecorder implements TaskTokenSender {
  readonly sent: (
    | { kind: 'success'; taskToken: string; output: string }
    | { kind: 'failure'; taskToken: string; error: string; cause: string }
  )[] = [];
  failWith?: string;

  async sendTaskSuccess(taskToken: string, output: string): Promise<void> {
    this.refuseIfAsked();
    this.sent.push({ kind: 'success', taskToken, output });
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    this.refuseIfAsked();
    this.sent.push({ kind: 'failure', taskToken, error, cause });
  }

  private refuseIfAsked(): void {
    if (this.failWith === undefined) return;
    const error = new Error(`${this.failWith} (from the test)`);
    error.name = this.failWith;
    this.failWith = undefined;
    throw error;
  }
}
