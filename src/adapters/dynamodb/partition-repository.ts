import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { PartitionNotFoundError, StorageThrottledError } from '../../domain/data-plane/data-plane-errors.ts';
import type { PartitionRecord } from '../../domain/data-plane/partition-record.ts';
import type { PartitionRepository } from '../../domain/data-plane/ports.ts';
import { isConditionalCheckFailed, translateThrottle } from './dynamodb-errors.ts';

const MAX_CAS_ATTEMPTS = 20;

function toRecord(item: Record<string, unknown>): PartitionRecord {
  const { pk: _pk, ...rest } = item;
  return rest as unknown as PartitionRecord;
}

/**
 * The partitions table. Every change is a full-record put on condition that `version` did not move, so two
 * writers (an interceptor placing a new partition, a migration step, a rollback) can never lose each other's
 * updates; `update` re-reads and re-applies the pure transition on a conflict.
 */
export class DynamoPartitionRepository implements PartitionRepository {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.documents = documents;
    this.table = table;
  }

  async get(partition: string): Promise<PartitionRecord | undefined> {
    const result = await translateThrottle(() =>
      this.documents.send(
        new GetCommand({ TableName: this.table, Key: { pk: partition }, ConsistentRead: true }),
      ),
    );
    return result.Item ? toRecord(result.Item) : undefined;
  }

  async createIfAbsent(record: PartitionRecord): Promise<PartitionRecord> {
    try {
      await translateThrottle(() =>
        this.documents.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: record.partition, ...record },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return record;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.get(record.partition);
      if (!existing) throw error;
      return existing;
    }
  }

  async update(
    partition: string,
    mutate: (current: PartitionRecord) => PartitionRecord | undefined,
  ): Promise<PartitionRecord> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.get(partition);
      if (!current) throw new PartitionNotFoundError(partition);
      const next = mutate(current);
      if (next === undefined) return current;
      const written: PartitionRecord = { ...next, version: current.version + 1 };
      try {
        await translateThrottle(() =>
          this.documents.send(
            new PutCommand({
              TableName: this.table,
              Item: { pk: partition, ...written },
              ConditionExpression: 'version = :expected',
              ExpressionAttributeValues: { ':expected': current.version },
            }),
          ),
        );
        return written;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
      }
    }
    throw new StorageThrottledError(`partition '${partition}' is under contention; retry`);
  }

  /**
   * Record a measured size (the profiler's size probe). Only `sizeBytes` and `sizeMeasuredAtMs` change, and
   * `version` does NOT: the size is no routing state, and a version bump would make every migration step or
   * interceptor placement in flight lose its compare-and-set and retry (and would tell routing caches that
   * routing changed). The price: a full-record put of a writer that read the record before this update keeps
   * the size it read, so this measurement can be lost; the profiler then finds the size stale and measures
   * again. The condition never lets an older measurement replace a newer one (e.g. a migration's, recorded
   * at its commit), and never creates a record. Returns whether the size was written.
   */
  async recordSize(partition: string, sizeBytes: number, measuredAtMs: number): Promise<boolean> {
    try {
      await translateThrottle(() =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: partition },
            UpdateExpression: 'SET sizeBytes = :size, sizeMeasuredAtMs = :at',
            ConditionExpression:
              'attribute_exists(pk) AND (attribute_not_exists(sizeMeasuredAtMs) OR sizeMeasuredAtMs < :at)',
            ExpressionAttributeValues: { ':size': sizeBytes, ':at': measuredAtMs },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async list(): Promise<PartitionRecord[]> {
    const out: PartitionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await translateThrottle(() =>
        this.documents.send(
          new ScanCommand({ TableName: this.table, ExclusiveStartKey: start, ConsistentRead: true }),
        ),
      );
      for (const item of page.Items ?? []) out.push(toRecord(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.partition.localeCompare(b.partition));
  }
}
