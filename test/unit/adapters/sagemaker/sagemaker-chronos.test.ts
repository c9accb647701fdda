import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ForecastFallbackInfo,
  isFallbackForecast,
  SageMakerForecastModel,
} from '../../../../src/adapters/sagemaker/sagemaker-forecast-model.ts';
import { EmbeddedForecastModel } from '../../../../src/domain/forecasting/embedded-forecaster.ts';
import type { KnownEvent } from '../../../../src/domain/forecasting/forecast-model.ts';
import { type ChronosDouble, startChronosDouble } from './chronos-test-double.ts';
import { HALF_HOUR, taxiRequests } from './real-series.ts';

let double: ChronosDouble | undefined;
let client: SageMakerRuntimeClient | undefined;

afterEach(async () => {
  client?.destroy();
  await double?.close();
  double = undefined;
});

function chronosModel(url: string, fallbacks: ForecastFallbackInfo[]): SageMakerForecastModel {
  client = new SageMakerRuntimeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  return new SageMakerForecastModel({
    client,
    endpointName: 'chronos-bolt',
    contract: 'chronos',
    onFallback: (info) => fallbacks.push(info),
  });
}

describe('SageMakerForecastModel (Chronos) against a JumpStart-shaped test double, real SDK client', () => {
  it('sends the Chronos request, decodes the JumpStart response shape, and sends known events as covariates', async () => {
    double = await startChronosDouble(HALF_HOUR);
    const plain = await taxiRequests(5, { horizon: 6 });
    const lastMs = plain[0].series.startMs + plain[0].series.values.length * HALF_HOUR;
    const events: KnownEvent[] = [
      { name: 'launch', region: 'us-east-1', startMs: lastMs, endMs: lastMs + 2 * HALF_HOUR, multiplier: 4 },
    ];
    const requests = plain.map((r, i) => (i % 2 === 0 ? { ...r, events } : r));
    const fallbacks: ForecastFallbackInfo[] = [];
    const forecasts = await chronosModel(double.url, fallbacks).forecast(requests);
    const embedded = await new EmbeddedForecastModel().forecast(requests);

    expect(fallbacks).toEqual([]);
    const [sent] = double.requests;
    expect(sent.parameters).toEqual({
      prediction_length: 6,
      quantile_levels: [0.1, 0.5, 0.9],
      freq: '30min',
    });
    expect(sent.inputs.map((input) => input.item_id)).toEqual(requests.map((r) => r.itemId));
    expect(sent.inputs[0].future_covariates?.event_multiplier).toEqual([4, 4, 1, 1, 1, 1]);
    expect(sent.inputs[1].future_covariates?.event_multiplier).toEqual([1, 1, 1, 1, 1, 1]);
    forecasts.forEach((forecast, i) => {
      expect(forecast.model).toBe('sagemaker:chronos');
      expect(forecast.itemId).toBe(requests[i].itemId);
      for (let k = 0; k < 6; k++) {
        expect(forecast.mean[k]).toBeCloseTo(embedded[i].mean[k], 9);
        expect(forecast.quantiles.get(0.9)![k]).toBeCloseTo(embedded[i].quantiles.get(0.9)![k], 9);
      }
    });
    // The event quadruples the first two steps of the even-numbered series.
    expect(forecasts[0].mean[0]).toBeGreaterThan(
      2 * (await new EmbeddedForecastModel().forecast([plain[0]]))[0].mean[0],
    );
  });

  it('scores a series too short for Chronos by the fallback, and the rest on the endpoint', async () => {
    double = await startChronosDouble(HALF_HOUR);
    const requests = await taxiRequests(4, { length: 96 });
    const short = {
      ...requests[2],
      series: { ...requests[2].series, values: requests[2].series.values.slice(0, 3) },
    };
    const mixed = [requests[0], requests[1], short, requests[3]];
    const fallbacks: ForecastFallbackInfo[] = [];
    const forecasts = await chronosModel(double.url, fallbacks).forecast(mixed);
    expect(forecasts.map(isFallbackForecast)).toEqual([false, false, true, false]);
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]).toMatchObject({ reason: 'request-contract', attempts: 0, itemIds: [short.itemId] });
    expect(fallbacks[0].message).toMatch(/at least 5/);
    expect(double.requests.flatMap((r) => r.inputs.map((input) => input.item_id))).toEqual(
      [requests[0], requests[1], requests[3]].map((r) => r.itemId),
    );
  });

  it('falls back when the endpoint answers out of order (item_id mismatch)', async () => {
    double = await startChronosDouble(HALF_HOUR, { reorder: true });
    const requests = await taxiRequests(3, { length: 96 });
    const fallbacks: ForecastFallbackInfo[] = [];
    const forecasts = await chronosModel(double.url, fallbacks).forecast(requests);
    expect(forecasts.every(isFallbackForecast)).toBe(true);
    expect(fallbacks[0]).toMatchObject({ reason: 'malformed-response', attempts: 1 });
    expect(fallbacks[0].message).toContain("'predictions[0].item_id'");
  });
});
