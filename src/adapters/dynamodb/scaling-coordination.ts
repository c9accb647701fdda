import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type {
  AcquireLockOptions,
  ScalingCoordination,
  ScalingLock,
} from '../../domain/scaling/scaling-coordination.ts';
import { ScalingInProgressError } from '../../domain/scaling/scaling-errors.ts';
import { isConditionalCheckFailed } from './dynamodb-errors.ts';

export const scalingLockKey = (region: string) => `scaling-lock#${region}`;
export const scalingCooldownKey = (region: string) => `scaling-cooldown#${region}`;

/**
 * The scaling lock and cooldown, in the Coordination table (`pk` string, TTL `expiresAt` in epoch seconds):
 * - `scaling-lock#<region>`: {owner, ownerArn, action, acquiredAtMs, expiresAt}. Taken with a conditional put,
 *   re-entrant for its owner (a retried step), free once expired (DynamoDB deletes expired items lazily, so the
 *   condition compares `expiresAt` itself), or once its owner's execution is no longer running.
 * - `scaling-cooldown#<region>`: {untilMs, setBy, expiresAt}: no scaling of the region starts before `untilMs`
 *   unless forced.
 */
export class DynamoScalingCoordination implements ScalingCoordination {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.documents = documents;
    this.table = table;
  }

  /** End of the region's cooldown (epoch ms) if one is running at `nowMs`. */
  async cooldownUntil(region: string, nowMs: number): Promise<number | undefined> {
    const result = await this.documents.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: scalingCooldownKey(region) },
        ConsistentRead: true,
      }),
    );
    const untilMs = result.Item?.untilMs as number | undefined;
    return untilMs !== undefined && untilMs > nowMs ? untilMs : undefined;
  }

  async startCooldown(region: string, untilMs: number, setBy: string): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: scalingCooldownKey(region), untilMs, setBy, expiresAt: Math.ceil(untilMs / 1000) },
      }),
    );
  }

  async currentLock(region: string): Promise<ScalingLock | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: scalingLockKey(region) }, ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    const { pk: _pk, ...lock } = result.Item;
    return lock as ScalingLock;
  }

  /** Take the region's lock, or throw ScalingInProgressError naming the holder. */
  async acquire(options: AcquireLockOptions): Promise<ScalingLock> {
    const lock: ScalingLock = {
      owner: options.owner,
      ...(options.ownerArn ? { ownerArn: options.ownerArn } : {}),
      action: options.action,
      acquiredAtMs: options.nowMs,
      expiresAt: Math.ceil(options.nowMs / 1000) + options.ttlSeconds,
    };
    const put = (condition: string, values: Record<string, unknown>) =>
      this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: scalingLockKey(options.region), ...lock },
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: values,
        }),
      );
    try {
      await put('attribute_not_exists(pk) OR #owner = :me OR expiresAt < :now', {
        ':me': options.owner,
        ':now': Math.floor(options.nowMs / 1000),
      });
      return lock;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const holder = await this.currentLock(options.region);
    if (holder?.ownerArn && options.isRunning && !(await options.isRunning(holder.ownerArn))) {
      try {
        // Take over only from the holder we checked (another run may be taking over at the same time).
        await put('#owner = :holder', { ':holder': holder.owner });
        return lock;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    const current = holder ?? (await this.currentLock(options.region));
    throw new ScalingInProgressError(options.region, current?.owner ?? 'unknown');
  }

  /** Release the lock if `owner` holds it; a no-op otherwise (released already, or taken over). */
  async release(region: string, owner: string): Promise<boolean> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: scalingLockKey(region) },
          ConditionExpression: '#owner = :me',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':me': owner },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
