import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  BatchAbandonedError,
  CellUnavailableError,
  SendingWindowClosedError,
  StorageThrottledError,
  WriteOutcomeUnknownError,
} from '../../domain/data-plane/data-plane-errors.ts';
import type { ValueEncoding } from '../../domain/data-plane/item-rules.ts';
import type {
  BatchWriteOptions,
  CellDataStore,
  CellDataStores,
  ChangePage,
  ShardPage,
  TransferCounters,
  UserWrite,
  UserWriteResult,
} from '../../domain/data-plane/ports.ts';
import type { ItemAddress, StoredItem } from '../../domain/data-plane/stored-item.ts';
import { isConditionalCheckFailed, translateDynamoError } from './dynamodb-errors.ts';
import { CHANGES_INDEX } from './table-definitions.ts';

type AttributeMap = Record<string, AttributeValue>;

const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
const UNPROCESSED_RETRIES = 8;

export function dataPartitionKey(partition: string, shard: number): string {
  return `${partition}#${shard}`;
}

function keyOf(address: ItemAddress): AttributeMap {
  return { pk: { S: dataPartitionKey(address.partition, address.shard) }, sk: { S: address.key } };
}

/**
 * Items read from a table keep the attribute map they came from, so a copy writes it back without converting
 * twice (StoredItem is immutable: an edited copy is a new object and is converted afresh).
 */
const rawMaps = new WeakMap<StoredItem, AttributeMap>();

export function toAttributeMap(item: StoredItem): AttributeMap {
  const raw = rawMaps.get(item);
  if (raw) return raw;
  const map: AttributeMap = {
    ...keyOf(item),
    hlc: { S: item.hlc },
    ver: { N: String(item.version) },
    rb: { N: String(item.bucket) },
    del: { BOOL: item.deleted },
    enc: { S: item.encoding },
  };
  if (!item.deleted) map.v = typeof item.value === 'string' ? { S: item.value } : { B: item.value };
  if (item.expiresAt !== undefined) map.expiresAt = { N: String(item.expiresAt) };
  return map;
}

export function fromAttributeMap(map: AttributeMap): StoredItem {
  const pk = map.pk.S!;
  const split = pk.lastIndexOf('#');
  const value = map.v?.S ?? map.v?.B ?? '';
  const item: StoredItem = {
    partition: pk.slice(0, split),
    shard: Number(pk.slice(split + 1)),
    key: map.sk.S!,
    bucket: Number(map.rb.N),
    version: Number(map.ver.N),
    hlc: map.hlc.S!,
    deleted: map.del?.BOOL === true,
    encoding: (map.enc?.S ?? 'json') as ValueEncoding,
    value,
    ...(map.expiresAt?.N !== undefined ? { expiresAt: Number(map.expiresAt.N) } : {}),
  };
  rawMaps.set(item, map);
  return item;
}

/** Item size by DynamoDB's rules: attribute names plus values (numbers approximated by their digits). */
export function attributeMapSize(map: AttributeMap): number {
  let size = 0;
  for (const name in map) {
    const value = map[name];
    size += Buffer.byteLength(name, 'utf8');
    if (value.S !== undefined) size += Buffer.byteLength(value.S, 'utf8');
    else if (value.B !== undefined) size += value.B.length;
    else if (value.N !== undefined) size += Math.ceil(value.N.length / 2) + 1;
    else if (value.BOOL !== undefined) size += 1;
  }
  return size;
}

export function storedItemSize(item: StoredItem): number {
  return attributeMapSize(toAttributeMap(item));
}

function newCounters(): TransferCounters {
  return {
    itemsWritten: 0,
    bytesWritten: 0,
    itemsRead: 0,
    bytesRead: 0,
    conditionalWritesRefused: 0,
    bytesProbed: 0,
  };
}

async function backoff(attempt: number): Promise<void> {
  await new Promise((resolve) =>
    setTimeout(resolve, Math.min(1000, 10 * 2 ** attempt * (0.5 + Math.random()))),
  );
}

/**
 * One cell's data table over the low-level SDK client. Items cross this boundary as StoredItem with the value
 * still encoded, so copies never decode or re-compress. The only dynalite difference handled here: dynalite
 * ignores ReturnValuesOnConditionCheckFailure, so a refused user write is diagnosed with a consistent read.
 */
export class DynamoCellDataStore implements CellDataStore {
  readonly cellId: string;
  readonly counters: TransferCounters = newCounters();
  private readonly client: DynamoDBClient;
  private readonly table: string;

  private readonly trustRetriedRefusals: boolean;

