/**
 * Permissions: dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_PLANS_TABLE (store the task token);
 * sns:Publish on PRESTAGE_APPROVAL_TOPIC_ARN.
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task state 'RequestApproval'. */
export const handler = executePlanStep('RequestApproval');
