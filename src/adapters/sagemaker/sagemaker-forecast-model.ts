import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { EmbeddedForecastModel } from '../../domain/forecasting/embedded-forecaster.ts';
import type { Forecast, ForecastModel, ForecastRequest } from '../../domain/forecasting/forecast-model.ts';
import {
  CHRONOS_MAX_SERIES_PER_REQUEST,
  type ChronosCodecOptions,
  chronosCodec,
} from '../forecast-contracts/chronos-codec.ts';
import { type DeepArCodecOptions, deepArCodec } from '../forecast-contracts/deepar-codec.ts';
import { type ForecastCodec, MalformedForecastResponseError } from '../forecast-contracts/forecast-codec.ts';
import { type EncodedBatch, planForecastBatches, SAGEMAKER_MAX_PAYLOAD_BYTES } from './forecast-batches.ts';
import {
  callWithRetry,
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
  validateRetryPolicy,
} from './invoke-retry.ts';

export type ForecastContract = 'deepar' | 'chronos';

/** Why a batch was scored by the fallback model instead of the endpoint. */
export type ForecastFallbackReason =
  /** The endpoint kept failing (after retries for transient errors), or failed with a non-transient error. */
  | 'endpoint-error'
  /** The endpoint answered with a body that is not JSON or not the contract's shape. */
  | 'malformed-response'
  /** The contract cannot carry these series (for example a Chronos series shorter than 5 buckets). */
  | 'request-contract'
  /** One series alone exceeds the payload limit. */
  | 'payload-too-large'
  /** Earlier batches of this call failed in a row, so the endpoint was not called again. */
  | 'circuit-open';

export interface ForecastFallbackInfo {
  readonly endpointName: string;
  readonly contract: ForecastContract;
  readonly reason: ForecastFallbackReason;
  /** Series in this batch, all scored by the fallback. */
  readonly seriesCount: number;
  readonly itemIds: readonly string[];
  /** Endpoint calls made for this batch (0 when it was never sent). */
  readonly attempts: number;
  /** Name of the last error, for example `ThrottlingException` or `MalformedForecastResponseError`. */
  readonly errorName?: string;
  readonly message: string;
  /** Fallback batches so far in this `forecast()` call, this one included. */
  readonly fallbacksInCall: number;
}

/** Counters since the model was created (a module-scope model in a Lambda keeps them across invocations). */
export interface SageMakerForecastStats {
  invocations: number;
  retries: number;
  hostedSeries: number;
  fallbackBatches: number;
  fallbackSeries: number;
}

