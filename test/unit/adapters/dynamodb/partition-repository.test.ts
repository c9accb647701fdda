import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../../../../src/adapters/dynamodb/partition-repository.ts';
import {
  ensureTable,
  partitionsTableDefinition,
} from '../../../../src/adapters/dynamodb/table-definitions.ts';
import { PartitionNotFoundError } from '../../../../src/domain/data-plane/data-plane-errors.ts';
import { newPartitionRecord } from '../../../../src/domain/data-plane/partition-record.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';

describe('DynamoPartitionRepository on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let repository: DynamoPartitionRepository;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    await ensureTable(client, partitionsTableDefinition('partitions'));
    repository = new DynamoPartitionRepository(documentClient(client), 'partitions');
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.close();
  });

  it('creates a partition once: the first writer wins and later ones get its record', async () => {
    const first = await repository.createIfAbsent(newPartitionRecord('p1', 'cell-a', 8, 1));
    const second = await repository.createIfAbsent(newPartitionRecord('p1', 'cell-b', 8, 2));
    expect(first.cell).toBe('cell-a');
    expect(second).toEqual(first);
    expect(await repository.get('p1')).toEqual(first);
  });

  it('loses no update when many writers change the record at once (compare-and-set on version)', async () => {
    await repository.createIfAbsent(newPartitionRecord('p2', 'cell-a', 8, 1));
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        repository.update('p2', (r) => ({
          ...r,
          replicas: { ...r.replicas, [`cell-${i}`]: { state: 'cold', updatedAtMs: i } },
        })),
      ),
    );
    const record = (await repository.get('p2'))!;
    expect(Object.keys(record.replicas)).toHaveLength(12);
    expect(record.version).toBe(13);
  });

  it('records a measured size without a version bump, never over a newer one, never creating a record', async () => {
    await repository.createIfAbsent(newPartitionRecord('sized', 'cell-a', 4, 1));
    const before = (await repository.get('sized'))!;
    expect(before.sizeBytes).toBeUndefined();
    expect(await repository.recordSize('sized', 5000, 100)).toBe(true);
    const after = (await repository.get('sized'))!;
    expect(after).toEqual({ ...before, sizeBytes: 5000, sizeMeasuredAtMs: 100 });
    // An older measurement (a probe that started before a migration committed its own) is refused.
    expect(await repository.recordSize('sized', 1, 50)).toBe(false);
    expect(await repository.recordSize('sized', 1, 100)).toBe(false);
    expect((await repository.get('sized'))!.sizeBytes).toBe(5000);
    expect(await repository.recordSize('sized', 6000, 200)).toBe(true);
    expect(await repository.recordSize('no-such-partition', 1, 1)).toBe(false);
    expect(await repository.get('no-such-partition')).toBeUndefined();
    // The version never moved for the sizes, and the next compare-and-set change carries them along.
    const updated = await repository.update('sized', (r) => ({ ...r, updatedAtMs: 300 }));
    expect(updated).toMatchObject({ version: before.version + 1, sizeBytes: 6000, sizeMeasuredAtMs: 200 });
    expect(await repository.get('sized')).toEqual(updated);
  });

  it('writes nothing when the transition reports no change, and names a missing partition', async () => {
    const before = (await repository.get('p1'))!;
    expect(await repository.update('p1', () => undefined)).toEqual(before);
    expect((await repository.get('p1'))!.version).toBe(before.version);
    await expect(repository.update('missing', (r) => r)).rejects.toBeInstanceOf(PartitionNotFoundError);
    expect((await repository.list()).map((r) => r.partition)).toEqual(['p1', 'p2', 'sized']);
  });
});
