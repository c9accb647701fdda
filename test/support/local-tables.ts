import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoCellDataStore } from '../../src/adapters/dynamodb/cell-data-store.ts';
import { createDynamoClient } from '../../src/adapters/dynamodb/dynamodb-client.ts';
import { cellDataTableDefinition, ensureTable } from '../../src/adapters/dynamodb/table-definitions.ts';
import { type LocalDynamo, startDynalite } from '../../src/local/dynalite-server.ts';

/** One in-process dynalite and a client for it, shared by a test file. */
export async function localDynamo(): Promise<{ dynamo: LocalDynamo; client: DynamoDBClient }> {
  const dynamo = await startDynalite();
  return { dynamo, client: createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint }) };
}

export async function newDataTable(client: DynamoDBClient, cellId = `cell-${randomUUID().slice(0, 8)}`) {
  const table = `data-${cellId}`;
  await ensureTable(client, cellDataTableDefinition(table));
  return new DynamoCellDataStore(cellId, client, table);
}
