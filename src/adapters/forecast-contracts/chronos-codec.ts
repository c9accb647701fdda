import { formatIsoDuration } from '../../domain/duration.ts';
import type { Forecast, ForecastRequest } from '../../domain/forecasting/forecast-model.ts';
import { eventMultipliersFor } from '../../domain/forecasting/known-events.ts';
import {
  expectObject,
  expectPredictions,
  expectSeries,
  type ForecastCodec,
  ForecastRequestContractError,
  findLevelKey,
  formatIsoSeconds,
  MalformedForecastResponseError,
  requireUniformRequests,
} from './forecast-codec.ts';

/**
 * Chronos on SageMaker JumpStart (chronos-bolt, chronos-2), as documented in the chronos-forecasting
 * deployment notebooks:
 *
 * request  {"inputs":[{"target":[…],"item_id":"…","start":"YYYY-MM-DDThh:mm:ss",
 *                      "past_covariates":{"event_multiplier":[…]},"future_covariates":{"event_multiplier":[…]}}],
 *           "parameters":{"prediction_length":n,"quantile_levels":[0.1,0.5,0.9],"freq":"5min"}}
 * response {"predictions":[{"mean":[…],"0.1":[…],"0.5":[…],"0.9":[…],"item_id":"…","start":"…"}, …]}
 *
 * `freq` is required with `start`; past covariates have the target's length and future ones the
 * prediction length. At most 1000 series per request, each with at least 5 observations. The contract
 * documents no missing-value marker, so missing buckets are filled by linear interpolation.
 */
export interface ChronosCodecOptions {
  /** Send known-event multipliers as past and future covariate `event_multiplier`. @default 'auto': when any request has events */
  readonly eventCovariate?: 'auto' | 'always' | 'never';
  /** Send at most this many of the latest history buckets (chronos-bolt reads 2048, chronos-2 8192). @default all */
  readonly maxHistory?: number;
  /** `Forecast.model` of the decoded forecasts. @default 'sagemaker:chronos' */
  readonly modelName?: string;
}

export const CHRONOS_MAX_SERIES_PER_REQUEST = 1000;
export const CHRONOS_MIN_OBSERVATIONS = 5;
const COVARIATE = 'event_multiplier';

export interface ChronosInput {
  readonly target: number[];
  readonly item_id: string;
  readonly start: string;
  readonly past_covariates?: Record<string, number[]>;
  readonly future_covariates?: Record<string, number[]>;
}

export interface ChronosRequestBody {
  readonly inputs: ChronosInput[];
  readonly parameters: {
    readonly prediction_length: number;
    readonly quantile_levels: number[];
    readonly freq: string;
  };
}

/** A pandas offset alias for a bucket length: `5min`, `30min`, `1h`, `D`, `30s`. */
export function pandasFrequency(intervalMs: number): string {
  if (intervalMs % 86_400_000 === 0) return intervalMs === 86_400_000 ? 'D' : `${intervalMs / 86_400_000}D`;
  if (intervalMs % 3_600_000 === 0) return `${intervalMs / 3_600_000}h`;
  if (intervalMs % 60_000 === 0) return `${intervalMs / 60_000}min`;
  if (intervalMs % 1000 === 0) return `${intervalMs / 1000}s`;
  throw new ForecastRequestContractError(
    `Chronos: an interval of ${intervalMs} ms (${formatIsoDuration(intervalMs)}) has no whole-second pandas frequency`,
  );
}

