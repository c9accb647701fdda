import { randomBytes } from 'node:crypto';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { StorageThrottledError } from '../../domain/data-plane/data-plane-errors.ts';
import { PrestageError } from '../../domain/errors.ts';
import type { MovementPlan } from '../../domain/planning/movement-plan.ts';
import {
  type MoveKey,
  MoveNotFoundError,
  type MoveStatus,
  moveSortKey,
  moveStatusesAllowedBefore,
  newPlanHeader,
  newPlanId,
  PLAN_HEADER_SORT_KEY,
  type PlanHeader,
  type PlanMoveRecord,
  PlanNotFoundError,
  type PlanStatus,
  PlanTransitionError,
  planPartitionKey,
  planStatusesAllowedBefore,
} from '../../domain/planning/plan-record.ts';
import type {
  MovePage,
  MoveStatusChange,
  PlanMeta,
  PlanRepository,
  PlanStatusChange,
} from '../../domain/planning/ports.ts';
import { mapBounded } from '../../support/bounded-parallel.ts';
import { isConditionalCheckFailed, isThrottle, translateThrottle } from './dynamodb-errors.ts';

const BATCH_SIZE = 25;
const BATCH_PARALLELISM = 4;
const MAX_BATCH_ATTEMPTS = 12;

function stripKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The plans table: `pk` = `plan#<planId>`, `sk` = `header` or `move#<6-digit priority>#<partition>`, TTL
 * `expiresAt`. dynalite has no transactions, so `create` writes the moves first and the header last: a reader
 * that finds the header finds every move. Status changes are conditional updates that only allow the
 * lifecycle's transitions (plan-record.ts); writing the current status again is a no-op, so retried steps
 * are safe.
 */
