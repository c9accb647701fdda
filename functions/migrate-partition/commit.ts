import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'Commit'. */
export const handler = stepHandler('Commit');
