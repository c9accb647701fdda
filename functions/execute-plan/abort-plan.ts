/**
 * Permissions: dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_PLANS_TABLE.
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task state 'AbortPlan'. */
export const handler = executePlanStep('AbortPlan');
