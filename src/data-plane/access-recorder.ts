import { fnv1a32 } from '../domain/data-plane/key-hash.ts';
import type { AccessCount, AccessStatsRepository, CoAccessCount } from '../domain/data-plane/ports.ts';
import type { SampleWeight } from '../domain/data-plane/sample-weight.ts';

/**
 * Which instant a request is counted at: its arrival on the recorder's clock, or the instant its sample weight
 * declares (`SampleWeight.atMs`), if any. A port, so that the deployment counts on arrival, as it always has
 * (nothing a client sends moves its counts in time), and only a replay that trusts its own load generator counts
 * a late request in the bucket it stands for.
 */
export type CountingInstant = (arrivalMs: number, declaredMs: number | undefined) => number;

/** Count every request when it arrives (the deployment; the default). */
export const COUNT_ON_ARRIVAL: CountingInstant = (arrivalMs) => arrivalMs;

/**
 * Count a request at the instant it declares, never later than its arrival (a request cannot be counted in a
 * bucket still to come); one that declares none, on arrival. Only for a replay whose load generator is trusted:
 * `prestage up`, whose requests are sent late when the machine falls behind.
 */
export const COUNT_AS_DECLARED: CountingInstant = (arrivalMs, declaredMs) =>
  declaredMs === undefined ? arrivalMs : Math.min(declaredMs, arrivalMs);

export interface AccessRecorderOptions {
  /** Width of a counting bucket. @default 5 minutes */
  readonly bucketMs?: number;
  /** Counts are written at most this often. @default 10 s */
  readonly flushIntervalMs?: number;
  /** Share of clients whose co-access is tracked, chosen by a hash of the client id. @default 0.1 */
  readonly coAccessSampleRate?: number;
  /** Two partitions count as accessed together when one client touches both within this time. @default 10 s */
  readonly coAccessWindowMs?: number;
  /** Distinct partitions remembered per sampled client. @default 16 */
  readonly coAccessMaxRecent?: number;
  readonly wallNow?: () => number;
  /** The instant a request is counted at (the bucket it lands in). @default COUNT_ON_ARRIVAL */
  readonly countingInstant?: CountingInstant;
}

/**
 * Access counts per partition × region × bucket, and co-access pairs of sampled clients, kept in memory and
 * written in one batch per flush interval: never an extra write per request.
 */
export class AccessRecorder {
  private counts = new Map<string, AccessCount>();
  private pairs = new Map<string, CoAccessCount>();
  private readonly recent = new Map<string, { partition: string; atMs: number }[]>();
  private readonly repository: AccessStatsRepository;
  private readonly bucketMs: number;
  private readonly flushIntervalMs: number;
  private readonly sampleThreshold: number;
  private readonly windowMs: number;
  private readonly maxRecent: number;
  private readonly wallNow: () => number;
  private readonly countingInstant: CountingInstant;
  private lastFlushMs: number;
  private flushing: Promise<void> | undefined;
  flushes = 0;

  constructor(repository: AccessStatsRepository, options: AccessRecorderOptions = {}) {
    this.repository = repository;
    this.bucketMs = options.bucketMs ?? 300_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 10_000;
    this.sampleThreshold = (options.coAccessSampleRate ?? 0.1) * 2 ** 32;
    this.windowMs = options.coAccessWindowMs ?? 10_000;
    this.maxRecent = options.coAccessMaxRecent ?? 16;
    this.wallNow = options.wallNow ?? Date.now;
    this.countingInstant = options.countingInstant ?? COUNT_ON_ARRIVAL;
    this.lastFlushMs = this.wallNow();
  }

  /**
   * Count one request (reads and writes apart: the planner weighs writes more), or, for a sampled request that
   * declares its weight, the reads and writes it stands for, in the bucket `countingInstant` picks (on arrival
   * unless the recorder was built to honour the weight's instant). O(1) for unsampled clients.
   */
  record(
    partition: string,
    region: string,
    kind: 'read' | 'write',
    clientId?: string,
    standsFor?: SampleWeight,
  ): void {
    const now = this.wallNow();
    const countedAt = this.countingInstant(now, standsFor?.atMs);
    const bucketStartMs = countedAt - (countedAt % this.bucketMs);
    const id = `${partition}\u0000${region}\u0000${bucketStartMs}`;
    const current = this.counts.get(id);
    const count = standsFor ? standsFor.reads + standsFor.writes : 1;
    const write = standsFor ? standsFor.writes : kind === 'write' ? 1 : 0;
    if (current)
      this.counts.set(id, {
        ...current,
        count: current.count + count,
        writes: (current.writes ?? 0) + write,
      });
    else this.counts.set(id, { partition, region, bucketStartMs, count, writes: write });
    if (clientId !== undefined && fnv1a32(clientId) < this.sampleThreshold) {
      this.recordCoAccess(clientId, partition, now, bucketStartMs);
    }
  }

  private recordCoAccess(clientId: string, partition: string, now: number, bucketStartMs: number): void {
    const recent = (this.recent.get(clientId) ?? []).filter((r) => now - r.atMs <= this.windowMs);
    for (const other of recent) {
      if (other.partition === partition) continue;
      const [a, b] =
        partition < other.partition ? [partition, other.partition] : [other.partition, partition];
      const id = `${a}\u0000${b}\u0000${bucketStartMs}`;
      const pair = this.pairs.get(id);
      this.pairs.set(id, { a, b, bucketStartMs, count: (pair?.count ?? 0) + 1 });
    }
    const next = recent.filter((r) => r.partition !== partition);
    next.push({ partition, atMs: now });
    if (next.length > this.maxRecent) next.shift();
    this.recent.set(clientId, next);
  }

  /** Flush when the interval has passed (called after requests; cheap otherwise). */
  async flushIfDue(): Promise<void> {
    if (this.wallNow() - this.lastFlushMs >= this.flushIntervalMs) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.lastFlushMs = this.wallNow();
    const counts = [...this.counts.values()];
    const pairs = [...this.pairs.values()];
    this.counts = new Map();
    this.pairs = new Map();
    for (const [client, recent] of this.recent) {
      if (recent.every((r) => this.lastFlushMs - r.atMs > this.windowMs)) this.recent.delete(client);
    }
    if (counts.length === 0 && pairs.length === 0) return;
    this.flushes += 1;
    this.flushing = this.repository.add(counts, pairs).catch((error) => {
      // Keep the counts for the next flush rather than losing them.
      for (const c of counts) this.mergeCount(c);
      for (const p of pairs) this.pairs.set(`${p.a}\u0000${p.b}\u0000${p.bucketStartMs}`, p);
      throw error;
    });
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private mergeCount(count: AccessCount): void {
    const id = `${count.partition}\u0000${count.region}\u0000${count.bucketStartMs}`;
    const current = this.counts.get(id);
    this.counts.set(
      id,
      current
        ? {
            ...current,
            count: current.count + count.count,
            writes: (current.writes ?? 0) + (count.writes ?? 0),
          }
        : count,
    );
  }

  /** Requests counted but not flushed yet. */
  pendingRequests(): number {
    let total = 0;
    for (const c of this.counts.values()) total += c.count;
    return total;
  }
}
