import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { formatLocation, InputValidationError } from '../../domain/errors.ts';
import type { KnownEvent } from '../../domain/forecasting/forecast-model.ts';
import { knownEventInput, parseKnownEvent } from '../../domain/forecasting/known-event-input.ts';
import {
  EventAlreadyExistsError,
  EventNotFoundError,
  type KnownEventListing,
  type KnownEventStore,
  type RejectedEvent,
} from '../../domain/forecasting/known-event-store.ts';
import { isConditionalCheckFailed, translateThrottle } from './dynamodb-errors.ts';
import { TTL_ATTRIBUTE } from './table-definitions.ts';

/**
 * The events table: one item per known event, keyed by its name, in the event's written form
 * (src/domain/forecasting/known-event-input.ts), so the item an operator pastes in the DynamoDB console is the
 * JSON of the CLI's calendar:
 *
 *   {"name":"eu-launch","region":"eu-west-1","start":"2025-06-02T09:00:00Z","end":"2025-06-02T15:00:00Z",
 *    "multiplier":3,"partition":"orders-fr"?,"expiresAt":1751446800?}
 *
 * `expiresAt` (epoch seconds, the table's TTL) is set by `prestage events add` to the event's end plus
 * EVENT_RETENTION_AFTER_END_MS, so past events stay while the profiler's history still covers them (they de-bias
 * it) and then go; an item without it stays until it is removed.
 */
export const EVENTS_TABLE_KEY = 'name';

/** The events table's fixed name in a deployment (lib/prestage-config.ts PRESTAGE_NAMES), the CLI's default. */
export const DEFAULT_EVENTS_TABLE = 'prestage-events';

/** How long after its end an event stays: longer than the profiler's 8-day lookback, which it de-biases. */
export const EVENT_RETENTION_AFTER_END_MS = 14 * 86_400_000;

/** The events table's key schema; the CDK stack and the local tables build it from this. */
export function eventsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: EVENTS_TABLE_KEY, KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: EVENTS_TABLE_KEY, AttributeType: 'S' }],
  };
}

type Item = Record<string, unknown>;

/** BatchGetItem reads at most 100 keys per call. */
const BATCH_GET_LIMIT = 100;

/**
 * The KnownEventStore port on DynamoDB. Writes are all or nothing without transactions (the local DynamoDB has
 * none): every name is read first and the batch refused before any write when one is taken (or, for a removal,
 * missing); the writes are conditional, and if one fails (a concurrent writer, an error) the ones this call
 * already made are undone, restoring the items read first.
 */
