import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import {
  type BacktestOptions,
  type BacktestResult,
  prepareBacktest,
  runBacktest,
  summarizeTrace,
} from '../domain/simulation/backtest.ts';
import {
  type ProfilerAndPlannerOptions,
  productionDependencies,
} from '../domain/simulation/default-dependencies.ts';
import type { DemandTrace } from '../domain/simulation/demand-trace.ts';
import {
  POLICY_NAMES,
  type PolicyName,
  type PolicyResult,
  type SimulationInput,
} from '../domain/simulation/simulation-options.ts';
import { startSourceWorker } from '../live/source-worker.ts';
import type { PolicyTiming, PolicyWorkerData, ReplayTask, WorkerMessage } from './worker-protocol.ts';

const WORKER_SOURCE = 'src/backtest-runner/policy-worker.ts';

/**
 * Longest replay first, by a static estimate (the 2,000-partition scenario: predictive 447 CPU s, reactive 274,
 * oracle 247, static and replicate-all about 1): on two workers predictive takes one and reactive then oracle
 * the other, so the wall time is about max(predictive, reactive + oracle) rather than their sum.
 */
export const LONGEST_FIRST: readonly PolicyName[] = [
  'predictive',
  'reactive',
  'oracle',
  'static',
  'replicate-all',
];

export interface ParallelBacktestOptions extends BacktestOptions {
  /**
   * Worker threads, one policy at a time each; 1 replays every policy in this thread with `runBacktest`, one
   * after another. @default os.availableParallelism()
   */
  readonly workers?: number;
  /** The profiler and planner options `productionDependencies` is built from (in every worker). @default {} */
  readonly dependencies?: ProfilerAndPlannerOptions;
  /** Aborting terminates every worker; the run rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Once per policy, when its replay ends: how long it took. */
  readonly onPolicyDone?: (policy: PolicyName, timing: PolicyTiming) => void;
  /**
   * Once per policy, when it is handed to a worker (in this thread, so in dispatch order, whatever the workers'
   * start-up times; progress messages arrive in the workers' order instead).
   */
  readonly onPolicyStart?: (policy: PolicyName, worker: number) => void;
}

/** A policy's replay threw in its worker (or the worker died): names the policy, carries the worker's stack. */
export class PolicyReplayError extends Error {
  constructor(
    readonly policy: PolicyName,
    readonly causeName: string,
    causeMessage: string,
    readonly workerStack?: string,
  ) {
    super(`the ${policy} replay failed: ${causeName}: ${causeMessage}`);
    this.name = 'PolicyReplayError';
  }
}

let runningWorkers = 0;

/** Policy workers started by this module that have not exited yet (0 once every run has settled). */
export function runningPolicyWorkers(): number {
  return runningWorkers;
}

/** The default worker count: one per core the process may use. */
export function defaultBacktestWorkers(): number {
  return availableParallelism();
}

/**
 * The backtest of `runBacktest`, with the policies replayed in parallel on worker threads, longest first. Each
 * worker rebuilds `productionDependencies(options.dependencies)` and calls the same `simulatePolicy`, so the
 * results equal the serial path's (only the timings in `details` differ). The input's trace is shared with the
 * workers, not copied. The promise settles only once every worker has exited: on success, on the first policy
 * that fails (rejecting with a PolicyReplayError naming it), and on abort.
 */
