/**
 * Permissions: dynamodb:GetItem on PRESTAGE_PLANS_TABLE (the plan header).
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task state 'ValidateInput'. */
export const handler = executePlanStep('ValidateInput');
