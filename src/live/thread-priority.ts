import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lower the calling thread's scheduling priority (Linux: a thread has its own nice value, and `/proc/thread-self`
 * names its id), so work that can wait (the backtest beside a live run) takes only the CPU the timed threads
 * leave. Elsewhere, or when the system refuses, the thread runs at its normal priority: returns false.
 */
export function lowerThisThreadPriority(nice = 19): boolean {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (!Number.isInteger(threadId) || threadId <= 0) return false;
    setPriority(threadId, nice);
    return true;
  } catch {
    return false;
  }
}
