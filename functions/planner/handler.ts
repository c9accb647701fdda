/**
 * Permissions: dynamodb:Scan on PRESTAGE_SCORES_TABLE, PRESTAGE_PARTITIONS_TABLE and PRESTAGE_CELLS_TABLE;
 * dynamodb:GetItem, dynamodb:PutItem, dynamodb:BatchWriteItem, dynamodb:Query, dynamodb:Scan on
 * PRESTAGE_PLANS_TABLE; dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem on
 * PRESTAGE_IDEMPOTENCY_TABLE; states:StartExecution on PRESTAGE_EXECUTE_PLAN_ARN; CloudWatch metrics as EMF
 * log lines (no API call).
 */

import { awsPlannerDeps, plannerConfig } from '../../src/lambda/aws-planner-deps.ts';
import { readControlPlaneConfig } from '../../src/lambda/control-plane-env.ts';
import { readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import { createPlannerHandler } from '../../src/planner-service/planner-handler.ts';

// Configuration and clients once per execution environment.
const control = readControlPlaneConfig();
const data = readDataPlaneConfig();

/**
 * The planner: `{trigger:'schedule', cycleId?}` writes the cycle's plan and starts ExecutePlan;
 * `{trigger:'scaling', action, region?, cellIds, requestId?, round?}` writes a scaling-aware plan and returns
 * `{planId, moveCount}` to ScaleCluster.
 */
export const handler = createPlannerHandler(awsPlannerDeps(control, data), plannerConfig(control, data), {
  ...(control.idempotencyTable ? { idempotency: { table: control.idempotencyTable } } : {}),
});
