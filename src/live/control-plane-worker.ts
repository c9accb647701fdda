/**
 * The control plane's thread (started by control-plane-thread.ts): the profiler, the planner and ExecutePlan on an
 * event loop of their own (ExecutePlan's MigratePartition children on another, migration-thread.ts), as their
 * Lambdas and state machines are apart from the data plane's servers in AWS. They reach the data plane as they do there: the regional DynamoDB
 * endpoints over HTTP; the canary check asks the listeners' cell health (CloudWatch's role) over the thread's
 * message port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddedCluster } from '../local/embedded-cluster.ts';
import type { CanaryHealthCheck } from '../migration/migration-deps.ts';
import { METRIC } from '../support/metrics.ts';
import { TraceClock } from './clock.ts';
import type {
  ControlPlaneStatus,
  ControlPlaneThreadData,
  FromControlPlane,
  ToControlPlane,
} from './control-plane-thread.ts';
import { LocalControlPlane } from './local-control-plane.ts';
import { MigrationThread } from './migration-thread.ts';

const data = (workerData as { data: ControlPlaneThreadData }).data;
const port = parentPort!;
let clock = TraceClock.following(data.clock);
const healthAnswers = new Map<number, (answer: Awaited<ReturnType<CanaryHealthCheck['check']>>) => void>();
let nextHealthId = 0;

function post(message: FromControlPlane): void {
  port.postMessage(message);
}

/** The canary's question, answered by the listeners' thread from the outcomes it observed. */
const remoteHealth: CanaryHealthCheck = {
  check: (targetCell, sinceMs) =>
    new Promise((resolve) => {
      const id = nextHealthId++;
      healthAnswers.set(id, resolve);
      post({ type: 'health', id, targetCell, sinceMs });
    }),
};

const cluster = await EmbeddedCluster.attach({
  endpoints: data.endpoints,
  homeRegion: data.homeRegion,
  ...(data.cellRefreshMs !== undefined && { cellRefreshMs: data.cellRefreshMs }),
});
// MigratePartition on a thread of its own (its step Lambdas in AWS): its steps do not wait behind a cycle here.
const migrations = await MigrationThread.start(
  {
    endpoints: data.endpoints,
    homeRegion: data.homeRegion,
    lease: data.lease,
    stepTimeoutSeconds: data.stepTimeoutSeconds,
    waitOverrideMs: data.waitOverrideMs,
    ...(data.cellRefreshMs !== undefined && { cellRefreshMs: data.cellRefreshMs }),
  },
  remoteHealth,
  (line) => post({ type: 'log', line }),
);
const control = await LocalControlPlane.start({
  ...data.control,
  cluster,
  migrations,
  clock: { nowMs: () => clock.nowMs(), fromWallMs: (wallMs) => clock.fromWallMs(wallMs) },
  log: (line) => post({ type: 'log', line }),
});

function status(): ControlPlaneStatus {
  return {
    cycleWallMs: [...control.cycleWallMs],
    executions: control.executions.map((e) => ({ ...e })),
    migrations: migrations.list(),
    executePlanBytes: control.executePlanMetrics.totals[METRIC.bytesMoved] ?? 0,
    deadLetters: control.lambda.deadLetters.length,
    scalings: (control.scaling?.executions ?? []).map((e) => ({ ...e })),
    cellChanges: [...(control.scaling?.cellChanges ?? [])],
  };
}

const statusTimer = setInterval(() => post({ type: 'status', status: status() }), 500);

port.on('message', (message: ToControlPlane) => {
  switch (message.type) {
    case 'clock':
      clock = TraceClock.following(message.clock);
      return;
    case 'tick': {
      const cycle = control.tick(message.traceMs);
      void Promise.resolve(cycle).then(
        () => post({ type: 'cycleEnded', id: message.id, status: status() }),
        (error: Error) =>
          post({ type: 'cycleEnded', id: message.id, status: status(), error: error.message }),
      );
      return;
    }
    case 'drain':
      void control
        .drain()
        .then(() => post({ type: 'drained', id: message.id, status: status() }))
        .catch((error: Error) => post({ type: 'failed', message: error.stack ?? error.message }));
      return;
    case 'health':
      healthAnswers.get(message.id)?.(message.answer);
      healthAnswers.delete(message.id);
      return;
    case 'close':
      clearInterval(statusTimer);
      void migrations.close();
      cluster.replicator?.close();
      port.close();
      return;
  }
});

post({ type: 'ready', status: status() });
