import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import { cellDataTableDefinition, ensureTable } from '../../../../src/adapters/dynamodb/table-definitions.ts';
import { type LocalDynamo, startDynalite } from '../../../../src/local/dynalite-server.ts';
import { attachFreezeGate, StepFreezer } from '../../../../src/local/nemesis/step-freezer.ts';

/** Let every pending promise continuation (and I/O callback) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fake storage layer whose requests complete only when the test says so, so every interleaving is explicit:
 * a request passes the gate, waits for its "network" answer, then passes the gate again.
 */
class FakeStorage {
  readonly answers: (() => void)[] = [];
  readonly done: number[] = [];
  constructor(private readonly freezer: StepFreezer) {}

  async request(id: number): Promise<void> {
    await this.freezer.gate();
    await new Promise<void>((resolve) => this.answers.push(resolve));
    await this.freezer.gate();
    this.done.push(id);
  }

  /** Answer the oldest request on the wire, then let everything that can run, run. */
  async answer(): Promise<void> {
    const next = this.answers.shift();
    if (!next) throw new Error('no request in flight');
    next();
    await settle();
  }
}

/** An invocation that starts three sequential storage requests and returns without waiting for them. */
function handlerLeavingWork(storage: FakeStorage, finished: { value?: Promise<void> }) {
  return async () => {
    finished.value = (async () => {
      for (const id of [1, 2, 3]) await storage.request(id);
    })();
    return 'returned early';
  };
}

describe('StepFreezer', () => {
  it('with freezeRate 0, work left behind by an invocation runs through', async () => {
    const freezer = new StepFreezer({ freezeRate: 0 });
    const storage = new FakeStorage(freezer);
    const finished: { value?: Promise<void> } = {};
    await expect(freezer.run('copy', handlerLeavingWork(storage, finished))).resolves.toBe('returned early');
    for (let i = 0; i < 3; i++) await storage.answer();
    await finished.value;
    expect(storage.done).toEqual([1, 2, 3]);
    expect(freezer.counts).toEqual({
      invocations: 1,
      frozenInvocations: 0,
      thawed: 0,
      requestsHeld: 0,
      stalls: 0,
    });
  });

  it('with freezeRate 1, leftover work stops at its next gate until the same function runs again', async () => {
    const freezer = new StepFreezer({ freezeRate: 1 });
    const storage = new FakeStorage(freezer);
    const finished: { value?: Promise<void> } = {};
    await freezer.run('copy', handlerLeavingWork(storage, finished));
    expect(freezer.counts.frozenInvocations).toBe(1);
    expect(freezer.frozenCount).toBe(1);

    // Request 1 was sent while the handler ran; its answer arrives after the freeze and is held.
    await storage.answer();
    expect(storage.done).toEqual([]);
    expect(freezer.counts.requestsHeld).toBe(1);

    // Another function's invocation does not thaw it.
    await freezer.run('verify', async () => settle());
    await settle();
    expect(storage.done).toEqual([]);

    // The next invocation of the same function does: the work continues alongside it (on its behalf).
    await freezer.run('copy', async () => {
      await settle();
      expect(storage.done).toEqual([1]);
      await storage.answer();
      await storage.answer();
      await finished.value;
    });
    expect(storage.done).toEqual([1, 2, 3]);
    expect(freezer.counts.thawed).toBe(1);
  });

  it('thawed work freezes again with the invocation that thawed it', async () => {
    const freezer = new StepFreezer({ freezeRate: 1 });
    const storage = new FakeStorage(freezer);
    const finished: { value?: Promise<void> } = {};
    await freezer.run('copy', handlerLeavingWork(storage, finished));
    await storage.answer(); // request 1 answered, held
    await freezer.run('copy', async () => {
      await settle(); // request 1 completes; request 2 is sent
    });
    expect(storage.done).toEqual([1]);
    await storage.answer(); // request 2 answered after the second invocation froze: held again
    expect(storage.done).toEqual([1]);
    expect(freezer.counts.requestsHeld).toBe(2);
    await freezer.run('copy', async () => {
      await settle();
      await storage.answer();
    });
    await finished.value;
    expect(storage.done).toEqual([1, 2, 3]);
  });

  it('with refreeze off, thawed work runs to the end', async () => {
    const freezer = new StepFreezer({ freezeRate: 1, refreeze: false });
    const storage = new FakeStorage(freezer);
    const finished: { value?: Promise<void> } = {};
    await freezer.run('copy', handlerLeavingWork(storage, finished));
    await storage.answer();
    await freezer.run('copy', async () => undefined);
    await settle();
    await storage.answer();
    await storage.answer();
    await finished.value;
    expect(storage.done).toEqual([1, 2, 3]);
  });

  it('freezes after a thrown error too, and passes the error on', async () => {
    const freezer = new StepFreezer({ freezeRate: 1 });
    const storage = new FakeStorage(freezer);
    let background: Promise<void> | undefined;
    await expect(
      freezer.run('copy', async () => {
        background = storage.request(7);
        throw new Error('handled failure');
      }),
    ).rejects.toThrow('handled failure');
    await storage.answer();
    expect(storage.done).toEqual([]);
    freezer.thawAll();
    await background;
    expect(storage.done).toEqual([7]);
    expect(freezer.frozenCount).toBe(0);
  });

  it('draws freezes from its random source at freezeRate, and gates outside run pass at once', async () => {
    const draws = [0.1, 0.6, 0.4, 0.9];
    const freezer = new StepFreezer({ freezeRate: 0.5, random: () => draws.shift()! });
    for (let i = 0; i < 4; i++) await freezer.run(`f${i}`, async () => undefined);
    expect(freezer.counts.frozenInvocations).toBe(2);
    expect(freezer.frozenCount).toBe(2);
    await freezer.gate();
    expect(freezer.current()).toBeUndefined();
    expect(() => {
      freezer.freezeRate = 2;
    }).toThrow(RangeError);
    freezer.thawAll();
    expect(freezer.frozenCount).toBe(0);
  });
});

