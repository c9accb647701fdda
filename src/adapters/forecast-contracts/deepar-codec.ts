import type { Forecast, ForecastRequest } from '../../domain/forecasting/forecast-model.ts';
import { eventMultipliersFor } from '../../domain/forecasting/known-events.ts';
import {
  expectObject,
  expectPredictions,
  expectSeries,
  type ForecastCodec,
  ForecastRequestContractError,
  findLevelKey,
  formatSpaceTimestamp,
  MalformedForecastResponseError,
  requireUniformRequests,
} from './forecast-codec.ts';

/**
 * SageMaker DeepAR inference contract (JSON), as documented in "DeepAR Inference Formats":
 *
 * request  {"instances":[{"start":"YYYY-MM-DD HH:MM:SS","target":[…, "NaN", …],"dynamic_feat":[[…]]}],
 *           "configuration":{"num_samples":n,"output_types":["mean","quantiles"],"quantiles":["0.1","0.9"]}}
 * response {"predictions":[{"mean":[…],"quantiles":{"0.1":[…],"0.9":[…]}}, …]}   (one per instance, in order)
 *
 * Missing values are the string "NaN". `dynamic_feat` must be sent exactly when the model was trained with
 * it, with length(target) + prediction_length values; here the one feature is the known-event multiplier.
 */
export interface DeepArCodecOptions {
  /** Sample paths the endpoint draws to estimate mean and quantiles. @default 100 */
  readonly numSamples?: number;
  /**
   * Send the known-event multiplier as the single `dynamic_feat` (1 where no event). Enable only for a model
   * trained with that feature: DeepAR rejects dynamic_feat it was not trained with, and requires it if it was.
   * @default false
   */
  readonly eventFeature?: boolean;
  /** Send at most this many of the latest history buckets (DeepAR only reads its context window). @default all */
  readonly maxHistory?: number;
  /** `Forecast.model` of the decoded forecasts. @default 'sagemaker:deepar' */
  readonly modelName?: string;
}

export interface DeepArInstance {
  readonly start: string;
  readonly target: (number | 'NaN')[];
  readonly dynamic_feat?: number[][];
}

export interface DeepArRequestBody {
  readonly instances: DeepArInstance[];
  readonly configuration: {
    readonly num_samples: number;
    readonly output_types: string[];
    readonly quantiles: string[];
  };
}

export function encodeDeepArRequest(
  requests: readonly ForecastRequest[],
  options: DeepArCodecOptions = {},
): DeepArRequestBody {
  requireUniformRequests(requests, 'DeepAR');
  const numSamples = options.numSamples ?? 100;
  if (!Number.isInteger(numSamples) || numSamples < 1) {
    throw new ForecastRequestContractError(
      `DeepAR: num_samples must be a positive integer, got ${numSamples}`,
    );
  }
  const instances = requests.map((request): DeepArInstance => {
    const { series, horizon } = request;
    const n = series.values.length;
    const from = options.maxHistory !== undefined ? Math.max(0, n - options.maxHistory) : 0;
    const startMs = series.startMs + from * series.intervalMs;
    const target: (number | 'NaN')[] = [];
    for (let i = from; i < n; i++) {
      const v = series.values[i];
      target.push(Number.isFinite(v) ? v : 'NaN');
    }
    if (!options.eventFeature) return { start: formatSpaceTimestamp(startMs), target };
    const feature = eventMultipliersFor(
      request.events,
      undefined,
      startMs,
      series.intervalMs,
      n - from + horizon,
    );
    return { start: formatSpaceTimestamp(startMs), target, dynamic_feat: [Array.from(feature)] };
  });
  return {
    instances,
    configuration: {
      num_samples: numSamples,
      output_types: ['mean', 'quantiles'],
      quantiles: requests[0].quantileLevels.map(String),
    },
  };
}

export function decodeDeepArResponse(
  body: unknown,
  requests: readonly ForecastRequest[],
  options: DeepArCodecOptions = {},
): Forecast[] {
  const predictions = expectPredictions(body, requests.length, 'instance');
  return requests.map((request, i) => {
    const field = `predictions[${i}]`;
    const prediction = expectObject(predictions[i], field);
    const horizon = request.horizon;
    const mean = expectSeries(prediction.mean, horizon, `${field}.mean`);
    const quantileMap = expectObject(prediction.quantiles, `${field}.quantiles`);
    const quantiles = new Map<number, Float64Array>();
    for (const level of request.quantileLevels) {
      const key = findLevelKey(quantileMap, level);
      if (key === undefined) {
        throw new MalformedForecastResponseError(`${field}.quantiles.${level}`, 'missing requested quantile');
      }
      quantiles.set(level, expectSeries(quantileMap[key], horizon, `${field}.quantiles.${key}`));
    }
    return {
      itemId: request.itemId,
      model: options.modelName ?? 'sagemaker:deepar',
      startMs: request.series.startMs + request.series.values.length * request.series.intervalMs,
      intervalMs: request.series.intervalMs,
      mean,
      quantiles,
    };
  });
}

export function deepArCodec(options: DeepArCodecOptions = {}): ForecastCodec {
  return {
    name: options.modelName ?? 'sagemaker:deepar',
    encode: (requests) => encodeDeepArRequest(requests, options),
    decode: (body, requests) => decodeDeepArResponse(body, requests, options),
  };
}
