import type { Worker } from 'node:worker_threads';
import type { TraceClockState } from './clock.ts';
import type { LiveMeasurements, RequestOutcome } from './live-measurements.ts';
import type { WriteCheck } from './load-generator.ts';
import type { SampledRequest } from './request-sampler.ts';
import { startSourceWorker } from './source-worker.ts';

/** What the load generator's thread starts from. */
export interface LoadGeneratorThreadData {
  readonly urls: Record<string, string>;
  readonly readKeysPerPartition: Record<string, number>;
  readonly maxInFlight: number;
  readonly seed: number;
  readonly lateAfterTraceMs: number;
  readonly lateRequests: 'send-late' | 'drop-and-fold' | 'drop';
  readonly foldBucketMs?: number;
}

/** An event loop's delay (how late a timer ran), ms: what a stall of that thread cost whatever it was serving. */
export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export type ToLoadGenerator =
  | { readonly type: 'enqueue'; readonly requests: readonly SampledRequest[] }
  | { readonly type: 'clock'; readonly clock: TraceClockState; readonly endTraceMs: number }
  | { readonly type: 'finish' }
  | { readonly type: 'check'; readonly readUrl: string };

export type FromLoadGenerator =
  | { readonly type: 'ready' }
  | {
      readonly type: 'outcomes';
      readonly outcomes: readonly RequestOutcome[];
      readonly inFlight: number;
      readonly late: number;
      readonly dropped: number;
    }
  | {
      readonly type: 'finished';
      readonly notSent: number;
      readonly foldCarriers: number;
      readonly loopDelayMs: LoopDelay;
    }
  | { readonly type: 'checked'; readonly check: WriteCheck }
  | { readonly type: 'failed'; readonly message: string };

const SOURCE = 'src/live/load-generator-worker.ts';

/**
 * The load generator on its own thread (load-generator-worker.ts): in AWS the clients are other machines, so
 * here they get an event loop of their own and reach the listeners over HTTP only. It sends on its own reading
 * of the trace clock (the run sends the clock's state when it holds or runs it); outcomes come back in batches
 * and are recorded into the run's measurements.
 */
export class LoadGeneratorThread {
  inFlight = 0;
  late = 0;
  dropped = 0;
  foldCarriers = 0;
  /** The generator thread's own event-loop delay, known once it finished. */
  loopDelayMs: LoopDelay | undefined;
  private readonly worker: Worker;
  private readonly measurements: LiveMeasurements;
  private readonly waiting = new Map<
    string,
    { resolve: (message: FromLoadGenerator) => void; reject: (error: Error) => void }
  >();
  private failure: Error | undefined;

  private constructor(worker: Worker, measurements: LiveMeasurements) {
    this.worker = worker;
    this.measurements = measurements;
    worker.on('message', (message: FromLoadGenerator) => this.receive(message));
    worker.on('error', (error) => this.fail(error as Error));
    worker.on('exit', (code) => {
      if (this.waiting.size > 0) this.fail(new Error(`the load generator's thread exited (${code})`));
    });
  }

  static async start(
    data: LoadGeneratorThreadData,
    measurements: LiveMeasurements,
  ): Promise<LoadGeneratorThread> {
    const thread = new LoadGeneratorThread(startSourceWorker(SOURCE, data), measurements);
    await thread.next('ready');
    return thread;
  }

  enqueue(requests: readonly SampledRequest[]): void {
    if (requests.length > 0) this.post({ type: 'enqueue', requests });
  }

  /** Send the run's clock: the thread reads the same trace time and sends nothing due after `endTraceMs`. */
  followClock(clock: TraceClockState, endTraceMs: number): void {
    this.post({ type: 'clock', clock, endTraceMs });
  }

  /** Stop sending, wait for the requests in flight; resolves with the requests that were never sent. */
  async finish(): Promise<number> {
    const done = this.next('finished');
    this.post({ type: 'finish' });
    const finished = (await done) as Extract<FromLoadGenerator, { type: 'finished' }>;
    this.loopDelayMs = finished.loopDelayMs;
    this.foldCarriers = finished.foldCarriers;
    return finished.notSent;
  }

  /** Read back every key written (through `readUrl`'s listener) and check it; the thread ends after it. */
  async checkWrites(readUrl: string): Promise<WriteCheck> {
    const done = this.next('checked');
    this.post({ type: 'check', readUrl });
    const { check } = (await done) as Extract<FromLoadGenerator, { type: 'checked' }>;
    return { ...check, writesAcked: this.measurements.writesAcked };
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private post(message: ToLoadGenerator): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(message);
  }

  private next(type: FromLoadGenerator['type']): Promise<FromLoadGenerator> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.set(type, { resolve, reject }));
  }

  private receive(message: FromLoadGenerator): void {
    if (message.type === 'outcomes') {
      for (const outcome of message.outcomes) this.measurements.record(outcome);
      this.inFlight = message.inFlight;
      this.late = message.late;
      this.dropped = message.dropped;
      return;
    }
    if (message.type === 'failed') {
      this.fail(new Error(`load generator: ${message.message}`));
      return;
    }
    const waiter = this.waiting.get(message.type);
    this.waiting.delete(message.type);
    waiter?.resolve(message);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    // Whoever waits on the thread learns it failed (a rejected wait, not a hang).
    for (const [type, waiter] of this.waiting) {
      this.waiting.delete(type);
      waiter.reject(error);
    }
  }
}
