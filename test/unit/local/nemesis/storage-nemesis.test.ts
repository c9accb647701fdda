import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import { isThrottle, translateDynamoError } from '../../../../src/adapters/dynamodb/dynamodb-errors.ts';
import {
  CHANGES_INDEX,
  cellDataTableDefinition,
  ensureTable,
  partitionsTableDefinition,
} from '../../../../src/adapters/dynamodb/table-definitions.ts';
import { StorageThrottledError } from '../../../../src/domain/data-plane/data-plane-errors.ts';
import { seededRandom } from '../../../../src/domain/seeded-random.ts';
import { type LocalDynamo, startDynalite } from '../../../../src/local/dynalite-server.ts';
import { cellIdFor, EmbeddedCluster } from '../../../../src/local/embedded-cluster.ts';
import { StepFreezer } from '../../../../src/local/nemesis/step-freezer.ts';
import {
  HotKeyHeat,
  NEMESIS_MIDDLEWARE,
  type NemesisEvent,
  StorageNemesis,
  type StorageNemesisOptions,
} from '../../../../src/local/nemesis/storage-nemesis.ts';

/** The standard retry strategy with a 1 ms backoff, recording how it classified each failed attempt. */
class RecordingRetryStrategy extends ConfiguredRetryStrategy {
  readonly errorTypes: string[] = [];
  override async refreshRetryTokenForRetry(
    ...[token, info]: Parameters<ConfiguredRetryStrategy['refreshRetryTokenForRetry']>
  ) {
    this.errorTypes.push(info.errorType);
    return super.refreshRetryTokenForRetry(token, info);
  }
}

const REGION = 'us-east-1';
const DATA = 'prestage-data-us-east-1-c1';
const CONTROL = 'prestage-partitions';

let dynamo: LocalDynamo;
let plain: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  plain = createDynamoClient({ region: REGION, endpoint: dynamo.endpoint });
  await ensureTable(plain, cellDataTableDefinition(DATA));
  await ensureTable(plain, partitionsTableDefinition(CONTROL));
});

afterAll(async () => {
  plain.destroy();
  await dynamo.close();
});

let clientCount = 0;

/** A nemesis and a fresh client (3 attempts, 1 ms backoff) it is attached to; events are recorded. */
function setup(options: StorageNemesisOptions = {}) {
  const events: NemesisEvent[] = [];
  const retry = new RecordingRetryStrategy(3, 1);
  const client = new DynamoDBClient({
    region: REGION,
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    retryStrategy: retry,
  });
  const nemesis = new StorageNemesis({
    ...options,
    observer: (event) => {
      events.push(event);
      options.observer?.(event);
    },
  });
  nemesis.attach(client, REGION);
  clientCount += 1;
  return { client, nemesis, retry, events, pk: `p${clientCount}#0` };
}

