/**
 * Permissions: dynamodb:PutItem, dynamodb:GetItem on PRESTAGE_CELLS_TABLE.
 */
import { scaleClusterStep } from './step-handler.ts';

/** ScaleCluster Task state 'RegisterCells'. */
export const handler = scaleClusterStep('RegisterCells');
