import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'Acquire'. */
export const handler = stepHandler('Acquire');
