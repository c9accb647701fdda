import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CatchUp'. */
export const handler = stepHandler('CatchUp');
