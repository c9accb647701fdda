import { InputValidationError } from '../errors.ts';
import type { PlannerLimits } from './movement-plan.ts';

/**
 * Constants of the planner's objective and knobs of the heuristic. Every cost is in US dollars over the
 * forecast horizon, so the terms add up; the defaults are anchored on AWS list prices where one exists.
 */

/** Above `utilization` × capacity, each request pays `extraMsPerRequest` more (knees add up: convex). */
export interface LoadPenaltyKnee {
  readonly utilization: number;
  readonly extraMsPerRequest: number;
}

export interface PlannerOptions {
  /**
   * What one millisecond of extra latency on one million requests is worth. Anchor: 5 ms on a million
   * requests is worth what serving them costs ($0.25 per million DynamoDB on-demand reads).
   * @default 0.05
   */
  readonly dollarsPerLatencyMsPerMillionRequests?: number;
  /** A remote write costs this many times a remote read (extra round trips for conditional writes). @default 2 */
  readonly writeLatencyWeight?: number;
  /** Write fraction of a partition that does not give one. @default 0.2 */
  readonly defaultWriteFraction?: number;
  /**
   * Extra latency per co-access request when two related partitions sit on different cells (one more request);
   * across regions the inter-region latency is added on top.
   * @default 2
   */
  readonly crossCellPenaltyMs?: number;
  /**
   * Soft load penalty, a queueing-delay proxy: piecewise linear and convex in a cell's load per step.
   * @default [{0.5, 1 ms}, {0.7, 4 ms}, {0.85, 20 ms}, {1.0, 100 ms}]
   */
  readonly loadPenaltyKnees?: readonly LoadPenaltyKnee[];
  /** Fixed cost of one move on top of the bytes (workflow transitions, verification scan). @default 0.05 */
  readonly moveOverheadDollars?: number;
  /** Fixed time of one move on top of the copy (create replica, catch up, verify, cut over). @default 60_000 */
  readonly moveSetupMs?: number;
  /** Cost of one partition still on a DRAINING (or RETIRED) cell after the plan. @default 100 */
  readonly drainDollarsPerPartition?: number;
  /**
   * Added per million predicted requests of that partition over the horizon, so the hottest leave first.
   * Large on purpose: leaving a draining cell beats every other term.
   * @default 1000
   */
  readonly drainDollarsPerMillionRequests?: number;
  /** Absolute floor of the hysteresis: a move must be worth at least this much. @default 0.01 */
  readonly minBenefitDollars?: number;
  /** Time to provision a new cell, for the capacity forecast. @default topology.alarmScaling.provisionMinutes, else 5 min */
  readonly provisionMs?: number;
  /**
   * Forecast demand beyond the raw capacity of every cell: `throw` an InfeasiblePlacementError, or `report`
   * it in the capacity forecast and plan anyway (the simulator's choice).
   * @default 'throw'
   */
  readonly demandBeyondCapacity?: 'throw' | 'report';
  /**
   * A partition that must leave a draining cell but fits nowhere below the headroom: `throw` an
   * InfeasiblePlacementError (the planner service turns it into a failed scale-in, or, on a scheduled cycle, holds
   * the draining cells' partitions where they are), or `report` it in `deferred.drainBlocked` and plan the rest, the
   * drain waiting for room (the simulator's choice, which forces a drain after its grace time).
   * @default 'throw'
   */
  readonly unplaceableDrain?: 'throw' | 'report';
  /** Heuristic: candidate target cells per region per partition, the least loaded ones. @default 2 */
  readonly candidateCellsPerRegion?: number;
  /** Heuristic: with at most this many cells every cell is a candidate for every partition. @default 24 */
  readonly exhaustiveCellLimit?: number;
  /** Heuristic: rounds of the local-search repair pass. @default 6 */
  readonly localSearchRounds?: number;
  /**
   * Heuristic: after the first local search, this many held-back partitions with the best standalone gain are
   * forced onto their best cell (dropping the weakest planned moves in the way) and repaired. @default 12
   */
  readonly forcedInsertions?: number;
  /** Heuristic: at most this many iterated-local-search restarts (perturb, refill, repair), within `searchBudget`. @default 1000 */
  readonly perturbationRounds?: number;
  /**
   * Heuristic: above this many partitions the planner keeps the best of its greedy plans and runs a light
   * local search within `searchBudget` (at most 25,000 evaluations; no restarts). @default 5000
   */
  readonly largeInputPartitions?: number;
  /**
   * Heuristic: evaluated changes the intensification phases (forced insertions, restarts) may spend after
   * the first local search (on large inputs: the local search itself); bounds run time and keeps the
   * result deterministic. @default 100_000
   */
  readonly searchBudget?: number;
  /**
   * A move whose source or target is forecast above this utilization while it copies (at full bandwidth) is
   * deferred unless it is urgent (leaving a draining cell or one forecast over headroom); `Infinity` disables
   * the rule. 0.7 matches the simulator's under-load threshold; off by default: on the tweets trace it kept load
   * on cells that a burst then overloaded (see src/domain/simulation/README.md). @default Infinity
   */
  readonly hotMoveUtilization?: number;
  /**
   * Correlation ρ in [0, 1] between the forecast errors of unrelated partitions on one cell, for
   * `forecastUpper`: a cell plans on mean + √((1 − ρ) Σ G² + ρ (Σ G)²) over its related groups' gaps G.
   * 0 assumes independent errors (the gaps diversify, √n); 1 adds them up. Default 1: on the semi-synthetic
   * tweets trace bursts hit every partition of a source series at once, related or not, and independence
   * under-provisions (see src/domain/simulation/README.md). @default 1
   */
  readonly upperCorrelation?: number;
  /**
   * Retained copies: the planner may keep a move's source as a cold copy (`retainSource`) when a move back is
   * likely enough to pay for the copy's storage (see cold-copies.ts). false: every move removes its source.
   * Off by default: on the bundled trace, copies cut bytes moved to 0.72x but raised predictive's overload from 49
   * to 62 cell-minutes (BENCHMARKS.md, "Retained copies"); they are turned on once they pass the scenario suite.
   * @default false
   */
  readonly retainColdCopies?: boolean;
  /**
   * Storage price in US dollars per GB-month, for a cold copy. Source: DynamoDB Standard table class storage,
   * us-east-1, $0.25 per GB-month beyond the free 25 GB (https://aws.amazon.com/dynamodb/pricing/on-demand/).
   * @default 0.25
   */
  readonly storageCostPerGBMonth?: number;
  /**
   * Bytes one write adds to a cold copy's delta, when the data plane did not measure it: an upper bound, since
   * writes to one key coalesce into one item. The simulator's `writeBytes`. @default 1024
   */
  readonly deltaBytesPerWrite?: number;
  /**
   * When a move back is expected, for the retain decision: half a daily cycle, since regional peaks recur daily
   * and a partition that follows one peak returns with the next.
   * @default 12 h
   */
  readonly coldCopyReturnMs?: number;
  /**
   * A cold copy older than this is dropped; a copy never used is paid for this long. One daily cycle: a partition
   * that follows regional peaks is back within a day, or not coming back. Tuned on taxi-3region (bytes moved
   * 0.61× of no copies at 2 days, 0.45× at 1 day; BENCHMARKS.md). @default 1 day
   */
  readonly coldCopyMaxAgeMs?: number;
  /** A copy whose delta exceeds this share of its partition is dropped: a move back would ship nearly all. @default 0.5 */
  readonly coldCopyMaxDeltaShare?: number;
  /**
   * Storage budget: cold copies may hold at most this share of the bytes the primaries hold (cluster-wide); the
   * oldest go first. Each cell also keeps its primaries and copies below the headroom. @default 0.5
   */
  readonly coldCopyBudgetShare?: number;
  /**
   * Stored-bytes ceiling, as a share of what a copy of every partition in every region would store (primaries ×
   * regions): cold copies are also kept within it, so that primaries plus copies never hold more than this share
   * of full replication. It binds where regions are few: with 2 regions and the default, copies may hold 0.2× the
   * primaries' bytes (2 × 0.6 − 1), with 3 regions the 0.5 budget above binds first. Default: issue 12's
   * storage target (stored bytes at most 0.6× replicate-all's), a stated requirement rather than a tuned value.
   * @default 0.6
   */
  readonly storedBytesCeilingShare?: number;
  /**
   * A move to a cold copy is priced as a delta (its transfer and its shorter copy time) only while the copy's
   * cell, with the partition on it, stays at or below this utilization over the horizon (on the forecast before
   * the plan); above it the move is priced like any other, so that the few cents a copy saves do not pick a busy
   * cell over a quiet one in the same region, where the load penalty is too flat to weigh a burst (issue 12: on
   * tweets-3region, partitions leaving a region together came back together to their busy former cell). The data
   * plane still ships only the delta. Default: the first load-penalty knee, where queueing starts; `Infinity`
   * prices every fresh copy as a delta. @default 0.5
   */
  readonly coldCopyDiscountUtilization?: number;
}