export function encodeChronosRequest(
  requests: readonly ForecastRequest[],
  options: ChronosCodecOptions = {},
): ChronosRequestBody {
  requireUniformRequests(requests, 'Chronos');
  if (requests.length > CHRONOS_MAX_SERIES_PER_REQUEST) {
    throw new ForecastRequestContractError(
      `Chronos: at most ${CHRONOS_MAX_SERIES_PER_REQUEST} series per request, got ${requests.length}`,
    );
  }
  const freq = pandasFrequency(requests[0].series.intervalMs);
  const mode = options.eventCovariate ?? 'auto';
  const withEvents =
    mode === 'always' || (mode === 'auto' && requests.some((r) => (r.events?.length ?? 0) > 0));
  const inputs = requests.map((request): ChronosInput => {
    const { series, horizon } = request;
    if (pandasFrequency(series.intervalMs) !== freq) {
      throw new ForecastRequestContractError(
        `Chronos: every series in one request needs the same interval (freq); '${request.itemId}' differs`,
      );
    }
    const n = series.values.length;
    const from = options.maxHistory !== undefined ? Math.max(0, n - options.maxHistory) : 0;
    if (n - from < CHRONOS_MIN_OBSERVATIONS) {
      throw new ForecastRequestContractError(
        `Chronos: series '${request.itemId}' has ${n - from} observations; the endpoint needs at least ${CHRONOS_MIN_OBSERVATIONS}`,
      );
    }
    const startMs = series.startMs + from * series.intervalMs;
    const input: ChronosInput = {
      target: interpolateMissing(series.values, from, request.itemId),
      item_id: request.itemId,
      start: formatIsoSeconds(startMs),
    };
    if (!withEvents) return input;
    const past = eventMultipliersFor(request.events, undefined, startMs, series.intervalMs, n - from);
    const future = eventMultipliersFor(
      request.events,
      undefined,
      startMs + (n - from) * series.intervalMs,
      series.intervalMs,
      horizon,
    );
    return {
      ...input,
      past_covariates: { [COVARIATE]: Array.from(past) },
      future_covariates: { [COVARIATE]: Array.from(future) },
    };
  });
  return {
    inputs,
    parameters: {
      prediction_length: requests[0].horizon,
      quantile_levels: [...requests[0].quantileLevels],
      freq,
    },
  };
}

/** Missing buckets (NaN) filled linearly between neighbours; leading and trailing gaps take the nearest value. */
function interpolateMissing(values: Float64Array, from: number, itemId: string): number[] {
  const out = Array.from(values.subarray(from));
  let previous = -1;
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) continue;
    if (previous < i - 1) {
      for (let k = previous + 1; k < i; k++) {
        out[k] =
          previous < 0
            ? out[i]
            : out[previous] + ((out[i] - out[previous]) * (k - previous)) / (i - previous);
      }
    }
    previous = i;
  }
  if (previous < 0) {
    throw new ForecastRequestContractError(`Chronos: series '${itemId}' has no observed value`);
  }
  for (let k = previous + 1; k < out.length; k++) out[k] = out[previous];
  return out;
}

export function decodeChronosResponse(
  body: unknown,
  requests: readonly ForecastRequest[],
  options: ChronosCodecOptions = {},
): Forecast[] {
  const predictions = expectPredictions(body, requests.length, 'input');
  return requests.map((request, i) => {
    const field = `predictions[${i}]`;
    const prediction = expectObject(predictions[i], field);
    const { series, horizon } = request;
    if (prediction.item_id !== undefined && prediction.item_id !== request.itemId) {
      throw new MalformedForecastResponseError(
        `${field}.item_id`,
        `expected '${request.itemId}' (responses keep request order), found '${String(prediction.item_id)}'`,
      );
    }
    const startMs = series.startMs + series.values.length * series.intervalMs;
    if (prediction.start !== undefined) {
      const parsed = typeof prediction.start === 'string' ? parseUtc(prediction.start) : Number.NaN;
      if (parsed !== startMs) {
        throw new MalformedForecastResponseError(
          `${field}.start`,
          `expected the first forecast step ${formatIsoSeconds(startMs)}, found ${JSON.stringify(prediction.start)}`,
        );
      }
    }
    const mean = expectSeries(prediction.mean, horizon, `${field}.mean`);
    const quantiles = new Map<number, Float64Array>();
    for (const level of request.quantileLevels) {
      const key = findLevelKey(prediction, level);
      if (key === undefined)
        throw new MalformedForecastResponseError(`${field}.${level}`, 'missing requested quantile');
      quantiles.set(level, expectSeries(prediction[key], horizon, `${field}.${key}`));
    }
    return {
      itemId: request.itemId,
      model: options.modelName ?? 'sagemaker:chronos',
      startMs,
      intervalMs: series.intervalMs,
      mean,
      quantiles,
    };
  });
}

/** `YYYY-MM-DD[T ]hh:mm:ss` without a zone is UTC (what the encoder sends). */
function parseUtc(text: string): number {
  const iso = text.trim().replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
}

export function chronosCodec(options: ChronosCodecOptions = {}): ForecastCodec {
  return {
    name: options.modelName ?? 'sagemaker:chronos',
    encode: (requests) => encodeChronosRequest(requests, options),
    decode: (body, requests) => decodeChronosResponse(body, requests, options),
  };
}