function key(pk: string, sk: string) {
  return { pk: { S: pk }, sk: { S: sk } };
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { $metadata: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

/** Random draws from a script (then 0.99: nothing else fires). */
function scripted(...draws: number[]): () => number {
  return () => draws.shift() ?? 0.99;
}

describe('StorageNemesis placement', () => {
  it('sits inside the retry loop: after retryMiddleware, before the deserializer', () => {
    const { client } = setup();
    const stack = client.middlewareStack.identify().map((entry) => entry.split(' - ')[0]);
    const at = (name: string) => stack.findIndex((entry) => entry.startsWith(name));
    expect(at('retryMiddleware')).toBeGreaterThanOrEqual(0);
    expect(at(NEMESIS_MIDDLEWARE)).toBeGreaterThan(at('retryMiddleware'));
    expect(at('deserializerMiddleware')).toBeGreaterThan(at(NEMESIS_MIDDLEWARE));
    client.destroy();
  });
});

describe('throttling', () => {
  it('fails attempts with ProvisionedThroughputExceededException, which the SDK retries as THROTTLING', async () => {
    const { client, nemesis, retry } = setup({ settings: { throttleRate: 1 } });
    const error = await rejection(
      client.send(new GetItemCommand({ TableName: DATA, Key: key('p#0', 'a'), ConsistentRead: true })),
    );
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(error.name).toBe('ProvisionedThroughputExceededException');
    expect((error as unknown as { $fault: string }).$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.$metadata.attempts).toBe(3);
    expect(retry.errorTypes).toEqual(['THROTTLING', 'THROTTLING', 'THROTTLING']);
    expect(nemesis.counts).toMatchObject({ attempts: 3, throttled: 3 });
    // The data plane's own classification sees AWS's throttle.
    expect(isThrottle(error)).toBe(true);
    expect(translateDynamoError(error, 'c1')).toBeInstanceOf(StorageThrottledError);
    client.destroy();
  });

  it('a throttled attempt is retried by the SDK and the request succeeds', async () => {
    const { client, nemesis } = setup({
      settings: { throttleRate: 1 },
      observer: (event) => {
        if (event.kind === 'throttle') nemesis.off();
      },
    });
    const put = await client.send(
      new PutItemCommand({ TableName: DATA, Item: { ...key('p#0', 'throttled'), hlc: { S: '1' } } }),
    );
    expect(put.$metadata.attempts).toBe(2);
    expect(nemesis.counts.throttled).toBe(1);
    client.destroy();
  });

  it('leaves control-plane tables and table management alone unless asked', async () => {
    const { client, nemesis } = setup({ settings: { throttleRate: 1 } });
    await ensureTable(client, cellDataTableDefinition(DATA)); // CreateTable, DescribeTable: untouched
    const put = await client.send(new PutItemCommand({ TableName: CONTROL, Item: { pk: { S: 'x' } } }));
    expect(put.$metadata.attempts).toBe(1);
    expect(nemesis.counts.attempts).toBe(0);
    client.destroy();

    const hostile = setup({ settings: { throttleRate: 1 }, controlPlane: true });
    const error = await rejection(
      hostile.client.send(new PutItemCommand({ TableName: CONTROL, Item: { pk: { S: 'x' } } })),
    );
    expect(error.name).toBe('ProvisionedThroughputExceededException');
    hostile.client.destroy();

    const filtered = setup({ settings: { throttleRate: 1 }, tables: (name) => name === CONTROL });
    const get = await filtered.client.send(new GetItemCommand({ TableName: DATA, Key: key('p#0', 'a') }));
    expect(get.$metadata.attempts).toBe(1);
    filtered.client.destroy();
  });
});

describe('lost responses', () => {
  it('a conditional update applied on a lost attempt ends in ConditionalCheckFailed on the retry', async () => {
    const { client, nemesis, retry, pk } = setup({
      settings: { lostResponseRate: 1 },
      observer: (event) => {
        if (event.kind === 'lostResponse') nemesis.off();
      },
    });
    const update = new UpdateItemCommand({
      TableName: DATA,
      Key: key(pk, 'cas'),
      UpdateExpression: 'SET x = :v',
      ConditionExpression: 'attribute_not_exists(x) OR x < :v',
      ExpressionAttributeValues: { ':v': { N: '5' } },
    });
    const error = await rejection(client.send(update));
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    // Set by the SDK's retry middleware on the error it gives up with: the caller can tell that an earlier
    // attempt of this very request may have been applied.
    expect(error.$metadata.attempts).toBe(2);
    expect(retry.errorTypes).toEqual(['TRANSIENT', 'CLIENT_ERROR']);
    expect(nemesis.counts.lostResponses).toBe(1);
    const item = await plain.send(
      new GetItemCommand({ TableName: DATA, Key: key(pk, 'cas'), ConsistentRead: true }),
    );
    expect(item.Item?.x?.N).toBe('5');
    client.destroy();
  });

  it('every lost attempt was applied; the final error is a transient one', async () => {
    const { client, nemesis, retry, pk } = setup({ settings: { lostResponseRate: 1 } });
    const error = await rejection(
      client.send(
        new UpdateItemCommand({
          TableName: DATA,
          Key: key(pk, 'counter'),
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      ),
    );
    expect(['InternalServerError', 'TimeoutError']).toContain(error.name);
    expect(error.$metadata.attempts).toBe(3);
    expect(retry.errorTypes).toEqual(['TRANSIENT', 'TRANSIENT', 'TRANSIENT']);
    expect(nemesis.counts.lostResponses).toBe(3);
    const item = await plain.send(
      new GetItemCommand({ TableName: DATA, Key: key(pk, 'counter'), ConsistentRead: true }),
    );
    expect(item.Item?.n?.N).toBe('3');

    // BatchWriteItem too: the batch is applied although the caller never heard so.
    await rejection(
      client.send(
        new BatchWriteItemCommand({
          RequestItems: { [DATA]: [{ PutRequest: { Item: { ...key(pk, 'batched'), hlc: { S: '1' } } } }] },
        }),
      ),
    );
    const batched = await plain.send(new GetItemCommand({ TableName: DATA, Key: key(pk, 'batched') }));
    expect(batched.Item).toBeDefined();
    client.destroy();
  });

  it('never loses the response of a read', async () => {
    const { client, nemesis, pk } = setup({ settings: { lostResponseRate: 1 } });
    const get = await client.send(new GetItemCommand({ TableName: DATA, Key: key(pk, 'a') }));
    const query = await client.send(
      new QueryCommand({
        TableName: DATA,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
      }),
    );
    const batch = await client.send(
      new BatchGetItemCommand({ RequestItems: { [DATA]: { Keys: [key(pk, 'a')] } } }),
    );
    expect([get, query, batch].map((output) => output.$metadata.attempts)).toEqual([1, 1, 1]);
    expect(nemesis.counts.lostResponses).toBe(0);
    client.destroy();
  });
});

describe('index lag', () => {
  it('hides recently written items from changes-index pages, keeping LastEvaluatedKey', async () => {
    let clock = 0;
    const { client, nemesis, pk } = setup({ settings: { indexLagMs: 1000 }, now: () => clock });
    await client.send(new PutItemCommand({ TableName: DATA, Item: { ...key(pk, 'a'), hlc: { S: '001' } } }));
    await client.send(
      new UpdateItemCommand({
        TableName: DATA,
        Key: key(pk, 'b'),
        UpdateExpression: 'SET hlc = :h',
        ExpressionAttributeValues: { ':h': { S: '002' } },
      }),
    );
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: { [DATA]: [{ PutRequest: { Item: { ...key(pk, 'c'), hlc: { S: '003' } } } }] },
      }),
    );
    const changes = (limit?: number) =>
      new QueryCommand({
        TableName: DATA,
        IndexName: CHANGES_INDEX,
        KeyConditionExpression: 'pk = :pk AND hlc >= :since',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':since': { S: '000' } },
        Limit: limit,
      });
    const sks = (items: Record<string, { S?: string }>[] | undefined) => (items ?? []).map((i) => i.sk.S);

    clock = 500;
    const lagging = await client.send(changes());
    expect(sks(lagging.Items)).toEqual([]);
    expect(lagging.Count).toBe(0);
    expect(nemesis.counts.laggedIndexReads).toBe(3);
    // A page whose every item is hidden still says where the next page starts, exactly as DynamoDB said.
    const page = await client.send(changes(1));
    const truth = await plain.send(changes(1));
    expect(page.Items).toEqual([]);
    expect(page.LastEvaluatedKey).toEqual(truth.LastEvaluatedKey);
    expect(page.LastEvaluatedKey).toBeDefined();
    // The table itself is strongly consistent: only the index lags.
    const base = await client.send(
      new QueryCommand({
        TableName: DATA,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
      }),
    );
    expect(sks(base.Items)).toEqual(['a', 'b', 'c']);

    clock = 1000;
    expect(sks((await client.send(changes())).Items)).toEqual(['a', 'b', 'c']);
    // A rewrite hides the item again, for indexLagMs from the rewrite.
    clock = 1200;
    await client.send(new PutItemCommand({ TableName: DATA, Item: { ...key(pk, 'a'), hlc: { S: '004' } } }));
    clock = 1500;
    expect(sks((await client.send(changes())).Items)).toEqual(['b', 'c']);
    // A refused write changed nothing, so it hides nothing.
    await rejection(
      client.send(
        new PutItemCommand({
          TableName: DATA,
          Item: { ...key(pk, 'b'), hlc: { S: '000' } },
          ConditionExpression: 'attribute_not_exists(hlc)',
        }),
      ),
    );
    expect(sks((await client.send(changes())).Items)).toEqual(['b', 'c']);

    nemesis.off();
    expect(sks((await client.send(changes())).Items)).toEqual(['b', 'c', 'a']);
    client.destroy();
  });
});

