import {
  type AttributeValue,
  type DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-dynamodb';
import type { FinalizeRequestMiddleware, HandlerExecutionContext } from '@smithy/types';
import { CHANGES_INDEX, DATA_TABLE_KEYS } from '../../adapters/dynamodb/table-definitions.ts';
import { seededRandom } from '../../domain/seeded-random.ts';
import { isNemesisOff, NEMESIS_OFF, type NemesisSettings, parseNemesisSettings } from './nemesis-settings.ts';
import { attachFreezeGate, type StepFreezer } from './step-freezer.ts';

type AttributeMap = Record<string, AttributeValue>;

/** The item operations the nemesis acts on; table management (CreateTable, DescribeTable, …) is left alone. */
const ITEM_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchGetItem',
  'BatchWriteItem',
  'Query',
  'Scan',
]);
/** Writes whose response can be lost after they were applied. Reads are never "lost": retrying one is free. */
const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export const NEMESIS_MIDDLEWARE = 'prestageStorageNemesis';
const DATA_TABLE_PREFIX = 'prestage-data-';
/** Written keys are swept for expired entries at most once per this many tracked writes. */
const LAG_SWEEP_EVERY = 1024;
/** Hot-key counters are swept (and the running sums recomputed) once per this many requests. */
const HEAT_SWEEP_EVERY = 4096;
const HEAT_FLOOR = 1e-3;

export type NemesisFaultKind = 'throttle' | 'lostResponse' | 'indexLag' | 'latencySpike';

export interface NemesisEvent {
  readonly kind: NemesisFaultKind;
  readonly operation: string;
  readonly region: string;
  /** The data table(s) of the request. */
  readonly tables: readonly string[];
  /** latencySpike: whether the delay came before the request or after its response. */
  readonly phase?: 'before' | 'after';
  /** indexLag: items hidden from the page. */
  readonly hidden?: number;
}

export interface StorageNemesisCounts {
  /** Attempts seen on matching tables. */
  attempts: number;
  throttled: number;
  lostResponses: number;
  /** Items hidden from `changes` index pages. */
  laggedIndexReads: number;
  latencySpikes: number;
}

export interface StorageNemesisOptions {
  /** @default NEMESIS_OFF */
  readonly settings?: Partial<NemesisSettings>;
  /** Uniform draws in [0, 1). @default seededRandom(seed) */
  readonly random?: () => number;
  /** @default 0x5eed */
  readonly seed?: number;
  /** Which tables are hostile. @default cell data tables (`prestage-data-*`), plus every table with controlPlane */
  readonly tables?: (tableName: string) => boolean;
  /** Make the control-plane tables (partitions, cells, …) hostile too; ignored when `tables` is given. */
  readonly controlPlane?: boolean;
  /** @default Date.now */
  readonly now?: () => number;
  /** Half-life of the per-key traffic counters behind hot-key throttling. @default 1000 */
  readonly hotKeyHalfLifeMs?: number;
  /** Gate every attempt of attached clients on this freezer; `configure` sets its freezeRate. */
  readonly freezer?: StepFreezer;
  /** Told about every injected fault (logs, reports, tests). */
  readonly observer?: (event: NemesisEvent) => void;
}

/** The shape of the item requests the nemesis reads (the SDK's wire-level input, attribute maps marshalled). */
interface ItemInput {
  TableName?: string;
  IndexName?: string;
  Key?: AttributeMap;
  Item?: AttributeMap;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: AttributeMap;
  RequestItems?: Record<
    string,
    | { Keys?: AttributeMap[] }
    | { PutRequest?: { Item?: AttributeMap }; DeleteRequest?: { Key?: AttributeMap } }[]
  >;
}

interface ItemOutput {
  Items?: AttributeMap[];
  Count?: number;
  UnprocessedItems?: Record<string, unknown[]>;
}

/** A key's partition-key value as a string (the `pk` attribute, else the map's first attribute). */
function partitionValue(map: AttributeMap | undefined): string {
  if (!map) return '';
  const value = map[DATA_TABLE_KEYS.partitionKey] ?? Object.values(map)[0];
  return attributeString(value);
}

