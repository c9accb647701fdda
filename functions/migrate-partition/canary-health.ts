import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CanaryHealth'. */
export const handler = stepHandler('CanaryHealth');