export class DynamoPlanRepository implements PlanRepository {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.documents = documents;
    this.table = table;
  }

  /**
   * Store a plan (status PENDING) and return its header. Idempotent on `meta.planId`: when the header exists
   * already, nothing is written and the stored header is returned.
   */
  async create(plan: MovementPlan, meta: PlanMeta): Promise<PlanHeader> {
    const nowMs = meta.nowMs ?? Date.now();
    const planId = meta.planId ?? newPlanId(plan.createdAtMs, randomBytes(4).toString('hex'));
    const existing = await this.getHeader(planId);
    if (existing) return existing;
    const expiresAt = Math.floor(plan.createdAtMs / 1000) + Math.round((meta.ttlDays ?? 30) * 86_400);
    const pk = planPartitionKey(planId);
    const moves = plan.moves.map((move): Record<string, unknown> => {
      const record: PlanMoveRecord = {
        planId,
        partition: move.partition,
        from: move.from,
        to: move.to,
        bytes: move.bytes,
        priority: move.priority,
        startByMs: move.startByMs,
        deadlineMs: move.deadlineMs,
        expectedDurationMs: move.expectedDurationMs,
        benefit: move.benefit,
        reasons: move.reasons,
        ...(move.retainSource !== undefined ? { retainSource: move.retainSource } : {}),
        ...(move.delta ? { delta: move.delta } : {}),
        ...(move.notes ? { notes: move.notes } : {}),
        status: 'PENDING',
        updatedAtMs: nowMs,
        expiresAt,
      };
      return { pk, sk: moveSortKey(move), ...record };
    });
    const keys = new Set(moves.map((m) => m.sk));
    if (keys.size !== moves.length)
      throw new PrestageError(`plan '${planId}' has two moves with the same priority and partition`);
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < moves.length; i += BATCH_SIZE) batches.push(moves.slice(i, i + BATCH_SIZE));
    await mapBounded(batches, BATCH_PARALLELISM, (batch) => this.writeBatch(batch));
    const header = newPlanHeader(plan, {
      planId,
      trigger: meta.trigger,
      approval: meta.approval,
      ...(meta.cycleId !== undefined ? { cycleId: meta.cycleId } : {}),
      nowMs,
      expiresAt,
    });
    try {
      await translateThrottle(() =>
        this.documents.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk, sk: PLAN_HEADER_SORT_KEY, ...header },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const raced = await this.getHeader(planId);
      if (raced) return raced;
      throw error;
    }
    return header;
  }

  async getHeader(planId: string): Promise<PlanHeader | undefined> {
    const result = await translateThrottle(() =>
      this.documents.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: planPartitionKey(planId), sk: PLAN_HEADER_SORT_KEY },
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? stripKeys<PlanHeader>(result.Item) : undefined;
  }

  async requireHeader(planId: string): Promise<PlanHeader> {
    const header = await this.getHeader(planId);
    if (!header) throw new PlanNotFoundError(planId);
    return header;
  }

  async getMove(planId: string, key: MoveKey): Promise<PlanMoveRecord | undefined> {
    const result = await translateThrottle(() =>
      this.documents.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: planPartitionKey(planId), sk: moveSortKey(key) },
          ConsistentRead: true,
        }),
      ),
    );
    return result.Item ? stripKeys<PlanMoveRecord>(result.Item) : undefined;
  }

  /** Moves in priority order, `limit` at a time; `after` is the `next` cursor of the previous page. */
  async pageMoves(planId: string, options: { limit: number; after?: string }): Promise<MovePage> {
    const pk = planPartitionKey(planId);
    const moves: PlanMoveRecord[] = [];
    let start: Record<string, unknown> | undefined = options.after ? { pk, sk: options.after } : undefined;
    // A Query page can stop short of `limit` (1 MB); keep reading until the page is full or the plan ends.
    for (;;) {
      const result = await translateThrottle(() =>
        this.documents.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :move)',
            ExpressionAttributeValues: { ':pk': pk, ':move': 'move#' },
            ExclusiveStartKey: start,
            Limit: options.limit - moves.length,
            ConsistentRead: true,
          }),
        ),
      );
      for (const item of result.Items ?? []) moves.push(stripKeys<PlanMoveRecord>(item));
      start = result.LastEvaluatedKey;
      if (!start || moves.length >= options.limit) break;
    }
    if (!start || moves.length === 0) return { moves };
    return { moves, next: String(start.sk) };
  }

  /** Every move of a plan, in priority order. */
  async allMoves(planId: string, pageSize = 500): Promise<PlanMoveRecord[]> {
    const out: PlanMoveRecord[] = [];
    let after: string | undefined;
    do {
      const page = await this.pageMoves(planId, { limit: pageSize, after });
      out.push(...page.moves);
      after = page.next;
    } while (after);
    return out;
  }

  /** Plan headers, optionally only those in the given statuses (a Scan: for operators and the planner). */
  async listHeaders(statuses?: readonly PlanStatus[]): Promise<PlanHeader[]> {
    const out: PlanHeader[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await translateThrottle(() =>
        this.documents.send(
          new ScanCommand({
            TableName: this.table,
            FilterExpression: 'sk = :header',
            ExpressionAttributeValues: { ':header': PLAN_HEADER_SORT_KEY },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const header = stripKeys<PlanHeader>(item);
        if (!statuses || statuses.includes(header.status)) out.push(header);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.createdAtMs - b.createdAtMs || a.planId.localeCompare(b.planId));
  }

  /** Change a plan's status if the lifecycle allows it; returns the updated header. */
  async setPlanStatus(planId: string, to: PlanStatus, change: PlanStatusChange = {}): Promise<PlanHeader> {
    const from = planStatusesAllowedBefore(to);
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':to': to, ':now': change.nowMs ?? Date.now() };
    const sets = ['#status = :to', 'updatedAtMs = :now'];
    if (change.outcomes) {
      sets.push('outcomes = :outcomes');
      values[':outcomes'] = change.outcomes;
    }
    if (change.statusReason !== undefined) {
      sets.push('statusReason = :reason');
      values[':reason'] = change.statusReason;
    }
    const allowed = from.map((_, i) => `:from${i}`);
    from.forEach((status, i) => {
      values[`:from${i}`] = status;
    });
    // The task token is only meaningful while the plan waits for approval.
    const remove = to === 'PENDING_APPROVAL' ? '' : ' REMOVE taskToken';
    return this.conditionalUpdate(
      { pk: planPartitionKey(planId), sk: PLAN_HEADER_SORT_KEY },
      `SET ${sets.join(', ')}${remove}`,
      `attribute_exists(pk) AND #status IN (${allowed.join(', ')})`,
      names,
      values,
      async () => {
        const current = await this.getHeader(planId);
        if (!current) return new PlanNotFoundError(planId);
        return new PlanTransitionError(`plan '${planId}'`, current.status, to);
      },
    ) as Promise<PlanHeader>;
  }

  /** Store the approval task token and mark the plan PENDING_APPROVAL (from PENDING, or again on a retry). */
  async storeTaskToken(planId: string, taskToken: string, nowMs = Date.now()): Promise<PlanHeader> {
    return this.conditionalUpdate(
      { pk: planPartitionKey(planId), sk: PLAN_HEADER_SORT_KEY },
      'SET #status = :to, taskToken = :token, updatedAtMs = :now',
      'attribute_exists(pk) AND #status IN (:pending, :to)',
      { '#status': 'status' },
      { ':to': 'PENDING_APPROVAL', ':pending': 'PENDING', ':token': taskToken, ':now': nowMs },
      async () => {
        const current = await this.getHeader(planId);
        if (!current) return new PlanNotFoundError(planId);
        return new PlanTransitionError(`plan '${planId}'`, current.status, 'PENDING_APPROVAL');
      },
    ) as Promise<PlanHeader>;
  }

  /** Change a move's status if the lifecycle allows it; returns the updated move. */
  async setMoveStatus(
    planId: string,
    key: MoveKey,
    to: MoveStatus,
    change: MoveStatusChange = {},
  ): Promise<PlanMoveRecord> {
    const from = moveStatusesAllowedBefore(to);
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':to': to, ':now': change.nowMs ?? Date.now() };
    const sets = ['#status = :to', 'updatedAtMs = :now'];
    if (change.executionArn !== undefined) {
      sets.push('executionArn = :arn');
      values[':arn'] = change.executionArn;
    }
    if (change.error !== undefined) {
      sets.push('#error = :error');
      names['#error'] = 'error';
      values[':error'] = change.error;
    }
    from.forEach((status, i) => {
      values[`:from${i}`] = status;
    });
    return this.conditionalUpdate(
      { pk: planPartitionKey(planId), sk: moveSortKey(key) },
      `SET ${sets.join(', ')}`,
      `attribute_exists(pk) AND #status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
      names,
      values,
      async () => {
        const current = await this.getMove(planId, key);
        if (!current) return new MoveNotFoundError(planId, key);
        return new PlanTransitionError(
          `move of partition '${key.partition}' in plan '${planId}'`,
          current.status,
          to,
        );
      },
    ) as Promise<PlanMoveRecord>;
  }

  private async conditionalUpdate(
    key: { pk: string; sk: string },
    update: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    explain: () => Promise<Error>,
  ): Promise<unknown> {
    try {
      const result = await translateThrottle(() =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return stripKeys(result.Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw await explain();
      throw error;
    }
  }

  private async writeBatch(items: Record<string, unknown>[]): Promise<void> {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_BATCH_ATTEMPTS)
        throw new StorageThrottledError(`plans table kept ${pending.length} writes unprocessed; retry`);
      if (attempt > 0) await sleep(Math.min(1000, 10 * 2 ** attempt) * (0.5 + Math.random() / 2));
      try {
        const result = await this.documents.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.table] ?? []) as typeof pending;
      } catch (error) {
        if (!isThrottle(error)) throw error;
      }
    }
  }
}
