import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoAccessStatsRepository } from '../../../src/adapters/dynamodb/access-stats-repository.ts';
import { createDynamoClient, documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  accessStatsTableDefinition,
  ensureTable,
  partitionsTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import type { AccessCount } from '../../../src/domain/data-plane/ports.ts';
import { type LocalDynamo, startDynaliteInWorker } from '../../../src/local/dynalite-server.ts';
import { ThreadBatchedAccessStats } from '../../../src/local/thread-access-stats.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2015, 2, 10);
const running: LocalDynamo[] = [];
afterEach(async () => {
  for (const dynamo of running.splice(0)) await dynamo.close();
});

async function dynaliteThread() {
  const dynamo = await startDynaliteInWorker();
  running.push(dynamo);
  const http = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  const message = createDynamoClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    requestHandler: dynamo.requestHandler!,
  });
  return { dynamo, http, message };
}

describe("up's run thread reaches its dynalite threads as messages", () => {
  it('a client on the message channel reads and writes what an HTTP client of the same dynalite sees', async () => {
    const { http, message } = await dynaliteThread();
    await ensureTable(message, partitionsTableDefinition('tab'));
    await message.send(new PutItemCommand({ TableName: 'tab', Item: { pk: { S: 'a' }, v: { N: '1' } } }));
    await http.send(new PutItemCommand({ TableName: 'tab', Item: { pk: { S: 'b' }, v: { N: '2' } } }));
    expect((await http.send(new GetItemCommand({ TableName: 'tab', Key: { pk: { S: 'a' } } }))).Item).toEqual(
      {
        pk: { S: 'a' },
        v: { N: '1' },
      },
    );
    expect(
      (await message.send(new GetItemCommand({ TableName: 'tab', Key: { pk: { S: 'b' } } }))).Item,
    ).toEqual({
      pk: { S: 'b' },
      v: { N: '2' },
    });
    // DynamoDB's errors come back as the SDK's errors.
    await expect(
      message.send(new GetItemCommand({ TableName: 'missing', Key: { pk: { S: 'a' } } })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // An aborted call rejects as over HTTP.
    const controller = new AbortController();
    controller.abort();
    await expect(
      message.send(new GetItemCommand({ TableName: 'tab', Key: { pk: { S: 'a' } } }), {
        abortSignal: controller.signal,
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  }, 30_000);

  it("a flush batched into one message writes the counters the repository's own UpdateItems write", async () => {
    const { dynamo, http } = await dynaliteThread();
    await ensureTable(http, accessStatsTableDefinition('direct'));
    await ensureTable(http, accessStatsTableDefinition('batched'));
    const direct = new DynamoAccessStatsRepository(documentClient(http), 'direct');
    const batched = new ThreadBatchedAccessStats(
      new DynamoAccessStatsRepository(documentClient(http), 'batched'),
      dynamo.requestHandler!,
      'batched',
    );
    const counts: AccessCount[] = [
      { partition: 'p1', region: 'us-east-1', bucketStartMs: T0, count: 12.5, writes: 2.5 },
      { partition: 'p1', region: 'eu-west-1', bucketStartMs: T0, count: 3, writes: 0 },
      { partition: 'p1', region: 'us-east-1', bucketStartMs: T0 + HOUR, count: 7, writes: 1 },
      { partition: 'p2', region: 'us-east-1', bucketStartMs: T0, count: 1, writes: 1 },
    ];
    // Twice: the counters add up.
    for (const repository of [direct, batched]) {
      await repository.add(counts, [{ a: 'p1', b: 'p2', bucketStartMs: T0, count: 4 }]);
      await repository.add(counts.slice(0, 2), []);
    }
    for (const partition of ['p1', 'p2']) {
      const expected = await direct.countsFor(partition);
      expect(expected.length).toBeGreaterThan(0);
      expect(await batched.countsFor(partition)).toEqual(expected);
      expect(await batched.coAccessFor(partition)).toEqual(await direct.coAccessFor(partition));
    }
    expect(
      (await batched.countsFor('p1')).find((c) => c.region === 'us-east-1' && c.bucketStartMs === T0),
    ).toMatchObject({
      count: 25,
      writes: 5,
    });
  }, 30_000);
});
