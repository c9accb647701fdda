import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { documentClient } from '../../src/adapters/dynamodb/dynamodb-client.ts';
import { DEFAULT_EVENTS_TABLE, eventsTableDefinition } from '../../src/adapters/dynamodb/event-repository.ts';
import { DynamoPlanRepository } from '../../src/adapters/dynamodb/plan-repository.ts';
import { DynamoScoreRepository } from '../../src/adapters/dynamodb/score-repository.ts';
import {
  coordinationTableDefinition,
  ensureTable,
  idempotencyTableDefinition,
  plansTableDefinition,
  scoresTableDefinition,
} from '../../src/adapters/dynamodb/table-definitions.ts';
import { CONTROL_PLANE_ENV } from '../../src/lambda/control-plane-env.ts';
import { DATA_PLANE_ENV } from '../../src/lambda/data-plane-config.ts';
import type { LambdaHandler } from '../../src/lambda/instrumented-handler.ts';
import { type EmbeddedCluster, LOCAL_TABLES } from '../../src/local/embedded-cluster.ts';
import {
  type ExecutePlanLocalResult,
  localExecutePlanDeps,
  RecordingMetrics,
  runExecutePlanLocally,
} from '../../src/local/execute-plan-runner.ts';
import { type RunningModelServer, startModelServer } from '../../src/local/model-server.ts';
import { migrationRunner } from './migration-harness.ts';
import { startTestCluster } from './test-cluster.ts';

/**
 * The whole control loop on a laptop: the real Lambda entries (functions/profiler/handler.ts and
 * functions/planner/handler.ts, loaded as Lambda loads them, configured by their environment) against dynalite,
 * the profiler's SageMaker adapter calling the local model server over HTTP with the real SDK client, and
 * ExecutePlan run from its synthesized definition with real MigratePartition children.
 *
 * What has no local service is bound here, at the SDK client, so everything above the client is the deployed code:
 * - Lambda `Invoke` (InvocationType Event: the coordinator's shard invocations and the last shard's planner
 *   invocation) runs the real handler in the background, with Lambda's two retries and a dead-letter list;
 * - Step Functions `StartExecution` of ExecutePlan (the planner's SfnPlanExecutionStarter) runs
 *   runExecutePlanLocally in the background, refusing a second execution of one name as Step Functions does;
 * - CloudWatch `GetMetricData` answers no data (no CloudWatch locally: the profiler scores without cell pressure).
 */

export const HOME = 'us-east-1';
export const EU = 'eu-west-1';
export const INTERVAL_SECONDS = 3600;
export const HORIZON_STEPS = 8;
export const PROFILER_SHARDS = 2;
export const ENDPOINT_NAME = 'prestage-deepar';
export const PROFILER_FUNCTION = 'prestage-profiler';
export const PLANNER_FUNCTION = 'prestage-planner';
export const EXECUTE_PLAN_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ExecutePlan';

const CONTROL = {
  scores: 'prestage-scores',
  plans: 'prestage-plans',
  coordination: 'prestage-coordination',
  idempotency: 'prestage-idempotency',
} as const;

/** Lambda's default for asynchronous invocations: two retries, then the dead-letter queue. */
const ASYNC_RETRIES = 2;

export interface ControlLoopOptions {
  /** `down`: the endpoint URL the profiler is configured with answers nothing (the server was stopped). */
  readonly modelServer: 'up' | 'down';
  /**
   * Deploy the known-events table (empty; `prestage events add --endpoint` fills it), name it to the profiler, and
   * make the DeepAR "model" one trained with the event feature: the profiler sends `dynamic_feat`
   * (PRESTAGE_FORECAST_EVENT_FEATURE) and the model server requires it. @default false
   */
  readonly knownEvents?: boolean;
}

/** The events table's name when `knownEvents` is on (the deployment's fixed name). */
export const EVENTS_TABLE = DEFAULT_EVENTS_TABLE;

export interface AsyncInvocation {
  readonly functionName: string;
  readonly event: unknown;
  attempts: number;
  result?: unknown;
  error?: { readonly name: string; readonly message: string };
}

export interface LocalExecution {
  readonly name: string;
  readonly input: unknown;
  result?: ExecutePlanLocalResult;
}

