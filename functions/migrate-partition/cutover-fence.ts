/**
 * Permissions: dynamodb:GetItem, dynamodb:PutItem (conditional, compare-and-set on version) on
 * PRESTAGE_PARTITIONS_TABLE (fence writes); dynamodb:Scan on PRESTAGE_CELLS_TABLE (the cell directory,
 * refreshed before each step); no cell table access.
 */
import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CutoverFence'. */
export const handler = stepHandler('CutoverFence');
