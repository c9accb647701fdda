import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CloudWatchMetricsReader } from '../adapters/cloudwatch/metric-data-reader.ts';
import { DynamoAccessStatsRepository } from '../adapters/dynamodb/access-stats-repository.ts';
import { DynamoCellRepository } from '../adapters/dynamodb/cell-repository.ts';
import { createDynamoClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../adapters/dynamodb/partition-repository.ts';
import { DynamoPartitionSizeProbe } from '../adapters/dynamodb/partition-size-probe.ts';
import { DynamoProfilerCycleRepository } from '../adapters/dynamodb/profiler-cycle-repository.ts';
import { DynamoScoreRepository } from '../adapters/dynamodb/score-repository.ts';
import type { ForecastModel } from '../domain/forecasting/forecast-model.ts';
import type { ControlPlaneConfig } from '../lambda/control-plane-env.ts';
import type { DataPlaneConfig } from '../lambda/data-plane-config.ts';
import type { AsyncInvoker, ProfilerDeps, ScaleOutRequest, ScaleOutStarter } from './profiler-ports.ts';

/**
 * A client, or a function that builds it on first use. Only the coordinator and a cycle's last shard call
 * Lambda or Step Functions, so their SDK modules load on demand rather than at every cold start.
 */
export type ClientSource<T> = T | (() => Promise<T>);

function onDemand<T extends object>(source: ClientSource<T>): () => Promise<T> {
  if (typeof source !== 'function') return async () => source;
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= source();
    return pending;
  };
}

/** The profiler cannot invoke a function it was not told about (a wiring mistake in the stack). */
export class MissingProfilerWiringError extends Error {
  override name = 'MissingProfilerWiringError';
}

/** Lambda asynchronous invocations (InvocationType Event): the shards (this function) and the planner. */
export class LambdaAsyncInvoker implements AsyncInvoker {
  private readonly lambda: () => Promise<LambdaClient>;
  private readonly profilerFunction: string | undefined;
  private readonly plannerFunction: string | undefined;

  constructor(
    lambda: ClientSource<LambdaClient>,
    profilerFunction: string | undefined,
    plannerFunction: string | undefined,
  ) {
    this.lambda = onDemand(lambda);
    this.profilerFunction = profilerFunction;
    this.plannerFunction = plannerFunction;
  }

  invokeShard(event: { cycleId: string; shard: number; shards: number }): Promise<void> {
    return this.invoke(this.profilerFunction, 'PRESTAGE_PROFILER_FUNCTION', event);
  }

  invokePlanner(event: { trigger: 'schedule'; cycleId: string }): Promise<void> {
    return this.invoke(this.plannerFunction, 'PRESTAGE_PLANNER_FUNCTION', event);
  }

  private async invoke(functionName: string | undefined, variable: string, event: object): Promise<void> {
    if (!functionName) throw new MissingProfilerWiringError(`${variable} is not set`);
    const { InvokeCommand } = await import('@aws-sdk/client-lambda');
    await (await this.lambda()).send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(event)),
      }),
    );
  }
}

/**
 * Starts ScaleCluster. A Standard state machine answers a repeated StartExecution with the same name and input
 * with the running execution, and refuses a different input with ExecutionAlreadyExists: both mean "already
 * started", so a redelivered cycle never starts a second scale-out.
 */
export class StepFunctionsScaleOutStarter implements ScaleOutStarter {
  private readonly sfn: () => Promise<SFNClient>;
  private readonly stateMachineArn: string;

  constructor(sfn: ClientSource<SFNClient>, stateMachineArn: string) {
    this.sfn = onDemand(sfn);
    this.stateMachineArn = stateMachineArn;
  }

  async start(name: string, input: ScaleOutRequest): Promise<{ started: boolean }> {
    const { StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    try {
      await (await this.sfn()).send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return { started: true };
    } catch (error) {
      if ((error as Error).name === 'ExecutionAlreadyExists') return { started: false };
      throw error;
    }
  }
}

export interface AwsProfilerClients {
  /** Document client of the home region (control-plane and data-plane metadata tables). */
  readonly documents: DynamoDBDocumentClient;
  readonly lambda: ClientSource<LambdaClient>;
  readonly sfn: ClientSource<SFNClient>;
  /** CloudWatch client per region, built on first use. @default new CloudWatchClient({ region }) */
  readonly cloudwatchFor?: (region: string) => CloudWatchClient;
  /** DynamoDB client per region, for the size probe's reads of cell tables. @default createDynamoClient({ region }) */
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

/** Bind the profiler's ports to AWS (everything but the forecast model, the metrics and the log). */
export function awsProfilerDeps(
  control: ControlPlaneConfig,
  data: DataPlaneConfig,
  clients: AwsProfilerClients,
  rest: Pick<ProfilerDeps, 'model' | 'metrics' | 'log'> & { model: ForecastModel },
): ProfilerDeps {
  const cloudwatchFor = clients.cloudwatchFor ?? perKey((region) => new CloudWatchClient({ region }));
  const dynamoFor = clients.dynamoFor ?? perKey((region) => createDynamoClient({ region }));
  const { documents } = clients;
  const partitions = new DynamoPartitionRepository(documents, data.partitionsTable);
  return {
    partitions,
    // Sizes: Query (Select COUNT) on the cell tables in every data region; UpdateItem of the size fields only.
    sizeProbe: new DynamoPartitionSizeProbe(dynamoFor),
    sizeStore: partitions,
    cells: new DynamoCellRepository(documents, data.cellsTable),
    accessStats: new DynamoAccessStatsRepository(documents, data.accessStatsTable),
    scores: new DynamoScoreRepository(documents, control.scoresTable),
    cycles: new DynamoProfilerCycleRepository(documents, control.coordinationTable),
    cellMetrics: new CloudWatchMetricsReader({ clientFor: cloudwatchFor, homeRegion: data.homeRegion }),
    invoker: new LambdaAsyncInvoker(
      clients.lambda,
      control.profilerFunction ?? process.env.AWS_LAMBDA_FUNCTION_NAME,
      control.plannerFunction,
    ),
    ...(control.scaleClusterArn && {
      scaleOut: new StepFunctionsScaleOutStarter(clients.sfn, control.scaleClusterArn),
    }),
    model: rest.model,
    metrics: rest.metrics,
    log: rest.log,
    now: Date.now,
  };
}
