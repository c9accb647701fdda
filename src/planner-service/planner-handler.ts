import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type IdempotencyOptions,
  instrumentedHandler,
  type LambdaHandler,
  logger,
  metrics,
} from '../lambda/instrumented-handler.ts';
import { METRIC } from '../support/metrics.ts';
import { type PlannerEvent, plannerEventSchema } from './planner-event.ts';
import { PlannerService, type PlannerServiceConfig, type PlannerServiceDeps } from './planner-service.ts';

export interface PlannerHandlerOptions {
  /**
   * Powertools idempotency on `cycleId` (the profiler invokes the planner asynchronously, and Lambda may deliver
   * an async event twice). Events without a cycleId (scaling, manual) are idempotent through their plan id.
   */
  readonly idempotency?: Omit<IdempotencyOptions, 'eventKeyJmesPath'>;
}

/**
 * The planner Lambda handler: zod-validated event, then PlannerService. Publishes PlanMoves (dimension Trigger)
 * for each plan written.
 */
export function createPlannerHandler(
  deps: Omit<PlannerServiceDeps, 'recordPlan' | 'warn'>,
  config: PlannerServiceConfig,
  options: PlannerHandlerOptions = {},
): LambdaHandler {
  const service = new PlannerService(
    {
      ...deps,
      recordPlan: ({ moveCount, trigger }) => {
        metrics.addDimension('Trigger', trigger);
        metrics.addMetric(METRIC.planMoves, MetricUnit.Count, moveCount);
      },
      warn: (message, details) => logger.warn(message, details),
    },
    config,
  );
  return instrumentedHandler<PlannerEvent, unknown>(
    {
      name: 'Planner',
      schema: plannerEventSchema,
      ...(options.idempotency
        ? { idempotency: { ...options.idempotency, eventKeyJmesPath: 'cycleId' } }
        : {}),
    },
    async (event) => {
      const result = await service.handle(event);
      logger.info('plan written', { event, result });
      return result;
    },
  );
}
