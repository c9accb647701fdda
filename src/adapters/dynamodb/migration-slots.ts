import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StorageThrottledError } from '../../domain/data-plane/data-plane-errors.ts';
import {
  countPerCell,
  decideReservation,
  type MigrationLimits,
  type MigrationSlots,
  type ReserveOptions,
  type ReserveResult,
  type SlotHolder,
} from '../../domain/planning/migration-slots.ts';
import { isConditionalCheckFailed, translateThrottle } from './dynamodb-errors.ts';

/** Coordination item with the run-time migration limits (operators change it while plans run). */
export const MIGRATION_LIMITS_KEY = 'limits#migration';
/** Coordination item with the moves holding a slot, shared by every ExecutePlan execution. */
export const MIGRATION_SLOTS_KEY = 'slots#migration';

const MAX_CAS_ATTEMPTS = 25;

function nonNegativeInt(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Per-cell migration slots in the Coordination table. All holders live in one item, so reserving a slot on both
 * cells of a move is one compare-and-set (no transactions needed, and dynalite has none). Limits are read from
 * `limits#migration` on every reservation, so a change applies to the next move of every running plan.
 */
export class DynamoMigrationSlots implements MigrationSlots {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly defaults: MigrationLimits;

  constructor(documents: DynamoDBDocumentClient, table: string, defaults: MigrationLimits) {
    this.documents = documents;
    this.table = table;
    this.defaults = defaults;
  }

  /** The limits in force now: the Coordination item's valid fields over the deployment's defaults. */
  async readLimits(): Promise<MigrationLimits> {
    const result = await translateThrottle(() =>
      this.documents.send(
        new GetCommand({ TableName: this.table, Key: { pk: MIGRATION_LIMITS_KEY }, ConsistentRead: true }),
      ),
    );
    const item = result.Item ?? {};
    const perCell = nonNegativeInt(item.maxConcurrentMovesPerCell) ?? this.defaults.maxConcurrentMovesPerCell;
    const total = nonNegativeInt(item.maxConcurrency) ?? this.defaults.maxConcurrency;
    return total === undefined
      ? { maxConcurrentMovesPerCell: perCell }
      : { maxConcurrentMovesPerCell: perCell, maxConcurrency: total };
  }

  /** Set the run-time limits (what an operator does from the console or the CLI). */
  async writeLimits(limits: MigrationLimits): Promise<void> {
    await translateThrottle(() =>
      this.documents.send(
        new PutCommand({ TableName: this.table, Item: { pk: MIGRATION_LIMITS_KEY, ...limits } }),
      ),
    );
  }

  async holders(): Promise<{ holders: Record<string, SlotHolder>; version: number | undefined }> {
    const result = await translateThrottle(() =>
      this.documents.send(
        new GetCommand({ TableName: this.table, Key: { pk: MIGRATION_SLOTS_KEY }, ConsistentRead: true }),
      ),
    );
    return {
      holders: (result.Item?.holders ?? {}) as Record<string, SlotHolder>,
      version: result.Item?.version as number | undefined,
    };
  }

  /**
   * Take a slot on both cells of a move if the limits allow it (decideReservation), as a compare-and-set on the
   * holders item; a lost race reads again. Expired holders are dropped on the way.
   */
  async reserve(
    moveId: string,
    move: { from: string; to: string },
    options: ReserveOptions,
  ): Promise<ReserveResult> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const { holders, version } = await this.holders();
      const decision = decideReservation(holders, moveId, move, options);
      if (!decision.holders) return decision.result;
      try {
        await translateThrottle(() =>
          this.documents.send(
            new PutCommand({
              TableName: this.table,
              Item: { pk: MIGRATION_SLOTS_KEY, holders: decision.holders, version: (version ?? 0) + 1 },
              ConditionExpression: version === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
              ExpressionAttributeValues: version === undefined ? undefined : { ':expected': version },
            }),
          ),
        );
        return decision.result;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * (attempt + 1)));
      }
    }
    throw new StorageThrottledError('migration slots are under contention; retry');
  }

  /** Give a move's slot back (a no-op when it holds none). Returns the moves still in flight. */
  async release(moveId: string, nowMs: number): Promise<number> {
    try {
      const result = await translateThrottle(() =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: MIGRATION_SLOTS_KEY },
            UpdateExpression: 'REMOVE holders.#move ADD version :one',
            ConditionExpression: 'attribute_exists(holders.#move)',
            ExpressionAttributeNames: { '#move': moveId },
            ExpressionAttributeValues: { ':one': 1 },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return countPerCell((result.Attributes?.holders ?? {}) as Record<string, SlotHolder>, nowMs).inFlight;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { holders } = await this.holders();
      return countPerCell(holders, nowMs).inFlight;
    }
  }
}
