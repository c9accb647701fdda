import type { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import { EmbeddedForecastModel } from '../../../src/domain/forecasting/embedded-forecaster.ts';
import { profilerForecastModel } from '../../../src/lambda/profiler-forecast-model.ts';

const observers = () => {
  const metrics: { name: string; value: number }[] = [];
  const warnings: { message: string; details?: Record<string, unknown> }[] = [];
  return {
    metrics,
    warnings,
    sinks: {
      metrics: { add: (name: string, _unit: string, value: number) => metrics.push({ name, value }) },
      log: {
        info: () => undefined,
        warn: (message: string, details?: Record<string, unknown>) => warnings.push({ message, details }),
      },
    },
  };
};

describe('profilerForecastModel', () => {
  it('is the embedded model when so configured', () => {
    const o = observers();
    const model = profilerForecastModel({ forecastModel: 'embedded', forecastContract: 'deepar' }, o.sinks);
    expect(model).toBeInstanceOf(EmbeddedForecastModel);
  });

  it('falls back to the embedded model when the endpoint fails, counting and logging each fallback batch', async () => {
    const o = observers();
    let calls = 0;
    const client = {
      send: async () => {
        calls++;
        throw Object.assign(new Error('Endpoint prestage-deepar of account 123 not found.'), {
          name: 'ValidationError',
        });
      },
    } as unknown as SageMakerRuntimeClient;
    const model = profilerForecastModel(
      { forecastModel: 'sagemaker', sagemakerEndpoint: 'prestage-deepar', forecastContract: 'deepar' },
      o.sinks,
      { client, maxSeriesPerRequest: 2, maxConcurrency: 1, circuitBreakerThreshold: 100 },
    );
    const requests = Array.from({ length: 3 }, (_, i) => ({
      itemId: `p${i}#us-east-1`,
      series: {
        startMs: 0,
        intervalMs: 900_000,
        values: Float64Array.from({ length: 200 }, (_, t) => 5 + (t % 4)),
      },
      horizon: 4,
      quantileLevels: [0.1, 0.5, 0.9],
    }));
    const forecasts = await model.forecast(requests);
    expect(forecasts.map((f) => f.itemId)).toEqual(requests.map((r) => r.itemId));
    expect(forecasts.every((f) => f.model.startsWith('fallback:') && f.mean.length === 4)).toBe(true);
    // Two batches (2 + 1 series), each failing once (a ValidationError is not retried).
    expect(calls).toBe(2);
    expect(o.metrics).toEqual([
      { name: 'ForecastFallbacks', value: 1 },
      { name: 'ForecastFallbacks', value: 1 },
    ]);
    expect(o.warnings[0]).toMatchObject({
      message: 'forecast batch scored by the embedded fallback',
      details: { endpoint: 'prestage-deepar', reason: 'endpoint-error', series: 2, error: 'ValidationError' },
    });
  });
});
