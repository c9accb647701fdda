import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CutoverSwitch'. */
export const handler = stepHandler('CutoverSwitch');
