import { stepHandler } from './step-handler.ts';

/** MigratePartition Task state 'CreateReplica'. */
export const handler = stepHandler('CreateReplica');
