import type { Worker } from 'node:worker_threads';
import type { BacktestFiles } from '../io/backtest-input.ts';
import {
  type BacktestFigures,
  type LiveBacktest,
  type LiveBacktestBaseline,
  type LiveBacktestOptions,
  pacesBacktest,
} from './live-backtest.ts';
import { startSourceWorker } from './source-worker.ts';
import { setThreadPriority } from './thread-priority.ts';

export interface BacktestThreadData {
  /** The live run's trace, partitions and topology (already validated; the thread reads them again). */
  readonly files: BacktestFiles;
  readonly options: LiveBacktestOptions;
}

export type ToBacktest =
  | { readonly type: 'paced'; readonly moveFloorMs: number }
  | { readonly type: 'close' };

export type FromBacktest =
  | { readonly type: 'started'; readonly threadId: number | undefined }
  | { readonly type: 'baseline'; readonly baseline: LiveBacktestBaseline; readonly wallMs: number }
  | { readonly type: 'paced'; readonly paced: BacktestFigures; readonly wallMs: number }
  | { readonly type: 'failed'; readonly message: string };

const SOURCE = 'src/live/backtest-worker.ts';

/** The thread's nice value while the live run runs (the lowest priority). */
export const BACKGROUND_NICE = 19;

/**
 * The backtest of the live run's trace and window (backtest-worker.ts), on a thread of its own at a low priority,
 * started with the run: static and predictive do not depend on it, so they run beside the warm-up and the window on
 * the CPU the live threads leave (its priority is raised again when the run ends, where the system allows it), and
 * only the paced run, which needs the live run's median move time, is left for
 * the end.
 */
export class BacktestThread {
  /** Wall ms the baseline (static and predictive) and the paced run took on the thread. */
  baselineWallMs: number | undefined;
  pacedWallMs: number | undefined;
  private readonly worker: Worker;
  private readonly baseline: Promise<LiveBacktestBaseline>;
  private pacedWaiter: { resolve: (f: BacktestFigures) => void; reject: (e: Error) => void } | undefined;
  private rejectBaseline: ((error: Error) => void) | undefined;
  private failure: Error | undefined;
  private threadId: number | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    this.baseline = new Promise<LiveBacktestBaseline>((resolve, reject) => {
      this.rejectBaseline = reject;
      worker.on('message', (message: FromBacktest) => {
        switch (message.type) {
          case 'started':
            this.threadId = message.threadId;
            return;
          case 'baseline':
            this.baselineWallMs = message.wallMs;
            resolve(message.baseline);
            return;
          case 'paced':
            this.pacedWallMs = message.wallMs;
            this.pacedWaiter?.resolve(message.paced);
            this.pacedWaiter = undefined;
            return;
          case 'failed':
            this.fail(new Error(`backtest: ${message.message}`));
            return;
        }
      });
    });
    // Observed by `result`; a run stopped before it never asks.
    this.baseline.catch(() => undefined);
    worker.on('error', (error) => this.fail(error as Error));
    worker.on('exit', (code) => this.fail(new Error(`the backtest's thread exited (${code})`)));
  }

  static start(data: BacktestThreadData): BacktestThread {
    return new BacktestThread(startSourceWorker(SOURCE, data));
  }

  /**
   * The backtest: the baseline (waiting for it if it has not ended), and the paced run when the live run moved
   * anything (`medianMoveTraceMs`, from the tick whose plan held a move to its end).
   */
  async result(medianMoveTraceMs: number | undefined): Promise<LiveBacktest> {
    // The live run is over: nothing is timed any more, and the rest is waited for.
    setThreadPriority(this.threadId, 0);
    const baseline = await this.baseline;
    if (!pacesBacktest(medianMoveTraceMs)) return baseline;
    if (this.failure) throw this.failure;
    const paced = new Promise<BacktestFigures>((resolve, reject) => {
      this.pacedWaiter = { resolve, reject };
    });
    this.worker.postMessage({ type: 'paced', moveFloorMs: medianMoveTraceMs } satisfies ToBacktest);
    return { ...baseline, predictivePaced: await paced, moveFloorMs: medianMoveTraceMs };
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.rejectBaseline?.(error);
    this.pacedWaiter?.reject(error);
    this.pacedWaiter = undefined;
  }
}
