/**
 * Permissions: dynamodb:Query, dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_PLANS_TABLE.
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task state 'FinishPlan'. */
export const handler = executePlanStep('FinishPlan');
