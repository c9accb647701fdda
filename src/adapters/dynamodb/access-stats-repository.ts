import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AccessCount, AccessStatsRepository, CoAccessCount } from '../../domain/data-plane/ports.ts';

const DEFAULT_RETENTION_SECONDS = 14 * 24 * 3600;

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
        sk: `a#${new Date(c.bucketStartMs).toISOString()}#${c.region}`,
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
    return (await this.query(partition, 'a#', sinceMs)).map((item) => ({
      partition,
      region: item.region as string,
      bucketStartMs: item.bucketStartMs as number,
      count: item.count as number,
      ...(typeof item.writes === 'number' && { writes: item.writes }),
    }));
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
