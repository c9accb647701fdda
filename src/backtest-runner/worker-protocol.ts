import type { ProfilerAndPlannerOptions } from '../domain/simulation/default-dependencies.ts';
import type {
  PolicyName,
  PolicyResult,
  SimulationInput,
  SimulationOptions,
} from '../domain/simulation/simulation-options.ts';

/**
 * What a policy worker starts from (its `workerData.data`): everything structured-clonable. The trace's
 * arrays sit on SharedArrayBuffers, so every worker reads the parent's copy instead of its own.
 */
export interface PolicyWorkerData {
  readonly input: SimulationInput;
  /** The profiler and planner options the worker's `productionDependencies` is built from. */
  readonly dependencies: ProfilerAndPlannerOptions;
  /** Resolved by `prepareBacktest` in the parent, without `onProgress` (a function does not cross threads). */
  readonly options: Omit<SimulationOptions, 'onProgress'>;
  /** Report progress every this many buckets (and at the last). */
  readonly progressEveryBuckets: number;
}

/** Parent → worker: replay this policy next. */
export interface ReplayTask {
  readonly policy: PolicyName;
}

/** Time one policy's replay took in its worker: the thread's own CPU time, and the wall time. */
export interface PolicyTiming {
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  /** Which worker replayed it (0-based), to read the schedule back. */
  readonly worker: number;
}

/** Worker → parent. */
export type WorkerMessage =
  | {
      readonly kind: 'progress';
      readonly policy: PolicyName;
      readonly bucket: number;
      readonly buckets: number;
    }
  | {
      readonly kind: 'result';
      readonly policy: PolicyName;
      readonly result: PolicyResult;
      readonly cpuSeconds: number;
      readonly wallSeconds: number;
    }
  | {
      readonly kind: 'failed';
      readonly policy: PolicyName;
      readonly name: string;
      readonly message: string;
      readonly stack?: string;
    };
