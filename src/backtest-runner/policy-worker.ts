/**
 * A policy worker: the thread `runBacktestInWorkers` starts. It rebuilds the production dependencies from
 * serialisable options and replays each policy it is sent with the same `simulatePolicy` the serial path calls,
 * so a policy's result does not depend on where it ran.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { simulatePolicy } from '../domain/simulation/backtest.ts';
import { productionDependencies } from '../domain/simulation/default-dependencies.ts';
import type { PolicyWorkerData, ReplayTask, WorkerMessage } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('policy-worker.ts runs on a worker thread (runBacktestInWorkers starts it)');
const { input, dependencies, options, progressEveryBuckets } = (workerData as { data: PolicyWorkerData })
  .data;
const deps = productionDependencies(dependencies);
const post = (message: WorkerMessage) => port.postMessage(message);

function threadCpuSeconds(): number {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1e6;
}

port.on('message', ({ policy }: ReplayTask) => {
  const cpuStarted = threadCpuSeconds();
  const wallStarted = performance.now();
  try {
    const result = simulatePolicy(input, policy, deps, {
      ...options,
      onProgress: ({ bucket, buckets }) => {
        if (bucket % progressEveryBuckets === 0 || bucket === buckets)
          post({ kind: 'progress', policy, bucket, buckets });
      },
    });
    post({
      kind: 'result',
      policy,
      result,
      cpuSeconds: threadCpuSeconds() - cpuStarted,
      wallSeconds: (performance.now() - wallStarted) / 1000,
    });
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    post({ kind: 'failed', policy, name: error.name, message: error.message, stack: error.stack });
  }
});
