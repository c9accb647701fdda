import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  DynamoScoreRepository,
  ScoreBatchIncompleteError,
} from '../../../../src/adapters/dynamodb/score-repository.ts';
import { ensureTable, scoresTableDefinition } from '../../../../src/adapters/dynamodb/table-definitions.ts';
import { InputValidationError } from '../../../../src/domain/errors.ts';
import type { ScoreRecord } from '../../../../src/domain/scoring/score-record.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';

function record(i: number, cycleId = 'c1'): ScoreRecord {
  return {
    partition: `p${String(i).padStart(3, '0')}`,
    cell: i % 2 === 0 ? 'use1-a' : 'euw1-a',
    affinity: (i % 10) / 10,
    predictionVector: { 'us-east-1': 0.75, 'eu-west-1': 0.25 },
    confidence: 0.5,
    peakStep: 1,
    peakOpsPerSec: 12.5 + i,
    models: ['embedded:daily'],
    stepSeconds: 900,
    forecastStartMs: 1_700_000_100_000,
    mean: { 'us-east-1': [1 / 3, 2, 3], 'eu-west-1': [0.5, 0.5, 0.25] },
    upper: { 'us-east-1': [2, 3, 4], 'eu-west-1': [1, 1, 1] },
    upperLevel: 0.9,
    observedOpsPerSec: { 'us-east-1': 1.5, 'eu-west-1': 0.4 },
    related: { p999: 0.2 },
    scoredAtMs: 1_700_000_200_000,
    cycleId,
    expiresAt: 1_700_200_000,
  };
}

/** Passes every call to the real client, except that the first `failures` batch calls leave items unprocessed. */
function flaky(
  real: DynamoDBDocumentClient,
  table: string,
  failures: number,
  seen: { write: number[]; get: number[] },
) {
  let left = failures;
  return {
    send: async (command: unknown) => {
      if (command instanceof BatchWriteCommand) {
        const requests = command.input.RequestItems![table];
        seen.write.push(requests.length);
        if (left-- > 0) {
          const [first, ...rest] = requests;
          await real.send(new BatchWriteCommand({ RequestItems: { [table]: [first] } }));
          return { UnprocessedItems: rest.length > 0 ? { [table]: rest } : {} };
        }
      }
      if (command instanceof BatchGetCommand) {
        const keys = command.input.RequestItems![table].Keys!;
        seen.get.push(keys.length);
        if (left-- > 0) {
          const answered = (await real.send(
            new BatchGetCommand({ RequestItems: { [table]: { Keys: keys.slice(0, 1) } } }),
          )) as { Responses?: Record<string, unknown[]> };
          return { Responses: answered.Responses, UnprocessedKeys: { [table]: { Keys: keys.slice(1) } } };
        }
      }
      return real.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
}

describe('DynamoScoreRepository', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
    documents = documentClient(client);
  });
  afterAll(async () => dynamo?.close());

  it('writes in batches of at most 25, reads back by key, in batches of 100, and lists everything', async () => {
    const table = 'scores-roundtrip';
    await ensureTable(client, scoresTableDefinition(table));
    const seen = { write: [] as number[], get: [] as number[] };
    const repository = new DynamoScoreRepository(flaky(documents, table, 0, seen), table, {
      scanSegments: 3,
    });
    const records = Array.from({ length: 130 }, (_, i) => record(i));
    await repository.putAll(records);
    expect(seen.write.length).toBe(6);
    expect(Math.max(...seen.write)).toBe(25);
    expect(seen.write.reduce((a, b) => a + b, 0)).toBe(130);

    const got = await repository.get('p007');
    expect(got).toEqual({
      ...record(7),
      mean: { 'us-east-1': [0.333333, 2, 3], 'eu-west-1': [0.5, 0.5, 0.25] },
    });
    expect(await repository.get('missing')).toBeUndefined();

    const ids = [...records.map((r) => r.partition), 'missing', 'p001'];
    const many = await repository.getMany(ids);
    expect(many.size).toBe(130);
    expect(seen.get).toEqual([100, 31]);
    expect(many.get('p129')?.peakOpsPerSec).toBe(141.5);

    const all = await repository.listAll();
    expect(all.map((r) => r.partition)).toEqual(records.map((r) => r.partition));
  });

  it('stores a number too small for DynamoDB (an affinity deep in a tail) as 0 instead of failing the batch', async () => {
    const table = 'scores-tiny';
    await ensureTable(client, scoresTableDefinition(table));
    const repository = new DynamoScoreRepository(documents, table);
    const tiny = {
      ...record(1),
      affinity: 7.4e-180,
      mean: { 'us-east-1': [1e-200, 2, 3], 'eu-west-1': [0.5, 0.5, 0.25] },
      related: { p999: -3e-140 },
    };
    await repository.putAll([tiny, record(2)]);
    const back = await repository.get(tiny.partition);
    expect(back).toMatchObject({ affinity: 0, mean: { 'us-east-1': [0, 2, 3] }, related: { p999: 0 } });
    expect((await repository.get(record(2).partition))?.affinity).toBe(record(2).affinity);
  });

  it('retries unprocessed items and keys until every one is in', async () => {
    const table = 'scores-unprocessed';
    await ensureTable(client, scoresTableDefinition(table));
    const seen = { write: [] as number[], get: [] as number[] };
    const repository = new DynamoScoreRepository(flaky(documents, table, 3, seen), table, {
      concurrency: 1,
      sleep: async () => undefined,
    });
    await repository.putAll(Array.from({ length: 30 }, (_, i) => record(i)));
    // 25 → 24 left → 23 left → 22 left, then the rest of the first batch, then the second batch of 5.
    expect(seen.write).toEqual([25, 24, 23, 22, 5]);
    const all = await new DynamoScoreRepository(documents, table).listAll();
    expect(all).toHaveLength(30);

    const reader = new DynamoScoreRepository(flaky(documents, table, 2, seen), table, {
      sleep: async () => undefined,
    });
    const many = await reader.getMany(all.map((r) => r.partition));
    expect(many.size).toBe(30);
    expect(seen.get).toEqual([30, 29, 28]);
  });

  it('gives up with a named error when items stay unprocessed', async () => {
    const table = 'scores-stuck';
    await ensureTable(client, scoresTableDefinition(table));
    const seen = { write: [] as number[], get: [] as number[] };
    const repository = new DynamoScoreRepository(flaky(documents, table, 100, seen), table, {
      maxAttempts: 3,
      sleep: async () => undefined,
    });
    await expect(repository.putAll(Array.from({ length: 10 }, (_, i) => record(i)))).rejects.toBeInstanceOf(
      ScoreBatchIncompleteError,
    );
    expect(seen.write).toEqual([10, 9, 8]);
  });

  it('rejects a malformed stored item, naming the partition and the field', async () => {
    const table = 'scores-bad';
    await ensureTable(client, scoresTableDefinition(table));
    const repository = new DynamoScoreRepository(documents, table);
    await repository.putAll([record(1)]);
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'p002', ...record(2), mean: { 'us-east-1': [1, 2, 3], 'eu-west-1': [1] } },
      }),
    );
    const failure = repository.listAll();
    await expect(failure).rejects.toBeInstanceOf(InputValidationError);
    await expect(repository.listAll()).rejects.toThrow(
      /scores-bad\[p002\]\.mean\.eu-west-1.*expected 3 steps/,
    );
    await documents.send(
      new PutCommand({ TableName: table, Item: { pk: 'p002', ...record(2), affinity: 1.5 } }),
    );
    await expect(repository.get('p002')).rejects.toThrow(/scores-bad\[p002\]\.affinity/);
  });
});
