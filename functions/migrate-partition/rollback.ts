import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'Rollback'. */
export const handler = stepHandler('Rollback');
