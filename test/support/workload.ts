import type { RoutingClient } from '../../src/data-plane/routing-client.ts';
import { decodeValue } from '../../src/data-plane/value-codec.ts';
import {
  ItemNotFoundError,
  PartitionFencedError,
  PartitionNotFoundError,
} from '../../src/domain/data-plane/data-plane-errors.ts';
import { shardOf } from '../../src/domain/data-plane/key-hash.ts';
import type { CellDataStore } from '../../src/domain/data-plane/ports.ts';

/** One write a client issued, and what came of it. */
interface Op {
  readonly seq: number;
  readonly kind: 'put' | 'delete';
  /** acked: the API answered 200; rejected: it certainly did not apply (fenced, 404); unknown: it may have. */
  outcome: 'pending' | 'acked' | 'rejected' | 'unknown';
  version?: number;
  ackedAtMs?: number;
  issuedAtMs?: number;
}

export type Observation =
  | { readonly deleted: true }
  | { readonly deleted: false; readonly seq: number; readonly version: number };
export type Verdict = 'ok' | 'lost' | 'resurrected';

/**
 * Every write issued per key, in issue order (one writer per key, so issue order is real-time order). A key's
 * acceptable states after the fact: the last acknowledged write, or any write whose outcome is unknown
 * (it may have landed). Anything else is a lost write, or a deleted value that came back.
 */
export class KeyLedger {
  private readonly ops = new Map<string, Op[]>();
  private nextSeq = 1;

  begin(partition: string, key: string, kind: 'put' | 'delete'): Op {
    const id = `${partition}/${key}`;
    const op: Op = { seq: this.nextSeq++, kind, outcome: 'pending', issuedAtMs: Date.now() };
    const list = this.ops.get(id) ?? [];
    list.push(op);
    this.ops.set(id, list);
    return op;
  }

  history(partition: string, key: string): readonly Op[] {
    return this.ops.get(`${partition}/${key}`) ?? [];
  }

  keys(partition: string): string[] {
    const prefix = `${partition}/`;
    return [...this.ops.keys()].filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
  }

  judge(partition: string, key: string, seen: Observation): Verdict {
    const ops = this.ops.get(`${partition}/${key}`) ?? [];
    const acked = ops.filter((o) => o.outcome === 'acked').at(-1);
    const uncertain = ops.filter((o) => o.outcome === 'unknown' || o.outcome === 'pending');
    if (seen.deleted) {
      if (!acked || acked.kind === 'delete' || uncertain.some((o) => o.kind === 'delete')) return 'ok';
      return 'lost';
    }
    if (acked?.kind === 'put' && acked.seq === seen.seq && (acked.version ?? 0) <= seen.version) return 'ok';
    if (uncertain.some((o) => o.kind === 'put' && o.seq === seen.seq)) return 'ok';
    if (
      acked?.kind === 'delete' &&
      ops.some((o) => o.kind === 'put' && o.seq === seen.seq && o.seq < acked.seq)
    ) {
      return 'resurrected';
    }
    return 'lost';
  }
}

export interface WorkloadStats {
  acked: number;
  rejected: number;
  unknown: number;
  reads: number;
  readFailures: number;
}

export interface WorkloadOptions {
  readonly partitions: readonly string[];
  readonly keysPerPartition: number;
  /** Interceptors the writers and readers pick from at random (each has its own routing cache and clock). */
  readonly clients: readonly RoutingClient[];
  /** Pause between a writer's operations; readers pause twice as long. @default 5 */
  readonly pauseMs?: number;
  readonly deleteShare?: number;
  readonly random?: () => number;
}

/**
 * Concurrent writers (one per partition, so one writer per key) and readers through the routing clients,
 * recording every acknowledged write. Values carry their write's sequence number, so a read tells which write
 * it sees.
 */
export class Workload {
  readonly ledger = new KeyLedger();
  readonly stats: WorkloadStats = { acked: 0, rejected: 0, unknown: 0, reads: 0, readFailures: 0 };
  readonly unexpected: unknown[] = [];
  running = false;
  private readonly paused = new Set<string>();
  private readonly idle = new Map<string, () => void>();
  private loops: Promise<void>[] = [];
  private readonly options: WorkloadOptions;
  private readonly random: () => number;

