import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'Copy'. */
export const handler = stepHandler('Copy');
