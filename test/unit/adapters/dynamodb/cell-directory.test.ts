import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { CellDirectory } from '../../../../src/adapters/dynamodb/cell-directory.ts';
import type { CellRecord } from '../../../../src/domain/data-plane/cell-record.ts';
import { CellUnavailableError } from '../../../../src/domain/data-plane/data-plane-errors.ts';
import type { CellRepository } from '../../../../src/domain/data-plane/ports.ts';

const cell = (id: string, region: string): CellRecord => ({
  id,
  region,
  table: `t-${id}`,
  capacityOpsPerSec: 1,
  capacityBytes: 1,
  status: 'ACTIVE',
  version: 1,
});

describe('CellDirectory', () => {
  it('resolves cells to their region client and table, and learns new cells after maxAge', async () => {
    const cells = [cell('a', 'us-east-1')];
    let lists = 0;
    const list = async () => {
      lists += 1;
      return [...cells];
    };
    const repository = { list } as unknown as CellRepository;
    const clients = new Map<string, DynamoDBClient>();
    const clientFor = (region: string) => {
      if (!clients.has(region)) clients.set(region, { region } as unknown as DynamoDBClient);
      return clients.get(region)!;
    };
    const directory = new CellDirectory(repository, clientFor, 1_000);
    await directory.refreshIfStale(0);
    expect(directory.resolve('a')).toEqual({ client: clients.get('us-east-1'), table: 't-a' });
    expect(() => directory.resolve('b')).toThrow(CellUnavailableError);
    cells.push(cell('b', 'eu-west-1'));
    await directory.refreshIfStale(500);
    expect(lists).toBe(1);
    await directory.refreshIfStale(1_000);
    expect(lists).toBe(2);
    expect(directory.resolve('b').table).toBe('t-b');
  });
});
