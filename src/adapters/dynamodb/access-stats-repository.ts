import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AccessCount, AccessStatsRepository, CoAccessCount } from '../../domain/data-plane/ports.ts';
import { mapBounded } from '../../support/bounded-parallel.ts';

const DEFAULT_RETENTION_SECONDS = 14 * 24 * 3600;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;
/** Batch reads in flight at once, and attempts of one while keys come back unprocessed (throttling). */
const BATCH_GET_CONCURRENCY = 4;
const BATCH_GET_ATTEMPTS = 8;

/** A batch read kept returning unprocessed keys (sustained throttling) after every retry. */
export class AccessStatsBatchIncompleteError extends Error {
  override name = 'AccessStatsBatchIncompleteError';
}

/** The sort key of a counter: its bucket's ISO time sorts by time; the region tells the region's counters apart. */
function counterSortKey(bucketStartMs: number, region: string): string {
  return `a#${new Date(bucketStartMs).toISOString()}#${region}`;
}

function toAccessCount(partition: string, item: Record<string, unknown>): AccessCount {
  return {
    partition,
    region: item.region as string,
    bucketStartMs: item.bucketStartMs as number,
    count: item.count as number,
    ...(typeof item.writes === 'number' && { writes: item.writes }),
  };
}

/**
 * Access counters per partition × region × time bucket, and co-access pairs, each an atomic ADD on one item
 * with a TTL. One flush writes one item per distinct counter, however many requests it counted.
 */
export class DynamoAccessStatsRepository implements AccessStatsRepository {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly retentionSeconds: number;

  constructor(
    documents: DynamoDBDocumentClient,
    table: string,
    retentionSeconds = DEFAULT_RETENTION_SECONDS,
  ) {
    this.documents = documents;
    this.table = table;
    this.retentionSeconds = retentionSeconds;
  }

  async add(counts: readonly AccessCount[], coAccess: readonly CoAccessCount[]): Promise<void> {
    const writes = [
      ...counts.map((c) => ({
        pk: c.partition,
        sk: counterSortKey(c.bucketStartMs, c.region),
        count: c.count,
        writes: c.writes ?? 0,
        bucketStartMs: c.bucketStartMs,
        extra: { region: c.region },
      })),
      ...coAccess.map((c) => ({
        pk: c.a,
        sk: `c#${new Date(c.bucketStartMs).toISOString()}#${c.b}`,
        count: c.count,
        bucketStartMs: c.bucketStartMs,
        writes: undefined,
        extra: { other: c.b },
      })),
    ];
    const concurrency = 16;
    for (let i = 0; i < writes.length; i += concurrency) {
      await Promise.all(
        writes.slice(i, i + concurrency).map((w) =>
          this.documents.send(
            new UpdateCommand({
              TableName: this.table,
              Key: { pk: w.pk, sk: w.sk },
              UpdateExpression: `ADD #count :n${w.writes === undefined ? '' : ', #writes :w'} SET bucketStartMs = :b, expiresAt = :exp, ${Object.keys(
                w.extra,
              )
                .map((k) => `#${k} = :${k}`)
                .join(', ')}`,
              ExpressionAttributeNames: {
                '#count': 'count',
                ...(w.writes === undefined ? {} : { '#writes': 'writes' }),
                ...Object.fromEntries(Object.keys(w.extra).map((k) => [`#${k}`, k])),
              },
              ExpressionAttributeValues: {
                ':n': w.count,
                ...(w.writes === undefined ? {} : { ':w': w.writes }),
                ':b': w.bucketStartMs,
                ':exp': Math.floor(w.bucketStartMs / 1000) + this.retentionSeconds,
                ...Object.fromEntries(Object.entries(w.extra).map(([k, v]) => [`:${k}`, v])),
              },
            }),
          ),
        ),
      );
    }
  }

  /** Items of one kind (`a#` or `c#`), from `sinceMs` on when given (the ISO time in the key sorts by time). */
  private async query(
    partition: string,
    prefix: string,
    sinceMs?: number,
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    const ranged = sinceMs !== undefined && Number.isFinite(sinceMs);
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: ranged
            ? 'pk = :p AND sk BETWEEN :from AND :to'
            : 'pk = :p AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: ranged
            ? { ':p': partition, ':from': `${prefix}${new Date(sinceMs).toISOString()}`, ':to': `${prefix}~` }
            : { ':p': partition, ':prefix': prefix },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async countsFor(partition: string, sinceMs?: number): Promise<AccessCount[]> {
    return (await this.query(partition, 'a#', sinceMs)).map((item) => toAccessCount(partition, item));
  }

  /**
   * The counters of these partitions × buckets × regions, read by key: BatchGetItem, 100 keys a call, a few calls
   * in flight, unprocessed keys retried with backoff. A key that has no item had no request (it is left out).
   * One call reads a hundred counters where a Query reads one partition's; DynamoDB bills each key read (a
   * missing one at the minimum), so a cycle that needs only its newest buckets reads far less than the Queries.
   */
  async countsByKey(
    partitions: readonly string[],
    bucketStartsMs: readonly number[],
    regions: readonly string[],
  ): Promise<AccessCount[]> {
    const keys: { pk: string; sk: string }[] = [];
    for (const pk of new Set(partitions))
      for (const bucket of new Set(bucketStartsMs))
        for (const region of new Set(regions)) keys.push({ pk, sk: counterSortKey(bucket, region) });
    const batches: { pk: string; sk: string }[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) batches.push(keys.slice(i, i + BATCH_GET_LIMIT));
    const out: AccessCount[] = [];
    await mapBounded(batches, BATCH_GET_CONCURRENCY, async (batch) => {
      let pending: Record<string, unknown>[] = batch;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= BATCH_GET_ATTEMPTS)
          throw new AccessStatsBatchIncompleteError(
            `${this.table}: ${pending.length} key(s) still unprocessed after ${BATCH_GET_ATTEMPTS} attempts`,
          );
        if (attempt > 0)
          await new Promise((resolve) =>
            setTimeout(resolve, Math.random() * Math.min(2000, 50 * 2 ** attempt)),
          );
        const result = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending } } }),
        );
        for (const item of result.Responses?.[this.table] ?? [])
          out.push(toAccessCount(item.pk as string, item));
        pending = result.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    });
    return out;
  }

  async coAccessFor(partition: string, sinceMs?: number): Promise<CoAccessCount[]> {
    return (await this.query(partition, 'c#', sinceMs)).map((item) => ({
      a: partition,
      b: item.other as string,
      bucketStartMs: item.bucketStartMs as number,
      count: item.count as number,
    }));
  }
}