  /**
   * `unsafeTrustRetriedRefusals` (negative controls only) reports a refusal after an SDK retry as a refusal,
   * the old behaviour that turns an applied write into a 409 or a doubled one.
   */
  constructor(
    cellId: string,
    client: DynamoDBClient,
    table: string,
    options: { unsafeTrustRetriedRefusals?: boolean } = {},
  ) {
    this.cellId = cellId;
    this.client = client;
    this.table = table;
    this.trustRetriedRefusals = options.unsafeTrustRetriedRefusals ?? false;
  }

  private async send<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isConditionalCheckFailed(error) || (error as Error).name === 'AbortError') throw error;
      throw translateDynamoError(error, this.cellId);
    }
  }

  private countRead(map: AttributeMap): void {
    this.counters.itemsRead += 1;
    this.counters.bytesRead += attributeMapSize(map);
  }

  itemSize(item: StoredItem): number {
    return storedItemSize(item);
  }

  async getItem(address: ItemAddress): Promise<StoredItem | undefined> {
    const result = await this.send(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.table, Key: keyOf(address), ConsistentRead: true }),
      ),
    );
    if (!result.Item) return undefined;
    this.countRead(result.Item);
    return fromAttributeMap(result.Item);
  }

  async batchGet(addresses: readonly ItemAddress[]): Promise<StoredItem[]> {
    const out: StoredItem[] = [];
    for (let i = 0; i < addresses.length; i += BATCH_GET_LIMIT) {
      let keys: AttributeMap[] = addresses.slice(i, i + BATCH_GET_LIMIT).map(keyOf);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new StorageThrottledError();
        if (attempt > 0) await backoff(attempt);
        const result = await this.send(() =>
          this.client.send(
            new BatchGetItemCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
          ),
        );
        for (const map of result.Responses?.[this.table] ?? []) {
          this.countRead(map);
          out.push(fromAttributeMap(map));
        }
        keys = result.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return out;
  }

  async probeVersions(addresses: readonly ItemAddress[]): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    for (let i = 0; i < addresses.length; i += BATCH_GET_LIMIT) {
      let keys: AttributeMap[] = addresses.slice(i, i + BATCH_GET_LIMIT).map(keyOf);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) throw new StorageThrottledError();
        if (attempt > 0) await backoff(attempt);
        for (const key of keys) this.counters.bytesProbed += attributeMapSize(key);
        const result = await this.send(() =>
          this.client.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.table]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'sk, hlc' },
              },
            }),
          ),
        );
        for (const map of result.Responses?.[this.table] ?? []) {
          this.counters.bytesProbed += attributeMapSize(map);
          versions.set(map.sk.S!, map.hlc.S!);
        }
        keys = result.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return versions;
  }

  async writeUserItem(write: UserWrite, options: { signal?: AbortSignal } = {}): Promise<UserWriteResult> {
    const names: Record<string, string> = {};
    const values: AttributeMap = {
      ':hlc': { S: write.hlc },
      ':rb': { N: String(write.bucket) },
      ':one': { N: '1' },
    };
    const flag = (value: boolean) => {
      const name = value ? ':true' : ':false';
      values[name] = { BOOL: value };
      return name;
    };
    let update: string;
    if (write.kind === 'put') {
      names['#v'] = 'v';
      values[':enc'] = { S: write.encoding ?? 'json' };
      values[':v'] = typeof write.value === 'string' ? { S: write.value } : { B: write.value! };
      update = `SET #v = :v, enc = :enc, hlc = :hlc, rb = :rb, del = ${flag(false)} REMOVE expiresAt ADD ver :one`;
    } else {
      names['#v'] = 'v';
      values[':exp'] = { N: String(write.tombstoneExpiresAt ?? 0) };
      update = `SET hlc = :hlc, rb = :rb, del = ${flag(true)}, expiresAt = :exp REMOVE #v ADD ver :one`;
    }
    // Per-item HLC order: a write only lands above the item's current HLC, on every cell.
    const clauses = ['(attribute_not_exists(hlc) OR hlc < :hlc)'];
    if (write.kind === 'delete') clauses.push(`del = ${flag(false)}`);
    if (write.ifMatch !== undefined && write.ifMatch > 0) {
      values[':expected'] = { N: String(write.ifMatch) };
      clauses.push('ver = :expected', `del = ${flag(false)}`);
    } else if (write.ifMatch === 0) {
      clauses.push(`(attribute_not_exists(ver) OR del = ${flag(true)})`);
    }
    const condition = [...new Set(clauses)].join(' AND ');
    try {
      const result = await this.send(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: keyOf(write.address),
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'UPDATED_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          { abortSignal: options.signal },
        ),
      );
      this.counters.itemsWritten += 1;
      this.counters.bytesWritten += attributeMapSize(values);
      return { applied: true, version: Number(result.Attributes?.ver?.N) };
    } catch (error) {
      // A user write that failed any other way than by its condition may have been applied (a response lost
      // after DynamoDB applied it, a server error after the write): the caller must hear "unknown", not
      // "unavailable". (Throttling stays THROTTLED: also a 503 the caller retries, never reported as a refusal.)
      if (error instanceof CellUnavailableError) throw new WriteOutcomeUnknownError();
      if (!isConditionalCheckFailed(error)) throw error;
      this.counters.conditionalWritesRefused += 1;
      const old = (error as { Item?: AttributeMap }).Item;
      const current = old ? fromAttributeMap(old) : await this.getItem(write.address);
      // HLCs are unique per writer, so an item carrying ours holds this very write: the SDK retried a request
      // whose response was lost after DynamoDB had applied it, and the retry was refused by its own result.
      if (!this.trustRetriedRefusals && current !== undefined && current.hlc === write.hlc) {
        return { applied: true, version: current.version };
      }
      // After a retry, a refusal may hide an earlier attempt that was applied and then overwritten: reporting a
      // conflict (or retrying with a new HLC) could turn an applied write into a refused or a doubled one.
      if (!this.trustRetriedRefusals && sdkAttempts(error) > 1) throw new WriteOutcomeUnknownError();
      return diagnoseRefusal(write, current);
    }
  }

  async putIfNewer(item: StoredItem, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.putIf(item, 'attribute_not_exists(hlc) OR hlc < :hlc', item.hlc, options.signal);
  }

  async replaceIfUnchanged(item: StoredItem, expectedHlc: string): Promise<boolean> {
    return this.putIf(item, 'hlc = :hlc', expectedHlc);
  }

  async deleteIfUnchanged(address: ItemAddress, hlc: string): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyOf(address),
          ConditionExpression: 'hlc = :hlc',
          ExpressionAttributeValues: { ':hlc': { S: hlc } },
        }),
      ),
    );
  }

  /** Put a whole item on a condition over its current `hlc` (bound as `:hlc`). */
  private putIf(item: StoredItem, condition: string, hlc: string, signal?: AbortSignal): Promise<boolean> {
    const map = toAttributeMap(item);
    this.counters.bytesWritten += attributeMapSize(map);
    return this.conditional(() =>
      this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: map,
          ConditionExpression: condition,
          ExpressionAttributeValues: { ':hlc': { S: hlc } },
        }),
        { abortSignal: signal },
      ),
    );
  }

  /** Send a conditional write: true when applied, false when its condition refused it. */
  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.send(write);
      this.counters.itemsWritten += 1;
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      this.counters.conditionalWritesRefused += 1;
      return false;
    }
  }

  async batchPut(items: readonly StoredItem[], options: BatchWriteOptions = {}): Promise<void> {
    const requests = items.map((item) => {
      const map = toAttributeMap(item);
      this.counters.bytesWritten += attributeMapSize(map);
      return { PutRequest: { Item: map } };
    });
    await this.batchWrite(requests, options);
    this.counters.itemsWritten += items.length;
  }

  async batchDelete(addresses: readonly ItemAddress[], options: BatchWriteOptions = {}): Promise<void> {
    await this.batchWrite(
      addresses.map((address) => ({ DeleteRequest: { Key: keyOf(address) } })),
      options,
    );
  }

  /**
   * Chunks of 25 in parallel, each retrying its unprocessed items. Settles only when every chunk has settled
   * (a failed chunk stops the others from starting new attempts), so no request is left pending when the
   * caller's step returns: a pending retry would freeze with the Lambda sandbox and send at its next
   * invocation, long after the writer lease that allowed it. `canSend` is asked before every attempt, so
   * retries of unprocessed items stop once the caller's sending window has closed.
   */
  private async batchWrite(requests: WriteRequest[], options: BatchWriteOptions): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT)
      chunks.push(requests.slice(i, i + BATCH_WRITE_LIMIT));
    let failed = false;
    const settled = await Promise.allSettled(
      chunks.map(async (chunk) => {
        let pending = chunk;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (failed) throw new BatchAbandonedError();
          if (attempt > UNPROCESSED_RETRIES) throw new StorageThrottledError();
          if (attempt > 0) await backoff(attempt);
          if (options.canSend && !options.canSend()) throw new SendingWindowClosedError();
          try {
            const result = await this.send(() =>
              this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }), {
                abortSignal: options.signal,
              }),
            );
            pending = result.UnprocessedItems?.[this.table] ?? [];
          } catch (error) {
            failed = true;
            throw error;
          }
        }
      }),
    );
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    const first = rejected.find((r) => !(r.reason instanceof BatchAbandonedError)) ?? rejected[0];
    if (first) throw first.reason;
  }

  async queryShard(
    partition: string,
    shard: number,
    options: { readonly startAfter?: string; readonly limit: number; readonly buckets?: readonly number[] },
  ): Promise<ShardPage> {
    const pk = dataPartitionKey(partition, shard);
    const values: AttributeMap = { ':pk': { S: pk } };
    let filter: string | undefined;
    if (options.buckets) {
      const names = options.buckets.map((bucket, i) => {
        values[`:b${i}`] = { N: String(bucket) };
        return `:b${i}`;
      });
      filter = `rb IN (${names.join(', ')})`;
    }
    const result = await this.send(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: filter,
          ExpressionAttributeValues: values,
          ExclusiveStartKey:
            options.startAfter !== undefined ? { pk: { S: pk }, sk: { S: options.startAfter } } : undefined,
          Limit: options.limit,
          ConsistentRead: true,
        }),
      ),
    );
    const items = (result.Items ?? []).map((map) => {
      this.countRead(map);
      return fromAttributeMap(map);
    });
    return { items, ...(result.LastEvaluatedKey ? { lastKey: result.LastEvaluatedKey.sk.S! } : {}) };
  }

  async queryChanges(
    partition: string,
    shard: number,
    options: {
      readonly sinceHlc: string;
      readonly startAfter?: { readonly key: string; readonly hlc: string };
      readonly limit: number;
    },
  ): Promise<ChangePage> {
    const pk = dataPartitionKey(partition, shard);
    const result = await this.send(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: CHANGES_INDEX,
          KeyConditionExpression: 'pk = :pk AND hlc >= :since',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':since': { S: options.sinceHlc } },
          ExclusiveStartKey: options.startAfter
            ? { pk: { S: pk }, sk: { S: options.startAfter.key }, hlc: { S: options.startAfter.hlc } }
            : undefined,
          Limit: options.limit,
        }),
      ),
    );
    const changes = (result.Items ?? []).map((map) => ({
      address: { partition, shard, key: map.sk.S! },
      hlc: map.hlc.S!,
    }));
    const last = result.LastEvaluatedKey;
    return { changes, ...(last ? { next: { key: last.sk.S!, hlc: last.hlc.S! } } : {}) };
  }
}

