import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoScalingCoordination } from '../../../../src/adapters/dynamodb/scaling-coordination.ts';
import {
  coordinationTableDefinition,
  ensureTable,
} from '../../../../src/adapters/dynamodb/table-definitions.ts';
import { ScalingInProgressError } from '../../../../src/domain/scaling/scaling-errors.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';

describe('DynamoScalingCoordination (lock and cooldown in the Coordination table, on dynalite)', () => {
  let dynamo: LocalDynamo;
  let coordination: DynamoScalingCoordination;
  const T0 = Date.parse('2025-01-01T00:00:00Z');
  let region = 0;
  const nextRegion = () => `test-region-${++region}`;

  beforeAll(async () => {
    const local = await localDynamo();
    dynamo = local.dynamo;
    await ensureTable(local.client, coordinationTableDefinition('coordination'));
    coordination = new DynamoScalingCoordination(documentClient(local.client), 'coordination');
  });
  afterAll(async () => {
    await dynamo.close();
  });

  const lock = (
    r: string,
    owner: string,
    nowMs = T0,
    extra: Partial<Parameters<DynamoScalingCoordination['acquire']>[0]> = {},
  ) =>
    coordination.acquire({
      region: r,
      owner,
      ownerArn: `arn:exec:${owner}`,
      action: 'scale-out',
      nowMs,
      ttlSeconds: 600,
      ...extra,
    });

  it('one owner at a time; the owner may take it again (a retried step)', async () => {
    const r = nextRegion();
    await expect(lock(r, 'a')).resolves.toMatchObject({ owner: 'a', expiresAt: T0 / 1000 + 600 });
    await expect(lock(r, 'a', T0 + 1000)).resolves.toMatchObject({ owner: 'a' });
    const refused = await lock(r, 'b').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ScalingInProgressError);
    expect((refused as Error).message).toMatch(new RegExp(`region '${r}' is being scaled by execution 'a'`));
    expect(await coordination.currentLock(r)).toMatchObject({ owner: 'a' });
  });

  it('only the owner releases; a released lock is free', async () => {
    const r = nextRegion();
    await lock(r, 'a');
    expect(await coordination.release(r, 'b')).toBe(false);
    expect(await coordination.currentLock(r)).toMatchObject({ owner: 'a' });
    expect(await coordination.release(r, 'a')).toBe(true);
    expect(await coordination.release(r, 'a')).toBe(false);
    await expect(lock(r, 'b')).resolves.toMatchObject({ owner: 'b' });
  });

  it('an expired lock is free, even before DynamoDB removes it', async () => {
    const r = nextRegion();
    await lock(r, 'a');
    await expect(lock(r, 'b', T0 + 599_000)).rejects.toBeInstanceOf(ScalingInProgressError);
    await expect(lock(r, 'b', T0 + 601_000)).resolves.toMatchObject({ owner: 'b' });
  });

  it('takes over the lock of an execution that no longer runs, and keeps one that does', async () => {
    const r = nextRegion();
    await lock(r, 'stopped');
    const asked: string[] = [];
    const running = (arn: string) => {
      asked.push(arn);
      return Promise.resolve(arn.endsWith(':alive'));
    };
    await expect(lock(r, 'b', T0, { isRunning: running })).resolves.toMatchObject({ owner: 'b' });
    expect(asked).toEqual(['arn:exec:stopped']);
    await coordination.release(r, 'b');
    await lock(r, 'alive');
    await expect(lock(r, 'c', T0, { isRunning: running })).rejects.toBeInstanceOf(ScalingInProgressError);
  });

  it('concurrent takers: exactly one wins', async () => {
    const r = nextRegion();
    const results = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((owner) => lock(r, owner)));
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((x) => x.status === 'rejected').every((x) => x.reason instanceof ScalingInProgressError),
    ).toBe(true);
  });

  it('a cooldown holds until its end', async () => {
    const r = nextRegion();
    expect(await coordination.cooldownUntil(r, T0)).toBeUndefined();
    await coordination.startCooldown(r, T0 + 60_000, 'a');
    expect(await coordination.cooldownUntil(r, T0 + 59_999)).toBe(T0 + 60_000);
    expect(await coordination.cooldownUntil(r, T0 + 60_000)).toBeUndefined();
  });
});
