import {
  createForecastModel,
  type ForecastModelDeps,
  type ForecastModelSelection,
} from '../adapters/sagemaker/forecast-model-factory.ts';
import type { ForecastFallbackInfo } from '../adapters/sagemaker/sagemaker-forecast-model.ts';
import type { ForecastModel } from '../domain/forecasting/forecast-model.ts';
import type { ProfilerLog } from '../profiler/profiler-deps.ts';
import { METRIC, type MetricsSink } from '../support/metrics.ts';

/**
 * The profiler's ForecastModel: the embedded model, or the SageMaker endpoint (DeepAR or Chronos contract) with
 * the embedded fallback. Every batch the endpoint could not score counts once in METRIC.forecastFallbacks and is
 * logged with its reason.
 */
export function profilerForecastModel(
  selection: ForecastModelSelection,
  observers: { readonly metrics: MetricsSink; readonly log: ProfilerLog },
  deps: Omit<ForecastModelDeps, 'onFallback'> = {},
): ForecastModel {
  return createForecastModel(selection, {
    ...deps,
    onFallback: (info: ForecastFallbackInfo) => {
      observers.metrics.add(METRIC.forecastFallbacks, 'Count', 1);
      observers.log.warn('forecast batch scored by the embedded fallback', {
        endpoint: info.endpointName,
        contract: info.contract,
        reason: info.reason,
        series: info.seriesCount,
        attempts: info.attempts,
        error: info.errorName,
        message: info.message,
      });
    },
  });
}
