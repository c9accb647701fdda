import { InputValidationError } from '../errors.ts';
import { cellHourPriceUsd } from '../planning/cell-price.ts';
import { latencyBetween, type Topology } from '../topology.ts';
import type { ClusterView } from './policy-driver.ts';
import type { PolicyName, SimulationInput, SimulationOptions } from './simulation-options.ts';

export const MINUTE_MS = 60_000;

/** Replicated (global-table) mode versus one primary per partition. */
export type PlacementMode = 'primary' | 'replicated';

/** What every part of one replay reads and never changes: the input, the options and derived tables. */
export interface ReplayContext {
  readonly input: SimulationInput;
  readonly policy: PolicyName;
  readonly options: SimulationOptions;
  readonly topology: Topology;
  readonly mode: PlacementMode;
  /** Whether the policy scales in ahead of the forecast (predictive, unless `scaleIn` is false). */
  readonly scalesIn: boolean;
  /** Partitions, regions and buckets of the trace. */
  readonly P: number;
  readonly R: number;
  readonly T: number;
  readonly bucketMs: number;
  readonly bucketSeconds: number;
  /** Sub-step inside a bucket: one minute, or the bucket if shorter (their gcd). */
  readonly substepMs: number;
  /** Metrics count from here on (after the warm-up). */
  readonly evalStartMs: number;
  readonly regionNames: readonly string[];
  readonly regionIndex: ReadonlyMap<string, number>;
  /** Request latency (ms) from region r to a cell in region s at r * R + s, local base included. */
  readonly latency: Float64Array;
  /** Regions ordered by latency from each region, for the nearest replica. */
  readonly nearest: readonly Int32Array[];
  /** Size of each partition in bytes. */
  readonly sizes: Float64Array;
}

export function createReplayContext(
  input: SimulationInput,
  policy: PolicyName,
  options: SimulationOptions,
): ReplayContext {
  const { trace, topology } = input;
  const R = trace.regions.length;
  const latency = new Float64Array(R * R);
  for (let r = 0; r < R; r++) {
    for (let s = 0; s < R; s++) {
      latency[r * R + s] =
        latencyBetween(topology, trace.regions[r], trace.regions[s]) + options.localLatencyMs;
    }
  }
  const nearest = trace.regions.map((_, r) =>
    Int32Array.from(trace.regions.map((__, s) => s).sort((a, b) => latency[r * R + a] - latency[r * R + b])),
  );
  return {
    input,
    policy,
    options,
    topology,
    mode: policy === 'replicate-all' ? 'replicated' : 'primary',
    scalesIn: policyScalesIn(policy, options),
    P: trace.partitions.length,
    R,
    T: trace.bucketCount,
    bucketMs: trace.bucketMs,
    bucketSeconds: trace.bucketMs / 1000,
    substepMs: gcd(trace.bucketMs, MINUTE_MS),
    evalStartMs: trace.startMs + options.warmupMs,
    regionNames: trace.regions,
    regionIndex: new Map(trace.regions.map((r, i) => [r, i])),
    latency,
    nearest,
    sizes: Float64Array.from(input.partitions, (p) => p.sizeBytes),
  };
}

/** Only the predictive policy scales in ahead of its forecast; the oracle stays the yardstick it was. */
export function policyScalesIn(policy: PolicyName, options: SimulationOptions): boolean {
  return policy === 'predictive' && options.scaleIn !== false && options.scaleIn !== undefined;
}

/** Where the replay is: the bucket being replayed and the end of the current sub-step. */
export class ReplayClock {
  bucket = 0;
  bucketStartMs = 0;
  substepEndMs = 0;
  private readonly context: ReplayContext;

  constructor(context: ReplayContext) {
    this.context = context;
  }

  /** Is the current bucket measured (past the warm-up)? */
  isEval(): boolean {
    return this.bucketStartMs >= this.context.evalStartMs;
  }

  /** Best-known current time for events raised outside a sub-step. */
  nowForEvents(): number {
    return Math.max(this.bucketStartMs, this.substepEndMs - this.context.substepMs);
  }
}

/** Planning interval in whole buckets; it must be a positive multiple of the bucket. */
export function planningBuckets(intervalMs: number, bucketMs: number): number {
  const buckets = intervalMs / bucketMs;
  if (!Number.isInteger(buckets) || buckets < 1) {
    throw new InputValidationError(
      { field: 'interval' },
      `planning interval of ${intervalMs / 1000}s must be a positive multiple of the trace's ${bucketMs / 1000}s bucket`,
    );
  }
  return buckets;
}

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}

/**
 * A partition's forecast summed over its regions of origin, per step: `values` is laid out partition × region ×
 * step (the forecasters' arrays), `out` receives H steps. Regions are added in order, so sums are reproducible.
 */
export function sumOverRegions(
  values: Float64Array,
  p: number,
  R: number,
  H: number,
  out: Float64Array,
): void {
  out.fill(0);
  for (let r = 0; r < R; r++) {
    const base = (p * R + r) * H;
    for (let h = 0; h < H; h++) out[h] += values[base + h];
  }
}

/** The cells as the scaling decisions see them: status in the replay (ACTIVE unless changing) and hourly price. */
export function pricedCellsOf(view: ClusterView) {
  return view.topology.cells.map((cell) => ({
    id: cell.id,
    region: cell.region,
    status: view.cellStatus[cell.id] ?? ('ACTIVE' as const),
    capacityOpsPerSec: cell.capacityOpsPerSec,
    hourPriceUsd: cellHourPriceUsd(view.topology, cell),
  }));
}
