import { Agent, request as httpRequest } from 'node:http';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { InputValidationError } from '../../../src/domain/errors.ts';
import { EmbeddedForecastModel } from '../../../src/domain/forecasting/embedded-forecaster.ts';
import type { ForecastRequest, KnownEvent } from '../../../src/domain/forecasting/forecast-model.ts';
import { eventMultipliersFor } from '../../../src/domain/forecasting/known-events.ts';
import { readSeriesCsv } from '../../../src/io/series-csv.ts';
import {
  answerDeepArRequest,
  type RunningModelServer,
  startModelServer,
} from '../../../src/local/model-server.ts';
import { assertProperty } from '../../support/property.ts';

const HALF_HOUR = 1_800_000;
let server: RunningModelServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** What the server answers: predictions, or a SageMaker-style error body. */
interface ServerAnswer {
  readonly predictions: { mean: number[]; quantiles: Record<string, number[]> }[];
  readonly Message: string;
  readonly field: string;
  readonly OriginalStatusCode: number;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/endpoints/test-endpoint/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    json: (await response.json()) as ServerAnswer,
  };
}

async function taxiWindow(length: number): Promise<{ startMs: number; values: Float64Array }> {
  const series = await readSeriesCsv('data/real/nab/realKnownCause/nyc_taxi.csv');
  return { startMs: series.startMs, values: series.values.slice(1000, 1000 + length) };
}