describe('latency spikes', () => {
  it('delays an attempt before it is sent, and honours the abort signal meanwhile', async () => {
    const { client, nemesis, pk } = setup({
      settings: { latencySpikeRate: 1, latencySpikeMs: 80 },
      random: scripted(0, 0.1, 0, 0.1),
    });
    const started = Date.now();
    await client.send(new GetItemCommand({ TableName: DATA, Key: key(pk, 'a') }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(nemesis.counts.latencySpikes).toBe(1);

    const abort = new AbortController();
    setTimeout(() => abort.abort(), 10);
    const abortedAt = Date.now();
    const error = await rejection(
      client.send(new GetItemCommand({ TableName: DATA, Key: key(pk, 'a') }), { abortSignal: abort.signal }),
    );
    expect(error.name).toBe('AbortError');
    expect(Date.now() - abortedAt).toBeLessThan(70);
    client.destroy();
  });

  it('delays the response of a write that is already applied', async () => {
    const events: NemesisEvent[] = [];
    const { client, pk } = setup({
      settings: { latencySpikeRate: 1, latencySpikeMs: 150 },
      random: scripted(0, 0.9),
      observer: (event) => events.push(event),
    });
    let answered = false;
    const put = client
      .send(new PutItemCommand({ TableName: DATA, Item: { ...key(pk, 'late'), hlc: { S: '1' } } }))
      .then(() => {
        answered = true;
      });
    let seen = false;
    for (let i = 0; i < 50 && !seen; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const read = await plain.send(
        new GetItemCommand({ TableName: DATA, Key: key(pk, 'late'), ConsistentRead: true }),
      );
      seen = read.Item !== undefined;
    }
    expect(seen).toBe(true);
    expect(answered).toBe(false);
    await put;
    expect(events).toEqual([
      expect.objectContaining({ kind: 'latencySpike', phase: 'after', operation: 'PutItem' }),
    ]);
    client.destroy();
  });
});

describe('off()', () => {
  it('restores normal behaviour and keeps the counts', async () => {
    const { client, nemesis, pk } = setup({
      settings: {
        throttleRate: 1,
        lostResponseRate: 1,
        indexLagMs: 60_000,
        latencySpikeRate: 1,
        latencySpikeMs: 1,
      },
    });
    await rejection(
      client.send(new PutItemCommand({ TableName: DATA, Item: { ...key(pk, 'a'), hlc: { S: '1' } } })),
    );
    const before = { ...nemesis.counts };
    expect(before.throttled).toBe(3);
    nemesis.off();
    expect(nemesis.settings.throttleRate).toBe(0);
    const put = await client.send(
      new PutItemCommand({ TableName: DATA, Item: { ...key(pk, 'a'), hlc: { S: '1' } } }),
    );
    expect(put.$metadata.attempts).toBe(1);
    const changes = await client.send(
      new QueryCommand({
        TableName: DATA,
        IndexName: CHANGES_INDEX,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk } },
      }),
    );
    expect(changes.Items).toHaveLength(1);
    // Nothing is counted while everything is off: an idle nemesis does no bookkeeping.
    expect(nemesis.counts).toEqual(before);
    expect(() => nemesis.configure({ throttleRate: 2 })).toThrow(/throttleRate/);
    client.destroy();
  });
});

