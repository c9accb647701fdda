import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../../../src/adapters/dynamodb/dynamodb-client.ts';
import {
  DynamoEventRepository,
  EVENT_RETENTION_AFTER_END_MS,
  eventsTableDefinition,
} from '../../../../src/adapters/dynamodb/event-repository.ts';
import { ensureTable } from '../../../../src/adapters/dynamodb/table-definitions.ts';
import type { KnownEvent } from '../../../../src/domain/forecasting/forecast-model.ts';
import {
  EventAlreadyExistsError,
  EventNotFoundError,
} from '../../../../src/domain/forecasting/known-event-store.ts';
import type { LocalDynamo } from '../../../../src/local/dynalite-server.ts';
import { localDynamo } from '../../../support/local-tables.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 5, 2, 9);
const launch: KnownEvent = {
  name: 'eu-launch',
  region: 'eu-west-1',
  startMs: T0,
  endMs: T0 + 6 * HOUR,
  multiplier: 3,
};
const sale: KnownEvent = {
  name: 'fr-sale',
  region: 'eu-west-1',
  partition: 'orders-fr',
  startMs: T0 + 24 * HOUR,
  endMs: T0 + 30 * HOUR,
  multiplier: 1.5,
};
const holiday: KnownEvent = {
  name: 'holiday',
  region: '*',
  startMs: T0 - 48 * HOUR,
  endMs: T0 - 24 * HOUR,
  multiplier: 0.5,
};

let dynamo: LocalDynamo;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  ({ dynamo, client } = await localDynamo());
  documents = documentClient(client);
});
afterAll(async () => {
  client.destroy();
  await dynamo.close();
});

async function newRepository(): Promise<{ repository: DynamoEventRepository; table: string }> {
  const table = `events-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, eventsTableDefinition(table));
  return { repository: new DynamoEventRepository(documents, table), table };
}

describe('DynamoEventRepository', () => {
  it('stores events in their written form, keyed by name, with a TTL after the end, and lists them back by start', async () => {
    const { repository, table } = await newRepository();
    await repository.putEvents([sale, launch, holiday], { replace: false });
    const stored = await documents.send(new GetCommand({ TableName: table, Key: { name: 'fr-sale' } }));
    expect(stored.Item).toEqual({
      name: 'fr-sale',
      region: 'eu-west-1',
      partition: 'orders-fr',
      start: '2025-06-03T09:00:00.000Z',
      end: '2025-06-03T15:00:00.000Z',
      multiplier: 1.5,
      expiresAt: (sale.endMs + EVENT_RETENTION_AFTER_END_MS) / 1000,
    });
    expect(await repository.listEvents()).toEqual({ events: [holiday, launch, sale], rejected: [] });
  });

  it('refuses a batch with a taken name before writing any of it, and replaces when asked', async () => {
    const { repository } = await newRepository();
    await repository.putEvents([launch], { replace: false });
    const changed = { ...launch, multiplier: 5 };
    await expect(repository.putEvents([sale, changed], { replace: false })).rejects.toThrow(
      EventAlreadyExistsError,
    );
    // Nothing of the refused batch was written: fr-sale is absent, eu-launch unchanged.
    expect((await repository.listEvents()).events).toEqual([launch]);
    await repository.putEvents([sale, changed], { replace: true });
    expect((await repository.listEvents()).events).toEqual([changed, sale]);
  });

  it('undoes its own writes when a later conditional write fails (a concurrent add of the same name)', async () => {
    const { repository, table } = await newRepository();
    // A second operator adds fr-sale between this call's check and its write: simulated by a client whose
    // first PutItem (of eu-launch) goes through and which writes fr-sale itself just before the second one.
    let puts = 0;
    const racing = {
      send: async (command: { constructor: { name: string }; input: { Item?: { name?: string } } }) => {
        if (command instanceof PutCommand && ++puts === 2)
          await documents.send(
            new PutCommand({
              TableName: table,
              Item: {
                name: 'fr-sale',
                region: '*',
                start: '2025-01-01T00:00:00Z',
                end: '2025-01-02T00:00:00Z',
                multiplier: 2,
              },
            }),
          );
        return documents.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const raced = new DynamoEventRepository(racing, table);
    const error = await raced.putEvents([launch, sale], { replace: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventAlreadyExistsError);
    expect((error as EventAlreadyExistsError).names).toEqual(['fr-sale']);
    // eu-launch, which this call wrote, is gone again; the other operator's fr-sale stays.
    expect((await repository.listEvents()).events.map((e) => e.name)).toEqual(['fr-sale']);
  });

  it('removes named events all or none', async () => {
    const { repository } = await newRepository();
    await repository.putEvents([launch, sale], { replace: false });
    const error = await repository.removeEvents(['eu-launch', 'nope']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventNotFoundError);
    expect((error as EventNotFoundError).names).toEqual(['nope']);
    expect((await repository.listEvents()).events).toEqual([launch, sale]);
    await repository.removeEvents(['eu-launch']);
    expect((await repository.listEvents()).events).toEqual([sale]);
  });

  it('sets apart items edited by hand into something that is not an event, naming the field', async () => {
    const { repository, table } = await newRepository();
    await repository.putEvents([launch], { replace: false });
    const bad = {
      name: 'typo',
      region: 'eu-west-1',
      start: '2025-06-02T09:00:00Z',
      end: '2025-06-02T10:00:00Z',
      multipler: 2,
    };
    await documents.send(new PutCommand({ TableName: table, Item: bad }));
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { ...bad, name: 'backwards', multipler: undefined, multiplier: 2, end: '2025-06-01T00:00:00Z' },
      }),
    );
    const listing = await repository.listEvents();
    expect(listing.events).toEqual([launch]);
    expect(listing.rejected).toEqual(
      [
        { name: 'backwards', problem: expect.stringMatching(/^field 'end': event 'backwards' ends/) },
        {
          name: 'typo',
          problem: "field 'multiplier': expected a number > 0, e.g. 3 for three times the usual demand",
        },
      ].sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
  });
});
