import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { currentThreadId, setThreadPriority } from '../../../src/live/thread-priority.ts';

/** A thread's nice value, from its /proc stat line (field 19). */
function niceOf(threadId: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${threadId}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe.runIf(existsSync('/proc/thread-self'))('thread priority', () => {
  it('lowers one thread (a worker) and leaves the others as they are', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { readlinkSync } = require('node:fs');
       parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').at(-1)));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    try {
      const workerThread = await new Promise<number>((resolve) => worker.once('message', resolve));
      const mine = currentThreadId()!;
      expect(mine).not.toBe(workerThread);
      const before = niceOf(mine);
      expect(setThreadPriority(workerThread, 15)).toBe(true);
      expect(niceOf(workerThread)).toBe(15);
      expect(niceOf(mine)).toBe(before);
      expect(setThreadPriority(undefined, 15)).toBe(false);
    } finally {
      await worker.terminate();
    }
  });
});
