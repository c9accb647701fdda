import type { Worker } from 'node:worker_threads';
import { InvalidRequestError } from '../domain/data-plane/data-plane-errors.ts';
import type { RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';
import {
  type MigrationOutcome,
  type MigrationStarter,
  validateMigrationInput,
} from '../local/local-migration-runner.ts';
import type { CanaryHealthCheck } from '../migration/migration-deps.ts';
import type { MigrationView } from './control-plane-thread.ts';
import { startSourceWorker } from './source-worker.ts';

/** What MigratePartition's thread starts from. */
export interface MigrationThreadData {
  readonly endpoints: Record<string, string>;
  readonly homeRegion: string;
  readonly lease: RoutingLeaseConfig;
  readonly stepTimeoutSeconds: number;
  readonly waitOverrideMs: number;
  /** Reload the cells table this often, so moves onto a cell a scale-out added find its table. */
  readonly cellRefreshMs?: number;
}

type Health = Awaited<ReturnType<CanaryHealthCheck['check']>>;

export type ToMigrations =
  | { readonly type: 'start'; readonly id: string; readonly input: unknown }
  | { readonly type: 'health'; readonly id: number; readonly answer: Health };

export type FromMigrations =
  | { readonly type: 'ready' }
  | { readonly type: 'views'; readonly views: readonly MigrationView[] }
  | {
      readonly type: 'ended';
      readonly id: string;
      readonly view: MigrationView;
      readonly outcome: MigrationOutcome;
    }
  | { readonly type: 'startFailed'; readonly id: string; readonly message: string }
  | { readonly type: 'health'; readonly id: number; readonly targetCell: string; readonly sinceMs: number }
  | { readonly type: 'failed'; readonly message: string };

const SOURCE = 'src/live/migration-worker.ts';

/**
 * MigratePartition's executions on a thread of their own (migration-worker.ts), as its steps are Lambdas of their
 * own in AWS: the migrations' steps (copy, catch-up, verify, the switches) do not share an event loop with the
 * profiler and the planner. ExecutePlan starts and waits for them through this proxy, which checks the input at
 * once as StartExecution does; the thread reports each execution's stages, and asks the canary's health question
 * back through `health`.
 */
export class MigrationThread implements MigrationStarter {
  private readonly worker: Worker;
  private readonly health: CanaryHealthCheck;
  private readonly views = new Map<string, MigrationView>();
  private readonly waiters = new Map<string, ((outcome: MigrationOutcome) => void)[]>();
  private readonly outcomes = new Map<string, MigrationOutcome>();
  private failure: Error | undefined;

  private constructor(worker: Worker, health: CanaryHealthCheck, log: (line: string) => void) {
    this.worker = worker;
    this.health = health;
    worker.on('message', (message: FromMigrations) => this.receive(message, log));
    worker.on('error', (error) => this.fail(error as Error));
    worker.on('exit', (code) => this.fail(new Error(`MigratePartition's thread exited (${code})`)));
  }

  /** Start the thread; resolves once its clients are bound and the state machine is synthesized. */
  static async start(
    data: MigrationThreadData,
    health: CanaryHealthCheck,
    log: (line: string) => void,
  ): Promise<MigrationThread> {
    const worker = startSourceWorker(SOURCE, data);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: FromMigrations) => {
        if (message.type === 'failed') reject(new Error(message.message));
        if (message.type !== 'ready') return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    }).catch(async (error) => {
      await worker.terminate();
      throw error;
    });
    return new MigrationThread(worker, health, log);
  }

  start(input: unknown, migrationId: string): void {
    validateMigrationInput(input);
    if (this.views.has(migrationId))
      throw new InvalidRequestError('DUPLICATE_MIGRATION', `migration '${migrationId}' already exists`);
    if (this.failure) throw this.failure;
    const now = Date.now();
    this.views.set(migrationId, {
      name: migrationId,
      input,
      status: 'RUNNING',
      stage: 'acquire',
      stages: ['acquire'],
      stageEnteredAtMs: [now],
    });
    this.worker.postMessage({ type: 'start', id: migrationId, input } satisfies ToMigrations);
  }

  wait(migrationId: string): Promise<MigrationOutcome> {
    if (!this.views.has(migrationId))
      return Promise.reject(new InvalidRequestError('UNKNOWN_MIGRATION', `no migration '${migrationId}'`));
    const ended = this.outcomes.get(migrationId);
    if (ended) return Promise.resolve(ended);
    return new Promise((resolve) => {
      const list = this.waiters.get(migrationId) ?? [];
      list.push(resolve);
      this.waiters.set(migrationId, list);
    });
  }

  /** Every execution started, as the thread last reported it (in start order). */
  list(): MigrationView[] {
    return [...this.views.values()];
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private receive(message: FromMigrations, log: (line: string) => void): void {
    switch (message.type) {
      case 'views':
        for (const view of message.views)
          if (!this.outcomes.has(view.name) && this.views.has(view.name)) this.views.set(view.name, view);
        return;
      case 'ended':
        this.views.set(message.id, message.view);
        this.end(message.id, message.outcome);
        return;
      case 'startFailed':
        // Validated here before it was posted: a failure there is the runner's own (logged, the child failed).
        log(`MigratePartition ${message.id}: ${message.message}`);
        this.end(message.id, { status: 'FAILED', error: { name: 'StartFailed', cause: message.message } });
        return;
      case 'health':
        void this.health.check(message.targetCell, message.sinceMs).then((answer) => {
          if (!this.failure)
            this.worker.postMessage({ type: 'health', id: message.id, answer } satisfies ToMigrations);
        });
        return;
      case 'failed':
        this.fail(new Error(`MigratePartition's thread: ${message.message}`));
        return;
      case 'ready':
        return;
    }
  }

  private end(id: string, outcome: MigrationOutcome): void {
    this.outcomes.set(id, outcome);
    for (const resolve of this.waiters.get(id) ?? []) resolve(outcome);
    this.waiters.delete(id);
  }

  /** The thread is gone: every execution still waited for ends FAILED (its parent rolls back what it can). */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const [id, view] of this.views) {
      if (this.outcomes.has(id)) continue;
      this.views.set(id, { ...view, status: 'FAILED' });
      this.end(id, { status: 'FAILED', error: { name: 'ThreadExited', cause: error.message } });
    }
  }
}
