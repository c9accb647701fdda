import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type {
  ProfilerCycle,
  ProfilerCycleRepository,
  ShardCompletion,
  StoredShortfallMemory,
} from '../../domain/profiling/ports.ts';
import { isConditionalCheckFailed } from './dynamodb-errors.ts';

/** A shard reported for a cycle that has no record (its coordinator never ran, or the record expired). */
export class UnknownProfilerCycleError extends Error {
  override name = 'UnknownProfilerCycleError';
}

/** The one item holding the shortfall rule's memory (the last cycle's regions with a due shortfall). */
export const SHORTFALL_MEMORY_KEY = 'profiler#shortfall-memory';

export function cycleKey(cycleId: string): string {
  return `cycle#${cycleId}`;
}

function toCycle(item: Record<string, unknown>): ProfilerCycle {
  const { pk: _pk, doneShards, ...rest } = item;
  const done = doneShards instanceof Set ? [...(doneShards as Set<number>)] : [];
  return { ...(rest as Omit<ProfilerCycle, 'doneShards'>), doneShards: done.sort((a, b) => a - b) };
}

/**
 * Profiler cycles in the Coordination table (`pk` = `cycle#<cycleId>`, TTL `expiresAt`). A cycle is created once
 * (conditional put); each shard is counted once by a conditional ADD of its number to the `doneShards` number
 * set, so the shard whose ADD completes the set knows it is the last, and a redelivered shard is never counted
 * twice.
 */
export class DynamoProfilerCycleRepository implements ProfilerCycleRepository {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.documents = documents;
    this.table = table;
  }

  async create(cycle: ProfilerCycle): Promise<{ created: boolean; cycle: ProfilerCycle }> {
    const { doneShards: _done, ...fields } = cycle;
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: cycleKey(cycle.cycleId), ...fields },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, cycle: { ...cycle, doneShards: [] } };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.get(cycle.cycleId);
      if (!existing) throw error;
      return { created: false, cycle: existing };
    }
  }

  async get(cycleId: string): Promise<ProfilerCycle | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: cycleKey(cycleId) }, ConsistentRead: true }),
    );
    return result.Item ? toCycle(result.Item) : undefined;
  }

  async completeShard(cycleId: string, shard: number): Promise<ShardCompletion> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: cycleKey(cycleId) },
          UpdateExpression: 'ADD doneShards :shard',
          ConditionExpression: 'attribute_exists(pk) AND NOT contains(doneShards, :n)',
          ExpressionAttributeValues: { ':shard': new Set([shard]), ':n': shard },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const cycle = toCycle(result.Attributes!);
      return { counted: true, done: cycle.doneShards.length, shards: cycle.shards };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const cycle = await this.get(cycleId);
      if (!cycle) throw new UnknownProfilerCycleError(`profiler cycle '${cycleId}' has no record`);
      return { counted: false, done: cycle.doneShards.length, shards: cycle.shards };
    }
  }

  async markFinished(cycleId: string, atMs: number): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: cycleKey(cycleId) },
          UpdateExpression: 'SET finishedAtMs = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(finishedAtMs)',
          ExpressionAttributeValues: { ':at': atMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async shortfallMemory(): Promise<StoredShortfallMemory | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: SHORTFALL_MEMORY_KEY }, ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    const { cycleId, seriesEndMs, shortRegions, previousShortRegions } = result.Item;
    return {
      cycleId: String(cycleId),
      seriesEndMs: Number(seriesEndMs),
      shortRegions: Array.isArray(shortRegions) ? shortRegions.map(String) : [],
      previousShortRegions: Array.isArray(previousShortRegions) ? previousShortRegions.map(String) : [],
    };
  }

  async rememberShortfalls(memory: StoredShortfallMemory): Promise<boolean> {
    try {
      // Lists, not string sets: a set cannot be empty. A later cycle's memory is never overwritten by an earlier
      // one (a late redelivery); the same cycle's is rewritten (idempotent).
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: SHORTFALL_MEMORY_KEY,
            cycleId: memory.cycleId,
            seriesEndMs: memory.seriesEndMs,
            shortRegions: [...memory.shortRegions],
            previousShortRegions: [...memory.previousShortRegions],
          },
          ConditionExpression: 'attribute_not_exists(pk) OR seriesEndMs <= :end',
          ExpressionAttributeValues: { ':end': memory.seriesEndMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
