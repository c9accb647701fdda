/**
 * Permissions: dynamodb:Scan, dynamodb:GetItem, dynamodb:PutItem (conditional, compare-and-set on version) on
 * PRESTAGE_PARTITIONS_TABLE (list the partitions; forget retained replicas on the drained cell).
 */
import { scaleClusterStep } from './step-handler.ts';

/** ScaleCluster Task state 'VerifyDrained'. */
export const handler = scaleClusterStep('VerifyDrained');
