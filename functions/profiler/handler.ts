/**
 * Permissions:
 * - dynamodb:Scan on PRESTAGE_PARTITIONS_TABLE and PRESTAGE_CELLS_TABLE (placement and topology);
 * - dynamodb:UpdateItem on PRESTAGE_PARTITIONS_TABLE (measured partition sizes, the size fields only);
 * - dynamodb:Query on the cell tables (by name prefix) in every data region (the partition size probe);
 * - dynamodb:Query on PRESTAGE_ACCESS_STATS_TABLE (access counters and co-access pairs);
 * - dynamodb:BatchWriteItem, dynamodb:BatchGetItem, dynamodb:GetItem, dynamodb:Scan on PRESTAGE_SCORES_TABLE;
 * - dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem on PRESTAGE_COORDINATION_TABLE (keys `cycle#*`);
 * - dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem on PRESTAGE_IDEMPOTENCY_TABLE;
 * - kms:Decrypt, kms:Encrypt, kms:GenerateDataKey on the tables' key;
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
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { createDynamoClient, documentClient } from '../../src/adapters/dynamodb/dynamodb-client.ts';
import { readControlPlaneConfig } from '../../src/lambda/control-plane-env.ts';
import { readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import {
  instrumentedHandler,
  type LambdaHandler,
  logger,
  metrics,
} from '../../src/lambda/instrumented-handler.ts';
import { awsProfilerDeps } from '../../src/profiler/aws-profiler-deps.ts';
import { profilerForecastModel } from '../../src/profiler/forecast-model-factory.ts';
import { Profiler } from '../../src/profiler/profiler.ts';
import type { MetricsSink, ProfilerLog } from '../../src/profiler/profiler-ports.ts';

const UNITS = { Count: MetricUnit.Count, None: MetricUnit.NoUnit, Percent: MetricUnit.Percent } as const;

const sink: MetricsSink = {
  add(name, unit, value, dimensions) {
    if (!dimensions) {
      metrics.addMetric(name, UNITS[unit], value);
      return;
    }
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, UNITS[unit], value);
  },
};
const log: ProfilerLog = {
  info: (message, details) => logger.info(message, { ...details }),
  warn: (message, details) => logger.warn(message, { ...details }),
};

// Built once per execution environment.
const control = readControlPlaneConfig();
const data = readDataPlaneConfig();
const dynamo = createDynamoClient({ region: data.homeRegion });
const model = profilerForecastModel(control, { metrics: sink, log });
const profiler = new Profiler(
  awsProfilerDeps(
    { ...control, profilerFunction: control.profilerFunction ?? process.env.AWS_LAMBDA_FUNCTION_NAME },
    data,
    {
      documents: documentClient(dynamo),
      // Loaded on first use: only the coordinator and a cycle's last shard need them.
      lambda: async () => new (await import('@aws-sdk/client-lambda')).LambdaClient({}),
      sfn: async () => new (await import('@aws-sdk/client-sfn')).SFNClient({}),
    },
    { model, metrics: sink, log },
  ),
  {
    intervalSeconds: control.intervalSeconds,
    horizonSteps: control.horizonSteps,
    shards: control.profilerShards,
    scaleOutBufferMinutes: control.scaleOutBufferMinutes,
  },
);

export const shardEventSchema = z.object({
  cycleId: z.string().min(1),
  shard: z.number().int().nonnegative(),
  shards: z.number().int().positive(),
});

/** `{}` (manual) or an EventBridge Scheduled Event; only its `time` matters. */
export const scheduleEventSchema = z.looseObject({ time: z.iso.datetime().optional() });

const coordinator = instrumentedHandler(
  { name: 'ProfilerCoordinator', schema: scheduleEventSchema },
  (event) => profiler.coordinate(event),
);

const shard = instrumentedHandler(
  {
    name: 'ProfilerShard',
    schema: shardEventSchema,
    ...(control.idempotencyTable && {
      idempotency: { table: control.idempotencyTable, eventKeyJmesPath: '[cycleId, shard]', client: dynamo },
    }),
  },
  (event) => profiler.runShard(event),
);

function isShardEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'shard' in event;
}

/**
 * One entry, two roles. The idempotency middleware sits on the shard role only: a coordinator event has no
 * [cycleId, shard], and an empty key would make every later schedule tick look like a redelivery.
 */
export const handler: LambdaHandler = (event, context) =>
  isShardEvent(event) ? shard(event, context) : coordinator(event, context);