export type ResolvedPlannerOptions = Required<PlannerOptions>;

export const DEFAULT_LIMITS: PlannerLimits = {
  maxConcurrentMovesPerCell: 5,
  maxBytesPerCycle: 50 * 2 ** 30,
  minBenefitMargin: 0.1,
  cooldownMs: 6 * 3_600_000,
  headroom: 0.8,
};

export const DEFAULT_PLANNER_OPTIONS: Omit<ResolvedPlannerOptions, 'provisionMs'> & { provisionMs?: number } =
  {
    dollarsPerLatencyMsPerMillionRequests: 0.05,
    writeLatencyWeight: 2,
    defaultWriteFraction: 0.2,
    crossCellPenaltyMs: 2,
    loadPenaltyKnees: [
      { utilization: 0.5, extraMsPerRequest: 1 },
      { utilization: 0.7, extraMsPerRequest: 4 },
      { utilization: 0.85, extraMsPerRequest: 20 },
      { utilization: 1.0, extraMsPerRequest: 100 },
    ],
    moveOverheadDollars: 0.05,
    moveSetupMs: 60_000,
    drainDollarsPerPartition: 100,
    drainDollarsPerMillionRequests: 1000,
    minBenefitDollars: 0.01,
    demandBeyondCapacity: 'throw',
    unplaceableDrain: 'throw',
    candidateCellsPerRegion: 2,
    exhaustiveCellLimit: 24,
    localSearchRounds: 6,
    perturbationRounds: 1000,
    forcedInsertions: 12,
    searchBudget: 100_000,
    largeInputPartitions: 5000,
    hotMoveUtilization: Number.POSITIVE_INFINITY,
    upperCorrelation: 1,
    retainColdCopies: false,
    storageCostPerGBMonth: 0.25,
    deltaBytesPerWrite: 1024,
    coldCopyReturnMs: 12 * 3_600_000,
    coldCopyMaxAgeMs: 86_400_000,
    coldCopyMaxDeltaShare: 0.5,
    coldCopyBudgetShare: 0.5,
    storedBytesCeilingShare: 0.6,
    coldCopyDiscountUtilization: 0.5,
  };

