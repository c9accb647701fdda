import { EmbeddedForecastModel } from '../domain/forecasting/embedded-forecaster.ts';
import type { ForecastModel } from '../domain/forecasting/forecast-model.ts';

export interface ForecastModelChoice {
  readonly forecastModel: 'embedded' | 'sagemaker';
  readonly sagemakerEndpoint?: string;
  readonly forecastContract: 'deepar' | 'chronos';
}

export interface ForecastFallbackNotice {
  readonly reason: string;
  readonly seriesCount: number;
  readonly message: string;
}

export interface ForecastModelHooks {
  /** A batch the hosted model could not score was scored by the embedded model instead. */
  readonly onFallback?: (notice: ForecastFallbackNotice) => void;
}

/** The profiler's ForecastModel from its configuration. */
export function createForecastModel(
  _choice: ForecastModelChoice,
  _hooks: ForecastModelHooks = {},
): ForecastModel {
  // The SageMaker adapter (src/adapters/sagemaker) is not in the repository yet: every choice scores embedded.
  return new EmbeddedForecastModel();
}
