/**
 * MigratePartition's thread (started by migration-thread.ts): the local runner of its synthesized definition, each
 * Task bound to the real step handler, against the regional DynamoDB endpoints over HTTP, as its step Lambdas run
 * apart from the profiler's and the planner's in AWS. The canary's health question goes back over the port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CellHealth } from '../data-plane/cell-health.ts';
import { EmbeddedCluster } from '../local/embedded-cluster.ts';
import { localMigrationDeps } from '../local/local-migration-deps.ts';
import { LocalMigrationRunner, type MigrationExecution } from '../local/local-migration-runner.ts';
import { stepTimingWithin } from '../local/local-server.ts';
import type { CanaryHealthCheck } from '../migration/migration-deps.ts';
import type { MigrationView } from './control-plane-thread.ts';
import type { FromMigrations, MigrationThreadData, ToMigrations } from './migration-thread.ts';

const data = (workerData as { data: MigrationThreadData }).data;
const port = parentPort!;
const post = (message: FromMigrations) => port.postMessage(message);
const healthAnswers = new Map<number, (answer: Awaited<ReturnType<CanaryHealthCheck['check']>>) => void>();
let nextHealthId = 0;

const remoteHealth: CanaryHealthCheck = {
  check: (targetCell, sinceMs) =>
    new Promise((resolve) => {
      const id = nextHealthId++;
      healthAnswers.set(id, resolve);
      post({ type: 'health', id, targetCell, sinceMs });
    }),
};

function viewOf(m: MigrationExecution): MigrationView {
  return {
    name: m.migrationId,
    input: m.input,
    status: m.status,
    stage: m.stage,
    stages: [...m.stages],
    stageEnteredAtMs: [...m.stageEnteredAtMs],
    ...(m.endedAt ? { endedAt: m.endedAt } : {}),
  };
}

try {
  const cluster = await EmbeddedCluster.attach({
    endpoints: data.endpoints,
    homeRegion: data.homeRegion,
    ...(data.cellRefreshMs !== undefined && { cellRefreshMs: data.cellRefreshMs }),
  });
  /** A move onto a cell registered since the last reload (a scale-out's) reloads the cells before it starts. */
  const knowTarget = async (input: unknown) => {
    const target = (input as { targetCell?: unknown } | null)?.targetCell;
    if (typeof target === 'string' && !cluster.knowsCell(target)) await cluster.refreshCells();
  };
  const runner = new LocalMigrationRunner({
    deps: {
      ...localMigrationDeps(cluster, {
        lease: data.lease,
        // Unused: the canary reads the listeners' health through `remoteHealth`.
        health: new CellHealth(),
        tuning: stepTimingWithin(data.stepTimeoutSeconds),
      }),
      health: remoteHealth,
    },
    waitOverrideMs: data.waitOverrideMs,
    retryIntervalMs: 100,
    taskTimeoutSeconds: data.stepTimeoutSeconds,
  });
  const running = new Set<string>();
  // The stages of the executions in flight, for the dashboard and the figures (their end is posted at once).
  setInterval(() => {
    if (running.size === 0) return;
    post({ type: 'views', views: [...running].map((id) => viewOf(runner.get(id)!)) });
  }, 250);
  port.on('message', async (message: ToMigrations) => {
    if (message.type === 'health') {
      healthAnswers.get(message.id)?.(message.answer);
      healthAnswers.delete(message.id);
      return;
    }
    try {
      await knowTarget(message.input);
      runner.start(message.input, message.id);
    } catch (error) {
      post({ type: 'startFailed', id: message.id, message: (error as Error).message });
      return;
    }
    running.add(message.id);
    void runner.wait(message.id).then((execution) => {
      running.delete(message.id);
      post({
        type: 'ended',
        id: message.id,
        view: viewOf(execution),
        outcome: {
          status: execution.status,
          ...(execution.output !== undefined ? { output: execution.output } : {}),
          ...(execution.error ? { error: execution.error } : {}),
        },
      });
    });
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', message: (error as Error).stack ?? String(error) });
}
