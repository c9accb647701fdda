import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { EmbeddedForecastModel } from '../../domain/forecasting/embedded-forecaster.ts';
import type { ForecastModel } from '../../domain/forecasting/forecast-model.ts';
import {
  type ForecastContract,
  SageMakerForecastModel,
  type SageMakerForecastModelProps,
} from './sagemaker-forecast-model.ts';
import { createSageMakerRuntimeClient } from './sagemaker-runtime-client.ts';

/** The forecast-model part of the deployment configuration (ControlPlaneConfig has these fields). */
export interface ForecastModelSelection {
  readonly forecastModel: 'embedded' | 'sagemaker';
  readonly sagemakerEndpoint?: string;
  readonly forecastContract: ForecastContract;
  /** DeepAR: send known events as the one `dynamic_feat` (a model trained with it). @default false */
  readonly forecastEventFeature?: boolean;
}

export type ForecastModelDeps = Partial<
  Omit<SageMakerForecastModelProps, 'endpointName' | 'contract' | 'client'>
> & {
  /** Reused across invocations when built at module scope. @default createSageMakerRuntimeClient() */
  readonly client?: SageMakerRuntimeClient;
};

/** The configured ForecastModel: the embedded one, or the SageMaker adapter with the embedded fallback. */
export function createForecastModel(
  selection: ForecastModelSelection,
  deps: ForecastModelDeps = {},
): ForecastModel {
  if (selection.forecastModel === 'embedded') return deps.fallback ?? new EmbeddedForecastModel();
  if (!selection.sagemakerEndpoint) {
    throw new RangeError("a 'sagemaker' forecast model needs an endpoint name (sagemakerEndpoint)");
  }
  return new SageMakerForecastModel({
    ...deps,
    client: deps.client ?? createSageMakerRuntimeClient(),
    endpointName: selection.sagemakerEndpoint,
    contract: selection.forecastContract,
    ...(selection.forecastEventFeature && {
      deepar: { ...deps.deepar, eventFeature: true },
    }),
  });
}
