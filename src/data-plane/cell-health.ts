/**
 * Request outcomes per cell over a sliding window, as the interceptor sees them. The local canary health check
 * reads the target's error rate from here; in AWS the same counts are published as metrics behind an alarm.
 */
export class CellHealth {
  private readonly slots = new Map<string, { startMs: number; ok: number; failed: number }[]>();
  private readonly slotMs: number;
  private readonly windowSlots: number;
  private readonly wallNow: () => number;

  constructor(options: { slotMs?: number; windowMs?: number; wallNow?: () => number } = {}) {
    this.slotMs = options.slotMs ?? 1_000;
    this.windowSlots = Math.ceil((options.windowMs ?? 60_000) / this.slotMs);
    this.wallNow = options.wallNow ?? Date.now;
  }

  record(cellId: string, ok: boolean): void {
    const now = this.wallNow();
    const startMs = now - (now % this.slotMs);
    let slots = this.slots.get(cellId);
    if (!slots) {
      slots = [];
      this.slots.set(cellId, slots);
    }
    let slot = slots.at(-1);
    if (!slot || slot.startMs !== startMs) {
      slot = { startMs, ok: 0, failed: 0 };
      slots.push(slot);
      if (slots.length > this.windowSlots) slots.shift();
    }
    if (ok) slot.ok += 1;
    else slot.failed += 1;
  }

  /** Requests and failures for a cell since `sinceMs` (within the window). */
  outcomes(cellId: string, sinceMs: number): { requests: number; failures: number } {
    let requests = 0;
    let failures = 0;
    for (const slot of this.slots.get(cellId) ?? []) {
      if (slot.startMs + this.slotMs <= sinceMs) continue;
      requests += slot.ok + slot.failed;
      failures += slot.failed;
    }
    return { requests, failures };
  }
}
