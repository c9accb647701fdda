import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ForecastFallbackInfo,
  isFallbackForecast,
  SageMakerForecastModel,
  type SageMakerForecastModelProps,
} from '../../../../src/adapters/sagemaker/sagemaker-forecast-model.ts';
import { createSageMakerRuntimeClient } from '../../../../src/adapters/sagemaker/sagemaker-runtime-client.ts';
import { EmbeddedForecastModel } from '../../../../src/domain/forecasting/embedded-forecaster.ts';
import type { Forecast, KnownEvent } from '../../../../src/domain/forecasting/forecast-model.ts';
import {
  type ModelServerOptions,
  modelErrorReply,
  type RunningModelServer,
  sageMakerErrorReply,
  startModelServer,
} from '../../../../src/local/model-server.ts';
import { HALF_HOUR, taxiRequests } from './real-series.ts';

const ENDPOINT = 'prestage-deepar';
let server: RunningModelServer | undefined;
const clients: SageMakerRuntimeClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server?.close();
  server = undefined;
});

async function serve(options: ModelServerOptions = {}): Promise<RunningModelServer> {
  server = await startModelServer({ port: 0, predictionLength: 8, intervalMs: HALF_HOUR, ...options });
  return server;
}

/** The real SDK client over HTTP, one SDK attempt per call (the adapter owns retries). */
function sdkClient(url: string): SageMakerRuntimeClient {
  const client = new SageMakerRuntimeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
}

function model(
  url: string,
  props: Partial<SageMakerForecastModelProps> = {},
): { model: SageMakerForecastModel; fallbacks: ForecastFallbackInfo[]; delays: number[] } {
  const fallbacks: ForecastFallbackInfo[] = [];
  const delays: number[] = [];
  const m = new SageMakerForecastModel({
    client: sdkClient(url),
    endpointName: ENDPOINT,
    contract: 'deepar',
    onFallback: (info) => fallbacks.push(info),
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...props,
  });
  return { model: m, fallbacks, delays };
}

function maxRelativeDifference(a: Forecast, b: Forecast): number {
  let worst = 0;
  const compare = (x: Float64Array, y: Float64Array) => {
    expect(x.length).toBe(y.length);
    for (let i = 0; i < x.length; i++) {
      worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1e-9, Math.abs(y[i])));
    }
  };
  compare(a.mean, b.mean);
  expect([...a.quantiles.keys()]).toEqual([...b.quantiles.keys()]);
  for (const [level, values] of b.quantiles) compare(a.quantiles.get(level)!, values);
  return worst;
}

const throttled = () => sageMakerErrorReply('ThrottlingException', 429, 'Rate exceeded');

