/**
 * Permissions: dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_CELLS_TABLE; dynamodb:DeleteItem on
 * PRESTAGE_COORDINATION_TABLE (lock release).
 */
import { scaleClusterStep } from './step-handler.ts';

/** ScaleCluster Task state 'AbortScaling'. */
export const handler = scaleClusterStep('AbortScaling');
