/**
 * The backtest `prestage up` compares with, on its own thread (started by backtest-thread.ts) at a low priority:
 * static and predictive at once, beside the live run, then the paced run when the live run's median move time is
 * known. The same `runBacktest` the `backtest` command runs (live-backtest.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  BACKGROUND_NICE,
  type BacktestThreadData,
  type FromBacktest,
  type ToBacktest,
} from './backtest-thread.ts';
import { backtestBaseline, backtestPaced } from './live-backtest.ts';
import { readLiveInput } from './live-input.ts';
import { currentThreadId, setThreadPriority } from './thread-priority.ts';

const data = (workerData as { data: BacktestThreadData }).data;
const port = parentPort!;
const post = (message: FromBacktest) => port.postMessage(message);

const threadId = currentThreadId();
setThreadPriority(threadId, BACKGROUND_NICE);
post({ type: 'started', threadId });
try {
  const { input } = readLiveInput(data.files);
  const startedMs = Date.now();
  post({ type: 'baseline', baseline: backtestBaseline(input, data.options), wallMs: Date.now() - startedMs });
  port.on('message', (message: ToBacktest) => {
    if (message.type === 'close') {
      port.close();
      return;
    }
    try {
      const started = Date.now();
      const paced = backtestPaced(input, data.options, message.moveFloorMs);
      post({ type: 'paced', paced, wallMs: Date.now() - started });
    } catch (error) {
      post({ type: 'failed', message: (error as Error).stack ?? String(error) });
    }
  });
} catch (error) {
  post({ type: 'failed', message: (error as Error).stack ?? String(error) });
}
