import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'RemoveSource'. */
export const handler = stepHandler('RemoveSource');
