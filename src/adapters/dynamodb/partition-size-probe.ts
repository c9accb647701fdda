import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { CellRecord } from '../../domain/data-plane/cell-record.ts';
import type { PartitionRecord } from '../../domain/data-plane/partition-record.ts';
import type { PartitionSizeMeasurement, PartitionSizeProbe } from '../../domain/profiling/ports.ts';
import { attributeMapSize, dataPartitionKey } from './cell-data-store.ts';

type AttributeMap = Record<string, AttributeValue>;

/** One read capacity unit pays for two eventually consistent reads of 4 KB: 8 KiB read. */
const BYTES_PER_EVENTUAL_UNIT = 8192;
/** A Query page's item sizes are summed and rounded up to a multiple of 4 KB before they are charged. */
const CHARGE_ROUNDING_BYTES = 4096;
const EVENTUAL_UNITS_PER_ROUNDING = 0.5;

export interface PartitionSizeProbeOptions {
  /**
   * Shards are read in order until this many items are counted; the rest are extrapolated (keys spread over
   * shards by a uniform hash, so k items sampled put the estimate within about 1/√k). @default 2,000
   */
  readonly sampleItems?: number;
  /**
   * A page whose charge says it holds at most this many bytes is read again with its items and summed exactly:
   * the 4 KB rounding would dominate a small page. @default 16 KiB
   */
  readonly exactBelowBytes?: number;
}

interface ShardSize {
  bytes: number;
  items: number;
  units: number;
}

/**
 * Measures a partition's stored bytes in its cell's table without reading its values: per shard
 * (`<partition>#<shard>`), Query with `Select: 'COUNT'` and `ReturnConsumedCapacity: 'TOTAL'`, eventually
 * consistent. DynamoDB charges a page for the sizes of the items it read, summed and rounded up to 4 KB, at
 * 0.5 unit per 4 KB; so a page of u units held between 8192·u − 4096 and 8192·u bytes, and its midpoint is off
 * by at most 2 KB. Pages of at most `exactBelowBytes` are read again with items and summed exactly (a 100-byte
 * shard would otherwise count as 2 KB). The cost is the data read: about size / 8 KiB read units, less when a
 * sample of the shards is enough.
 *
 * Where the response carries no ConsumedCapacity (an emulator without it), the probe falls back to reading the
 * items and summing their sizes by DynamoDB's rules (attributeMapSize), which is exact and costs the same reads
 * (dynalite does return it; the tests cover both paths).
 */
export class DynamoPartitionSizeProbe implements PartitionSizeProbe {
  private readonly clientFor: (region: string) => DynamoDBClient;
  private readonly sampleItems: number;
  private readonly exactBelowBytes: number;

  constructor(clientFor: (region: string) => DynamoDBClient, options: PartitionSizeProbeOptions = {}) {
    this.clientFor = clientFor;
    this.sampleItems = options.sampleItems ?? 2000;
    this.exactBelowBytes = options.exactBelowBytes ?? 16 * 1024;
  }

  async measure(partition: PartitionRecord, cell: CellRecord): Promise<PartitionSizeMeasurement> {
    const client = this.clientFor(cell.region);
    const total: ShardSize = { bytes: 0, items: 0, units: 0 };
    let method: PartitionSizeMeasurement['method'] = 'consumed-capacity';
    let shardsRead = 0;
    while (shardsRead < partition.shards) {
      const pk = dataPartitionKey(partition.partition, shardsRead);
      const shard = await this.measureShard(client, cell.table, pk, method);
      method = shard.method;
      total.bytes += shard.bytes;
      total.items += shard.items;
      total.units += shard.units;
      shardsRead++;
      if (total.items >= this.sampleItems) break;
    }
    const scale = shardsRead > 0 ? partition.shards / shardsRead : 0;
    return {
      sizeBytes: Math.round(total.bytes * scale),
      items: Math.round(total.items * scale),
      shardsRead,
      readUnits: total.units,
      method,
    };
  }

  private async measureShard(
    client: DynamoDBClient,
    table: string,
    pk: string,
    method: PartitionSizeMeasurement['method'],
  ): Promise<ShardSize & { method: PartitionSizeMeasurement['method'] }> {
    const size: ShardSize = { bytes: 0, items: 0, units: 0 };
    let start: AttributeMap | undefined;
    do {
      if (method === 'item-sizes') {
        const page = await readItems(client, table, pk, start, undefined);
        add(size, page);
        start = page.lastKey;
        continue;
      }
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ExclusiveStartKey: start,
          Select: 'COUNT',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const count = page.Count ?? 0;
      const units = page.ConsumedCapacity?.CapacityUnits;
      if (units === undefined) {
        // No charge reported: size this page from its items, and the rest of the partition likewise.
        method = 'item-sizes';
        const exact = await readItems(client, table, pk, start, undefined);
        add(size, exact);
        start = exact.lastKey;
        continue;
      }
      size.units += units;
      if (count > 0) {
        const upper = units * BYTES_PER_EVENTUAL_UNIT;
        if (upper <= this.exactBelowBytes) {
          const exact = await readItems(client, table, pk, start, count);
          size.bytes += exact.bytes;
          size.units += exact.units;
        } else size.bytes += upper - CHARGE_ROUNDING_BYTES / 2;
        size.items += count;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { ...size, method };
  }
}

function add(size: ShardSize, page: ShardSize): void {
  size.bytes += page.bytes;
  size.items += page.items;
  size.units += page.units;
}

/** A page of items from `start` (up to `limit`), with their summed sizes and the charge of reading them. */
async function readItems(
  client: DynamoDBClient,
  table: string,
  pk: string,
  start: AttributeMap | undefined,
  limit: number | undefined,
): Promise<ShardSize & { lastKey?: AttributeMap }> {
  const page = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: pk } },
      ExclusiveStartKey: start,
      Limit: limit,
      ReturnConsumedCapacity: 'TOTAL',
    }),
  );
  let bytes = 0;
  for (const item of page.Items ?? []) bytes += attributeMapSize(item);
  const units =
    page.ConsumedCapacity?.CapacityUnits ??
    Math.ceil(bytes / CHARGE_ROUNDING_BYTES) * EVENTUAL_UNITS_PER_ROUNDING;
  return {
    bytes,
    items: page.Items?.length ?? 0,
    units,
    ...(page.LastEvaluatedKey ? { lastKey: page.LastEvaluatedKey } : {}),
  };
}
