/**
 * Permissions:
 * - dynamodb:Scan on PRESTAGE_PARTITIONS_TABLE and PRESTAGE_CELLS_TABLE (placement and topology);
 * - dynamodb:UpdateItem on PRESTAGE_PARTITIONS_TABLE (measured partition sizes, the size fields only);
 * - dynamodb:Query on the cell tables (by name prefix) in every data region (the partition size probe);
 * - dynamodb:Query and dynamodb:BatchGetItem on PRESTAGE_ACCESS_STATS_TABLE in every region of PRESTAGE_DATA_REGIONS (each region's access
 *   counters, reads and writes apart, and co-access pairs, recorded in the region the requests arrived in);
 * - dynamodb:BatchWriteItem, dynamodb:BatchGetItem, dynamodb:GetItem, dynamodb:Scan on PRESTAGE_SCORES_TABLE;
 * - dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem on PRESTAGE_COORDINATION_TABLE (keys `cycle#*`);
 * - dynamodb:Scan on PRESTAGE_EVENTS_TABLE (the known events, once per shard; written only by operators);
 * - dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem on PRESTAGE_IDEMPOTENCY_TABLE;
 * - kms:Decrypt, kms:DescribeKey (and kms:Encrypt, kms:GenerateDataKey for writes) on the tables' keys: the
 *   control-plane key, by its alias for the routing tables and the events table, and each data region's cell key
 *   by its alias, through DynamoDB only (cell tables, access-stats tables);
 * - cloudwatch:GetMetricData on `*` (the action has no resource type), in the home region and every data region;
 * - lambda:InvokeFunction on PRESTAGE_PROFILER_FUNCTION (this function: one async invocation per shard) and on
 *   PRESTAGE_PLANNER_FUNCTION;
 * - states:StartExecution on PRESTAGE_SCALE_CLUSTER_ARN (predictive scale-out);
 * - sagemaker:InvokeEndpoint on PRESTAGE_SAGEMAKER_ENDPOINT, when PRESTAGE_FORECAST_MODEL is `sagemaker`;
 * - CloudWatch metrics are written as EMF log lines (no API call).
 *
 * Events: `{}` or an EventBridge Scheduled Event → coordinator (opens the cycle, invokes every shard);
 * `{"cycleId","shard","shards"}` → one shard (idempotent on [cycleId, shard]).
 */
import { createDynamoClient, documentClient } from '../../src/adapters/dynamodb/dynamodb-client.ts';
import { awsProfilerDeps, profilerConfig } from '../../src/lambda/aws-profiler-deps.ts';
import { readControlPlaneConfig } from '../../src/lambda/control-plane-env.ts';
import { readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import { createProfilerHandler } from '../../src/profiler/profiler-handler.ts';

// Configuration and clients once per execution environment.
const control = readControlPlaneConfig();
const data = readDataPlaneConfig();
const dynamo = createDynamoClient({ region: data.homeRegion });

/** The profiler: the coordinator on the schedule, one shard per asynchronous invocation (see above). */
export const handler = createProfilerHandler(
  awsProfilerDeps(control, data, { documents: documentClient(dynamo) }),
  profilerConfig(control),
  control.idempotencyTable ? { idempotency: { table: control.idempotencyTable, client: dynamo } } : {},
);
