import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * Key schemas of every prestage table. The CDK stacks and the local server both build tables from these names,
 * so the adapters and the infrastructure cannot drift apart.
 *
 * - partitions: `pk` = partition id; the record's fields as attributes (`version` for compare-and-set).
 * - cells: `pk` = cell id.
 * - access stats: `pk` = partition id, `sk` = `a#<bucket>#<region>` (counts) or `c#<bucket>#<other>`
 *   (co-access); `expiresAt` is the TTL.
 * - one data table per cell: `pk` = `<partition>#<shard>`, `sk` = item key; GSI `changes` on (`pk`, `hlc`),
 *   keys only, for incremental catch-up; `expiresAt` is the TTL of tombstones.
 */
export const DATA_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', changeClock: 'hlc' } as const;
export const CHANGES_INDEX = 'changes';
export const TTL_ATTRIBUTE = 'expiresAt';

const onDemand = { BillingMode: 'PAY_PER_REQUEST' as const };

export function partitionsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    ...onDemand,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
  };
}

export const cellsTableDefinition = partitionsTableDefinition;
/** Scores: `pk` = partition id. Coordination: `pk` = `<kind>#<name>` (locks, cooldowns, cycles, limits). */
export const scoresTableDefinition = partitionsTableDefinition;
export const coordinationTableDefinition = partitionsTableDefinition;

/** Plans: `pk` = `plan#<planId>`, `sk` = `header` or `move#<priority>#<partition>`. */
export const plansTableDefinition = accessStatsTableDefinition;

/** Powertools idempotency records: `id` key, TTL `expiration` (the library's defaults). */
export function idempotencyTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    ...onDemand,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
  };
}

export function accessStatsTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    ...onDemand,
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
  };
}

export function cellDataTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    ...onDemand,
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'hlc', AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: CHANGES_INDEX,
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'hlc', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

/**
 * Create a table unless it exists, wait until it is ACTIVE, and turn on TTL when the table has a TTL attribute.
 * dynalite has no UpdateTimeToLive: that difference stays here (TTL is an optimisation, never needed for
 * correctness: tombstones are data).
 */
export async function ensureTable(
  client: DynamoDBClient,
  definition: CreateTableCommandInput,
  options: { ttlAttribute?: string; pollMs?: number } = {},
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(definition));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (;;) {
    const described = await client.send(new DescribeTableCommand({ TableName: definition.TableName }));
    const indexesActive = (described.Table?.GlobalSecondaryIndexes ?? []).every(
      (i) => i.IndexStatus === 'ACTIVE',
    );
    if (described.Table?.TableStatus === 'ACTIVE' && indexesActive) break;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 50));
  }
  if (options.ttlAttribute) {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: definition.TableName,
          TimeToLiveSpecification: { AttributeName: options.ttlAttribute, Enabled: true },
        }),
      );
    } catch (error) {
      const name = (error as Error).name;
      // dynalite: UnknownOperationException; AWS: already enabled.
      if (name !== 'UnknownOperationException' && !/already enabled/i.test((error as Error).message))
        throw error;
    }
  }
}
