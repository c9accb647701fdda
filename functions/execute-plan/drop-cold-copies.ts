/**
 * Permissions: dynamodb:GetItem on PRESTAGE_PLANS_TABLE (the header's drops); dynamodb:GetItem, dynamodb:PutItem
 * (conditional, compare-and-set on version) on PRESTAGE_PARTITIONS_TABLE (the drop's fence, the replica entry);
 * dynamodb:Scan on PRESTAGE_CELLS_TABLE (the cell directory, refreshed before each invocation); dynamodb:Query,
 * dynamodb:BatchWriteItem on the cell tables `<cellTablePrefix><cellId>` of every data region (the copy's items,
 * found by shard and deleted in batches).
 */
import { createExecutePlanHandler } from '../../src/execute-plan/execute-plan-handlers.ts';
import { awsExecutePlanDeps } from '../../src/lambda/aws-execute-plan-deps.ts';
import { readControlPlaneConfig } from '../../src/lambda/control-plane-env.ts';
import { awsDataPlane, readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';

// The only ExecutePlan step that touches the data plane: its clients are built here, once per environment.
const plane = awsDataPlane(readDataPlaneConfig());
const deps = {
  ...awsExecutePlanDeps(readControlPlaneConfig(), process.env.AWS_REGION ?? 'us-east-1'),
  coldCopies: { partitions: plane.homePartitions, stores: plane.stores, nowMs: Date.now },
};
const inner = createExecutePlanHandler('DropColdCopies', deps);

/** ExecutePlan Task state 'DropColdCopies'. */
export const handler = async (event: unknown, context: unknown) => {
  await plane.directory.refreshIfStale();
  return inner(event, context);
};
