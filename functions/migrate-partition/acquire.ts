/**
 * Permissions: dynamodb:GetItem, dynamodb:PutItem (conditional, compare-and-set on version) on
 * PRESTAGE_PARTITIONS_TABLE (take the migration fence); dynamodb:Scan, dynamodb:GetItem on PRESTAGE_CELLS_TABLE
 * (the cell directory, and the target cell, which must be ACTIVE); no cell table access.
 */
import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'Acquire'. */
export const handler = stepHandler('Acquire');