const DEFAULT_PROVISION_MS = 5 * 60_000;

function nonNegative(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new InputValidationError({ field }, `expected a finite number >= 0, found ${value}`);
  }
  return value;
}

/** Fill defaults and check ranges; an out-of-range option is an InputValidationError naming it. */
export function resolvePlannerOptions(
  options: PlannerOptions | undefined,
  alarmProvisionMinutes?: number,
): ResolvedPlannerOptions {
  const merged = { ...DEFAULT_PLANNER_OPTIONS, ...stripUndefined(options ?? {}) };
  const provisionMs =
    merged.provisionMs ??
    (alarmProvisionMinutes !== undefined ? alarmProvisionMinutes * 60_000 : DEFAULT_PROVISION_MS);
  for (const key of [
    'dollarsPerLatencyMsPerMillionRequests',
    'writeLatencyWeight',
    'crossCellPenaltyMs',
    'moveOverheadDollars',
    'moveSetupMs',
    'drainDollarsPerPartition',
    'drainDollarsPerMillionRequests',
    'minBenefitDollars',
    'storageCostPerGBMonth',
    'deltaBytesPerWrite',
    'coldCopyReturnMs',
    'coldCopyMaxAgeMs',
    'coldCopyBudgetShare',
    'storedBytesCeilingShare',
  ] as const) {
    nonNegative(merged[key], `options.${key}`);
  }
  const deltaShare = merged.coldCopyMaxDeltaShare;
  if (!(deltaShare > 0 && deltaShare <= 1)) {
    throw new InputValidationError(
      { field: 'options.coldCopyMaxDeltaShare' },
      `expected (0, 1], found ${deltaShare}`,
    );
  }
  if (!(merged.coldCopyDiscountUtilization >= 0)) {
    throw new InputValidationError(
      { field: 'options.coldCopyDiscountUtilization' },
      `expected a number >= 0 (Infinity: no limit), found ${merged.coldCopyDiscountUtilization}`,
    );
  }
  if (typeof merged.retainColdCopies !== 'boolean') {
    throw new InputValidationError(
      { field: 'options.retainColdCopies' },
      `expected true or false, found ${String(merged.retainColdCopies)}`,
    );
  }
  nonNegative(provisionMs, 'options.provisionMs');
  const rho = merged.upperCorrelation;
  if (!(rho >= 0 && rho <= 1)) {
    throw new InputValidationError({ field: 'options.upperCorrelation' }, `expected [0, 1], found ${rho}`);
  }
  if (!(merged.hotMoveUtilization > 0)) {
    throw new InputValidationError(
      { field: 'options.hotMoveUtilization' },
      `expected a number > 0 (Infinity disables), found ${merged.hotMoveUtilization}`,
    );
  }
  const wf = merged.defaultWriteFraction;
  if (!(wf >= 0 && wf <= 1)) {
    throw new InputValidationError({ field: 'options.defaultWriteFraction' }, `expected [0, 1], found ${wf}`);
  }
  let previous = 0;
  merged.loadPenaltyKnees.forEach((knee, i) => {
    const field = `options.loadPenaltyKnees[${i}]`;
    if (!(knee.utilization > previous) || !Number.isFinite(knee.utilization)) {
      throw new InputValidationError(
        { field: `${field}.utilization` },
        `expected increasing utilizations > 0, found ${knee.utilization}`,
      );
    }
    previous = knee.utilization;
    nonNegative(knee.extraMsPerRequest, `${field}.extraMsPerRequest`);
  });
  for (const key of ['demandBeyondCapacity', 'unplaceableDrain'] as const) {
    if (merged[key] !== 'throw' && merged[key] !== 'report') {
      throw new InputValidationError(
        { field: `options.${key}` },
        `expected 'throw' or 'report', found '${String(merged[key])}'`,
      );
    }
  }
  for (const key of [
    'candidateCellsPerRegion',
    'exhaustiveCellLimit',
    'localSearchRounds',
    'perturbationRounds',
    'forcedInsertions',
    'searchBudget',
    'largeInputPartitions',
  ] as const) {
    if (!Number.isInteger(merged[key]) || merged[key] < 0) {
      throw new InputValidationError(
        { field: `options.${key}` },
        `expected an integer >= 0, found ${merged[key]}`,
      );
    }
  }
  return { ...merged, provisionMs };
}

/** Fill the limit defaults and check ranges. */
export function resolveLimits(limits: Partial<PlannerLimits> | undefined): PlannerLimits {
  const merged: PlannerLimits = { ...DEFAULT_LIMITS, ...stripUndefined(limits ?? {}) };
  const n = merged.maxConcurrentMovesPerCell;
  if (!Number.isInteger(n) || n < 0) {
    throw new InputValidationError(
      { field: 'limits.maxConcurrentMovesPerCell' },
      `expected an integer >= 0, found ${n}`,
    );
  }
  nonNegative(merged.maxBytesPerCycle, 'limits.maxBytesPerCycle');
  nonNegative(merged.minBenefitMargin, 'limits.minBenefitMargin');
  nonNegative(merged.cooldownMs, 'limits.cooldownMs');
  if (!(merged.headroom > 0 && merged.headroom <= 1)) {
    throw new InputValidationError({ field: 'limits.headroom' }, `expected (0, 1], found ${merged.headroom}`);
  }
  return merged;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined) (out as Record<string, unknown>)[key] = v;
  }
  return out;
}