describe('SageMakerForecastModel (DeepAR) against the local model server, real SDK client', () => {
  it('forecasts what the embedded model forecasts for the same real series, missing buckets included', async () => {
    const { url } = await serve();
    const requests = await taxiRequests(12, { nanEvery: 37 });
    const { model: adapter, fallbacks } = model(url);
    const hosted = await adapter.forecast(requests);
    const embedded = await new EmbeddedForecastModel().forecast(requests);
    expect(fallbacks).toEqual([]);
    hosted.forEach((forecast, i) => {
      expect(forecast.itemId).toBe(requests[i].itemId);
      expect(forecast.model).toBe('sagemaker:deepar');
      expect(forecast.startMs).toBe(embedded[i].startMs);
      expect(maxRelativeDifference(forecast, embedded[i])).toBeLessThan(1e-9);
    });
    // The forecasts are not trivially equal: the series differ, and so do their forecasts.
    expect(hosted[0].mean[0]).not.toBeCloseTo(hosted[5].mean[0], 3);
    expect(adapter.stats).toMatchObject({ invocations: 1, hostedSeries: 12, fallbackBatches: 0 });
  });

  it('sends known events as dynamic_feat and gets the same event-scaled forecast as the embedded model', async () => {
    const bodies: string[] = [];
    const { url } = await serve({ intercept: ({ body }) => void bodies.push(body) });
    const plain = await taxiRequests(3);
    const lastMs = plain[0].series.startMs + plain[0].series.values.length * HALF_HOUR;
    // A sale two days ago (de-biases the history) and one in the next two hours (scales the forecast).
    const events: KnownEvent[] = [
      {
        name: 'past',
        region: 'us-east-1',
        startMs: lastMs - 2 * 86_400_000,
        endMs: lastMs - 86_400_000,
        multiplier: 2,
      },
      {
        name: 'next',
        region: 'us-east-1',
        startMs: lastMs + HALF_HOUR,
        endMs: lastMs + 4 * HALF_HOUR,
        multiplier: 3,
      },
    ];
    const requests = plain.map((r) => ({ ...r, events }));
    const { model: adapter } = model(url, { deepar: { eventFeature: true } });
    const hosted = await adapter.forecast(requests);
    const embedded = await new EmbeddedForecastModel().forecast(requests);
    const withoutEvents = await new EmbeddedForecastModel().forecast(plain);
    const sent = JSON.parse(bodies[0]);
    expect(sent.instances[0].dynamic_feat[0]).toHaveLength(672 + 8);
    hosted.forEach((forecast, i) => {
      expect(maxRelativeDifference(forecast, embedded[i])).toBeLessThan(1e-9);
    });
    // Steps 1..3 fall in the future event: about 3× the forecast without events.
    expect(hosted[0].mean[1] / withoutEvents[0].mean[1]).toBeGreaterThan(2);
  });

  it('splits many series into requests of at most maxSeriesPerRequest, in request order', async () => {
    const counts: number[] = [];
    const { url, stats } = await serve({
      intercept: ({ body }) => void counts.push(JSON.parse(body).instances.length),
    });
    const requests = await taxiRequests(250, { length: 96 });
    const { model: adapter } = model(url, { maxSeriesPerRequest: 40 });
    const forecasts = await adapter.forecast(requests);
    expect(stats.invocations).toBe(Math.ceil(250 / 40));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(250);
    expect(Math.max(...counts)).toBe(40);
    expect(forecasts.map((f) => f.itemId)).toEqual(requests.map((r) => r.itemId));
    expect(forecasts.every((f) => f.model === 'sagemaker:deepar')).toBe(true);
  });

  it('splits by payload bytes when the series are long', async () => {
    const sizes: number[] = [];
    const { url, stats } = await serve({ intercept: ({ body }) => void sizes.push(Buffer.byteLength(body)) });
    const requests = await taxiRequests(30, { length: 2000 });
    const maxPayloadBytes = 200_000;
    const { model: adapter, fallbacks } = model(url, { maxSeriesPerRequest: 30, maxPayloadBytes });
    const forecasts = await adapter.forecast(requests);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(maxPayloadBytes);
    expect(stats.invocations).toBeGreaterThanOrEqual(Math.ceil(total / maxPayloadBytes));
    expect(fallbacks).toEqual([]);
    expect(forecasts.map((f) => f.itemId)).toEqual(requests.map((r) => r.itemId));
  });

  it('never has more than maxConcurrency calls in flight, and does use that many', async () => {
    const { url, stats } = await serve({
      intercept: () => new Promise((resolve) => setTimeout(() => resolve(undefined), 25)),
    });
    const requests = await taxiRequests(40, { length: 96 });
    const { model: adapter } = model(url, { maxSeriesPerRequest: 2, maxConcurrency: 3 });
    await adapter.forecast(requests);
    expect(stats.invocations).toBe(20);
    expect(stats.maxInFlight).toBe(3);
  });

  const transientReplies = {
    'ThrottlingException (429)': throttled,
    'ModelError wrapping a container 429': () => modelErrorReply(429, 'too many requests'),
    'ModelError wrapping a container 503': () => modelErrorReply(503, 'busy'),
    ServiceUnavailable: () => sageMakerErrorReply('ServiceUnavailable', 503, 'unavailable'),
    InternalFailure: () => sageMakerErrorReply('InternalFailure', 500, 'internal'),
  };
  for (const [label, reply] of Object.entries(transientReplies)) {
    it(`retries ${label} with exponential backoff and jitter, then succeeds`, async () => {
      const { url, stats } = await serve({ intercept: ({ number }) => (number <= 2 ? reply() : undefined) });
      const requests = await taxiRequests(4, { length: 96 });
      const retries: string[] = [];
      const {
        model: adapter,
        fallbacks,
        delays,
      } = model(url, {
        retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5000 },
        onRetry: (info) => retries.push(info.errorName),
      });
      const forecasts = await adapter.forecast(requests);
      expect(stats.invocations).toBe(3);
      expect(fallbacks).toEqual([]);
      expect(forecasts.every((f) => f.model === 'sagemaker:deepar')).toBe(true);
      // random() = 0.5: half of the doubling cap.
      expect(delays).toEqual([50, 100]);
      expect(adapter.stats.retries).toBe(2);
      expect(new Set(retries).size).toBe(1);
    });
  }

  it('falls back to the embedded model when the endpoint keeps failing, counting each batch', async () => {
    const { url, stats } = await serve({
      intercept: () => sageMakerErrorReply('ServiceUnavailable', 503, 'unavailable'),
    });
    const requests = await taxiRequests(10, { length: 200 });
    const { model: adapter, fallbacks } = model(url, {
      maxSeriesPerRequest: 4,
      retry: { maxAttempts: 3 },
      circuitBreakerThreshold: 10,
    });
    const forecasts = await adapter.forecast(requests);
    const embedded = await new EmbeddedForecastModel().forecast(requests);
    expect(stats.invocations).toBe(3 * 3);
    expect(fallbacks.map((f) => f.seriesCount).sort()).toEqual([2, 4, 4]);
    expect(fallbacks.map((f) => f.fallbacksInCall).sort()).toEqual([1, 2, 3]);
    for (const info of fallbacks) {
      expect(info).toMatchObject({
        endpointName: ENDPOINT,
        contract: 'deepar',
        reason: 'endpoint-error',
        attempts: 3,
        errorName: 'ServiceUnavailable',
      });
    }
    forecasts.forEach((forecast, i) => {
      expect(isFallbackForecast(forecast)).toBe(true);
      expect(forecast.model).toBe(`fallback:${embedded[i].model}`);
      expect(maxRelativeDifference(forecast, embedded[i])).toBe(0);
    });
    expect(adapter.stats).toMatchObject({ fallbackBatches: 3, fallbackSeries: 10, hostedSeries: 0 });
  });

  it('does not retry a non-transient error, and stops calling a failing endpoint after the breaker threshold', async () => {
    const { url, stats } = await serve({ intercept: () => modelErrorReply(400, 'bad input') });
    const requests = await taxiRequests(10, { length: 96 });
    const { model: adapter, fallbacks } = model(url, {
      maxSeriesPerRequest: 2,
      maxConcurrency: 1,
      circuitBreakerThreshold: 2,
    });
    const forecasts = await adapter.forecast(requests);
    expect(stats.invocations).toBe(2);
    expect(fallbacks.map((f) => f.reason)).toEqual([
      'endpoint-error',
      'endpoint-error',
      'circuit-open',
      'circuit-open',
      'circuit-open',
    ]);
    expect(fallbacks[0]).toMatchObject({ attempts: 1, errorName: 'ModelError' });
    expect(forecasts.every(isFallbackForecast)).toBe(true);
    // A new call tries the endpoint again.
    await adapter.forecast(requests.slice(0, 2));
    expect(stats.invocations).toBe(3);
  });

  it('falls back for a malformed response without retrying, and keeps the batches that were fine', async () => {
    const { url, stats } = await serve({
      intercept: ({ number }) =>
        number === 2
          ? {
              status: 200,
              headers: { 'content-type': 'application/json' },
              body: '{"predictions":[{"mean":[1]}]}',
            }
          : number === 3
            ? { status: 200, body: 'not json' }
            : undefined,
    });
    const requests = await taxiRequests(4, { length: 96 });
    const { model: adapter, fallbacks } = model(url, { maxSeriesPerRequest: 1, maxConcurrency: 1 });
    const forecasts = await adapter.forecast(requests);
    expect(stats.invocations).toBe(4);
    expect(forecasts.map((f) => isFallbackForecast(f))).toEqual([false, true, true, false]);
    expect(fallbacks.map((f) => [f.reason, f.attempts, f.errorName])).toEqual([
      ['malformed-response', 1, 'MalformedForecastResponseError'],
      ['malformed-response', 1, 'MalformedForecastResponseError'],
    ]);
    expect(fallbacks[0].message).toContain("'predictions[0].mean': expected 8 values");
    expect(fallbacks[1].message).toContain('not JSON');
  });

  it('reports a horizon that differs from the endpoint prediction length as a malformed response naming the field', async () => {
    const { url } = await serve({ predictionLength: 8 });
    const requests = await taxiRequests(2, { length: 96, horizon: 12 });
    const { model: adapter, fallbacks } = model(url);
    const forecasts = await adapter.forecast(requests);
    expect(forecasts.every(isFallbackForecast)).toBe(true);
    expect(forecasts[0].mean).toHaveLength(12);
    expect(fallbacks[0].message).toMatch(
      /'predictions\[0\]\.mean': expected 12 values \(the horizon\), found 8/,
    );
  });

  it('retries a call that times out, then falls back', async () => {
    const { url, stats } = await serve({
      intercept: () => new Promise((resolve) => setTimeout(() => resolve(undefined), 400)),
    });
    const requests = await taxiRequests(1, { length: 96 });
    const { model: adapter, fallbacks } = model(url, { requestTimeoutMs: 50, retry: { maxAttempts: 2 } });
    const [forecast] = await adapter.forecast(requests);
    expect(isFallbackForecast(forecast)).toBe(true);
    expect(stats.invocations).toBe(2);
    expect(fallbacks[0]).toMatchObject({ reason: 'endpoint-error', attempts: 2, errorName: 'TimeoutError' });
  });

  it('falls back when the endpoint name is unknown (ValidationError), through createSageMakerRuntimeClient', async () => {
    const { url, stats } = await serve({ endpointNames: ['other'] });
    const client = createSageMakerRuntimeClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    clients.push(client);
    const fallbacks: ForecastFallbackInfo[] = [];
    const adapter = new SageMakerForecastModel({
      client,
      endpointName: ENDPOINT,
      contract: 'deepar',
      onFallback: (info) => fallbacks.push(info),
    });
    await adapter.forecast(await taxiRequests(1, { length: 96 }));
    expect(stats.invocations).toBe(1);
    expect(fallbacks[0]).toMatchObject({ errorName: 'ValidationError', attempts: 1 });
    expect(fallbacks[0].message).toContain(`Endpoint ${ENDPOINT}`);
  });

  it('validates its limits', () => {
    const client = sdkClient('http://127.0.0.1:1');
    const base = { client, endpointName: ENDPOINT, contract: 'deepar' as const };
    expect(() => new SageMakerForecastModel({ ...base, maxPayloadBytes: 7 * 1024 * 1024 })).toThrow(
      /maxPayloadBytes/,
    );
    expect(
      () => new SageMakerForecastModel({ ...base, contract: 'chronos', maxSeriesPerRequest: 1001 }),
    ).toThrow(/maxSeriesPerRequest/);
    expect(() => new SageMakerForecastModel({ ...base, maxConcurrency: 0 })).toThrow(/maxConcurrency/);
    expect(() => new SageMakerForecastModel({ ...base, retry: { maxAttempts: 0 } })).toThrow(/maxAttempts/);
    expect(() => new SageMakerForecastModel({ ...base, endpointName: ' ' })).toThrow(/endpointName/);
  });

  it('answers an empty request list without calling the endpoint', async () => {
    const { url, stats } = await serve();
    const { model: adapter } = model(url);
    expect(await adapter.forecast([])).toEqual([]);
    expect(stats.invocations).toBe(0);
  });
});
