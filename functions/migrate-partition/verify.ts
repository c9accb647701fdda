import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'Verify'. */
export const handler = stepHandler('Verify');
