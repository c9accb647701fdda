/**
 * Permissions: dynamodb:GetItem, dynamodb:PutItem (conditional, compare-and-set on version) on
 * PRESTAGE_PARTITIONS_TABLE (stage, writer lease, replica dropped); dynamodb:Scan on PRESTAGE_CELLS_TABLE (the
 * cell directory, refreshed before each step); dynamodb:Query, dynamodb:GetItem, dynamodb:BatchGetItem,
 * dynamodb:PutItem, dynamodb:DeleteItem, dynamodb:BatchWriteItem on the cell tables `<cellTablePrefix><cellId>`
 * of every data region and their `changes` index (the cell data store's reads and conditional, forward-only
 * writes).
 */
import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'RemoveSource'. */
export const handler = stepHandler('RemoveSource');