function attributeString(value: AttributeValue | undefined): string {
  if (!value) return '';
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  if (value.B !== undefined) return Buffer.from(value.B).toString('base64');
  return JSON.stringify(value);
}

/** The partition key of a Query: the equality on `pk` in the key condition, else its first equality. */
function queryPartitionValue(input: ItemInput): string {
  const names = input.ExpressionAttributeNames ?? {};
  const values = input.ExpressionAttributeValues ?? {};
  let first: string | undefined;
  for (const match of (input.KeyConditionExpression ?? '').matchAll(/([#\w.]+)\s*=\s*(:\w+)/g)) {
    const name = match[1].startsWith('#') ? names[match[1]] : match[1];
    const value = attributeString(values[match[2]]);
    if (name === DATA_TABLE_KEYS.partitionKey) return value;
    first ??= value;
  }
  return first ?? '';
}

/** Every (table, partition-key value) an item request touches; Scan touches the table as a whole. */
function touchedKeys(operation: string, input: ItemInput): { table: string; pk: string }[] {
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    const keys: { table: string; pk: string }[] = [];
    for (const [table, request] of Object.entries(input.RequestItems ?? {})) {
      if (Array.isArray(request)) {
        for (const write of request) {
          keys.push({ table, pk: partitionValue(write.PutRequest?.Item ?? write.DeleteRequest?.Key) });
        }
      } else {
        for (const key of request.Keys ?? []) keys.push({ table, pk: partitionValue(key) });
      }
    }
    return keys;
  }
  const table = input.TableName ?? '';
  if (operation === 'Query') return [{ table, pk: queryPartitionValue(input) }];
  if (operation === 'Scan') return [{ table, pk: '' }];
  return [{ table, pk: partitionValue(input.Key ?? input.Item) }];
}

/** Every (pk, sk) a successful write changed, per table (puts and deletes of a batch minus its unprocessed). */
function writtenItems(
  operation: string,
  input: ItemInput,
  output: ItemOutput | undefined,
): [string, AttributeMap][] {
  if (operation !== 'BatchWriteItem') return [[input.TableName ?? '', (input.Key ?? input.Item)!]];
  const written: [string, AttributeMap][] = [];
  for (const [table, request] of Object.entries(input.RequestItems ?? {})) {
    if (!Array.isArray(request)) continue;
    const unprocessed = new Set(output?.UnprocessedItems?.[table] ?? []);
    for (const write of request) {
      if (unprocessed.has(write)) continue;
      const key = write.PutRequest?.Item ?? write.DeleteRequest?.Key;
      if (key) written.push([table, key]);
    }
  }
  return written;
}

function itemKey(table: string, map: AttributeMap): string {
  return `${table}\u0000${attributeString(map[DATA_TABLE_KEYS.partitionKey])}\u0000${attributeString(map[DATA_TABLE_KEYS.sortKey])}`;
}

/** The AbortError the SDK's own handlers throw, so callers that test `name === 'AbortError'` see no difference. */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('Request aborted', { cause: signal.reason }), { name: 'AbortError' });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Recent traffic per key, for hot-key throttling. Each key's counter h_k gains 1 per request and decays
 * exponentially (half-life `halfLifeMs`). With T = Σ h_k and Q = Σ h_k², a request on key k is throttled with
 *
 *     p_k = min(1, rate · h_k · T / Q)
 *
 * Q / T is the counter of the key of an average *request* (traffic-weighted mean), so keys hotter than that are
 * throttled more and colder ones less, and since requests arrive on key k in proportion to h_k, the mean over
 * requests is Σ (h_k/T) · rate · h_k · T/Q = rate (less what the cap at 1 cuts off). One key, or uniform traffic,
 * gives p = rate. All counters decay by the same factor, so T and Q decay as a whole (by f and f²) and each h_k
 * lazily; a periodic sweep drops cold keys and recomputes T and Q against rounding drift.
 */
export class HotKeyHeat {
  private readonly keys = new Map<string, { heat: number; at: number }>();
  private total = 0;
  private sumSquares = 0;
  private at = Number.NEGATIVE_INFINITY;
  private sinceSweep = 0;
  private readonly halfLifeMs: number;

  constructor(halfLifeMs = 1000) {
    if (!(halfLifeMs > 0)) throw new RangeError(`halfLifeMs must be positive, got ${halfLifeMs}`);
    this.halfLifeMs = halfLifeMs;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Count one request on `key` at `now`; returns the key's throttle multiplier h_k · T / Q. */
  touch(key: string, now: number): number {
    this.advance(now);
    const entry = this.keys.get(key);
    const heat = entry ? entry.heat * this.decay(this.at - entry.at) : 0;
    const next = heat + 1;
    this.total += 1;
    this.sumSquares += next * next - heat * heat;
    if (entry) {
      entry.heat = next;
      entry.at = this.at;
    } else {
      this.keys.set(key, { heat: next, at: this.at });
    }
    if (++this.sinceSweep >= HEAT_SWEEP_EVERY) this.sweep();
    return this.sumSquares > 0 ? (next * this.total) / this.sumSquares : 1;
  }

  private decay(elapsedMs: number): number {
    return elapsedMs > 0 ? 2 ** (-elapsedMs / this.halfLifeMs) : 1;
  }

  private advance(now: number): void {
    // Time never runs backwards here: a clock step back just stops decay until it catches up.
    if (now <= this.at) return;
    if (this.at !== Number.NEGATIVE_INFINITY) {
      const f = this.decay(now - this.at);
      this.total *= f;
      this.sumSquares *= f * f;
    }
    this.at = now;
  }

  private sweep(): void {
    this.sinceSweep = 0;
    this.total = 0;
    this.sumSquares = 0;
    for (const [key, entry] of this.keys) {
      const heat = entry.heat * this.decay(this.at - entry.at);
      if (heat < HEAT_FLOOR) {
        this.keys.delete(key);
        continue;
      }
      entry.heat = heat;
      entry.at = this.at;
      this.total += heat;
      this.sumSquares += heat * heat;
    }
  }
}

/**
 * Makes a local DynamoDB (dynalite) as hostile as AWS, per SDK attempt, for the tables it is told to: throttling
 * concentrated on hot keys, write responses lost after the write was applied, a lagging `changes` index, and
 * latency spikes. It sits in the SDK client's middleware stack inside the retry loop (finalizeRequest step, low
 * priority: after retryMiddleware and signing, before the deserializer's step), so each fault is one failed
 * attempt that the SDK's own retry strategy classifies and retries exactly as it would an AWS response, and the
 * final error carries the SDK's `$metadata.attempts`.
 */
export class StorageNemesis {
  readonly counts: StorageNemesisCounts = {
    attempts: 0,
    throttled: 0,
    lostResponses: 0,
    laggedIndexReads: 0,
    latencySpikes: 0,
  };
  private current: NemesisSettings = NEMESIS_OFF;
  private idle = true;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly matches: (tableName: string) => boolean;
  private readonly heat: HotKeyHeat;
  private readonly freezer: StepFreezer | undefined;
  private readonly observer: ((event: NemesisEvent) => void) | undefined;
  private readonly attached = new WeakSet<DynamoDBClient>();
  /** (table, pk, sk) → when its latest write was applied; only while indexLagMs > 0. */
  private readonly writtenAt = new Map<string, number>();
  private writesSinceSweep = 0;
  private requestIds = 0;

  constructor(options: StorageNemesisOptions = {}) {
    this.random = options.random ?? seededRandom(options.seed ?? 0x5eed);
    this.now = options.now ?? Date.now;
    this.matches =
      options.tables ??
      (options.controlPlane ? () => true : (tableName) => tableName.startsWith(DATA_TABLE_PREFIX));
    this.heat = new HotKeyHeat(options.hotKeyHalfLifeMs ?? 1000);
    this.freezer = options.freezer;
    this.observer = options.observer;
    if (options.settings) this.configure(options.settings);
  }

  get settings(): NemesisSettings {
    return this.current;
  }

  /**
   * Extra replication delay of one routing write to one region (see NemesisSettings.replicationLagMs): between
   * half and all of the setting, since a replica that falls behind stays behind for a while rather than drawing a
   * fresh lag for every write.
   */
  replicationDelayMs(): number {
    const max = this.current.replicationLagMs;
    return max > 0 ? max * (0.5 + this.random() / 2) : 0;
  }

  /** Replace the settings (omitted fields are off); throws InvalidRequestError('INVALID_NEMESIS') if invalid. */
  configure(settings: Partial<NemesisSettings>): void {
    this.current = Object.freeze(parseNemesisSettings(settings));
    this.idle = isNemesisOff({ ...this.current, freezeRate: 0 });
    if (this.current.indexLagMs === 0) this.writtenAt.clear();
    if (this.freezer) this.freezer.freezeRate = this.current.freezeRate;
  }

  off(): void {
    this.configure(NEMESIS_OFF);
  }

  /** Hook into a region's client (idempotent); with a freezer, its freeze gate is attached too, outside. */
  attach(client: DynamoDBClient, region: string): void {
    if (this.attached.has(client)) return;
    this.attached.add(client);
    if (this.freezer) attachFreezeGate(client, this.freezer);
    client.middlewareStack.add(this.middleware(region), {
      step: 'finalizeRequest',
      priority: 'low',
      name: NEMESIS_MIDDLEWARE,
    });
  }

  private middleware(region: string): FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> {
    return (next, context) => async (args) => {
      const smithy = (context as HandlerExecutionContext).__smithy_context as
        | { operation?: string; abortSignal?: AbortSignal }
        | undefined;
      const operation = smithy?.operation ?? context.commandName?.replace(/Command$/, '') ?? '';
      // A stalled step sandbox: its data-table requests wait out the stall, whatever the settings.
      if (this.freezer && ITEM_OPERATIONS.has(operation)) {
        const touched = touchedKeys(operation, args.input as ItemInput);
        if (touched.some((key) => this.matches(key.table))) await this.freezer.stallPoint();
      }
      // All off (only the freezer, if any, at work): no bookkeeping, so an idle nemesis costs nothing.
      if (this.idle || !ITEM_OPERATIONS.has(operation)) return next(args);
      const input = args.input as ItemInput;
      const keys = touchedKeys(operation, input).filter((key) => this.matches(key.table));
      if (keys.length === 0) return next(args);

      const settings = this.current;
      const signal = smithy?.abortSignal;
      const tables = [...new Set(keys.map((key) => key.table))];
      const emit = (event: Omit<NemesisEvent, 'operation' | 'region' | 'tables'>) =>
        this.observer?.({ ...event, operation, region, tables });
      this.counts.attempts += 1;

      let spike: 'before' | 'after' | undefined;
      if (settings.latencySpikeRate > 0 && this.random() < settings.latencySpikeRate) {
        // Either side of the request: after it, a write is applied but answered late (a read's data is stale).
        spike = this.random() < 0.5 ? 'before' : 'after';
        this.counts.latencySpikes += 1;
        emit({ kind: 'latencySpike', phase: spike });
        if (spike === 'before') await sleep(settings.latencySpikeMs, signal);
      }

      if (settings.throttleRate > 0) {
        // Every attempt counts as traffic on its keys, throttled or not, as on a real partition. A batch is
        // throttled with the mean of its items' probabilities (the share of it a hot partition would refuse).
        const now = this.now();
        let multiplier = 0;
        for (const key of keys) multiplier += this.heat.touch(`${key.table}\u0000${key.pk}`, now);
        multiplier /= keys.length;
        if (this.random() < Math.min(1, settings.throttleRate * multiplier)) {
          this.counts.throttled += 1;
          emit({ kind: 'throttle' });
          throw this.throttleError(region, tables[0], WRITE_OPERATIONS.has(operation));
        }
      }

      const lost =
        WRITE_OPERATIONS.has(operation) &&
        settings.lostResponseRate > 0 &&
        this.random() < settings.lostResponseRate;
      let result: Awaited<ReturnType<typeof next>> | undefined;
      let failure: unknown;
      let failed = false;
      try {
        result = await next(args);
      } catch (error) {
        failure = error;
        failed = true;
      }
      if (result && WRITE_OPERATIONS.has(operation) && this.current.indexLagMs > 0) {
        this.recordWrites(operation, input, result.output as ItemOutput);
      }
      if (spike === 'after') await sleep(settings.latencySpikeMs, signal);
      // A caller's abort is the caller's outcome: it is never turned into a lost response.
      if (lost && (failure as Error | undefined)?.name !== 'AbortError') {
        this.counts.lostResponses += 1;
        emit({ kind: 'lostResponse' });
        throw this.lostResponseError();
      }
      if (failed) throw failure;
      if (operation === 'Query' && input.IndexName === CHANGES_INDEX && this.current.indexLagMs > 0) {
        const hidden = this.hideLaggedItems(input.TableName ?? '', result!.output as ItemOutput);
        if (hidden > 0) emit({ kind: 'indexLag', hidden });
      }
      return result!;
    };
  }

  private recordWrites(operation: string, input: ItemInput, output: ItemOutput): void {
    const now = this.now();
    for (const [table, map] of writtenItems(operation, input, output)) {
      if (!this.matches(table)) continue;
      const key = itemKey(table, map);
      // Re-insert so the map stays in write order (the sweep stops at the first entry still young).
      this.writtenAt.delete(key);
      this.writtenAt.set(key, now);
      this.writesSinceSweep += 1;
    }
    if (this.writesSinceSweep >= LAG_SWEEP_EVERY) {
      this.writesSinceSweep = 0;
      const lag = this.current.indexLagMs;
      for (const [key, at] of this.writtenAt) {
        if (now - at < lag) break;
        this.writtenAt.delete(key);
      }
    }
  }

  /**
   * Drop from a `changes` page the items whose latest write is younger than indexLagMs, as a lagging GSI would
   * not show them yet. LastEvaluatedKey stays as DynamoDB returned it: pagination is over the index as it was.
   */
  private hideLaggedItems(table: string, output: ItemOutput): number {
    if (!output.Items || output.Items.length === 0) return 0;
    const now = this.now();
    const lag = this.current.indexLagMs;
    const visible = output.Items.filter((map) => {
      const at = this.writtenAt.get(itemKey(table, map));
      return at === undefined || now - at >= lag;
    });
    const hidden = output.Items.length - visible.length;
    if (hidden > 0) {
      output.Items = visible;
      output.Count = visible.length;
      this.counts.laggedIndexReads += hidden;
    }
    return hidden;
  }

  private requestId(): string {
    this.requestIds += 1;
    return `NEMESIS${this.requestIds.toString(36).toUpperCase().padStart(45, '0')}`;
  }

  /** DynamoDB's answer to a hot partition (on-demand tables too): the SDK classifies it as THROTTLING by name. */
  private throttleError(
    region: string,
    table: string,
    write: boolean,
  ): ProvisionedThroughputExceededException {
    const error = new ProvisionedThroughputExceededException({
      message:
        'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
      $metadata: { httpStatusCode: 400, requestId: this.requestId() },
    });
    error.ThrottlingReasons = [
      {
        reason: write ? 'TableWriteKeyRangeThroughputExceeded' : 'TableReadKeyRangeThroughputExceeded',
        resource: `arn:aws:dynamodb:${region}:000000000000:table/${table}`,
      },
    ];
    return error;
  }

  /**
   * The write was applied but its response never arrived: either DynamoDB's 500 InternalServerError or the
   * socket reset the SDK's Node handler reports (name TimeoutError, code ECONNRESET). Both are TRANSIENT to the
   * SDK's retry strategy, so it sends the same request again.
   */
  private lostResponseError(): Error {
    if (this.random() < 0.5) {
      return new InternalServerError({
        message: 'Internal server error',
        $metadata: { httpStatusCode: 500, requestId: this.requestId() },
      });
    }
    return Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
  }
}
