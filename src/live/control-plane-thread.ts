import type { Worker } from 'node:worker_threads';
import type { CellHealth } from '../data-plane/cell-health.ts';
import type { RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';
import { ErrorRateHealthCheck } from '../migration/canary-health.ts';
import type { CanaryHealthCheck } from '../migration/migration-deps.ts';
import type { TraceClockState } from './clock.ts';
import type { LiveCellChange, LiveScalingExecution } from './live-scaling.ts';
import type { LivePlanExecution, LocalControlPlaneOptions } from './local-control-plane.ts';
import { startSourceWorker } from './source-worker.ts';

/** What the control plane's thread starts from. */
export interface ControlPlaneThreadData {
  readonly endpoints: Record<string, string>;
  readonly homeRegion: string;
  readonly clock: TraceClockState;
  readonly lease: RoutingLeaseConfig;
  readonly stepTimeoutSeconds: number;
  readonly waitOverrideMs: number;
  /** Reload the cells table this often on the control plane's and the migrations' threads (cells added live). */
  readonly cellRefreshMs?: number;
  readonly control: Omit<LocalControlPlaneOptions, 'cluster' | 'migrations' | 'clock' | 'log'>;
}

/** A MigratePartition execution as the run reports it. */
export interface MigrationView {
  readonly name: string;
  readonly input: unknown;
  readonly status: string;
  readonly stage: string;
  readonly stages: readonly string[];
  readonly stageEnteredAtMs: readonly number[];
  readonly endedAt?: string;
}

/** What the control plane's thread reports: its cycles, executions and migrations so far. */
export interface ControlPlaneStatus {
  readonly cycleWallMs: readonly number[];
  readonly executions: readonly LivePlanExecution[];
  readonly migrations: readonly MigrationView[];
  readonly executePlanBytes: number;
  /** Asynchronous invocations (profiler shards, planner) that failed three times (Lambda's dead letters). */
  readonly deadLetters: number;
  /** ScaleCluster executions the profiler started, and the cell status changes their steps made (trace clock). */
  readonly scalings: readonly LiveScalingExecution[];
  readonly cellChanges: readonly LiveCellChange[];
}

type Health = Awaited<ReturnType<CanaryHealthCheck['check']>>;

export type ToControlPlane =
  | { readonly type: 'clock'; readonly clock: TraceClockState }
  | { readonly type: 'tick'; readonly id: number; readonly traceMs: number }
  | { readonly type: 'drain'; readonly id: number }
  | { readonly type: 'health'; readonly id: number; readonly answer: Health }
  | { readonly type: 'close' };

export type FromControlPlane =
  | { readonly type: 'ready'; readonly status: ControlPlaneStatus }
  | { readonly type: 'status'; readonly status: ControlPlaneStatus }
  | {
      readonly type: 'cycleEnded';
      readonly id: number;
      readonly status: ControlPlaneStatus;
      readonly error?: string;
    }
  | { readonly type: 'drained'; readonly id: number; readonly status: ControlPlaneStatus }
  | { readonly type: 'health'; readonly id: number; readonly targetCell: string; readonly sinceMs: number }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'failed'; readonly message: string };

const SOURCE = 'src/live/control-plane-worker.ts';

/**
 * The control plane (control-plane-worker.ts) on its own thread, so a CPU-bound profiler cycle or a migration's
 * steps do not stall the listeners that serve the load generator's requests. The run sees it through this
 * proxy: ticks of the schedule, drains, and the status the thread reports (cycles, executions, migrations).
 */
export class ControlPlaneThread {
  /** Schedule ticks run, and skipped because the previous cycle had not ended. */
  cycles = 0;
  skippedTicks = 0;
  private status: ControlPlaneStatus;
  private readonly worker: Worker;
  private readonly health: CanaryHealthCheck;
  private readonly log: (line: string) => void;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private cycle: Promise<void> | undefined;
  private failure: Error | undefined;

  private constructor(
    worker: Worker,
    status: ControlPlaneStatus,
    health: CellHealth,
    log: (line: string) => void,
  ) {
    this.worker = worker;
    this.status = status;
    this.health = new ErrorRateHealthCheck(health);
    this.log = log;
    worker.on('message', (message: FromControlPlane) => this.receive(message));
    worker.on('error', (error) => this.fail(error as Error));
    worker.on('exit', (code) => this.fail(new Error(`the control plane's thread exited (${code})`)));
  }

  /** Start the thread; resolves once its tables exist and its handlers are bound. */
  static async start(
    data: ControlPlaneThreadData,
    health: CellHealth,
    log: (line: string) => void,
  ): Promise<ControlPlaneThread> {
    const worker = startSourceWorker(SOURCE, data);
    const status = await new Promise<ControlPlaneStatus>((resolve, reject) => {
      const onMessage = (message: FromControlPlane) => {
        if (message.type === 'log') log(message.line);
        if (message.type !== 'ready') return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(message.status);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    }).catch(async (error) => {
      await worker.terminate();
      throw error;
    });
    return new ControlPlaneThread(worker, status, health, log);
  }

  get executions(): readonly LivePlanExecution[] {
    return this.status.executions;
  }

  get cycleWallMs(): readonly number[] {
    return this.status.cycleWallMs;
  }

  get migrations(): readonly MigrationView[] {
    return this.status.migrations;
  }

  /** Bytes ExecutePlan reported moved (its metric). */
  get executePlanBytes(): number {
    return this.status.executePlanBytes;
  }

  get scalings(): readonly LiveScalingExecution[] {
    return this.status.scalings;
  }

  get cellChanges(): readonly LiveCellChange[] {
    return this.status.cellChanges;
  }

  /** Profiler shards and planners that failed every attempt. */
  get deadLetters(): number {
    return this.status.deadLetters;
  }

  followClock(clock: TraceClockState): void {
    this.post({ type: 'clock', clock });
  }

  /**
   * The schedule fires at `traceMs`: a cycle starts on the thread, unless the previous one is still running
   * (then the tick is skipped and counted). Resolves when the cycle's profiler and planner have ended.
   */
  tick(traceMs: number): Promise<void> | undefined {
    if (this.cycle) {
      this.skippedTicks += 1;
      return undefined;
    }
    this.cycles += 1;
    const id = this.nextId++;
    const cycle = this.request(id, { type: 'tick', id, traceMs });
    this.cycle = cycle.finally(() => {
      this.cycle = undefined;
    });
    return this.cycle;
  }

  /** Wait for the running cycle and every ExecutePlan execution to end. */
  async drain(): Promise<void> {
    await this.cycle?.catch(() => undefined);
    const id = this.nextId++;
    await this.request(id, { type: 'drain', id });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private request(id: number, message: ToControlPlane): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.post(message);
    return done;
  }

  private post(message: ToControlPlane): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(message);
  }

  private receive(message: FromControlPlane): void {
    switch (message.type) {
      case 'status':
      case 'ready':
        this.status = message.status;
        return;
      case 'log':
        this.log(message.line);
        return;
      case 'health':
        void this.health.check(message.targetCell, message.sinceMs).then((answer) => {
          if (!this.failure) this.worker.postMessage({ type: 'health', id: message.id, answer });
        });
        return;
      case 'failed':
        this.fail(new Error(`control plane: ${message.message}`));
        return;
      case 'cycleEnded':
      case 'drained': {
        this.status = message.status;
        const waiter = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        if (message.type === 'cycleEnded' && message.error) waiter?.reject(new Error(message.error));
        else waiter?.resolve();
        return;
      }
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const [id, waiter] of this.waiting) {
      this.waiting.delete(id);
      waiter.reject(error);
    }
  }
}
