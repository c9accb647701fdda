/**
 * Permissions: dynamodb:PutItem, dynamodb:DeleteItem on PRESTAGE_COORDINATION_TABLE (cooldown, lock release);
 * CloudWatch metrics are written as EMF log lines (no API call).
 */
import { scaleClusterStep } from './step-handler.ts';

/** ScaleCluster Task state 'CompleteScaling'. */
export const handler = scaleClusterStep('CompleteScaling');
