/**
 * Permissions: dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_PLANS_TABLE; dynamodb:GetItem,
 * dynamodb:PutItem on PRESTAGE_COORDINATION_TABLE (keys `limits#migration`, `slots#migration`); CloudWatch metrics
 * are written as EMF log lines (no API call).
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task state 'ReserveSlot'. */
export const handler = executePlanStep('ReserveSlot');
