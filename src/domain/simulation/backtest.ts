import { InfeasiblePlacementError, InputValidationError } from '../errors.ts';
import { ClusterSimulator } from './cluster-simulator.ts';
import { PlannerPolicy } from './planner-policy.ts';
import { NO_DECISION, type PolicyDriver } from './policy-driver.ts';
import { planningBuckets } from './replay-context.ts';
import {
  DEFAULT_SIMULATION_OPTIONS,
  POLICY_NAMES,
  type PolicyName,
  type PolicyResult,
  type SimulationDependencies,
  type SimulationInput,
  type SimulationOptions,
} from './simulation-options.ts';

export interface BacktestOptions extends Partial<SimulationOptions> {
  /** Policies to run, in order. @default all five */
  readonly policies?: readonly PolicyName[];
}

export interface TraceSummary {
  readonly startMs: number;
  readonly endMs: number;
  readonly bucketMs: number;
  readonly buckets: number;
  readonly partitions: number;
  readonly regions: readonly string[];
  readonly cells: number;
  readonly totalBytes: number;
  readonly meanDemandOpsPerSec: number;
  readonly peakDemandOpsPerSec: number;
}

export interface BacktestResult {
  readonly trace: TraceSummary;
  readonly options: SimulationOptions;
  readonly evaluationStartMs: number;
  readonly policies: Partial<Record<PolicyName, PolicyResult>>;
}

/** Resolve options and check that the input can be replayed at all; errors name what to fix. */
export function prepareBacktest(input: SimulationInput, options: BacktestOptions = {}): SimulationOptions {
  const { policies: _policies, ...overrides } = options;
  const resolved: SimulationOptions = { ...DEFAULT_SIMULATION_OPTIONS, ...withoutUndefined(overrides) };
  const { trace, partitions } = input;
  checkFeasible(input);
  if (
    partitions.length !== trace.partitions.length ||
    partitions.some((p, i) => p.id !== trace.partitions[i])
  ) {
    throw new InputValidationError(
      { field: 'partitions' },
      'the trace and the partitions file must list the same partitions in the same order',
    );
  }
  const observed = input.observedTrace;
  if (
    observed &&
    (observed.bucketMs !== trace.bucketMs ||
      observed.bucketCount !== trace.bucketCount ||
      observed.reads.length !== trace.reads.length ||
      observed.writes.length !== trace.writes.length)
  ) {
    throw new InputValidationError(
      { field: 'observedTrace' },
      "the observed demand must have the trace's buckets, partitions and regions",
    );
  }
  planningBuckets(resolved.planningIntervalMs, trace.bucketMs);
  const traceMs = trace.bucketCount * trace.bucketMs;
  if (resolved.warmupMs >= traceMs) {
    throw new InputValidationError(
      { field: 'warmup' },
      `a warm-up of ${hours(resolved.warmupMs)} leaves nothing to measure in a trace of ${hours(traceMs)}; use a shorter --warmup`,
    );
  }
  if (resolved.horizonMs < trace.bucketMs) {
    throw new InputValidationError(
      { field: 'horizon' },
      `a horizon of ${resolved.horizonMs / 1000}s is shorter than one ${trace.bucketMs / 1000}s bucket`,
    );
  }
  return resolved;
}

/**
 * Fail early, naming the hard constraint, when no placement can hold the partitions: together they
 * exceed the cells' bytes, or one partition is larger than every cell.
 */
export function checkFeasible(input: SimulationInput): void {
  const { topology, partitions } = input;
  const totalCapacity = topology.cells.reduce((sum, c) => sum + c.capacityBytes, 0);
  const largestCell = Math.max(...topology.cells.map((c) => c.capacityBytes));
  let total = 0;
  for (const partition of partitions) {
    total += partition.sizeBytes;
    if (partition.sizeBytes > largestCell) {
      throw new InfeasiblePlacementError(
        'capacityBytes',
        `partition '${partition.id}' holds ${partition.sizeBytes} bytes but the largest cell holds ${largestCell}`,
      );
    }
  }
  if (total > totalCapacity) {
    throw new InfeasiblePlacementError(
      'capacityBytes',
      `the partitions hold ${total} bytes in total but the topology's cells hold only ${totalCapacity}`,
    );
  }
}

/** Replay the trace once per policy with the real profiler and planner code. */
export function runBacktest(
  input: SimulationInput,
  deps: SimulationDependencies,
  options: BacktestOptions = {},
): BacktestResult {
  const resolved = prepareBacktest(input, options);
  const policies: Partial<Record<PolicyName, PolicyResult>> = {};
  for (const policy of options.policies ?? POLICY_NAMES) {
    policies[policy] = simulatePolicy(input, policy, deps, resolved);
  }
  return {
    trace: summarizeTrace(input),
    options: resolved,
    evaluationStartMs: input.trace.startMs + resolved.warmupMs,
    policies,
  };
}

/** Replay the trace under one policy. */
export function simulatePolicy(
  input: SimulationInput,
  policy: PolicyName,
  deps: SimulationDependencies,
  options: SimulationOptions,
): PolicyResult {
  const planEvery = planningBuckets(options.planningIntervalMs, input.trace.bucketMs);
  const driver: PolicyDriver =
    policy === 'static' || policy === 'replicate-all'
      ? { observe() {}, decide: () => NO_DECISION, plannerMs: 0, plannerCalls: 0 }
      : new PlannerPolicy(policy, input, deps, options, planEvery);
  return new ClusterSimulator(input, policy, driver, options).run();
}

export function summarizeTrace(input: SimulationInput): TraceSummary {
  const { trace, partitions, topology } = input;
  const width = trace.partitions.length * trace.regions.length;
  let sum = 0;
  let peak = 0;
  for (let t = 0; t < trace.bucketCount; t++) {
    let bucket = 0;
    for (let i = t * width; i < (t + 1) * width; i++) bucket += trace.reads[i] + trace.writes[i];
    sum += bucket;
    peak = Math.max(peak, bucket);
  }
  return {
    startMs: trace.startMs,
    endMs: trace.startMs + trace.bucketCount * trace.bucketMs,
    bucketMs: trace.bucketMs,
    buckets: trace.bucketCount,
    partitions: trace.partitions.length,
    regions: trace.regions,
    cells: topology.cells.length,
    totalBytes: partitions.reduce((s, p) => s + p.sizeBytes, 0),
    meanDemandOpsPerSec: sum / trace.bucketCount,
    peakDemandOpsPerSec: peak,
  };
}

function hours(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${(ms / 3_600_000).toFixed(1)}h`;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
