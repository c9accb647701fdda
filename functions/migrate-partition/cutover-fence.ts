import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CutoverFence'. */
export const handler = stepHandler('CutoverFence');
