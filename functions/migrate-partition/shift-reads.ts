import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'ShiftReads'. */
export const handler = stepHandler('ShiftReads');
