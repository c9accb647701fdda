import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { documentClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  DynamoMigrationSlots,
  MIGRATION_LIMITS_KEY,
  MIGRATION_SLOTS_KEY,
} from '../../../../src/adapters/dynamodb/migration-slots.ts';
import {
  coordinationTableDefinition,
  ensureTable,
} from '../../../../src/adapters/dynamodb/table-definitions.ts';
import { countPerCell } from '../../../../src/domain/planning/migration-slots.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';
import { assertProperty } from '../../../support/property.ts';

describe('DynamoMigrationSlots on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let slots: DynamoMigrationSlots;
  let table = 0;
  const now = 1_000_000;

  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });
  beforeEach(async () => {
    table++;
    await ensureTable(client, coordinationTableDefinition(`coordination-${table}`));
    slots = new DynamoMigrationSlots(documentClient(client), `coordination-${table}`, {
      maxConcurrentMovesPerCell: 2,
    });
  });

  it('reads the limits at run time, over the deployment defaults, ignoring invalid values', async () => {
    expect(await slots.readLimits()).toEqual({ maxConcurrentMovesPerCell: 2 });
    await slots.writeLimits({ maxConcurrentMovesPerCell: 5, maxConcurrency: 7 });
    expect(await slots.readLimits()).toEqual({ maxConcurrentMovesPerCell: 5, maxConcurrency: 7 });
    // An operator typing a string in the console, or a negative or fractional number, does not break running plans.
    await documentClient(client).send(
      new PutCommand({
        TableName: `coordination-${table}`,
        Item: { pk: MIGRATION_LIMITS_KEY, maxConcurrentMovesPerCell: '3', maxConcurrency: -1 },
      }),
    );
    expect(await slots.readLimits()).toEqual({ maxConcurrentMovesPerCell: 3 });
    await slots.writeLimits({ maxConcurrentMovesPerCell: 1.5 });
    expect(await slots.readLimits()).toEqual({ maxConcurrentMovesPerCell: 2 });
  });

  it('pauses new moves while a limit is 0', async () => {
    const at = { nowMs: now, leaseMs: 60_000 };
    await slots.writeLimits({ maxConcurrentMovesPerCell: 0 });
    const paused = await slots.reserve(
      'm1',
      { from: 'a', to: 'b' },
      { ...at, limits: await slots.readLimits() },
    );
    expect(paused).toMatchObject({ reserved: false, blockedBy: 'maxConcurrentMovesPerCell' });
    await slots.writeLimits({ maxConcurrentMovesPerCell: 2, maxConcurrency: 0 });
    expect(
      await slots.reserve('m1', { from: 'a', to: 'b' }, { ...at, limits: await slots.readLimits() }),
    ).toMatchObject({
      reserved: false,
      blockedBy: 'maxConcurrency',
    });
    await slots.writeLimits({ maxConcurrentMovesPerCell: 2 });
    expect(
      (await slots.reserve('m1', { from: 'a', to: 'b' }, { ...at, limits: await slots.readLimits() }))
        .reserved,
    ).toBe(true);
  });

  it('holds each cell to its limit as source and target, and frees the slot on release', async () => {
    const limits = { maxConcurrentMovesPerCell: 2 };
    const at = { limits, nowMs: now, leaseMs: 60_000 };
    expect((await slots.reserve('m1', { from: 'a', to: 'b' }, at)).reserved).toBe(true);
    expect((await slots.reserve('m2', { from: 'c', to: 'a' }, at)).reserved).toBe(true);
    const blocked = await slots.reserve('m3', { from: 'a', to: 'd' }, at);
    expect(blocked).toMatchObject({
      reserved: false,
      blockedBy: 'maxConcurrentMovesPerCell',
      perCell: { a: 2 },
    });
    // The same move asking again (a redelivered step) keeps its slot.
    expect(await slots.reserve('m1', { from: 'a', to: 'b' }, at)).toMatchObject({
      reserved: true,
      inFlight: 2,
    });
    expect(await slots.release('m1', now)).toBe(1);
    expect(await slots.release('m1', now)).toBe(1);
    expect((await slots.reserve('m3', { from: 'a', to: 'd' }, at)).reserved).toBe(true);
    const total = await slots.reserve(
      'm4',
      { from: 'x', to: 'y' },
      { ...at, limits: { ...limits, maxConcurrency: 2 } },
    );
    expect(total).toMatchObject({ reserved: false, blockedBy: 'maxConcurrency' });
  });

  it('ignores holders whose lease expired (an execution that died without releasing)', async () => {
    const limits = { maxConcurrentMovesPerCell: 1 };
    expect(
      (await slots.reserve('dead', { from: 'a', to: 'b' }, { limits, nowMs: now, leaseMs: 10 })).reserved,
    ).toBe(true);
    expect(
      (await slots.reserve('next', { from: 'a', to: 'c' }, { limits, nowMs: now + 5, leaseMs: 10 })).reserved,
    ).toBe(false);
    expect(
      (await slots.reserve('next', { from: 'a', to: 'c' }, { limits, nowMs: now + 11, leaseMs: 10 }))
        .reserved,
    ).toBe(true);
    expect(Object.keys((await slots.holders()).holders)).toEqual(['next']);
  });

  it('never grants more than the limit to concurrent reservations (compare-and-set on one item)', async () => {
    await assertProperty(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 12 }),
        async (limit, movers) => {
          table++;
          await ensureTable(client, coordinationTableDefinition(`coordination-${table}`));
          const fresh = new DynamoMigrationSlots(documentClient(client), `coordination-${table}`, {
            maxConcurrentMovesPerCell: 9,
          });
          const results = await Promise.all(
            Array.from({ length: movers }, (_, i) =>
              fresh.reserve(
                `m${i}`,
                { from: 'hot', to: `t${i}` },
                {
                  limits: { maxConcurrentMovesPerCell: limit },
                  nowMs: now,
                  leaseMs: 60_000,
                },
              ),
            ),
          );
          expect(results.filter((r) => r.reserved)).toHaveLength(Math.min(limit, movers));
          const { holders } = await fresh.holders();
          expect(countPerCell(holders, now).perCell.hot).toBe(Math.min(limit, movers));
        },
      ),
      { numRuns: 8 },
    );
    expect(MIGRATION_SLOTS_KEY).toBe('slots#migration');
  });
});