export async function runBacktestInWorkers(
  input: SimulationInput,
  options: ParallelBacktestOptions = {},
): Promise<BacktestResult> {
  const { workers: requested, dependencies = {}, signal, onPolicyDone, onPolicyStart, ...backtest } = options;
  const workers = requested ?? defaultBacktestWorkers();
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`workers must be a positive integer, not ${workers}`);
  }
  signal?.throwIfAborted();
  const resolved = prepareBacktest(input, backtest);
  const policies = backtest.policies ?? POLICY_NAMES;
  if (workers === 1)
    return runSerially(input, dependencies, backtest, policies, signal, { onPolicyDone, onPolicyStart });

  const { onProgress, ...workerOptions } = resolved;
  const data: PolicyWorkerData = {
    input: { ...input, trace: sharedTrace(input.trace) },
    dependencies,
    options: workerOptions,
    progressEveryBuckets: Math.max(1, Math.floor(input.trace.bucketCount / 200)),
  };
  const queue = LONGEST_FIRST.filter((policy) => policies.includes(policy));
  const results = new Map<PolicyName, PolicyResult>();
  const pool: Worker[] = [];
  const exits: Promise<void>[] = [];
  const assigned = new Map<Worker, PolicyName>();

  return new Promise<BacktestResult>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      for (const worker of pool) void worker.terminate();
      void Promise.all(exits).then(outcome);
    };
    const fail = (error: unknown) => settle(() => reject(error));
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    const next = (worker: Worker) => {
      const policy = queue.shift();
      if (policy === undefined) {
        assigned.delete(worker);
        if (results.size === queued) {
          settle(() =>
            resolve({
              trace: summarizeTrace(input),
              options: resolved,
              evaluationStartMs: input.trace.startMs + resolved.warmupMs,
              // In the order asked for, as runBacktest gives them.
              policies: Object.fromEntries(policies.map((p) => [p, results.get(p)])),
            }),
          );
        }
        return;
      }
      assigned.set(worker, policy);
      try {
        onPolicyStart?.(policy, pool.indexOf(worker));
      } catch (error) {
        fail(error);
        return;
      }
      worker.postMessage({ policy } satisfies ReplayTask);
    };

    const queued = queue.length;
    const poolSize = Math.min(workers, queued);
    for (let index = 0; index < poolSize; index++) {
      let worker: Worker;
      try {
        worker = startSourceWorker(WORKER_SOURCE, data);
      } catch (error) {
        // The workers already started must not outlive the run.
        fail(error);
        return;
      }
      runningWorkers++;
      pool.push(worker);
      exits.push(
        new Promise<void>((exited) =>
          worker.once('exit', (code) => {
            runningWorkers--;
            const policy = assigned.get(worker);
            if (policy !== undefined && !settled) {
              fail(new PolicyReplayError(policy, 'WorkerExit', `its worker exited with code ${code}`));
            }
            exited();
          }),
        ),
      );
      worker.on('error', (thrown) => {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        const policy = assigned.get(worker) ?? queue[0] ?? policies[0];
        fail(new PolicyReplayError(policy, error.name, error.message, error.stack));
      });
      worker.on('message', (message: WorkerMessage) => {
        if (settled) return;
        switch (message.kind) {
          case 'progress':
            // A callback that throws stops the run, as it stops the serial replay.
            try {
              onProgress?.({ policy: message.policy, bucket: message.bucket, buckets: message.buckets });
            } catch (error) {
              fail(error);
            }
            return;
          case 'failed':
            fail(new PolicyReplayError(message.policy, message.name, message.message, message.stack));
            return;
          case 'result':
            results.set(message.policy, message.result);
            try {
              onPolicyDone?.(message.policy, {
                cpuSeconds: message.cpuSeconds,
                wallSeconds: message.wallSeconds,
                worker: index,
              });
            } catch (error) {
              fail(error);
              return;
            }
            next(worker);
            return;
        }
      });
      next(worker);
    }
  });
}

/** Today's path: every policy in this thread, one after another (what `--workers 1` asks for). */
function runSerially(
  input: SimulationInput,
  dependencies: ProfilerAndPlannerOptions,
  options: BacktestOptions,
  policies: readonly PolicyName[],
  signal: AbortSignal | undefined,
  callbacks: Pick<ParallelBacktestOptions, 'onPolicyDone' | 'onPolicyStart'>,
): BacktestResult {
  const { onPolicyDone, onPolicyStart } = callbacks;
  let cpuStarted = threadCpuSeconds();
  let wallStarted = performance.now();
  let current: PolicyName | undefined;
  return runBacktest(input, productionDependencies(dependencies), {
    ...options,
    policies,
    onProgress: (progress) => {
      // The replay is synchronous: an abort can only stop it from inside, between buckets.
      signal?.throwIfAborted();
      if (progress.policy !== current) {
        current = progress.policy;
        onPolicyStart?.(progress.policy, 0);
      }
      options.onProgress?.(progress);
      if (progress.bucket !== progress.buckets) return;
      onPolicyDone?.(progress.policy, {
        cpuSeconds: threadCpuSeconds() - cpuStarted,
        wallSeconds: (performance.now() - wallStarted) / 1000,
        worker: 0,
      });
      cpuStarted = threadCpuSeconds();
      wallStarted = performance.now();
    },
  });
}

function threadCpuSeconds(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1e6;
}

/** The trace with its arrays on SharedArrayBuffers, which workers read in place (copied once if they are not). */
export function sharedTrace(trace: DemandTrace): DemandTrace {
  return { ...trace, reads: sharedCopy(trace.reads), writes: sharedCopy(trace.writes) };
}

function sharedCopy(values: Float64Array): Float64Array {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  const shared = new Float64Array(new SharedArrayBuffer(values.byteLength));
  shared.set(values);
  return shared;
}
