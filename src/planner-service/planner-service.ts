import { createHash, randomBytes } from 'node:crypto';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type { CellRepository, PartitionRepository } from '../domain/data-plane/ports.ts';
import { InfeasiblePlacementError } from '../domain/errors.ts';
import type {
  CapacityShortfall,
  InFlightMove,
  MovementPlan,
  PlannerLimits,
} from '../domain/planning/movement-plan.ts';
import { planMoves } from '../domain/planning/placement-planner.ts';
import { newPlanId, type PlanHeader } from '../domain/planning/plan-record.ts';
import type { PlannerOptions } from '../domain/planning/planner-options.ts';
import type { PlanExecutionStarter, PlanMeta, PlanRepository } from '../domain/planning/ports.ts';
import type { ScoreRepository } from '../domain/scoring/score-record.ts';
import { PlannerRequestError } from './planner-errors.ts';
import type { PlannerEvent, ScalingEvent, ScheduleEvent } from './planner-event.ts';
import { buildPlannerInput, type PlanningMode } from './planner-input.ts';
import type { LatencyOverrides } from './region-latency.ts';
import { withStaleDropResumes } from './stale-drop-fences.ts';

export interface PlannerServiceDeps {
  readonly scores: Pick<ScoreRepository, 'listAll'>;
  readonly partitions: Pick<PartitionRepository, 'list'>;
  readonly cells: Pick<CellRepository, 'list'>;
  readonly plans: Pick<PlanRepository, 'create' | 'getHeader' | 'listHeaders' | 'allMoves'>;
  /** Needed by the schedule trigger only. */
  readonly executions?: PlanExecutionStarter;
  readonly now: () => number;
  /**
   * The control clock's reading at a data-plane timestamp. The data plane stamps partition records (a move's
   * commit, a fence's touch) on the wall clock; the planner compares them with `now` (a cooldown since the last
   * move, a stale drop fence). In AWS both are the wall clock; `prestage up` runs the loop on a trace clock.
   * @default the same instant
   */
  readonly fromDataPlaneMs?: (wallMs: number) => number;
  /** Called once per plan written (the PlanMoves metric). */
  readonly recordPlan?: (plan: { readonly moveCount: number; readonly trigger: string }) => void;
  readonly warn?: (message: string, details: Record<string, unknown>) => void;
}

export interface PlannerServiceConfig {
  /** Planning step, seconds (the profiler interval). */
  readonly stepSeconds: number;
  readonly horizonSteps: number;
  readonly homeRegion: string;
  readonly dataRegions: readonly string[];
  readonly maxConcurrentMovesPerCell: number;
  readonly maxBytesPerCycle: number;
  readonly planTtlDays: number;
  readonly approvalMode: 'auto' | 'approval';
  readonly latencyOverrides?: LatencyOverrides;
  readonly plannerOptions?: PlannerOptions;
}

export interface SchedulePlanResult {
  readonly trigger: 'schedule';
  readonly planId: string;
  readonly moveCount: number;
  readonly totalBytes: number;
  /** The plan was there already (a redelivered event): it was not planned again. */
  readonly reused: boolean;
  /** ExecutePlan was started (or had been, for this plan). */
  readonly started: boolean;
  readonly executionArn?: string;
  readonly capacityShortfalls: readonly CapacityShortfall[];
}

export interface ScalingPlanResult {
  readonly planId: string;
  readonly moveCount: number;
}

/**
 * Partition records with the stamps the planner reads (the last move's commit, the last update) on the control
 * clock, so a cooldown or a fence's staleness is judged on one clock.
 */
export function onControlClock(
  records: readonly PartitionRecord[],
  fromDataPlaneMs: (wallMs: number) => number,
): PartitionRecord[] {
  return records.map((r) => ({
    ...r,
    updatedAtMs: fromDataPlaneMs(r.updatedAtMs),
    ...(r.lastMigration
      ? { lastMigration: { ...r.lastMigration, atMs: fromDataPlaneMs(r.lastMigration.atMs) } }
      : {}),
  }));
}