describe('HotKeyHeat', () => {
  it('gives one key, or evenly spread traffic, the plain rate', () => {
    const heat = new HotKeyHeat(1000);
    for (let t = 0; t < 100; t++) expect(heat.touch('only', t)).toBeCloseTo(1, 9);
    const even = new HotKeyHeat(1000);
    let last = 0;
    for (let t = 0; t < 2000; t++) last = even.touch(`k${t % 20}`, t);
    expect(last).toBeGreaterThan(0.9);
    expect(last).toBeLessThan(1.1);
  });

  it('throttles hot keys more and cold ones less, keeping the mean rate over requests', () => {
    const heat = new HotKeyHeat(1000);
    const random = seededRandom(7);
    const rate = 0.1;
    let sum = 0;
    let hot = 0;
    let hotCount = 0;
    let cold = 0;
    let coldCount = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const isHot = random() < 0.5;
      const multiplier = heat.touch(isHot ? 'hot' : `cold${Math.floor(random() * 200)}`, i);
      const p = Math.min(1, rate * multiplier);
      if (i < 2000) continue; // warm-up
      sum += p;
      if (isHot) {
        hot += p;
        hotCount += 1;
      } else {
        cold += p;
        coldCount += 1;
      }
    }
    expect(sum / (n - 2000)).toBeGreaterThan(rate * 0.9);
    expect(sum / (n - 2000)).toBeLessThan(rate * 1.1);
    expect(hot / hotCount).toBeGreaterThan(rate * 1.5);
    expect(cold / coldCount).toBeLessThan(rate * 0.5);
    expect(heat.size).toBeLessThanOrEqual(201);
  });

  it('forgets traffic after a few half-lives', () => {
    const heat = new HotKeyHeat(100);
    for (let t = 0; t < 500; t++) heat.touch('hot', t);
    expect(heat.touch('cold', 500)).toBeLessThan(0.2);
    expect(heat.touch('cold', 5000)).toBeCloseTo(1, 3);
  });
});