/** Attempts the SDK made for a request (1 when it did not retry), from the error's response metadata. */
function sdkAttempts(error: unknown): number {
  return (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
}

function diagnoseRefusal(write: UserWrite, current: StoredItem | undefined): UserWriteResult {
  const live = current !== undefined && !current.deleted;
  if (write.ifMatch !== undefined && write.ifMatch > 0 && (!live || current.version !== write.ifMatch)) {
    return {
      applied: false,
      reason: 'version-mismatch',
      ...(live ? { currentVersion: current.version } : {}),
    };
  }
  if (write.ifMatch === 0 && live) {
    return { applied: false, reason: 'version-mismatch', currentVersion: current.version };
  }
  if (write.kind === 'delete' && !live) return { applied: false, reason: 'not-found' };
  if (current !== undefined && current.hlc >= write.hlc) {
    return { applied: false, reason: 'stale-clock', currentHlc: current.hlc };
  }
  // The item changed between the write and the read above: the caller retries from scratch.
  return { applied: false, reason: 'stale-clock', currentHlc: current?.hlc ?? write.hlc };
}

/** Cells resolved through a lookup of (client, table) per cell id. */
export class DynamoCellDataStores implements CellDataStores {
  private readonly stores = new Map<string, DynamoCellDataStore>();
  private readonly resolve: (cellId: string) => { client: DynamoDBClient; table: string };
  private readonly storeOptions: { unsafeTrustRetriedRefusals?: boolean };

  constructor(
    resolve: (cellId: string) => { client: DynamoDBClient; table: string },
    storeOptions: { unsafeTrustRetriedRefusals?: boolean } = {},
  ) {
    this.resolve = resolve;
    this.storeOptions = storeOptions;
  }

  forCell(cellId: string): DynamoCellDataStore {
    let store = this.stores.get(cellId);
    if (!store) {
      const { client, table } = this.resolve(cellId);
      store = new DynamoCellDataStore(cellId, client, table, this.storeOptions);
      this.stores.set(cellId, store);
    }
    return store;
  }
}
