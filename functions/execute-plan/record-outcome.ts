/**
 * Permissions: dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_PLANS_TABLE; dynamodb:GetItem,
 * dynamodb:UpdateItem on PRESTAGE_COORDINATION_TABLE (key `slots#migration`); CloudWatch metrics as EMF log lines.
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task state 'RecordOutcome'. */
export const handler = executePlanStep('RecordOutcome');
