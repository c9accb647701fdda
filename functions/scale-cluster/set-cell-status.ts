/**
 * Permissions: dynamodb:UpdateItem on PRESTAGE_CELLS_TABLE.
 */
import { scaleClusterStep } from './step-handler.ts';

/** ScaleCluster Task states 'MarkCellsActive', 'MarkDraining', 'MarkRetired'. */
export const handler = scaleClusterStep('SetCellStatus');