  constructor(options: WorkloadOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  /** Issue one write through a given client and record its outcome. */
  async write(client: RoutingClient, partition: string, key: string, kind: 'put' | 'delete'): Promise<Op> {
    const op = this.ledger.begin(partition, key, kind);
    try {
      const result =
        kind === 'put'
          ? await client.put(partition, key, { key, seq: op.seq, pad: 'x'.repeat(op.seq % 50) })
          : await client.delete(partition, key);
      op.outcome = 'acked';
      op.version = result.version;
      op.ackedAtMs = Date.now();
      this.stats.acked += 1;
    } catch (error) {
      if (
        error instanceof PartitionFencedError ||
        (error instanceof ItemNotFoundError && kind === 'delete') ||
        error instanceof PartitionNotFoundError
      ) {
        op.outcome = 'rejected';
        this.stats.rejected += 1;
      } else {
        op.outcome = 'unknown';
        this.stats.unknown += 1;
        this.unexpected.push(error);
      }
    }
    return op;
  }

  /** Seed every key with an acknowledged put. */
  async seed(): Promise<void> {
    const client = this.options.clients[0];
    for (const partition of this.options.partitions) {
      for (let i = 0; i < this.options.keysPerPartition; i++)
        await this.write(client, partition, `k${i}`, 'put');
    }
  }

  start(): void {
    this.running = true;
    this.loops = this.options.partitions.flatMap((partition) => [
      this.writer(partition),
      this.reader(partition),
    ]);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const resume of this.idle.values()) resume();
    await Promise.all(this.loops);
  }

  /** Stop a partition's writer after its current operation (resolves once it is idle). */
  async pause(partition: string): Promise<void> {
    this.paused.add(partition);
    await new Promise<void>((resolve) => {
      const check = () => (this.idle.has(partition) || !this.running ? resolve() : setTimeout(check, 2));
      check();
    });
  }

  resume(partition: string): void {
    this.paused.delete(partition);
    const wake = this.idle.get(partition);
    this.idle.delete(partition);
    wake?.();
  }

  private async writer(partition: string): Promise<void> {
    const { keysPerPartition, clients } = this.options;
    while (this.running) {
      if (this.paused.has(partition)) {
        await new Promise<void>((resolve) => this.idle.set(partition, resolve));
        continue;
      }
      const key = `k${Math.floor(this.random() * keysPerPartition)}`;
      const kind = this.random() < (this.options.deleteShare ?? 0.15) ? 'delete' : 'put';
      await this.write(this.pick(clients), partition, key, kind);
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs ?? 5));
    }
  }

  private async reader(partition: string): Promise<void> {
    while (this.running) {
      const key = `k${Math.floor(this.random() * this.options.keysPerPartition)}`;
      try {
        await this.pick(this.options.clients).get(partition, key);
        this.stats.reads += 1;
      } catch (error) {
        if (error instanceof ItemNotFoundError) this.stats.reads += 1;
        else this.stats.readFailures += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, (this.options.pauseMs ?? 5) * 2));
    }
  }
}

/** Read a key straight from one cell's table (no routing) as an observation. */
export async function observeInCell(
  store: CellDataStore,
  partition: string,
  shards: number,
  key: string,
): Promise<Observation> {
  const item = await store.getItem({ partition, shard: shardOf(key, shards), key });
  if (!item || item.deleted) return { deleted: true };
  const value = JSON.parse(decodeValue(item.encoding, item.value)) as { seq: number };
  return { deleted: false, seq: value.seq, version: item.version };
}

/** Read a key through a routing client as an observation. */
export async function observeThrough(
  client: RoutingClient,
  partition: string,
  key: string,
): Promise<Observation> {
  try {
    const read = await client.get(partition, key);
    return { deleted: false, seq: (JSON.parse(read.json) as { seq: number }).seq, version: read.version };
  } catch (error) {
    if (error instanceof ItemNotFoundError) return { deleted: true };
    throw error;
  }
}