export interface SageMakerForecastModelProps {
  /** Built once at module scope in a Lambda (see createSageMakerRuntimeClient). */
  readonly client: SageMakerRuntimeClient;
  readonly endpointName: string;
  readonly contract: ForecastContract;
  /** Codec options of the contract: DeepAR `eventFeature` (send known events as dynamic_feat), Chronos `eventCovariate`, `maxHistory`… */
  readonly deepar?: DeepArCodecOptions;
  readonly chronos?: ChronosCodecOptions;
  /** Series per InvokeEndpoint call. @default 100 (Chronos accepts at most 1000) */
  readonly maxSeriesPerRequest?: number;
  /** Request body bytes per call; at most 6 MB, SageMaker's limit. @default 6_000_000 */
  readonly maxPayloadBytes?: number;
  /** InvokeEndpoint calls in flight at once. @default 4 */
  readonly maxConcurrency?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Abort a call after this long (it then counts as a transient failure). @default 30000 */
  readonly requestTimeoutMs?: number;
  /** After this many batches in a row fail at the endpoint, the rest of the call goes straight to the fallback. @default 3 */
  readonly circuitBreakerThreshold?: number;
  /** Scores batches the endpoint could not. @default new EmbeddedForecastModel() */
  readonly fallback?: ForecastModel;
  /** Called once per fallback batch: publish METRIC.forecastFallbacks and log it. */
  readonly onFallback?: (info: ForecastFallbackInfo) => void;
  /** Called before each retry's backoff, for logging. */
  readonly onRetry?: (info: {
    readonly retry: number;
    readonly delayMs: number;
    readonly errorName: string;
  }) => void;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** `Forecast.model` of a forecast the fallback produced: `fallback:<model>`, e.g. `fallback:embedded:daily+weekly`. */
export const FALLBACK_MODEL_PREFIX = 'fallback:';

export function isFallbackForecast(forecast: Forecast): boolean {
  return forecast.model.startsWith(FALLBACK_MODEL_PREFIX);
}

/** An InvokeEndpoint call took longer than `requestTimeoutMs`. Its name makes it retryable (`TimeoutError`). */
class InvokeTimeoutError extends Error {
  constructor(ms: number) {
    super(`InvokeEndpoint did not answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

class BatchFailedError extends Error {
  constructor(
    readonly reason: ForecastFallbackReason,
    readonly attempts: number,
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The ForecastModel port over a SageMaker real-time endpoint speaking the DeepAR or Chronos contract.
 * Requests are packed into batches (by series count and payload bytes), at most `maxConcurrency` calls are
 * in flight, transient failures are retried with exponential backoff and full jitter, and a batch the
 * endpoint cannot score (after retries, or with a malformed answer) is scored by the embedded model: the
 * profiler keeps scoring when the endpoint is down, and every such batch is reported to `onFallback`.
 */
export class SageMakerForecastModel implements ForecastModel {
  readonly name: string;
  readonly stats: SageMakerForecastStats = {
    invocations: 0,
    retries: 0,
    hostedSeries: 0,
    fallbackBatches: 0,
    fallbackSeries: 0,
  };
  private readonly props: SageMakerForecastModelProps;
  private readonly codec: ForecastCodec;
  private readonly maxSeriesPerRequest: number;
  private readonly maxPayloadBytes: number;
  private readonly maxConcurrency: number;
  private readonly retry: RetryPolicy;
  private readonly requestTimeoutMs: number;
  private readonly circuitBreakerThreshold: number;
  private readonly fallback: ForecastModel;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(props: SageMakerForecastModelProps) {
    this.props = props;
    if (props.endpointName.trim() === '') throw new RangeError('endpointName must not be empty');
    this.codec = props.contract === 'deepar' ? deepArCodec(props.deepar) : chronosCodec(props.chronos);
    this.name = `${this.codec.name}(${props.endpointName})`;
    const maxSeriesCap =
      props.contract === 'chronos' ? CHRONOS_MAX_SERIES_PER_REQUEST : Number.MAX_SAFE_INTEGER;
    this.maxSeriesPerRequest = positiveInt(
      'maxSeriesPerRequest',
      props.maxSeriesPerRequest ?? 100,
      maxSeriesCap,
    );
    this.maxPayloadBytes = positiveInt(
      'maxPayloadBytes',
      props.maxPayloadBytes ?? 6_000_000,
      SAGEMAKER_MAX_PAYLOAD_BYTES,
    );
    this.maxConcurrency = positiveInt('maxConcurrency', props.maxConcurrency ?? 4, 1000);
    this.retry = validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...props.retry });
    this.requestTimeoutMs = positiveInt('requestTimeoutMs', props.requestTimeoutMs ?? 30_000, 3_600_000);
    this.circuitBreakerThreshold = positiveInt(
      'circuitBreakerThreshold',
      props.circuitBreakerThreshold ?? 3,
      Number.MAX_SAFE_INTEGER,
    );
    this.fallback = props.fallback ?? new EmbeddedForecastModel();
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = props.random ?? Math.random;
  }

  async forecast(requests: readonly ForecastRequest[]): Promise<Forecast[]> {
    const out: Forecast[] = new Array(requests.length);
    if (requests.length === 0) return out;
    const plan = planForecastBatches(requests, this.codec, {
      maxSeriesPerRequest: this.maxSeriesPerRequest,
      maxPayloadBytes: this.maxPayloadBytes,
    });
    const call = { fallbacks: 0, consecutiveFailures: 0 };
    for (const refused of plan.refused) {
      await this.scoreByFallback(requests, refused.indices, out, call, {
        reason: refused.reason,
        attempts: 0,
        errorName: 'ForecastRequestContractError',
        message: refused.message,
      });
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < plan.batches.length) {
        const batch = plan.batches[next++];
        await this.scoreBatch(requests, batch, out, call);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrency, plan.batches.length) }, worker));
    return out;
  }

  private async scoreBatch(
    requests: readonly ForecastRequest[],
    batch: EncodedBatch,
    out: Forecast[],
    call: { fallbacks: number; consecutiveFailures: number },
  ): Promise<void> {
    const batchRequests = batch.indices.map((i) => requests[i]);
    if (call.consecutiveFailures >= this.circuitBreakerThreshold) {
      await this.scoreByFallback(requests, batch.indices, out, call, {
        reason: 'circuit-open',
        attempts: 0,
        message: `${call.consecutiveFailures} batches in a row failed at endpoint '${this.props.endpointName}'; not calling it again in this run`,
      });
      return;
    }
    try {
      const forecasts = await this.invokeAndDecode(batch.body, batchRequests);
      call.consecutiveFailures = 0;
      this.stats.hostedSeries += forecasts.length;
      batch.indices.forEach((requestIndex, k) => {
        out[requestIndex] = forecasts[k];
      });
    } catch (error) {
      if (!(error instanceof BatchFailedError)) throw error;
      call.consecutiveFailures++;
      const cause = error.error as { name?: string } | undefined;
      await this.scoreByFallback(requests, batch.indices, out, call, {
        reason: error.reason,
        attempts: error.attempts,
        errorName: cause?.name,
        message: error.message,
      });
    }
  }

  private async invokeAndDecode(body: string, batch: readonly ForecastRequest[]): Promise<Forecast[]> {
    const outcome = await callWithRetry(
      async () => {
        this.stats.invocations++;
        const abortSignal = AbortSignal.timeout(this.requestTimeoutMs);
        try {
          const response = await this.props.client.send(
            new InvokeEndpointCommand({
              EndpointName: this.props.endpointName,
              Body: body,
              ContentType: 'application/json',
              Accept: 'application/json',
            }),
            { abortSignal },
          );
          return response.Body;
        } catch (error) {
          // A timed-out call is transient: retried, then the batch falls back.
          if (abortSignal.aborted) throw new InvokeTimeoutError(this.requestTimeoutMs);
          throw error;
        }
      },
      this.retry,
      {
        sleep: this.sleep,
        random: this.random,
        onRetry: (retry, delayMs, error) => {
          this.stats.retries++;
          this.props.onRetry?.({ retry, delayMs, errorName: (error as Error)?.name ?? String(error) });
        },
      },
    );
    if (!outcome.ok) throw new BatchFailedError('endpoint-error', outcome.attempts, outcome.error);
    try {
      const text = outcome.value === undefined ? '' : new TextDecoder().decode(outcome.value);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new MalformedForecastResponseError('(body)', `not JSON: ${(error as Error).message}`);
      }
      return this.codec.decode(parsed, batch);
    } catch (error) {
      throw new BatchFailedError('malformed-response', outcome.attempts, error);
    }
  }

  private async scoreByFallback(
    requests: readonly ForecastRequest[],
    indices: readonly number[],
    out: Forecast[],
    call: { fallbacks: number },
    failure: Pick<ForecastFallbackInfo, 'reason' | 'attempts' | 'errorName' | 'message'>,
  ): Promise<void> {
    const batch = indices.map((i) => requests[i]);
    call.fallbacks++;
    this.stats.fallbackBatches++;
    this.stats.fallbackSeries += batch.length;
    this.props.onFallback?.({
      endpointName: this.props.endpointName,
      contract: this.props.contract,
      seriesCount: batch.length,
      itemIds: batch.map((r) => r.itemId),
      fallbacksInCall: call.fallbacks,
      ...failure,
    });
    const forecasts = await this.fallback.forecast(batch);
    indices.forEach((requestIndex, k) => {
      const forecast = forecasts[k];
      out[requestIndex] = { ...forecast, model: `${FALLBACK_MODEL_PREFIX}${forecast.model}` };
    });
  }
}

function positiveInt(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer in [1, ${max}], got ${value}`);
  }
  return value;
}
