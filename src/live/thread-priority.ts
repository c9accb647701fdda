import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The calling thread's kernel id (Linux: `/proc/thread-self` names it); undefined elsewhere. */
export function currentThreadId(): number | undefined {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Set one thread's scheduling priority (Linux: each thread has its own nice value), so work that can wait (the
 * backtest beside a live run) takes only the CPU the timed threads leave, and gets its share back once they are
 * done. Returns false where the system refuses (raising a priority needs the right to; the thread then keeps
 * its priority) or has no thread ids.
 */
export function setThreadPriority(threadId: number | undefined, nice: number): boolean {
  if (threadId === undefined) return false;
  try {
    setPriority(threadId, nice);
    return true;
  } catch {
    return false;
  }
}
