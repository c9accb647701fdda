/**
 * Permissions: dynamodb:GetItem, dynamodb:PutItem (conditional, compare-and-set on version) on
 * PRESTAGE_PARTITIONS_TABLE (fence writes); dynamodb:Scan on PRESTAGE_CELLS_TABLE (the cell directory,
 * refreshed before each step); dynamodb:GetItem (consistent) on the replica of the partitions table in each region of
 * PRESTAGE_REPLICA_REGIONS, with that region's cell key through DynamoDB (confirms the routing change is visible
 * everywhere before a lease wait counts from it); no cell table access.
 */
import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CutoverFence'. */
export const handler = stepHandler('CutoverFence');
