import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../src/support/bounded-parallel.ts';

type MapBounded = typeof mapBounded;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The checker: run `impl` over 6 items, 3 at a time, where item 1 fails after 5 ms and the others take 30 ms. Counts
 * the calls that were still running when `impl`'s promise settled (work a Lambda handler would leave in its
 * sandbox, to freeze and resume at the next invocation), the items started after the failure, and whether the
 * running calls were told to stop.
 */
async function leftovers(impl: MapBounded) {
  let running = 0;
  let startedAfterFailure = 0;
  let failed = false;
  const aborted: boolean[] = [];
  const outcome = impl([0, 1, 2, 3, 4, 5], 3, async (item, _index, signal) => {
    if (failed) startedAfterFailure += 1;
    running += 1;
    try {
      if (item === 1) {
        // After the first three calls have all started.
        await sleep(5);
        failed = true;
        throw new Error('item 1 failed');
      }
      await sleep(30);
      aborted.push(signal.aborted);
      return item * 10;
    } finally {
      running -= 1;
    }
  });
  const error = await outcome.then(
    () => undefined,
    (e: Error) => e,
  );
  const stillRunning = running;
  await sleep(100);
  return { error, stillRunning, startedAfterFailure, sawAbort: aborted.some(Boolean) };
}

/** What the code did before: reject on the first failure, leaving the other calls running. */
const rejectOnFirstFailure: MapBounded = async (items, limit, fn) => {
  const stop = new AbortController();
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index], index, stop.signal);
      }
    }),
  );
  return results;
};

describe('mapBounded: structured concurrency', () => {
  it('keeps order and limits calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapBounded([5, 1, 4, 2, 3], 2, async (item) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await sleep(item);
      inFlight -= 1;
      return item * 2;
    });
    expect(results).toEqual([10, 2, 8, 4, 6]);
    expect(peak).toBe(2);
  });

  it('settles only after every call it started has settled, starts nothing after a failure, and aborts the rest', async () => {
    const report = await leftovers(mapBounded);
    expect(report.error?.message).toBe('item 1 failed');
    expect(report.stillRunning).toBe(0);
    expect(report.startedAfterFailure).toBe(0);
    expect(report.sawAbort).toBe(true);
  });

  it('the checker catches work left behind when structured concurrency is off (negative control)', async () => {
    const report = await leftovers(rejectOnFirstFailure);
    expect(report.error?.message).toBe('item 1 failed');
    expect(report.stillRunning).toBeGreaterThan(0);
  });
});
