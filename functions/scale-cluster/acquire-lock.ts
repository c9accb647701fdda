/**
 * Permissions: dynamodb:GetItem, dynamodb:PutItem on PRESTAGE_COORDINATION_TABLE (keys `scaling-lock#*`,
 * `scaling-cooldown#*`); states:DescribeExecution on the ScaleCluster state machine's executions (to free the
 * lock of an execution stopped by hand; without it the lock waits for its TTL).
 */
import { scaleClusterStep } from './step-handler.ts';

/** ScaleCluster Task state 'AcquireLock'. */
export const handler = scaleClusterStep('AcquireLock');
