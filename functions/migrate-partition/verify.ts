/**
 * Permissions: dynamodb:GetItem, dynamodb:PutItem (conditional, compare-and-set on version) on
 * PRESTAGE_PARTITIONS_TABLE (stage, writer leases); dynamodb:Scan on PRESTAGE_CELLS_TABLE (the cell directory,
 * refreshed before each step); dynamodb:GetItem (consistent) on the replica of the partitions table in each region of
 * PRESTAGE_REPLICA_REGIONS, with that region's cell key through DynamoDB (confirms the routing change is visible
 * everywhere before a lease wait counts from it); dynamodb:Query, dynamodb:GetItem, dynamodb:BatchGetItem, dynamodb:PutItem,
 * dynamodb:DeleteItem, dynamodb:BatchWriteItem on the cell tables `<cellTablePrefix><cellId>` of every data
 * region and their `changes` index (the cell data store's reads and conditional, forward-only writes).
 */
import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'Verify'. */
export const handler = stepHandler('Verify');