/** Effectively no limit: in a scaling run ExecutePlan throttles the moves at run time. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const MAX_NAME = 80;

/** An id made safe for a Step Functions execution name (`[A-Za-z0-9-_]`, at most `max` characters). */
export function nameSafe(id: string, max: number): string {
  const clean = id.replace(/[^A-Za-z0-9_-]/g, '-');
  if (clean.length <= max && clean === id) return clean;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${clean.slice(0, Math.max(0, max - digest.length - 1))}-${digest}`;
}

/** A fresh plan id for a request that names no cycle or scaling request (see newPlanId). */
function freshPlanId(nowMs: number): string {
  return newPlanId(nowMs, randomBytes(4).toString('hex'));
}

/** Plan id of a profiler cycle (also ExecutePlan's execution name): one plan per cycle, however often asked. */
export function cyclePlanId(cycleId: string): string {
  return `cycle-${nameSafe(cycleId, MAX_NAME - 'cycle-'.length)}`;
}

/** Plan id of a scaling request's round. */
export function scalingPlanId(action: 'scale-out' | 'scale-in', requestId: string, round: number): string {
  const prefix = `${action}-`;
  const suffix = `-r${round}`;
  return `${prefix}${nameSafe(requestId, MAX_NAME - prefix.length - suffix.length)}${suffix}`;
}

/**
 * The planner use case: read scores, placement, topology and the moves in flight; plan with planMoves; write the
 * plan (header + moves, TTL); then, on the schedule, start ExecutePlan on it; for a scaling run, hand the plan id
 * back to ScaleCluster, which runs it itself.
 */
export class PlannerService {
  private readonly deps: PlannerServiceDeps;
  private readonly config: PlannerServiceConfig;

  constructor(deps: PlannerServiceDeps, config: PlannerServiceConfig) {
    this.deps = deps;
    this.config = config;
  }

  async handle(event: PlannerEvent): Promise<SchedulePlanResult | ScalingPlanResult> {
    return event.trigger === 'schedule' ? this.schedule(event) : this.scaling(event);
  }

  async schedule(event: ScheduleEvent): Promise<SchedulePlanResult> {
    const nowMs = this.deps.now();
    const planId = event.cycleId !== undefined ? cyclePlanId(event.cycleId) : freshPlanId(nowMs);
    const approval = this.config.approvalMode === 'approval';
    let header = await this.deps.plans.getHeader(planId);
    const reused = header !== undefined;
    let capacityShortfalls: readonly CapacityShortfall[] = [];
    if (!header) {
      const plan = await this.plan({ kind: 'schedule' }, nowMs, {
        maxConcurrentMovesPerCell: this.config.maxConcurrentMovesPerCell,
        maxBytesPerCycle: this.config.maxBytesPerCycle,
      });
      capacityShortfalls = plan.capacityForecast;
      header = await this.store(plan, {
        planId,
        trigger: 'schedule',
        approval,
        cycleId: event.cycleId,
        nowMs,
      });
    }
    // A plan with no moves still runs when it garbage-collects cold copies (ExecutePlan's DropColdCopies).
    if (header.moveCount === 0 && (header.coldCopyDrops?.length ?? 0) === 0)
      return {
        trigger: 'schedule',
        planId,
        moveCount: 0,
        totalBytes: 0,
        reused,
        started: false,
        capacityShortfalls,
      };
    if (!this.deps.executions)
      throw new PlannerRequestError(
        'the schedule trigger needs ExecutePlan (PRESTAGE_EXECUTE_PLAN_ARN is not set)',
      );
    const started = await this.deps.executions.start({ planId, approval: header.approval, name: planId });
    return {
      trigger: 'schedule',
      planId,
      moveCount: header.moveCount,
      totalBytes: header.totalBytes,
      reused,
      started: true,
      executionArn: started.executionArn,
      capacityShortfalls,
    };
  }

  async scaling(event: ScalingEvent): Promise<ScalingPlanResult> {
    const nowMs = this.deps.now();
    const planId =
      event.requestId !== undefined
        ? scalingPlanId(event.action, event.requestId, event.round)
        : freshPlanId(nowMs);
    const existing = await this.deps.plans.getHeader(planId);
    if (existing) return { planId, moveCount: existing.moveCount };
    const mode: PlanningMode =
      event.action === 'scale-out'
        ? { kind: 'scale-out', cellIds: event.cellIds }
        : { kind: 'scale-in', cellIds: event.cellIds };
    // Scale-out keeps the bytes budget (it fills the new cells with what is worth moving); a drain gets the bytes
    // of the draining cells on top of it (see plan()). Per-cell concurrency is ExecutePlan's run-time limit in both.
    const plan = await this.plan(
      mode,
      nowMs,
      { maxConcurrentMovesPerCell: UNLIMITED, maxBytesPerCycle: this.config.maxBytesPerCycle },
      event.region,
    );
    const header = await this.store(plan, { planId, trigger: 'scaling', approval: false, nowMs });
    return { planId, moveCount: header.moveCount };
  }

  private async plan(
    mode: PlanningMode,
    nowMs: number,
    limits: Pick<PlannerLimits, 'maxConcurrentMovesPerCell' | 'maxBytesPerCycle'>,
    region?: string,
  ): Promise<MovementPlan> {
    const [cells, stamped, scores, planMovesInFlight] = await Promise.all([
      this.deps.cells.list(),
      this.deps.partitions.list(),
      this.deps.scores.listAll(),
      this.movesOfRunningPlans(),
    ]);
    const fromDataPlaneMs = this.deps.fromDataPlaneMs;
    const partitions = fromDataPlaneMs ? onControlClock(stamped, fromDataPlaneMs) : stamped;
    if (region !== undefined && mode.kind !== 'schedule') {
      for (const id of mode.cellIds) {
        const cell = cells.find((c) => c.id === id);
        if (cell && cell.region !== region)
          throw new PlannerRequestError(
            `cellIds: cell '${id}' is in region '${cell.region}', not '${region}'`,
          );
      }
    }
    const built = buildPlannerInput({ cells, partitions, scores, planMovesInFlight }, mode, {
      nowMs,
      stepSeconds: this.config.stepSeconds,
      horizonSteps: this.config.horizonSteps,
      homeRegion: this.config.homeRegion,
      dataRegions: this.config.dataRegions,
      limits,
      latencyOverrides: this.config.latencyOverrides,
    });
    let { input } = built;
    if (mode.kind === 'scale-in') {
      // A drain must move everything the cells hold, but only that: the rest of the fleet keeps the usual budget,
      // or the drain plan would carry every move the schedule has been holding back (drain moves have the
      // highest benefit, so they take the budget first; ScaleCluster plans another round for any left over).
      const draining = new Set(mode.cellIds);
      let drainBytes = 0;
      for (const p of input.partitions) if (draining.has(p.cell)) drainBytes += p.sizeBytes;
      input = {
        ...input,
        limits: { ...input.limits, maxBytesPerCycle: drainBytes + limits.maxBytesPerCycle },
      };
    }
    // Demand beyond every cell's capacity is what scaling is for: plan anyway and report the shortfall.
    const options = { demandBeyondCapacity: 'report' as const, ...this.config.plannerOptions };
    try {
      return withStaleDropResumes(planMoves(input, options), partitions, nowMs);
    } catch (error) {
      if (mode.kind !== 'schedule' || !(error instanceof InfeasiblePlacementError)) throw error;
      // A drain the other cells cannot absorb (a scale-in left a cell DRAINING, then capacity shrank) must not
      // stop every scheduled cycle: the draining cells' partitions stay where they are this time.
      const draining = new Set(
        Object.entries(input.cellStatus ?? {})
          .filter(([, status]) => status === 'DRAINING')
          .map(([id]) => id),
      );
      const moving = new Set((input.inFlight ?? []).map((m) => m.partition));
      const held = input.partitions
        .filter((p) => draining.has(p.cell) && !moving.has(p.id))
        .map((p) => ({ partition: p.id, from: p.cell, to: p.cell, bytes: 0 }));
      if (held.length === 0) throw error;
      this.deps.warn?.('drain infeasible this cycle: partitions of draining cells stay put', {
        cells: [...draining],
        partitions: held.length,
        reason: error.message,
      });
      return withStaleDropResumes(
        planMoves({ ...input, inFlight: [...(input.inFlight ?? []), ...held] }, options),
        partitions,
        nowMs,
      );
    }
  }

  private async movesOfRunningPlans(): Promise<InFlightMove[]> {
    const running = await this.deps.plans.listHeaders(['RUNNING']);
    const moves: InFlightMove[] = [];
    for (const header of running) {
      for (const move of await this.deps.plans.allMoves(header.planId)) {
        if (move.status === 'PENDING' || move.status === 'RUNNING')
          moves.push({ partition: move.partition, from: move.from, to: move.to, bytes: move.bytes });
      }
    }
    return moves;
  }

  private async store(plan: MovementPlan, meta: PlanMeta & { planId: string }): Promise<PlanHeader> {
    const header = await this.deps.plans.create(plan, { ...meta, ttlDays: this.config.planTtlDays });
    this.deps.recordPlan?.({ moveCount: header.moveCount, trigger: meta.trigger });
    return header;
  }
}