describe('attachFreezeGate', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo.close();
  });

  async function freshTable(name: string) {
    const client = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    await ensureTable(client, cellDataTableDefinition(name));
    return client;
  }

  async function readHlc(table: string, key: Record<string, { S: string }>): Promise<string | undefined> {
    const other = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    const read = await other.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    other.destroy();
    return read.Item?.hlc?.S;
  }

  const key = { pk: { S: 'p#0' }, sk: { S: 'k' } };

  it('holds a request that a frozen invocation has not sent yet', async () => {
    const freezer = new StepFreezer({ freezeRate: 1 });
    const table = 'prestage-data-freeze-before';
    const client = await freshTable(table);
    attachFreezeGate(client, freezer);
    attachFreezeGate(client, freezer); // idempotent
    expect(() => attachFreezeGate(client, new StepFreezer())).toThrow(/another StepFreezer/);
    let write: Promise<unknown> | undefined;
    // The handler returns before the SDK reaches the wire: the sandbox freezes first.
    await freezer.run('copy', async () => {
      write = client.send(new PutItemCommand({ TableName: table, Item: { ...key, hlc: { S: '1' } } }));
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(freezer.counts.requestsHeld).toBe(1);
    expect(await readHlc(table, key)).toBeUndefined();
    await freezer.run('copy', async () => {
      await write;
    });
    expect(await readHlc(table, key)).toBe('1');
    client.destroy();
  });

  it('holds the response of a write that was applied before the freeze', async () => {
    const freezer = new StepFreezer({ freezeRate: 1 });
    const table = 'prestage-data-freeze-after';
    const client = await freshTable(table);
    attachFreezeGate(client, freezer);
    // Below the gate: keeps the response in transit until the test lets it go.
    let deliver!: () => void;
    const inTransit = new Promise<void>((resolve) => {
      deliver = resolve;
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        await inTransit;
        return result;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'testTransit' },
    );
    let answered = false;
    let write: Promise<unknown> | undefined;
    await freezer.run('copy', async () => {
      write = client
        .send(new PutItemCommand({ TableName: table, Item: { ...key, hlc: { S: '2' } } }))
        .then(() => {
          answered = true;
        });
      while ((await readHlc(table, key)) !== '2') await new Promise((resolve) => setTimeout(resolve, 2));
    });
    deliver();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(freezer.counts.requestsHeld).toBe(1);
    expect(answered).toBe(false);
    await freezer.run('copy', async () => {
      await write;
    });
    expect(answered).toBe(true);
    client.destroy();
  });
});

describe('StepFreezer stalls', () => {
  it('stalls an invocation at its n-th data request until the condition holds, and counts it', async () => {
    const freezer = new StepFreezer();
    let condition = false;
    const passed: number[] = [];
    const run = freezer.run(
      'Verify',
      async () => {
        for (const request of [1, 2, 3]) {
          await freezer.stallPoint();
          passed.push(request);
        }
      },
      { stall: { atRequests: [2], forMs: 0, until: () => condition } },
    );
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 15));
    expect(passed).toEqual([1]);
    // Outside a stalled invocation nothing waits.
    await freezer.stallPoint();
    await freezer.run('Verify', () => freezer.stallPoint());
    condition = true;
    await run;
    expect(passed).toEqual([1, 2, 3]);
    expect(freezer.counts.stalls).toBe(1);
  });
});
