import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { z } from 'zod';
import { PrestageError } from '../domain/errors.ts';
import {
  METRICS_NAMESPACE,
  type MetricsSink,
  type MetricUnit as PrestageMetricUnit,
} from '../support/metrics.ts';

/** A Lambda's event did not match its schema (a wiring or console-input mistake; never worth a retry). */
export class InvalidEventError extends PrestageError {}

// One logger, metrics and tracer per execution environment, shared by every handler in a bundle.
export const logger = new Logger({ serviceName: 'prestage' });
// Most steps publish no metric on most invocations; Metrics' "no metrics to publish" warning is noise there.
const metricsLogger = {
  ...console,
  warn: (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('No application metrics to publish')) return;
    console.warn(...args);
  },
};
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: 'prestage',
  logger: metricsLogger,
});
export const tracer = new Tracer({ serviceName: 'prestage' });

const POWERTOOLS_UNITS: Record<PrestageMetricUnit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Bytes: MetricUnit.Bytes,
  None: MetricUnit.NoUnit,
  Percent: MetricUnit.Percent,
  Milliseconds: MetricUnit.Milliseconds,
};

/**
 * The MetricsSink port on the shared Powertools metrics, flushed as EMF when the handler returns. A metric with
 * its own dimensions goes out as a single metric, so they do not stick to the invocation's other metrics.
 */
export const powertoolsMetricsSink: MetricsSink = {
  add(name, unit, value, dimensions) {
    if (!dimensions) {
      metrics.addMetric(name, POWERTOOLS_UNITS[unit], value);
      return;
    }
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, POWERTOOLS_UNITS[unit], value);
  },
};

/** Structured log lines through the shared Powertools logger (with the Lambda context once injected). */
export const powertoolsLog = {
  info: (message: string, details?: Record<string, unknown>) => logger.info(message, { ...details }),
  warn: (message: string, details?: Record<string, unknown>) => logger.warn(message, { ...details }),
};

export interface IdempotencyOptions {
  /** Powertools idempotency table (`id` key, TTL `expiration`). */
  readonly table: string;
  /** JMESPath of the part of the event that identifies a redelivery, e.g. `[cycleId, shard]`. */
  readonly eventKeyJmesPath: string;
  /** @default 3600 */
  readonly expiresAfterSeconds?: number;
  /** Client of the idempotency table (tests pass a dynalite client). */
  readonly client?: DynamoDBClient;
}

export interface InstrumentedHandlerOptions<I> {
  /** Handler name for logs and errors. */
  readonly name: string;
  /** The event's schema; a mismatch throws InvalidEventError naming the field. */
  readonly schema: z.ZodType<I>;
  /** Make the handler idempotent where its trigger can redeliver (async invokes, EventBridge). */
  readonly idempotency?: IdempotencyOptions;
}

export type LambdaHandler = (event: unknown, context?: unknown) => Promise<unknown>;

/**
 * A thin Lambda handler on middy: Powertools logger (with the Lambda context), metrics flushed as EMF, X-Ray
 * tracing, zod validation of the event, and optionally idempotency. Errors keep their names, because Step
 * Functions Retry/Catch match on them.
 */
export function instrumentedHandler<I, O>(
  options: InstrumentedHandlerOptions<I>,
  run: (event: I, context: unknown) => Promise<O>,
): LambdaHandler {
  const handler = middy<unknown, unknown>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .use(captureLambdaHandler(tracer))
    .use({
      before: (request) => {
        const parsed = options.schema.safeParse(request.event);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new InvalidEventError(
            `${options.name}: event field '${issue.path.join('.') || '(event)'}': ${issue.message}`,
          );
        }
        request.event = parsed.data;
      },
    });
  if (options.idempotency) {
    const { table, eventKeyJmesPath, expiresAfterSeconds, client } = options.idempotency;
    handler.use(
      makeHandlerIdempotent({
        persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: client }),
        config: new IdempotencyConfig({ eventKeyJmesPath, expiresAfterSeconds: expiresAfterSeconds ?? 3600 }),
      }),
    );
  }
  const wrapped = handler.handler(async (event, context) => run(event as I, context));
  return (event, context) => wrapped(event, (context ?? {}) as never);
}
