/**
 * Permissions: dynamodb:Query on PRESTAGE_PLANS_TABLE.
 */
import { executePlanStep } from './step-handler.ts';

/** ExecutePlan Task state 'PageMoves'. */
export const handler = executePlanStep('PageMoves');
