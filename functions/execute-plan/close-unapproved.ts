/**
 * Permissions: dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_PLANS_TABLE.
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task states 'MarkRejected' and 'MarkExpired' (step CloseUnapproved). */
export const handler = executePlanStep('CloseUnapproved');
