import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type { PartitionRepository } from '../domain/data-plane/ports.ts';
import {
  clientLease,
  elapsedMs,
  isLeaseValid,
  type RoutingLeaseConfig,
} from '../domain/migration/routing-lease.ts';

/**
 * A routing entry and the instant its fetch was sent, on both clocks: the start of its lease. `config` is the
 * client's lease settings shortened to the record's terms: what this entry may be used under.
 */
export interface RoutingLease {
  readonly record: PartitionRecord;
  readonly fetchStartedMono: number;
  readonly fetchStartedWall: number;
  readonly config: RoutingLeaseConfig;
}

/**
 * The interceptor's cache of the partitions table. An entry is used only while its lease is valid (the
 * routing-lease rule the cutover relies on); after that it is fetched again with a strongly consistent read.
 * Concurrent misses of one partition share one fetch. Unknown partitions are not cached, so a partition
 * created by another interceptor is visible at once.
 */
export class RoutingCache {
  private readonly entries = new Map<string, RoutingLease>();
  private readonly inFlight = new Map<string, Promise<RoutingLease | undefined>>();
  private readonly repository: PartitionRepository;
  private readonly lease: RoutingLeaseConfig;
  private readonly monoNow: () => number;
  private readonly wallNow: () => number;
  private readonly maxEntries: number;
  private readonly ignoreLeaseTerms: boolean;
  fetches = 0;

  constructor(
    repository: PartitionRepository,
    lease: RoutingLeaseConfig,
    options: {
      monoNow?: () => number;
      wallNow?: () => number;
      maxEntries?: number;
      /** Negative controls only: use the client's own settings whatever the record's terms say. */
      ignoreLeaseTerms?: boolean;
    } = {},
  ) {
    this.repository = repository;
    this.lease = lease;
    this.monoNow = options.monoNow ?? (() => performance.now());
    this.wallNow = options.wallNow ?? Date.now;
    this.ignoreLeaseTerms = options.ignoreLeaseTerms ?? false;
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** A valid lease on the partition's routing, or undefined if the partition does not exist. */
  async get(partition: string): Promise<RoutingLease | undefined> {
    const cached = this.entries.get(partition);
    if (cached && this.isValid(cached)) return cached;
    return this.fetch(partition);
  }

  /** Is this lease still usable right now? Checked again just before a write is sent. */
  isValid(lease: RoutingLease): boolean {
    return isLeaseValid(this.elapsedSince(lease), lease.config);
  }

  /** Milliseconds since the lease's fetch was sent (the larger of the monotonic and the wall-clock reading). */
  elapsedSince(lease: { fetchStartedMono: number; fetchStartedWall: number }): number {
    return elapsedMs(lease.fetchStartedMono, lease.fetchStartedWall, this.monoNow(), this.wallNow());
  }

  /** The instant now, on both clocks, for timing a request the way leases are timed. */
  now(): { fetchStartedMono: number; fetchStartedWall: number } {
    return { fetchStartedMono: this.monoNow(), fetchStartedWall: this.wallNow() };
  }

  /** Drop an entry (the next get fetches it again). */
  invalidate(partition: string): void {
    this.entries.delete(partition);
  }

  /** Store a record obtained by a write the caller started at `startedMono` (e.g. creating the partition). */
  remember(
    record: PartitionRecord,
    started: { fetchStartedMono: number; fetchStartedWall: number },
  ): RoutingLease {
    const lease = this.leaseOf(record, started);
    this.store(lease);
    return lease;
  }

  private leaseOf(
    record: PartitionRecord,
    started: { fetchStartedMono: number; fetchStartedWall: number },
  ): RoutingLease {
    const terms = this.ignoreLeaseTerms ? undefined : record.leaseTerms;
    return { record, ...started, config: clientLease(this.lease, terms) };
  }

  private fetch(partition: string): Promise<RoutingLease | undefined> {
    let pending = this.inFlight.get(partition);
    if (!pending) {
      const started = this.now();
      this.fetches += 1;
      pending = this.repository
        .get(partition)
        .then((record) => (record ? this.store(this.leaseOf(record, started)) : undefined))
        .finally(() => this.inFlight.delete(partition));
      this.inFlight.set(partition, pending);
    }
    return pending;
  }

  private store(lease: RoutingLease): RoutingLease {
    const current = this.entries.get(lease.record.partition);
    // Never go back to an older version of the record (two fetches can complete out of order).
    if (current && current.record.version > lease.record.version) return current;
    if (!current && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(lease.record.partition, lease);
    return lease;
  }
}