export interface ControlLoop {
  readonly cluster: EmbeddedCluster;
  readonly modelServer: RunningModelServer;
  readonly plans: DynamoPlanRepository;
  readonly scores: DynamoScoreRepository;
  /** ExecutePlan's metrics (MigrationsSucceeded, BytesMoved...). */
  readonly executePlanMetrics: RecordingMetrics;
  /** Every asynchronous Lambda invocation, in the order they were made. */
  readonly invocations: readonly AsyncInvocation[];
  /** Invocations that failed after Lambda's retries. */
  readonly deadLetters: readonly AsyncInvocation[];
  readonly executions: readonly LocalExecution[];
  /** Values the handlers published for a metric (Powertools `addMetric`). */
  metricValues(name: string): number[];
  /** Warnings the handlers logged (Powertools logger), with their details. */
  warnings(): { message: string; details: unknown }[];
  /** The EventBridge schedule fires at `timeMs`: run the coordinator and wait until all it set off has ended. */
  tick(timeMs: number): Promise<unknown>;
  close(): Promise<void>;
}

/** What Lambda passes as the context (Powertools idempotency reads the remaining time). */
function lambdaContext(functionName: string, requestId: string) {
  return {
    awsRequestId: requestId,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${HOME}:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => 300_000,
  };
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export async function startControlLoop(options: ControlLoopOptions): Promise<ControlLoop> {
  const cluster = await startTestCluster([HOME, EU], 2);
  const home = cluster.clientFor(HOME);
  await ensureTable(home, scoresTableDefinition(CONTROL.scores));
  await ensureTable(home, plansTableDefinition(CONTROL.plans));
  await ensureTable(home, coordinationTableDefinition(CONTROL.coordination));
  await ensureTable(home, idempotencyTableDefinition(CONTROL.idempotency));
  if (options.knownEvents)
    await ensureTable(home, eventsTableDefinition(EVENTS_TABLE), { ttlAttribute: 'expiresAt' });
  const documents = documentClient(home);

  // One DeepAR "model" trained for the deployment's interval and horizon, as the endpoint must be.
  const modelServer = await startModelServer({
    port: 0,
    predictionLength: HORIZON_STEPS,
    intervalMs: INTERVAL_SECONDS * 1000,
    endpointNames: [ENDPOINT_NAME],
    ...(options.knownEvents && { dynamicFeat: 'required' as const }),
  });
  if (options.modelServer === 'down') await modelServer.close();

  const savedEnv = { ...process.env };
  Object.assign(process.env, {
    [DATA_PLANE_ENV.partitionsTable]: LOCAL_TABLES.partitions,
    [DATA_PLANE_ENV.cellsTable]: LOCAL_TABLES.cells,
    [DATA_PLANE_ENV.accessStatsTable]: LOCAL_TABLES.accessStats,
    [DATA_PLANE_ENV.homeRegion]: HOME,
    [CONTROL_PLANE_ENV.scoresTable]: CONTROL.scores,
    [CONTROL_PLANE_ENV.plansTable]: CONTROL.plans,
    [CONTROL_PLANE_ENV.coordinationTable]: CONTROL.coordination,
    [CONTROL_PLANE_ENV.idempotencyTable]: CONTROL.idempotency,
    [CONTROL_PLANE_ENV.executePlanArn]: EXECUTE_PLAN_ARN,
    [CONTROL_PLANE_ENV.profilerFunction]: PROFILER_FUNCTION,
    [CONTROL_PLANE_ENV.plannerFunction]: PLANNER_FUNCTION,
    [CONTROL_PLANE_ENV.approvalMode]: 'auto',
    [CONTROL_PLANE_ENV.forecastModel]: 'sagemaker',
    [CONTROL_PLANE_ENV.sagemakerEndpoint]: ENDPOINT_NAME,
    [CONTROL_PLANE_ENV.forecastContract]: 'deepar',
    [CONTROL_PLANE_ENV.intervalSeconds]: String(INTERVAL_SECONDS),
    [CONTROL_PLANE_ENV.horizonSteps]: String(HORIZON_STEPS),
    [CONTROL_PLANE_ENV.profilerShards]: String(PROFILER_SHARDS),
    [CONTROL_PLANE_ENV.maxConcurrentMovesPerCell]: '2',
    [CONTROL_PLANE_ENV.dataRegions]: `${HOME},${EU}`,
    ...(options.knownEvents && {
      [CONTROL_PLANE_ENV.eventsTable]: EVENTS_TABLE,
      [CONTROL_PLANE_ENV.forecastEventFeature]: 'true',
    }),
    AWS_REGION: HOME,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // The SDK's service-specific endpoint variables: the handlers build their clients with no endpoint, as in AWS.
    AWS_ENDPOINT_URL_DYNAMODB: cluster.endpointFor(HOME),
    AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME: modelServer.url,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });

  // A fresh module graph, so the entries read this environment at module scope like a cold start.
  vi.resetModules();
  const instrumented = await import('../../src/lambda/instrumented-handler.ts');
  const addMetric = vi.spyOn(instrumented.metrics, 'addMetric');
  const warn = vi.spyOn(instrumented.logger, 'warn');
  const profiler = (await import('../../functions/profiler/handler.ts')).handler;
  const planner = (await import('../../functions/planner/handler.ts')).handler;
  const handlers: Record<string, LambdaHandler> = {
    [PROFILER_FUNCTION]: profiler,
    [PLANNER_FUNCTION]: planner,
  };

  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
  };
  const invocations: AsyncInvocation[] = [];
  const deadLetters: AsyncInvocation[] = [];
  let requestCounter = 0;

  const deliver = async (invocation: AsyncInvocation, handler: LambdaHandler) => {
    // Lambda queues the event and answers 202 first; the function runs later.
    await new Promise((resolve) => setImmediate(resolve));
    while (invocation.attempts <= ASYNC_RETRIES) {
      invocation.attempts++;
      try {
        const context = lambdaContext(invocation.functionName, `req-${++requestCounter}`);
        invocation.result = await handler(invocation.event, context);
        delete invocation.error;
        return;
      } catch (error) {
        invocation.error = { name: (error as Error).name, message: (error as Error).message };
      }
    }
    deadLetters.push(invocation);
  };

  const lambda = mockClient(LambdaClient);
  lambda.on(InvokeCommand).callsFake((input: InvokeCommand['input']) => {
    const functionName = String(input.FunctionName);
    const handler = handlers[functionName];
    if (!handler) throw namedError('ResourceNotFoundException', `Function not found: ${functionName}`);
    if (input.InvocationType !== 'Event')
      throw new Error(`only asynchronous invocations are bound locally, got ${input.InvocationType}`);
    const event = JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array));
    const invocation: AsyncInvocation = { functionName, event, attempts: 0 };
    invocations.push(invocation);
    track(deliver(invocation, handler));
    return { StatusCode: 202 };
  });

  const executePlanMetrics = new RecordingMetrics();
  const executePlanDeps = localExecutePlanDeps({
    documents,
    plansTable: CONTROL.plans,
    coordinationTable: CONTROL.coordination,
    migrations: migrationRunner(cluster).runner,
    maxConcurrentMovesPerCell: 2,
    settings: { canarySteps: [0.5, 1] },
    metrics: executePlanMetrics,
  });
  const executions: LocalExecution[] = [];
  const sfn = mockClient(SFNClient);
  sfn.on(StartExecutionCommand).callsFake((input: StartExecutionCommand['input']) => {
    if (input.stateMachineArn !== EXECUTE_PLAN_ARN)
      throw namedError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${input.stateMachineArn}'`,
      );
    const name = String(input.name);
    if (executions.some((e) => e.name === name))
      throw namedError('ExecutionAlreadyExists', `Execution Already Exists: '${name}'`);
    const parsed = JSON.parse(String(input.input)) as { planId: string };
    const execution: LocalExecution = { name, input: parsed };
    executions.push(execution);
    track(
      runExecutePlanLocally({
        deps: executePlanDeps,
        planId: parsed.planId,
        input: parsed,
        executionName: name,
        waitOverrideMs: 20,
        retryIntervalMs: 5,
      }).then((result) => {
        execution.result = result;
      }),
    );
    return {
      executionArn: `${EXECUTE_PLAN_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
      startDate: new Date(),
    };
  });

  const cloudwatch = mockClient(CloudWatchClient);
  cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

  const settle = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };

  return {
    cluster,
    modelServer,
    plans: new DynamoPlanRepository(documents, CONTROL.plans),
    scores: new DynamoScoreRepository(documents, CONTROL.scores),
    executePlanMetrics,
    invocations,
    deadLetters,
    executions,
    metricValues: (name) => addMetric.mock.calls.filter((c) => c[0] === name).map((c) => Number(c[2])),
    warnings: () => warn.mock.calls.map((c) => ({ message: String(c[0]), details: c[1] })),
    async tick(timeMs) {
      const scheduled = {
        version: '0',
        id: `schedule-${timeMs}`,
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '123456789012',
        time: new Date(timeMs).toISOString(),
        region: HOME,
        resources: [`arn:aws:events:${HOME}:123456789012:rule/prestage-profiler-schedule`],
        detail: {},
      };
      const result = await profiler(scheduled, lambdaContext(PROFILER_FUNCTION, `req-${++requestCounter}`));
      await settle();
      return result;
    },
    async close() {
      await settle();
      lambda.restore();
      sfn.restore();
      cloudwatch.restore();
      addMetric.mockRestore();
      warn.mockRestore();
      process.env = savedEnv;
      if (options.modelServer === 'up') await modelServer.close();
      await cluster.close();
    },
  };
}
