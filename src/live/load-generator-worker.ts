/**
 * The load generator's thread (started by load-generator-thread.ts): it keeps the queue of sampled requests,
 * sends each when the trace clock reaches it, and measures it, on an event loop of its own, so the latency it
 * measures is the client's view and not stalled by the data plane's or the control plane's work. Outcomes go
 * back to the run in batches.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { seededRandom } from '../domain/seeded-random.ts';
import { TraceClock } from './clock.ts';
import type { RequestOutcome } from './live-measurements.ts';
import { LoadGenerator } from './load-generator.ts';
import type { FromLoadGenerator, LoadGeneratorThreadData, ToLoadGenerator } from './load-generator-thread.ts';

const data = (workerData as { data: LoadGeneratorThreadData }).data;
const port = parentPort!;
const outbox: RequestOutcome[] = [];
const recorder = {
  writesAcked: 0,
  record(outcome: RequestOutcome) {
    if (outcome.kind === 'write' && outcome.status >= 200 && outcome.status < 300) recorder.writesAcked += 1;
    outbox.push(outcome);
  },
};
const readKeys = new Map(Object.entries(data.readKeysPerPartition));
const generator = new LoadGenerator({
  urls: new Map(Object.entries(data.urls)),
  readKeysOf: (p) => readKeys.get(p) ?? 1,
  measurements: recorder,
  maxInFlight: data.maxInFlight,
  random: seededRandom(data.seed),
  lateAfterTraceMs: data.lateAfterTraceMs,
  lateRequests: data.lateRequests,
  ...(data.foldBucketMs !== undefined ? { foldBucketMs: data.foldBucketMs } : {}),
});
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let clock: TraceClock | undefined;
let endTraceMs = Number.POSITIVE_INFINITY;

function post(message: FromLoadGenerator): void {
  port.postMessage(message);
}

function flush(): void {
  post({
    type: 'outcomes',
    outcomes: outbox.splice(0, outbox.length),
    inFlight: generator.inFlight,
    late: generator.late,
    dropped: generator.dropped,
  });
}

const dispatcher = setInterval(() => {
  if (clock?.isRunning) generator.dispatchDue(Math.min(clock.nowMs(), endTraceMs));
}, 5);
const flusher = setInterval(flush, 100);

port.on('message', (message: ToLoadGenerator) => {
  void handle(message).catch((error: Error) =>
    post({ type: 'failed', message: error.stack ?? error.message }),
  );
});

async function handle(message: ToLoadGenerator): Promise<void> {
  switch (message.type) {
    case 'enqueue':
      generator.enqueue(message.requests);
      return;
    case 'clock':
      clock = TraceClock.following(message.clock);
      endTraceMs = message.endTraceMs;
      return;
    case 'finish': {
      // Stop sending: what is due is dropped and its weight declared (drop-and-fold), what is not due yet is
      // dropped (counted as not sent), what is in flight ends.
      clearInterval(dispatcher);
      const foldCarriers = generator.foldRemaining(
        clock ? Math.min(clock.nowMs(), endTraceMs) : Number.NEGATIVE_INFINITY,
      );
      const notSent = generator.dropQueued();
      await generator.whenIdle();
      flush();
      post({
        type: 'finished',
        notSent,
        foldCarriers,
        loopDelayMs: {
          p50: loopDelay.percentile(50) / 1e6,
          p99: loopDelay.percentile(99) / 1e6,
          max: loopDelay.max / 1e6,
        },
      });
      return;
    }
    case 'check': {
      const check = await generator.checkWrites(() => message.readUrl);
      post({ type: 'checked', check: { ...check, problems: [...check.problems] } });
      clearInterval(flusher);
      port.close();
      return;
    }
  }
}

post({ type: 'ready' });
