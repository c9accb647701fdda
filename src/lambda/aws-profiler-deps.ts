import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClientSource } from '../adapters/client-source.ts';
import { CloudWatchMetricsReader } from '../adapters/cloudwatch/metric-data-reader.ts';
import { DynamoAccessStatsRepository } from '../adapters/dynamodb/access-stats-repository.ts';
import { DynamoCellRepository } from '../adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoEventRepository } from '../adapters/dynamodb/event-repository.ts';
import { DynamoPartitionRepository } from '../adapters/dynamodb/partition-repository.ts';
import { DynamoPartitionSizeProbe } from '../adapters/dynamodb/partition-size-probe.ts';
import { DynamoProfilerCycleRepository } from '../adapters/dynamodb/profiler-cycle-repository.ts';
import { DynamoScoreRepository } from '../adapters/dynamodb/score-repository.ts';
import { LambdaAsyncInvoker } from '../adapters/lambda/async-invoker.ts';
import { StepFunctionsScalingStarter } from '../adapters/stepfunctions/scaling-starter.ts';
import { MultiRegionAccessStats } from '../data-plane/multi-region-access-stats.ts';
import type { ProfilerDeps } from '../profiler/profiler-deps.ts';
import type { ProfilerOptions } from '../profiler/profiler-options.ts';
import { CONTROL_PLANE_ENV, type ControlPlaneConfig } from './control-plane-env.ts';
import type { DataPlaneConfig } from './data-plane-config.ts';
import { powertoolsLog, powertoolsMetricsSink } from './instrumented-handler.ts';
import { profilerForecastModel } from './profiler-forecast-model.ts';

export interface AwsProfilerClients {
  /** Document client of the home region (control-plane and data-plane metadata tables). */
  readonly documents: DynamoDBDocumentClient;
  /** @default a LambdaClient of the function's region, its SDK module loaded on first use */
  readonly lambda?: ClientSource<LambdaClient>;
  /** @default an SFNClient of the function's region, its SDK module loaded on first use */
  readonly sfn?: ClientSource<SFNClient>;
  /** CloudWatch client per region, built on first use. @default new CloudWatchClient({ region }) */
  readonly cloudwatchFor?: (region: string) => CloudWatchClient;
  /**
   * DynamoDB client per region: the size probe's reads of cell tables and the reads of each data region's
   * access-stats table. @default createDynamoClient({ region })
   */
  readonly dynamoFor?: (region: string) => DynamoDBClient;
}

/** One value per key, built on first use. */
function perKey<T>(create: (key: string) => T): (key: string) => T {
  const made = new Map<string, T>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = create(key);
      made.set(key, value);
    }
    return value;
  };
}

/** The profiler's options from the control-plane environment. */
export function profilerConfig(control: ControlPlaneConfig): ProfilerOptions {
  return {
    intervalSeconds: control.intervalSeconds,
    horizonSteps: control.horizonSteps,
    shards: control.profilerShards,
    scaleOutBufferMinutes: control.scaleOutBufferMinutes,
    scaleIn: control.predictiveScaleIn ? {} : false,
    ...(control.cellHourPriceUsd !== undefined && { cellHourPriceUsd: control.cellHourPriceUsd }),
  };
}

/**
 * The access counts of every data region, read where they were recorded: each region's interceptors write the
 * table named `data.accessStatsTable` in their own region. The profiler only reads; the writer MultiRegionAccessStats
 * needs is the home region's table where the home region has cells, else the first data region's.
 */
export function regionalAccessStats(
  control: ControlPlaneConfig,
  data: DataPlaneConfig,
  documentsIn: (region: string) => DynamoDBDocumentClient,
): MultiRegionAccessStats {
  const regions = control.dataRegions;
  if (regions.length === 0) {
    throw new Error(
      `configuration: environment variable ${CONTROL_PLANE_ENV.dataRegions}: required by the profiler, which reads the access-stats table of every data region; list them, e.g. us-east-1,eu-west-1`,
    );
  }
  const byRegion = new Map(
    regions.map((region) => [
      region,
      new DynamoAccessStatsRepository(documentsIn(region), data.accessStatsTable),
    ]),
  );
  const writer = byRegion.get(data.homeRegion) ?? byRegion.get(regions[0])!;
  return new MultiRegionAccessStats(writer, byRegion);
}

/**
 * Bind the profiler's ports to AWS: DynamoDB repositories, CloudWatch, Lambda and Step Functions adapters, the
 * configured forecast model, and the shared Powertools metrics and logger.
 */
export function awsProfilerDeps(
  control: ControlPlaneConfig,
  data: DataPlaneConfig,
  clients: AwsProfilerClients,
): ProfilerDeps {
  const cloudwatchFor = clients.cloudwatchFor ?? perKey((region) => new CloudWatchClient({ region }));
  const dynamoFor = clients.dynamoFor ?? perKey((region) => createDynamoClient({ region }));
  // Only the coordinator and a cycle's last shard call Lambda or Step Functions: their SDK modules load then.
  const lambda =
    clients.lambda ?? (async () => new (await import('@aws-sdk/client-lambda')).LambdaClient({}));
  const sfn = clients.sfn ?? (async () => new (await import('@aws-sdk/client-sfn')).SFNClient({}));
  const { documents } = clients;
  const documentsIn = perKey((region) => documentClient(dynamoFor(region)));
  const partitions = new DynamoPartitionRepository(documents, data.partitionsTable);
  const observers = { metrics: powertoolsMetricsSink, log: powertoolsLog };
  return {
    partitions,
    // Sizes: Query (Select COUNT) on the cell tables in every data region; UpdateItem of the size fields only.
    sizeProbe: new DynamoPartitionSizeProbe(dynamoFor),
    sizeStore: partitions,
    cells: new DynamoCellRepository(documents, data.cellsTable),
    // Counts live in the region the requests arrived in: every data region's table, merged.
    accessStats: regionalAccessStats(control, data, documentsIn),
    scores: new DynamoScoreRepository(documents, control.scoresTable),
    cycles: new DynamoProfilerCycleRepository(documents, control.coordinationTable),
    cellMetrics: new CloudWatchMetricsReader({ clientFor: cloudwatchFor, homeRegion: data.homeRegion }),
    invoker: new LambdaAsyncInvoker(
      lambda,
      control.profilerFunction ?? process.env.AWS_LAMBDA_FUNCTION_NAME,
      control.plannerFunction,
    ),
    ...(control.scaleClusterArn && {
      scaling: new StepFunctionsScalingStarter(sfn, control.scaleClusterArn),
    }),
    model: profilerForecastModel(control, observers),
    // Known events: Scan of the events table (home region) once per shard; none without the table.
    ...(control.eventsTable && { events: new DynamoEventRepository(documents, control.eventsTable) }),
    ...observers,
    now: Date.now,
  };
}
