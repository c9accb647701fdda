import { PrestageError } from '../../domain/errors.ts';
import type { Forecast, ForecastRequest } from '../../domain/forecasting/forecast-model.ts';

/**
 * A hosted model's wire contract: how ForecastRequests become an endpoint request body, and how the
 * endpoint's response body becomes Forecasts. Pure: no SDK, no I/O.
 */
export interface ForecastCodec {
  /** Model name reported in `Forecast.model`, e.g. `sagemaker:deepar`. */
  readonly name: string;
  /** The JSON request body (an object; the caller serialises it). All requests share horizon and quantile levels. */
  encode(requests: readonly ForecastRequest[]): unknown;
  /** Forecasts in request order; throws MalformedForecastResponseError naming the offending field. */
  decode(body: unknown, requests: readonly ForecastRequest[]): Forecast[];
}

/** An endpoint's response does not have the documented shape. `field` is a path such as `predictions[2].quantiles.0.9`. */
export class MalformedForecastResponseError extends PrestageError {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`malformed forecast response: field '${field}': ${problem}`);
    this.field = field;
  }
}

/** Requests that cannot go into one body (mixed horizons or quantile levels, duplicate ids, too short). */
export class ForecastRequestContractError extends PrestageError {}

export function requireUniformRequests(requests: readonly ForecastRequest[], contract: string): void {
  if (requests.length === 0)
    throw new ForecastRequestContractError(`${contract}: no forecast requests to encode`);
  const [first] = requests;
  const seen = new Set<string>();
  for (const request of requests) {
    if (request.horizon !== first.horizon) {
      throw new ForecastRequestContractError(
        `${contract}: every request in one body needs the same horizon; '${request.itemId}' has ${request.horizon}, '${first.itemId}' has ${first.horizon}`,
      );
    }
    if (request.quantileLevels.join(',') !== first.quantileLevels.join(',')) {
      throw new ForecastRequestContractError(
        `${contract}: every request in one body needs the same quantile levels; '${request.itemId}' differs from '${first.itemId}'`,
      );
    }
    if (seen.has(request.itemId)) {
      throw new ForecastRequestContractError(`${contract}: duplicate item id '${request.itemId}'`);
    }
    seen.add(request.itemId);
  }
}

/** `2015-02-26 21:42:53` (UTC), the form DeepAR's `start` uses. */
export function formatSpaceTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** `2015-02-26T21:42:53` (UTC, no zone), the form Chronos' `start` uses. */
export function formatIsoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** A JSON object, or an error naming the field. */
export function expectObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedForecastResponseError(field, `expected an object, found ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** The response's `predictions` array, which must hold one entry per request, in order. */
export function expectPredictions(body: unknown, count: number, itemNoun: string): unknown[] {
  const predictions = expectObject(body, '(body)').predictions;
  if (!Array.isArray(predictions)) {
    throw new MalformedForecastResponseError(
      'predictions',
      `expected an array with one prediction per ${itemNoun}`,
    );
  }
  if (predictions.length !== count) {
    throw new MalformedForecastResponseError(
      'predictions',
      `expected ${count} predictions (one per ${itemNoun}, in order), found ${predictions.length}`,
    );
  }
  return predictions;
}

/** An array of `length` finite numbers, as a Float64Array; negative values are clamped to 0 (demand). */
export function expectSeries(value: unknown, length: number, field: string): Float64Array {
  if (!Array.isArray(value)) {
    throw new MalformedForecastResponseError(
      field,
      `expected an array of ${length} numbers, found ${describe(value)}`,
    );
  }
  if (value.length !== length) {
    throw new MalformedForecastResponseError(
      field,
      `expected ${length} values (the horizon), found ${value.length}`,
    );
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const v = value[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new MalformedForecastResponseError(
        `${field}[${i}]`,
        `expected a finite number, found ${describe(v)}`,
      );
    }
    out[i] = Math.max(v, 0);
  }
  return out;
}

/** The key of `level` in a quantile map: exact string first, then any key with the same numeric value. */
export function findLevelKey(map: Record<string, unknown>, level: number): string | undefined {
  const exact = String(level);
  if (exact in map) return exact;
  return Object.keys(map).find((key) => key.trim() !== '' && Number(key) === level);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return typeof value === 'object' ? 'an object' : String(value);
}