describe('local model server (DeepAR contract, embedded model)', () => {
  it('answers GET /ping, and names the routes on an unknown path', async () => {
    server = await startModelServer({ port: 0 });
    expect((await fetch(`${server.url}/ping`)).status).toBe(200);
    const unknown = await fetch(`${server.url}/predict`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as ServerAnswer).Message).toContain(
      'POST /endpoints/{EndpointName}/invocations',
    );
    const wrongMethod = await fetch(`${server.url}/endpoints/x/invocations`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('forecasts each instance like EmbeddedForecastModel, with the dynamic feature as the event multiplier', async () => {
    server = await startModelServer({ port: 0, predictionLength: 6, intervalMs: HALF_HOUR });
    const { startMs, values } = await taxiWindow(500);
    const lastMs = startMs + values.length * HALF_HOUR;
    const future: KnownEvent[] = [
      { name: 'next', region: 'r', startMs: lastMs, endMs: lastMs + 2 * HALF_HOUR, multiplier: 1.8 },
    ];
    const past: KnownEvent[] = [
      {
        name: 'last',
        region: 'r',
        startMs: lastMs - 40 * HALF_HOUR,
        endMs: lastMs - 30 * HALF_HOUR,
        multiplier: 3,
      },
    ];
    const feature = (events: KnownEvent[]) => [
      Array.from(eventMultipliersFor(events, undefined, startMs, HALF_HOUR, values.length + 6)),
    ];
    const target = Array.from(values, (v, t) => (t % 50 === 7 ? 'NaN' : v));
    const { status, json } = await post(server.url, {
      instances: [
        { start: '2014-07-21 20:00:00', target },
        { start: '2014-07-21 20:00:00', target, dynamic_feat: feature(future) },
        { start: '2014-07-21 20:00:00', target, dynamic_feat: feature(past) },
      ],
      configuration: {
        num_samples: 50,
        output_types: ['mean', 'quantiles'],
        quantiles: ['0.1', '0.50', '0.9'],
      },
    });
    expect(status).toBe(200);
    const withNaN = Float64Array.from(target, (v) => (v === 'NaN' ? Number.NaN : (v as number)));
    const base: ForecastRequest = {
      itemId: 'x',
      series: { startMs, intervalMs: HALF_HOUR, values: withNaN },
      horizon: 6,
      quantileLevels: [0.1, 0.5, 0.9],
    };
    const embedded = await new EmbeddedForecastModel().forecast([
      base,
      { ...base, itemId: 'future', events: future },
      { ...base, itemId: 'past', events: past },
    ]);
    embedded.forEach((forecast, i) => {
      expect(json.predictions[i].mean).toEqual(Array.from(forecast.mean));
      expect(json.predictions[i].quantiles['0.1']).toEqual(Array.from(forecast.quantiles.get(0.1)!));
      expect(json.predictions[i].quantiles['0.50']).toEqual(Array.from(forecast.quantiles.get(0.5)!));
      expect(json.predictions[i].quantiles['0.9']).toEqual(Array.from(forecast.quantiles.get(0.9)!));
    });
    // The future event scales its two steps by exactly its multiplier; the past one changes what was learned.
    expect(json.predictions[1].mean[1]).toBeCloseTo(1.8 * json.predictions[0].mean[1], 6);
    expect(json.predictions[1].mean[2]).toBe(json.predictions[0].mean[2]);
    expect(json.predictions[2].mean[0]).not.toBeCloseTo(json.predictions[0].mean[0], 3);
    expect(server.stats).toMatchObject({ invocations: 1, seriesForecast: 3, inFlight: 0 });
  });

  it('checks dynamic_feat against how the model was trained, as DeepAR does: required, or refused', async () => {
    const good = { start: '2024-01-01 00:00:00', target: [1, 2, 3] };
    const withFeature = { ...good, dynamic_feat: [Array(3 + 8).fill(1)] };
    const config = { predictionLength: 8, intervalMs: HALF_HOUR };
    const fieldOf = (body: unknown, dynamicFeat: 'required' | 'refused' | 'optional') => {
      try {
        answerDeepArRequest(body, { ...config, dynamicFeat });
        return undefined;
      } catch (error) {
        return (error as InputValidationError).location.field;
      }
    };
    expect(fieldOf({ instances: [withFeature, good] }, 'required')).toBe('instances[1].dynamic_feat');
    expect(fieldOf({ instances: [good, withFeature] }, 'refused')).toBe('instances[1].dynamic_feat');
    expect(fieldOf({ instances: [withFeature] }, 'required')).toBeUndefined();
    expect(fieldOf({ instances: [good] }, 'refused')).toBeUndefined();
    expect(fieldOf({ instances: [good, withFeature] }, 'optional')).toBeUndefined();
    // Over HTTP: the SDK's ModelError, 400, naming the field.
    server = await startModelServer({ port: 0, dynamicFeat: 'required' });
    const { status, json } = await post(server.url, { instances: [good] });
    expect(status).toBe(400);
    expect(json.field).toBe('instances[0].dynamic_feat');
  });

  it('returns only the output types asked for, and DeepAR default quantiles when none are given', async () => {
    server = await startModelServer({ port: 0 });
    const target = [3, 4, 5, 4, 3, 4, 5, 4];
    const meanOnly = await post(server.url, {
      instances: [{ start: '2024-01-01', target }],
      configuration: { output_types: ['mean'] },
    });
    expect(Object.keys(meanOnly.json.predictions[0])).toEqual(['mean']);
    const defaults = await post(server.url, { instances: [{ start: '2024-01-01 00:00:00', target }] });
    expect(Object.keys(defaults.json.predictions[0].quantiles)).toEqual([
      '0.1',
      '0.2',
      '0.3',
      '0.4',
      '0.5',
      '0.6',
      '0.7',
      '0.8',
      '0.9',
    ]);
    expect(defaults.json.predictions[0].mean).toHaveLength(8);
  });

  const good = { start: '2024-01-01 00:00:00', target: [1, 2, 3] };
  const badRequests: [string, unknown, string][] = [
    ['not JSON', '{"instances": [', '(body)'],
    ['an array body', '[]', '(body)'],
    ['no instances', { configuration: {} }, 'instances'],
    ['empty instances', { instances: [] }, 'instances'],
    ['an instance that is not an object', { instances: [good, 5] }, 'instances[1]'],
    ['a bad start', { instances: [{ ...good, start: '2024-02-30 00:00:00' }] }, 'instances[0].start'],
    ['a missing start', { instances: [{ target: [1] }] }, 'instances[0].start'],
    ['an empty target', { instances: [{ ...good, target: [] }] }, 'instances[0].target'],
    [
      'a non-numeric target value',
      { instances: [good, { ...good, target: [1, 'x'] }] },
      'instances[1].target[1]',
    ],
    [
      'two dynamic features',
      { instances: [{ ...good, dynamic_feat: [[1], [1]] }] },
      'instances[0].dynamic_feat',
    ],
    [
      'a short dynamic feature',
      { instances: [{ ...good, dynamic_feat: [[1, 1, 1]] }] },
      'instances[0].dynamic_feat[0]',
    ],
    [
      'a negative dynamic feature value',
      { instances: [{ ...good, dynamic_feat: [[1, 1, 1, 1, -2, 1, 1, 1, 1, 1, 1]] }] },
      'instances[0].dynamic_feat[0][4]',
    ],
    [
      'a bad num_samples',
      { instances: [good], configuration: { num_samples: 0 } },
      'configuration.num_samples',
    ],
    [
      'an unknown output type',
      { instances: [good], configuration: { output_types: ['median'] } },
      'configuration.output_types[0]',
    ],
    [
      'samples',
      { instances: [good], configuration: { output_types: ['mean', 'samples'] } },
      'configuration.output_types[1]',
    ],
    [
      'a quantile level of 1',
      { instances: [good], configuration: { quantiles: ['0.5', '1'] } },
      'configuration.quantiles[1]',
    ],
    [
      'a non-numeric quantile',
      { instances: [good], configuration: { quantiles: ['p90'] } },
      'configuration.quantiles[0]',
    ],
  ];
  it('answers a bad request with 400 ModelError naming the field', async () => {
    server = await startModelServer({ port: 0 });
    for (const [label, body, field] of badRequests) {
      const { status, errorType, json } = await post(server.url, body);
      expect([label, status, errorType, json.field]).toEqual([label, 400, 'ModelError', field]);
      expect(json.OriginalStatusCode).toBe(400);
      expect(json.Message).toContain(`field '${field}'`);
    }
    const wrongType = await post(server.url, good, { 'content-type': 'text/csv' });
    expect([wrongType.status, wrongType.json.field]).toEqual([400, 'ContentType']);
  });

  it('speaks SageMaker errors to the real SDK: ModelError naming the field, ValidationError for an unknown endpoint', async () => {
    server = await startModelServer({ port: 0, endpointNames: ['known'] });
    const client = new SageMakerRuntimeClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    try {
      const invoke = (name: string, body: unknown) =>
        client.send(
          new InvokeEndpointCommand({
            EndpointName: name,
            Body: JSON.stringify(body),
            ContentType: 'application/json',
          }),
        );
      const error = await invoke('known', { instances: [{ ...good, target: [1, {}] }] }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).OriginalStatusCode).toBe(400);
      expect((error as ModelError).message).toContain("field 'instances[0].target[1]'");
      const missing = await invoke('unknown', { instances: [good] }).catch((e: unknown) => e);
      expect((missing as Error).name).toBe('ValidationError');
      const ok = await invoke('known', { instances: [good] });
      expect(ok.InvokedProductionVariant).toBe('AllTraffic');
      expect(JSON.parse(new TextDecoder().decode(ok.Body)).predictions[0].mean).toHaveLength(8);
    } finally {
      client.destroy();
    }
  });

  it('refuses a body above 6 MB like SageMaker', async () => {
    server = await startModelServer({ port: 0 });
    const huge = JSON.stringify({
      instances: [{ start: '2024-01-01', target: new Array(1_700_000).fill(1.5) }],
    });
    expect(huge.length).toBeGreaterThan(6 * 1024 * 1024);
    const { status, errorType } = await post(server.url, huge);
    expect([status, errorType]).toEqual([413, 'ValidationError']);
  });

  it('closes promptly with a keep-alive connection open', async () => {
    server = await startModelServer({ port: 0 });
    const { port } = server;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({
        port,
        host: '127.0.0.1',
        path: '/ping',
        agent: new Agent({ keepAlive: true }),
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    const started = performance.now();
    await server.close();
    server = undefined;
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(fetch(`http://127.0.0.1:${port}/ping`)).rejects.toThrow();
  });

  it('answers any valid request with one finite, non-negative forecast per instance and level', () => {
    const value = fc.oneof(
      { weight: 9, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }) },
      { weight: 1, arbitrary: fc.constant('NaN' as const) },
    );
    assertProperty(
      fc.property(
        fc.array(fc.array(value, { minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 30 }),
        (targets, percents, predictionLength) => {
          const quantiles = percents.map((p) => String(p / 100));
          const answer = answerDeepArRequest(
            {
              instances: targets.map((target) => ({ start: '2024-05-01 00:00:00', target })),
              configuration: { quantiles },
            },
            { predictionLength, intervalMs: 300_000 },
          );
          expect(answer.predictions).toHaveLength(targets.length);
          for (const prediction of answer.predictions) {
            const series = [
              prediction.mean,
              ...Object.values(prediction.quantiles as Record<string, number[]>),
            ];
            expect(Object.keys(prediction.quantiles as object)).toEqual(quantiles);
            for (const values of series as number[][]) {
              expect(values).toHaveLength(predictionLength);
              for (const v of values) expect(Number.isFinite(v) && v >= 0).toBe(true);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
