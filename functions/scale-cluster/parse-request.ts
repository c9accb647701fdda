/**
 * Permissions: dynamodb:Scan on PRESTAGE_CELLS_TABLE (list the cells to resolve an alarm or a scale-in).
 */
import { scaleClusterStep } from './step-handler.ts';

/** ScaleCluster Task state 'ParseRequest'. */
export const handler = scaleClusterStep('ParseRequest');
