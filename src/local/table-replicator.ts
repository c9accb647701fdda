import { AsyncResource } from 'node:async_hooks';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';

/** A replicated table: its name (the same in every region, as in a global table) and its key attributes. */
export interface ReplicatedTable {
  readonly name: string;
  readonly keyAttributes: readonly string[];
}

export interface TableReplicatorOptions {
  /** The home region's client: every write to a replicated table goes through it. */
  readonly source: DynamoDBClient;
  /** Replica regions and their clients. */
  readonly replicas: ReadonlyMap<string, DynamoDBClient>;
  readonly tables: readonly ReplicatedTable[];
  /** Replication delay of one write to one region, drawn per write (ms). */
  readonly lagMs: () => number;
  /** Pause before trying a failed replication again (a throttle, a lost response). @default 20 */
  readonly retryMs?: number;
}

export interface ReplicatorCounts {
  /** Writes to replicated tables seen at the source. */
  writes: number;
  /** Item images copied to a replica (a copy may carry several writes to the item). */
  copies: number;
  /** Replication attempts that failed and were tried again. */
  retries: number;
  /** Copies abandoned on an error retrying cannot fix (a bug: the key or table was not what it seemed). */
  failures: number;
  /** Longest delay from a write to its copy landing in a replica. */
  maxLagMs: number;
}

type Key = Record<string, AttributeValue>;

/**
 * DynamoDB global-table replication for the embedded data plane (dynalite has no Streams and no global tables):
 * every write to a replicated table in the home region is copied to each replica region after a drawn lag, as
 * the item's whole current image (last writer wins, like a global table).
 *
 * What a global table promises, and this keeps: per item, a replica only moves forward (copies of one item to
 * one region run one after the other, each reading the source's current image when it runs, so a replica may
 * skip intermediate states but never goes back); every write reaches every replica eventually, even when the
 * writer never saw its response (the copy is scheduled whether the request succeeded or failed). What it does
 * not promise, and neither does AWS: any bound on the lag. The migration confirms a routing change in every
 * replica before it counts a lease wait from it.
 */
export class TableReplicator {
  readonly counts: ReplicatorCounts = { writes: 0, copies: 0, retries: 0, failures: 0, maxLagMs: 0 };
  private readonly options: TableReplicatorOptions;
  private readonly tables: ReadonlyMap<string, ReplicatedTable>;
  private readonly chains = new Map<string, Promise<void>>();
  /**
   * Replication is DynamoDB's work, not the writer's: copies run in the context the replicator was created in,
   * never in the async context of the request that wrote (a Lambda invocation the step freezer may freeze).
   */
  private readonly scope = new AsyncResource('prestage-table-replication');
  private closed = false;
  /** Wake-ups of copies waiting out their lag, so close() does not leave timers behind. */
  private readonly sleepers = new Set<() => void>();

  constructor(options: TableReplicatorOptions) {
    this.options = options;
    this.tables = new Map(options.tables.map((t) => [t.name, t]));
    options.source.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } finally {
          this.noteWrite(context.commandName ?? '', args.input as Record<string, unknown>);
        }
      },
      // At `build`, after the document client's marshalling (just before the serializer): keys arrive as
      // attribute values. Above the retry loop, so one call is one replicated write however often it was sent.
      { step: 'build', priority: 'high', name: 'prestageTableReplicator' },
    );
  }

  /** Replications still queued or running. */
  get pending(): number {
    return this.chains.size;
  }

  /** Resolves when every write seen so far has reached every replica. */
  async drain(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /** Stop replicating (queued copies are dropped); for shutting the cluster down. */
  close(): void {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private noteWrite(command: string, input: Record<string, unknown>): void {
    for (const { table, key } of this.keysWritten(command, input)) {
      this.counts.writes += 1;
      const writtenAt = performance.now();
      for (const region of this.options.replicas.keys()) {
        this.schedule(region, table, key, writtenAt, this.options.lagMs());
      }
    }
  }

  private keysWritten(command: string, input: Record<string, unknown>): { table: string; key: Key }[] {
    const keyOf = (tableName: unknown, item: unknown) => {
      const table = this.tables.get(tableName as string);
      if (!table || !item) return [];
      const image = item as Key;
      return [{ table: table.name, key: Object.fromEntries(table.keyAttributes.map((a) => [a, image[a]])) }];
    };
    switch (command) {
      case 'PutItemCommand':
        return keyOf(input.TableName, input.Item);
      case 'UpdateItemCommand':
      case 'DeleteItemCommand':
        return keyOf(input.TableName, input.Key);
      case 'BatchWriteItemCommand':
        return Object.entries(
          (input.RequestItems ?? {}) as Record<
            string,
            { PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }[]
          >,
        ).flatMap(([table, requests]) =>
          requests.flatMap((r) => keyOf(table, r.PutRequest?.Item ?? r.DeleteRequest?.Key)),
        );
      case 'TransactWriteItemsCommand':
        return (
          (input.TransactItems ?? []) as {
            Put?: { TableName: string; Item: Key };
            Update?: { TableName: string; Key: Key };
            Delete?: { TableName: string; Key: Key };
          }[]
        ).flatMap((t) => {
          if (t.Put) return keyOf(t.Put.TableName, t.Put.Item);
          const keyed = t.Update ?? t.Delete;
          return keyed ? keyOf(keyed.TableName, keyed.Key) : [];
        });
      default:
        return [];
    }
  }

  private schedule(region: string, table: string, key: Key, writtenAt: number, lagMs: number): void {
    this.scope.runInAsyncScope(() => this.enqueue(region, table, key, writtenAt, lagMs));
  }

  private enqueue(region: string, table: string, key: Key, writtenAt: number, lagMs: number): void {
    const id = `${region}\u0000${table}\u0000${JSON.stringify(key)}`;
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous.then(async () => {
      const wait = writtenAt + lagMs - performance.now();
      if (wait > 0) await this.sleep(wait);
      await this.copyWithRetry(region, table, key);
      this.counts.maxLagMs = Math.max(this.counts.maxLagMs, performance.now() - writtenAt);
    });
    this.chains.set(id, next);
    void next.finally(() => {
      if (this.chains.get(id) === next) this.chains.delete(id);
    });
  }

  private async copyWithRetry(region: string, table: string, key: Key): Promise<void> {
    const replica = this.options.replicas.get(region)!;
    while (!this.closed) {
      try {
        const current = await this.options.source.send(
          new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }),
        );
        if (this.closed) return;
        if (current.Item) await replica.send(new PutItemCommand({ TableName: table, Item: current.Item }));
        else await replica.send(new DeleteItemCommand({ TableName: table, Key: key }));
        this.counts.copies += 1;
        return;
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'ValidationException' || name === 'SerializationException') {
          this.counts.failures += 1;
          return;
        }
        // Replication never gives up on a write (a throttle, a lost response, a replica busy): try again.
        this.counts.retries += 1;
        await this.sleep(this.options.retryMs ?? 20);
      }
    }
  }
}
