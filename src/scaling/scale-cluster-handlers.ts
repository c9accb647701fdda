import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import { instrumentedHandler, type LambdaHandler, metrics } from '../lambda/instrumented-handler.ts';
import { METRIC } from '../support/metrics.ts';
import type { ScaleClusterDeps } from './scale-cluster-steps.ts';
import * as steps from './scale-cluster-steps.ts';
import type { ScaleClusterTaskName } from './scale-cluster-tasks.ts';

interface StepDefinition {
  readonly schema: z.ZodType<unknown>;
  readonly run: (deps: ScaleClusterDeps, event: never) => Promise<unknown>;
}

const STEPS: Record<ScaleClusterTaskName, StepDefinition> = {
  ParseRequest: { schema: steps.parseRequestEventSchema, run: steps.parseRequest },
  AcquireLock: { schema: steps.lockEventSchema, run: steps.acquireLock },
  RegisterCells: { schema: steps.registerCellsEventSchema, run: steps.registerCells },
  SetCellStatus: { schema: steps.setCellStatusEventSchema, run: steps.setCellStatus },
  VerifyDrained: { schema: steps.verifyDrainedEventSchema, run: steps.verifyDrained },
  CompleteScaling: {
    schema: steps.completeScalingEventSchema,
    run: async (deps, event: z.infer<typeof steps.completeScalingEventSchema>) => {
      const summary = await steps.completeScaling(deps, event);
      const name = summary.action === 'scale-out' ? METRIC.scaleOuts : METRIC.scaleIns;
      metrics.addDimension('Region', summary.region);
      metrics.addMetric(name, MetricUnit.Count, summary.cellIds.length);
      return summary;
    },
  },
  AbortScaling: { schema: steps.abortScalingEventSchema, run: steps.abortScaling },
};

/**
 * The Lambda handler of one ScaleCluster step: middy with Powertools (logs, EMF metrics, X-Ray), the step's
 * zod schema (InvalidEventError naming the field), then the use case. Errors keep their names for Catch.
 */
export function createScaleClusterStepHandler(
  task: ScaleClusterTaskName,
  deps: ScaleClusterDeps,
): LambdaHandler {
  const step = STEPS[task];
  return instrumentedHandler({ name: `ScaleCluster.${task}`, schema: step.schema }, (event) =>
    step.run(deps, event as never),
  );
}
