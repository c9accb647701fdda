/**
 * Permissions: dynamodb:Scan on PRESTAGE_CELLS_TABLE (the cell directory, refreshed before each step);
 * cloudwatch:DescribeAlarms on PRESTAGE_CANARY_ALARM_PREFIX alarms (`<prefix><targetCell>`, in the target
 * cell's region); no partition or cell table access.
 */
import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CanaryHealth'. */
export const handler = stepHandler('CanaryHealth');