export class DynamoEventRepository implements KnownEventStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.documents = documents;
    this.table = table;
  }

  async listEvents(): Promise<KnownEventListing> {
    const events: KnownEvent[] = [];
    const rejected: RejectedEvent[] = [];
    let start: Item | undefined;
    do {
      const page = await translateThrottle(() =>
        this.documents.send(
          new ScanCommand({ TableName: this.table, ExclusiveStartKey: start, ConsistentRead: true }),
        ),
      );
      for (const item of page.Items ?? []) {
        const decoded = decodeEventItem(item);
        if ('problem' in decoded) rejected.push(decoded);
        else events.push(decoded);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    events.sort((a, b) => a.startMs - b.startMs || (a.name < b.name ? -1 : 1));
    rejected.sort((a, b) => (a.name < b.name ? -1 : 1));
    return { events, rejected };
  }

  async putEvents(events: readonly KnownEvent[], options: { readonly replace: boolean }): Promise<void> {
    const names = uniqueNames(events.map((e) => e.name));
    const before = await this.itemsNamed(names);
    if (!options.replace) {
      const taken = names.filter((n) => before.has(n));
      if (taken.length > 0) throw new EventAlreadyExistsError(taken);
    }
    const done: string[] = [];
    try {
      for (const event of events) {
        await translateThrottle(() =>
          this.documents.send(
            new PutCommand({
              TableName: this.table,
              Item: eventItem(event),
              ...(!options.replace && {
                ConditionExpression: 'attribute_not_exists(#name)',
                ExpressionAttributeNames: { '#name': EVENTS_TABLE_KEY },
              }),
            }),
          ),
        );
        done.push(event.name);
      }
    } catch (error) {
      await this.restore(done, before);
      if (isConditionalCheckFailed(error)) throw new EventAlreadyExistsError([events[done.length].name]);
      throw error;
    }
  }

  async removeEvents(names: readonly string[]): Promise<void> {
    const unique = uniqueNames(names);
    const before = await this.itemsNamed(unique);
    const missing = unique.filter((n) => !before.has(n));
    if (missing.length > 0) throw new EventNotFoundError(missing);
    const done: string[] = [];
    try {
      for (const name of unique) {
        await translateThrottle(() =>
          this.documents.send(
            new DeleteCommand({
              TableName: this.table,
              Key: { [EVENTS_TABLE_KEY]: name },
              ConditionExpression: 'attribute_exists(#name)',
              ExpressionAttributeNames: { '#name': EVENTS_TABLE_KEY },
            }),
          ),
        );
        done.push(name);
      }
    } catch (error) {
      await this.restore(done, before);
      if (isConditionalCheckFailed(error)) throw new EventNotFoundError([unique[done.length]]);
      throw error;
    }
  }

  /** The stored items of these names, by name (consistent reads). */
  private async itemsNamed(names: readonly string[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < names.length; i += BATCH_GET_LIMIT) {
      let keys: Item[] | undefined = names
        .slice(i, i + BATCH_GET_LIMIT)
        .map((name) => ({ [EVENTS_TABLE_KEY]: name }));
      while (keys && keys.length > 0) {
        const requested: Item[] = keys;
        const page: BatchGetCommandOutput = await translateThrottle(() =>
          this.documents.send(
            new BatchGetCommand({
              RequestItems: { [this.table]: { Keys: requested, ConsistentRead: true } },
            }),
          ),
        );
        for (const item of page.Responses?.[this.table] ?? [])
          found.set(String(item[EVENTS_TABLE_KEY]), item);
        keys = page.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return found;
  }

  /** Undo this call's writes of `names`: put back the item each had before, or delete the one it created. */
  private async restore(names: readonly string[], before: ReadonlyMap<string, Item>): Promise<void> {
    for (const name of names) {
      const previous = before.get(name);
      await translateThrottle(() =>
        previous
          ? this.documents.send(new PutCommand({ TableName: this.table, Item: previous }))
          : this.documents.send(
              new DeleteCommand({ TableName: this.table, Key: { [EVENTS_TABLE_KEY]: name } }),
            ),
      );
    }
  }
}

/** The item of an event: its written form, plus the TTL. */
export function eventItem(event: KnownEvent): Item {
  return {
    ...knownEventInput(event),
    [TTL_ATTRIBUTE]: Math.floor((event.endMs + EVENT_RETENTION_AFTER_END_MS) / 1000),
  };
}

/** An item as an event, or why it is not one (an item edited by hand in the console can be anything). */
export function decodeEventItem(item: Item): KnownEvent | RejectedEvent {
  const { [TTL_ATTRIBUTE]: _ttl, ...fields } = item;
  const name = typeof item[EVENTS_TABLE_KEY] === 'string' ? (item[EVENTS_TABLE_KEY] as string) : '?';
  try {
    return parseKnownEvent(fields, `events table item '${name}'`);
  } catch (error) {
    if (!(error instanceof InputValidationError)) throw error;
    const { field } = error.location;
    const problem = error.message.slice(formatLocation(error.location).length);
    return { name, problem: field ? `field '${field}': ${problem}` : problem };
  }
}

function uniqueNames(names: readonly string[]): string[] {
  const unique = [...new Set(names)];
  if (unique.length !== names.length) {
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    throw new RangeError(
      `event names must be unique within one call; ${[...new Set(twice)].join(', ')} repeat`,
    );
  }
  return unique;
}
