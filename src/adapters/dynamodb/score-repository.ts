import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  parseScoreRecord,
  type ScoreRecord,
  type ScoreRepository,
} from '../../domain/scoring/score-record.ts';
import { mapBounded } from '../../support/bounded-parallel.ts';

/** BatchWriteItem takes at most 25 items, BatchGetItem at most 100 keys. */
export const BATCH_WRITE_LIMIT = 25;
export const BATCH_GET_LIMIT = 100;

/** A batch call kept returning unprocessed items (sustained throttling) after every retry. */
export class ScoreBatchIncompleteError extends Error {
  override name = 'ScoreBatchIncompleteError';
}

export interface ScoreRepositoryOptions {
  /** Batch calls in flight at once. @default 8 */
  readonly concurrency?: number;
  /** Attempts of one batch while items come back unprocessed. @default 8 */
  readonly maxAttempts?: number;
  /** Segments of the parallel scan behind listAll. @default 4 */
  readonly scanSegments?: number;
  /** @default exponential backoff with full jitter from 50 ms, capped at 2 s */
  readonly backoffMs?: (attempt: number) => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Numbers are kept to 6 significant digits: forecasts carry no more, and items stay small. */
function compact(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : value;
}

/** The smallest magnitude DynamoDB stores besides 0 (a smaller number is a ValidationException: underflow). */
const DYNAMODB_SMALLEST_NUMBER = 1e-130;

/**
 * A copy with every number DynamoDB cannot store as it is set to 0: an affinity deep in a distribution's tail
 * (1e-180) is a probability of nothing, and writing it failed the whole batch, so the shard, three times.
 */
function storable(value: unknown): unknown {
  if (typeof value === 'number') return Math.abs(value) < DYNAMODB_SMALLEST_NUMBER ? 0 : value;
  if (Array.isArray(value)) return value.map(storable);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, storable(v)]));
  return value;
}

function toItem(record: ScoreRecord): Record<string, unknown> {
  const series = (byRegion: Readonly<Record<string, readonly number[]>>) =>
    Object.fromEntries(Object.entries(byRegion).map(([region, values]) => [region, values.map(compact)]));
  return storable({
    pk: record.partition,
    ...record,
    mean: series(record.mean),
    upper: series(record.upper),
  }) as Record<string, unknown>;
}

function fromItem(item: Record<string, unknown>, table: string): ScoreRecord {
  const { pk: _pk, ...rest } = item;
  return parseScoreRecord(rest, table);
}

/**
 * The Scores table: one item per partition (`pk` = partition id), overwritten every cycle. Batch writes of 25 and
 * batch reads of 100 retry their unprocessed items with backoff; listAll is a parallel, paginated scan.
 */
export class DynamoScoreRepository implements ScoreRepository {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly scanSegments: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(documents: DynamoDBDocumentClient, table: string, options: ScoreRepositoryOptions = {}) {
    this.documents = documents;
    this.table = table;
    this.concurrency = options.concurrency ?? 8;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.scanSegments = options.scanSegments ?? 4;
    this.backoffMs = options.backoffMs ?? ((attempt) => Math.random() * Math.min(2000, 50 * 2 ** attempt));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async putAll(records: readonly ScoreRecord[]): Promise<void> {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < records.length; i += BATCH_WRITE_LIMIT) {
      batches.push(records.slice(i, i + BATCH_WRITE_LIMIT).map(toItem));
    }
    await mapBounded(batches, this.concurrency, async (items) => {
      let pending = items.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= this.maxAttempts)
          throw new ScoreBatchIncompleteError(
            `${this.table}: ${pending.length} score(s) still unprocessed after ${this.maxAttempts} attempts`,
          );
        if (attempt > 0) await this.sleep(this.backoffMs(attempt));
        const result = await this.documents.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.table] ?? []) as typeof pending;
      }
    });
  }

  async get(partition: string): Promise<ScoreRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: partition } }),
    );
    return result.Item ? fromItem(result.Item, this.table) : undefined;
  }

  async getMany(partitions: readonly string[]): Promise<Map<string, ScoreRecord>> {
    const unique = [...new Set(partitions)];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT)
      batches.push(unique.slice(i, i + BATCH_GET_LIMIT));
    const out = new Map<string, ScoreRecord>();
    await mapBounded(batches, this.concurrency, async (ids) => {
      let keys: Record<string, unknown>[] = ids.map((pk) => ({ pk }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= this.maxAttempts)
          throw new ScoreBatchIncompleteError(
            `${this.table}: ${keys.length} key(s) still unprocessed after ${this.maxAttempts} attempts`,
          );
        if (attempt > 0) await this.sleep(this.backoffMs(attempt));
        const result = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys } } }),
        );
        for (const item of result.Responses?.[this.table] ?? []) {
          const record = fromItem(item, this.table);
          out.set(record.partition, record);
        }
        keys = result.UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    });
    return out;
  }

  async listAll(): Promise<ScoreRecord[]> {
    const segments = Array.from({ length: this.scanSegments }, (_, i) => i);
    const pages = await Promise.all(
      segments.map(async (segment) => {
        const out: ScoreRecord[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const page = await this.documents.send(
            new ScanCommand({
              TableName: this.table,
              Segment: segment,
              TotalSegments: this.scanSegments,
              ExclusiveStartKey: start,
            }),
          );
          for (const item of page.Items ?? []) out.push(fromItem(item, this.table));
          start = page.LastEvaluatedKey;
        } while (start);
        return out;
      }),
    );
    return pages.flat().sort((a, b) => (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
  }
}
