import type { CellRecord } from '../domain/data-plane/cell-record.ts';
import {
  DataPlaneError,
  InvalidRequestError,
  ItemNotFoundError,
  ItemTooLargeError,
  NoCellAvailableError,
  PartitionFencedError,
  PartitionNotFoundError,
  ReadOutcomeLateError,
  VersionConflictError,
  WriteOutcomeUnknownError,
} from '../domain/data-plane/data-plane-errors.ts';
import {
  checkValueSize,
  MAX_ITEM_BYTES,
  validateItemKey,
  validatePartitionId,
} from '../domain/data-plane/item-rules.ts';
import { fnv1a32, rangeBucketOf, shardOf } from '../domain/data-plane/key-hash.ts';
import { newPartitionRecord, type PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type {
  CellDataStore,
  CellDataStores,
  CellRepository,
  PartitionRepository,
  UserWrite,
  UserWriteResult,
} from '../domain/data-plane/ports.ts';
import type { SampleWeight } from '../domain/data-plane/sample-weight.ts';
import type { StoredItem } from '../domain/data-plane/stored-item.ts';
import type { HybridLogicalClock } from '../domain/migration/hlc.ts';
import { routeRead, routeWrite } from '../domain/migration/request-routing.ts';
import {
  fencedRetryAfterSeconds,
  leaseTermsOf,
  type RoutingLeaseConfig,
} from '../domain/migration/routing-lease.ts';
import type { AccessRecorder } from './access-recorder.ts';
import type { CellHealth } from './cell-health.ts';
import { RoutingCache, type RoutingLease } from './routing-cache.ts';
import { decodeValue, encodeValue } from './value-codec.ts';

export interface RoutingClientOptions {
  readonly partitions: PartitionRepository;
  readonly cells: CellRepository;
  readonly stores: CellDataStores;
  readonly clock: HybridLogicalClock;
  readonly lease: RoutingLeaseConfig;
  /** Region of this process: where new partitions are placed when the caller names none. */
  readonly region: string;
  /** DynamoDB partition keys per new partition. @default 8 */
  readonly shardsPerPartition?: number;
  readonly compressionThresholdBytes?: number;
  /** How long tombstones are kept. @default 7 days */
  readonly tombstoneTtlSeconds?: number;
  /** Share of split reads that read both copies and repair the older one. @default 0.05 */
  readonly readRepairRate?: number;
  readonly accessRecorder?: AccessRecorder;
  readonly health?: CellHealth;
  /** Told which cell served each read or write (its primary, for a split read), e.g. for locality metrics. */
  readonly onServed?: (served: ServedRequest) => void;
  /** Cells list cache lifetime (placement only). @default 30 s */
  readonly cellsTtlMs?: number;
  readonly monoNow?: () => number;
  readonly wallNow?: () => number;
  readonly random?: () => number;
  /**
   * Protections turned off, for negative controls only: the nemesis suite turns each one off and shows that
   * the checker then reports anomalies. Never set in a deployment.
   */
  readonly unsafe?: RoutingClientUnsafeSwitches;
}

export interface RoutingClientUnsafeSwitches {
  /** Acknowledge a write whose mirror to the migration target failed (the old, swallowed-error behaviour). */
  readonly acknowledgeUnmirroredWrites?: boolean;
  /** Time leases and the acknowledgement deadline on the monotonic clock only (blind to a suspended host). */
  readonly monotonicClockOnly?: boolean;
  /** Use this client's own lease settings, ignoring the terms on the partition record. */
  readonly ignoreLeaseTerms?: boolean;
  /** Return a read even when it was answered after its routing lease ran out. */
  readonly trustLateReads?: boolean;
}

export interface CallOptions {
  /**
   * The caller's region, for in-process tests that play several regions with one client; decides placement of
   * a new partition. @default the client's region (the region the request arrived in)
   */
  readonly region?: string;
  /** Client identity for co-access sampling. */
  readonly clientId?: string;
  /** What a sampled request stands for, counted in its place (only where the data API trusts the header). */
  readonly standsFor?: SampleWeight;
}

export interface ServedRequest {
  readonly partition: string;
  readonly cell: string;
  /** The caller's region (`x-prestage-region`), or this process's. */
  readonly callerRegion: string;
}

export interface ReadResult {
  /** The value as JSON text (as stored, compact). */
  readonly json: string;
  readonly version: number;
}

const MAX_STALE_CLOCK_RETRIES = 16;
/** A write that finds its cached routing fenced re-reads it if the entry is at least this old. */
const FENCED_REFRESH_MS = 100;

/**
 * Routing for the data API, embeddable in an application (no extra hop) and used by the interceptor Lambda
 * and the local server alike. It routes each request by the partition's routing phase, read through a leased
 * cache (see RoutingLeaseConfig for the rules the cutover relies on), and applies the per-item HLC and version
 * rules on the cell it picks.
 */
export class RoutingClient {
  readonly cache: RoutingCache;
  private readonly options: RoutingClientOptions;
  private readonly monoNow: () => number;
  private readonly wallNow: () => number;
  private readonly random: () => number;
  private cellsCache: { cells: CellRecord[]; fetchedAtMono: number } | undefined;
  /** Mirror writes (to a migration target) that failed; those writes were answered 503, not acknowledged. */
  mirrorFailures = 0;
  readRepairs = 0;
  /** Read repairs that failed (the read itself succeeded). */
  readRepairFailures = 0;
  /** Reads answered after their routing lease ran out, and sent again. */
  lateReads = 0;

  constructor(options: RoutingClientOptions) {
    this.options = options;
    this.monoNow = options.monoNow ?? (() => performance.now());
    this.wallNow = options.wallNow ?? Date.now;
    this.random = options.random ?? Math.random;
    this.cache = new RoutingCache(options.partitions, options.lease, {
      monoNow: this.monoNow,
      // Without the wall clock, elapsed time is the monotonic reading alone (see elapsedMs).
      wallNow: options.unsafe?.monotonicClockOnly ? () => 0 : this.wallNow,
      ignoreLeaseTerms: options.unsafe?.ignoreLeaseTerms ?? false,
    });
  }

  async get(partition: string, key: string, call: CallOptions = {}): Promise<ReadResult> {
    validatePartitionId(partition);
    validateItemKey(key);
    for (let attempt = 0; attempt < MAX_STALE_CLOCK_RETRIES; attempt++) {
      const lease = await this.cache.get(partition);
      if (!lease) throw new PartitionNotFoundError(partition);
      if (attempt === 0) this.count(partition, 'read', call);
      const { record } = lease;
      const address = { partition, shard: shardOf(key, record.shards), key };
      const route = routeRead(record, key, this.random() < (this.options.readRepairRate ?? 0.05));
      let item: StoredItem | undefined;
      if (route.kind === 'one') {
        item = await this.onCell(route.cell, (store) => store.getItem(address));
      } else {
        const [primary, peer] = await Promise.all(
          route.cells.map((cell) => this.onCell(cell, (store) => store.getItem(address))),
        );
        item = newest(primary, peer);
        if (route.repair && item && item !== peer && (peer === undefined || peer.hlc < item.hlc)) {
          // Read repair: bring the migration target's older copy forward (a conditional, forward-only write).
          this.readRepairs += 1;
          await this.onCell(route.cells[1], (store) => store.putIfNewer(item!)).catch(() => {
            // Best effort: the read already returns the newer copy, and the migration's verify repairs the
            // target for certain. Counted, so a cell that refuses repairs shows up.
            this.readRepairFailures += 1;
          });
        }
      }
      // A read is only as good as the routing it was sent under: one answered after that routing's lease ran
      // out (a throttled GetItem retried after backoff, a latency spike) may have read a cell that no longer
      // receives every write (the migration waits leases out, not slow reads). Read again under a fresh lease.
      if (!this.cache.isValid(lease) && !this.options.unsafe?.trustLateReads) {
        this.lateReads += 1;
        continue;
      }
      this.served(partition, route.kind === 'one' ? route.cell : route.cells[0], call);
      if (!item || item.deleted) throw new ItemNotFoundError(partition, key);
      return { json: decodeValue(item.encoding, item.value), version: item.version };
    }
    throw new ReadOutcomeLateError();
  }

  /** Store a JSON value (any JSON-serialisable value, or JSON text with `isJsonText`). */
  async put(
    partition: string,
    key: string,
    value: unknown,
    call: CallOptions & { ifMatch?: number; isJsonText?: boolean } = {},
  ): Promise<{ version: number }> {
    validatePartitionId(partition);
    validateItemKey(key);
    const json = call.isJsonText ? (value as string) : JSON.stringify(value);
    if (json === undefined) throw new InvalidRequestError('INVALID_JSON', 'value is not JSON-serialisable');
    checkValueSize(Buffer.byteLength(json, 'utf8'));
    const encoded = encodeValue(json, { thresholdBytes: this.options.compressionThresholdBytes });
    return this.write(partition, key, call, true, (address, bucket, hlc) => ({
      address,
      bucket,
      hlc,
      kind: 'put',
      encoding: encoded.encoding,
      value: encoded.value,
      ifMatch: call.ifMatch,
    }));
  }

  async delete(
    partition: string,
    key: string,
    call: CallOptions & { ifMatch?: number } = {},
  ): Promise<{ version: number }> {
    validatePartitionId(partition);
    validateItemKey(key);
    const ttl = this.options.tombstoneTtlSeconds ?? 7 * 24 * 3600;
    return this.write(partition, key, call, false, (address, bucket, hlc) => ({
      address,
      bucket,
      hlc,
      kind: 'delete',
      ifMatch: call.ifMatch,
      tombstoneExpiresAt: Math.floor(this.wallNow() / 1000) + ttl,
    }));
  }

  private async write(
    partition: string,
    key: string,
    call: CallOptions & { ifMatch?: number },
    createIfAbsent: boolean,
    build: (address: UserWrite['address'], bucket: number, hlc: string) => UserWrite,
  ): Promise<{ version: number }> {
    let refreshedFenced = false;
    for (let attempt = 0; attempt < MAX_STALE_CLOCK_RETRIES; attempt++) {
      let lease = await this.cache.get(partition);
      if (!lease) {
        if (!createIfAbsent) throw new PartitionNotFoundError(partition);
        lease = await this.place(partition, call.region);
      }
      if (attempt === 0) this.count(partition, 'write', call);
      const { record } = lease;
      const route = routeWrite(record);
      if (route.kind === 'fenced') {
        // The switch may have happened since this entry was fetched: look again (a consistent read) rather than
        // refuse for the rest of the lease. At most once per call, and only for entries older than a fraction of
        // a second, so a fenced partition costs each client a few reads per second, during cutovers only.
        if (!refreshedFenced && this.cache.elapsedSince(lease) >= FENCED_REFRESH_MS) {
          refreshedFenced = true;
          this.cache.invalidate(partition);
          continue;
        }
        throw new PartitionFencedError(
          partition,
          fencedRetryAfterSeconds(record.routing.fencedAtMs, this.wallNow(), lease.config),
        );
      }
      const primary = route.kind === 'primary' ? route.cell : route.primary;
      const address = { partition, shard: shardOf(key, record.shards), key };
      // The acknowledgement deadline counts from the HLC tick: catch-up relies on an acknowledged write landing
      // at most maxRequestMs after it took its HLC.
      const issuedAt = this.cache.now();
      const write = build(address, rangeBucketOf(key), this.options.clock.tick());
      if (write.kind === 'put') this.checkItemSize(primary, write);
      const result = await this.sendUnderLease(lease, primary, write, issuedAt);
      if (result === 'lease-expired') continue;
      if (!result.applied) {
        if (result.reason === 'stale-clock') {
          this.options.clock.observe(result.currentHlc);
          continue;
        }
        if (result.reason === 'not-found') throw new ItemNotFoundError(partition, key);
        throw new VersionConflictError(call.ifMatch ?? 0, result.currentVersion);
      }
      if (route.kind === 'mirrored') await this.mirror(route.mirror, write, result.version, lease);
      this.served(partition, primary, call);
      return { version: result.version };
    }
    throw new WriteOutcomeUnknownError();
  }

  /**
   * Send one write if the routing lease is still valid, and acknowledge it only if DynamoDB answered within
   * `maxRequestMs` of its HLC tick: the bounds the cutover waits out and catch-up's change window relies on.
   * Both are measured on the monotonic and the wall clock (the larger), so a host suspended mid-request never
   * acknowledges late, and both use the lease terms of the record (never longer than the record allows).
   */
  private async sendUnderLease(
    lease: RoutingLease,
    cell: string,
    write: UserWrite,
    issuedAt: { fetchStartedMono: number; fetchStartedWall: number },
  ): Promise<UserWriteResult | 'lease-expired'> {
    if (!this.cache.isValid(lease)) return 'lease-expired';
    const { maxRequestMs } = lease.config;
    const remaining = maxRequestMs - this.cache.elapsedSince(issuedAt);
    if (remaining <= 0) return 'lease-expired'; // not sent: retry with a fresh HLC
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), remaining);
    try {
      const result = await this.onCell(cell, (store) =>
        store.writeUserItem(write, { signal: controller.signal }),
      );
      if (this.cache.elapsedSince(issuedAt) > maxRequestMs) throw new WriteOutcomeUnknownError();
      return result;
    } catch (error) {
      if ((error as Error).name === 'AbortError' || controller.signal.aborted)
        throw new WriteOutcomeUnknownError();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * While writes are mirrored (`mirroring`, `shifting`), copy the new state to the migration target too, before
   * acknowledging: canary reads go to the target, so an acknowledged write must be there. Forward-only, so a
   * copy that lands late, even after the switch, is refused by the target's HLC condition, and a refusal means
   * the target already holds this state or a newer one. If the mirror fails the write is not acknowledged
   * (`503 WRITE_OUTCOME_UNKNOWN`): it is on the source, and catch-up and verify carry it, but until then a
   * canary read could miss it.
   */
  private async mirror(cell: string, write: UserWrite, version: number, lease: RoutingLease): Promise<void> {
    const item: StoredItem = {
      partition: write.address.partition,
      shard: write.address.shard,
      key: write.address.key,
      bucket: write.bucket,
      version,
      hlc: write.hlc,
      deleted: write.kind === 'delete',
      encoding: write.encoding ?? 'json',
      value: write.kind === 'delete' ? '' : write.value!,
      ...(write.tombstoneExpiresAt !== undefined ? { expiresAt: write.tombstoneExpiresAt } : {}),
    };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), lease.config.maxRequestMs);
    try {
      await this.onCell(cell, (store) => store.putIfNewer(item, { signal: controller.signal }));
    } catch {
      this.mirrorFailures += 1;
      if (this.options.unsafe?.acknowledgeUnmirroredWrites) return;
      throw new WriteOutcomeUnknownError();
    } finally {
      clearTimeout(timer);
    }
  }

  private checkItemSize(cell: string, write: UserWrite): void {
    const size = this.options.stores.forCell(cell).itemSize({
      partition: write.address.partition,
      shard: write.address.shard,
      key: write.address.key,
      bucket: write.bucket,
      version: 999_999_999,
      hlc: write.hlc,
      deleted: false,
      encoding: write.encoding ?? 'json',
      value: write.value ?? '',
    });
    if (size > MAX_ITEM_BYTES) {
      throw new ItemTooLargeError(
        `the stored item would be ${size} bytes; an item holds at most ${MAX_ITEM_BYTES}`,
      );
    }
  }

  /** Place a new partition in an ACTIVE cell of the writer's region (first write wins). */
  private async place(partition: string, region = this.options.region): Promise<RoutingLease> {
    const cells = (await this.activeCells()).filter((c) => c.region === region);
    if (cells.length === 0) {
      const regions = new Set((await this.activeCells()).map((c) => c.region));
      if (!regions.has(region)) {
        throw new InvalidRequestError(
          'INVALID_REGION',
          `unknown region '${region}'; expected one of ${[...regions].sort().join(', ')}`,
        );
      }
      throw new NoCellAvailableError(region);
    }
    const cell = cells[fnv1a32(partition) % cells.length];
    const started = this.cache.now();
    const record = await this.options.partitions.createIfAbsent(
      newPartitionRecord(
        partition,
        cell.id,
        this.options.shardsPerPartition ?? 8,
        this.wallNow(),
        leaseTermsOf(this.options.lease),
      ),
    );
    return this.cache.remember(record, started);
  }

  private async activeCells(): Promise<CellRecord[]> {
    const ttl = this.options.cellsTtlMs ?? 30_000;
    if (!this.cellsCache || this.monoNow() - this.cellsCache.fetchedAtMono > ttl) {
      const fetchedAtMono = this.monoNow();
      const cells = (await this.options.cells.list()).filter((c) => c.status === 'ACTIVE');
      this.cellsCache = { cells, fetchedAtMono };
    }
    return this.cellsCache.cells;
  }

  private count(partition: string, kind: 'read' | 'write', call: CallOptions): void {
    this.options.accessRecorder?.record(
      partition,
      call.region ?? this.options.region,
      kind,
      call.clientId,
      call.standsFor,
    );
  }

  private served(partition: string, cell: string, call: CallOptions): void {
    this.options.onServed?.({ partition, cell, callerRegion: call.region ?? this.options.region });
  }

  private async onCell<T>(cell: string, operation: (store: CellDataStore) => Promise<T>): Promise<T> {
    try {
      const result = await operation(this.options.stores.forCell(cell));
      this.options.health?.record(cell, true);
      return result;
    } catch (error) {
      const clientError = error instanceof DataPlaneError && !/UNAVAILABLE|THROTTLED/.test(error.code);
      this.options.health?.record(cell, clientError);
      throw error;
    }
  }

  /** Routing record currently leased for a partition (for diagnostics and tests). */
  async routingOf(partition: string): Promise<PartitionRecord | undefined> {
    return (await this.cache.get(partition))?.record;
  }
}

function newest(a: StoredItem | undefined, b: StoredItem | undefined): StoredItem | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.hlc > a.hlc ? b : a;
}