describe('EmbeddedCluster with a nemesis', () => {
  it('is attached to every region client and reaches the cell data stores', async () => {
    let clock = 0;
    const nemesis = new StorageNemesis({ settings: { indexLagMs: 1000 }, now: () => clock });
    const cluster = await EmbeddedCluster.start({ regions: [REGION], cellsPerRegion: 1, nemesis });
    try {
      const ids = cluster.clientFor(REGION);
      expect(ids.middlewareStack.identify().some((entry) => entry.startsWith(NEMESIS_MIDDLEWARE))).toBe(true);
      const store = cluster.stores.forCell(cellIdFor(REGION, 1));
      const item = {
        partition: 'orders',
        shard: 0,
        key: 'o1',
        bucket: 0,
        version: 1,
        hlc: '0001',
        deleted: false,
        encoding: 'json' as const,
        value: '{}',
      };
      expect(await store.putIfNewer(item)).toBe(true);
      const since = { sinceHlc: '0000', limit: 10 };
      expect((await store.queryChanges('orders', 0, since)).changes).toEqual([]);
      clock = 1000;
      expect((await store.queryChanges('orders', 0, since)).changes).toHaveLength(1);
      expect(nemesis.counts.laggedIndexReads).toBe(1);
    } finally {
      await cluster.close();
    }
  });
});

describe('stalled step sandboxes', () => {
  it("holds a stalled invocation's data requests from the stall on, and only that invocation's", async () => {
    const freezer = new StepFreezer();
    const { client, pk } = setup({ freezer });
    const get = () => client.send(new GetItemCommand({ TableName: DATA, Key: key(pk, 'a') }));
    let second: 'pending' | 'done' = 'pending';
    let otherDoneWhileStalled = false;
    const stalled = freezer.run(
      'Verify',
      async () => {
        await get(); // request 1: not stalled
        const started = Date.now();
        await get(); // request 2 starts the stall
        second = 'done';
        return Date.now() - started;
      },
      { stall: { atRequests: [2], forMs: 2_000 } },
    );
    // Another invocation of the same step, meanwhile, is not held.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await freezer.run('Verify', async () => {
      await get();
      otherDoneWhileStalled = second === 'pending';
    });
    expect(await stalled).toBeGreaterThanOrEqual(1_990);
    expect(otherDoneWhileStalled).toBe(true);
    expect(freezer.counts.stalls).toBe(1);
    client.destroy();
  });
});
