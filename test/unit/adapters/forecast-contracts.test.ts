import { describe, expect, it } from 'vitest';
import {
  chronosCodec,
  decodeChronosResponse,
  encodeChronosRequest,
  pandasFrequency,
} from '../../../src/adapters/forecast-contracts/chronos-codec.ts';
import {
  decodeDeepArResponse,
  deepArCodec,
  encodeDeepArRequest,
} from '../../../src/adapters/forecast-contracts/deepar-codec.ts';
import {
  ForecastRequestContractError,
  MalformedForecastResponseError,
} from '../../../src/adapters/forecast-contracts/forecast-codec.ts';
import { HostedForecastModel } from '../../../src/adapters/forecast-contracts/hosted-forecast-model.ts';
import type { ForecastRequest } from '../../../src/domain/forecasting/forecast-model.ts';

const HOUR = 3_600_000;
const FIVE_MIN = 300_000;

function request(
  itemId: string,
  start: string,
  values: number[],
  intervalMs: number,
  horizon: number,
  extra: Partial<ForecastRequest> = {},
): ForecastRequest {
  return {
    itemId,
    series: { startMs: Date.parse(start), intervalMs, values: Float64Array.from(values) },
    horizon,
    quantileLevels: [0.1, 0.5, 0.9],
    ...extra,
  };
}

describe('DeepAR codec', () => {
  const requests = [
    request('p1#us-east-1', '2009-11-01T00:00:00Z', [4, 10, Number.NaN, 100, 113], HOUR, 2),
    request('p2#us-east-1', '2012-01-30T00:00:00Z', [1], HOUR, 2),
  ];

  it('encodes the documented request: space-separated start, "NaN" for missing values, string quantiles', () => {
    expect(encodeDeepArRequest(requests, { numSamples: 50 })).toEqual({
      instances: [
        { start: '2009-11-01 00:00:00', target: [4, 10, 'NaN', 100, 113] },
        { start: '2012-01-30 00:00:00', target: [1] },
      ],
      configuration: {
        num_samples: 50,
        output_types: ['mean', 'quantiles'],
        quantiles: ['0.1', '0.5', '0.9'],
      },
    });
  });

  it('sends known events as one dynamic_feat covering history and horizon, when the model has that feature', () => {
    const withEvent = request('p', '2024-01-01T00:00:00Z', [5, 6, 7], HOUR, 2, {
      events: [
        {
          name: 'sale',
          region: 'eu',
          startMs: Date.parse('2024-01-01T02:00:00Z'),
          endMs: Date.parse('2024-01-01T04:00:00Z'),
          multiplier: 3,
        },
      ],
    });
    const body = encodeDeepArRequest([withEvent], { eventFeature: true, maxHistory: 2 });
    expect(body.instances[0]).toEqual({
      start: '2024-01-01 01:00:00',
      target: [6, 7],
      dynamic_feat: [[1, 3, 3, 1]],
    });
    expect(JSON.stringify(body)).not.toContain('null');
  });

  it('decodes the documented response shape (samples ignored), clamping negative demand to 0', () => {
    const body = {
      predictions: [
        {
          quantiles: { '0.9': [9, 9.5], '0.5': [5, 5.5], '0.1': [-1, 1] },
          samples: [[1, 2]],
          mean: [5, 5.5],
        },
        { quantiles: { '0.1': [0.1, 0.2], '0.5': [1, 2], '0.9': [3, 4] }, mean: [1, 2] },
      ],
    };
    const [first, second] = decodeDeepArResponse(body, requests);
    expect(first.itemId).toBe('p1#us-east-1');
    expect(first.model).toBe('sagemaker:deepar');
    expect(first.startMs).toBe(Date.parse('2009-11-01T05:00:00Z'));
    expect(Array.from(first.mean)).toEqual([5, 5.5]);
    expect(Array.from(first.quantiles.get(0.1)!)).toEqual([0, 1]);
    expect(Array.from(second.quantiles.get(0.9)!)).toEqual([3, 4]);
  });

  it('names the offending field of a malformed response', () => {
    const good = { quantiles: { '0.1': [1, 1], '0.5': [1, 1], '0.9': [1, 1] }, mean: [1, 1] };
    const cases: [unknown, string][] = [
      [[], '(body)'],
      [{}, 'predictions'],
      [{ predictions: [good] }, 'predictions'],
      [{ predictions: [good, { ...good, mean: [1] }] }, 'predictions[1].mean'],
      [
        { predictions: [good, { ...good, quantiles: { '0.1': [1, 1], '0.5': [1, 1] } }] },
        'predictions[1].quantiles.0.9',
      ],
      [
        { predictions: [good, { ...good, quantiles: { ...good.quantiles, '0.9': [1, 'x'] } }] },
        'predictions[1].quantiles.0.9[1]',
      ],
    ];
    for (const [body, field] of cases) {
      let caught: unknown;
      try {
        decodeDeepArResponse(body, requests);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(MalformedForecastResponseError);
      expect((caught as MalformedForecastResponseError).field).toBe(field);
      expect((caught as Error).message).toContain(`'${field}'`);
    }
  });

  it('refuses requests that cannot share one body', () => {
    expect(() => encodeDeepArRequest([requests[0], { ...requests[1], horizon: 3 }])).toThrow(
      ForecastRequestContractError,
    );
    expect(() => encodeDeepArRequest([requests[0], { ...requests[1], itemId: requests[0].itemId }])).toThrow(
      /duplicate/,
    );
    expect(() => encodeDeepArRequest([])).toThrow(ForecastRequestContractError);
  });
});

describe('Chronos codec', () => {
  // The documented JumpStart example: two hourly series with item_id and start.
  const requests = [
    request('product_A', '2024-01-01T01:00:00Z', [1.0, 2.0, 3.0, 2.0, 0.5, 2.0, 3.0, 2.0, 1.0], HOUR, 5),
    request('product_B', '2024-02-02T03:00:00Z', [5.4, 3.0, 3.0, 2.0, 1.5, 2.0, 1.0], HOUR, 5),
  ];

  it('encodes the documented request with freq and ISO starts', () => {
    expect(encodeChronosRequest(requests)).toEqual({
      inputs: [
        { target: [1, 2, 3, 2, 0.5, 2, 3, 2, 1], item_id: 'product_A', start: '2024-01-01T01:00:00' },
        { target: [5.4, 3, 3, 2, 1.5, 2, 1], item_id: 'product_B', start: '2024-02-02T03:00:00' },
      ],
      parameters: { prediction_length: 5, quantile_levels: [0.1, 0.5, 0.9], freq: '1h' },
    });
  });

  it('sends events as past and future covariates and interpolates missing values', () => {
    const withEvent = request(
      'p',
      '2024-01-01T00:00:00Z',
      [Number.NaN, 2, Number.NaN, Number.NaN, 8, Number.NaN],
      FIVE_MIN,
      2,
      {
        events: [
          {
            name: 'x',
            region: 'r',
            startMs: Date.parse('2024-01-01T00:25:00Z'),
            endMs: Date.parse('2024-01-01T00:35:00Z'),
            multiplier: 2,
          },
        ],
      },
    );
    const body = encodeChronosRequest([
      withEvent,
      request('q', '2024-01-01T00:00:00Z', [1, 1, 1, 1, 1, 1], FIVE_MIN, 2),
    ]);
    expect(body.parameters.freq).toBe('5min');
    expect(body.inputs[0]).toEqual({
      target: [2, 2, 4, 6, 8, 8],
      item_id: 'p',
      start: '2024-01-01T00:00:00',
      past_covariates: { event_multiplier: [1, 1, 1, 1, 1, 2] },
      future_covariates: { event_multiplier: [2, 1] },
    });
    // Every input carries the covariate once any does, so the batch is consistent.
    expect(body.inputs[1].past_covariates).toEqual({ event_multiplier: [1, 1, 1, 1, 1, 1] });
  });

  it('decodes the documented response (item_id, start, mean and quantile keys)', () => {
    const body = {
      predictions: [
        {
          mean: [1.41, 1.5, 1.49, 1.45, 1.51],
          '0.1': [0.12, -0.08, -0.25, -0.41, -0.45],
          '0.5': [1.41, 1.5, 1.49, 1.45, 1.51],
          '0.9': [3.29, 3.82, 4.09, 4.3, 4.56],
          item_id: 'product_A',
          start: '2024-01-01T10:00:00',
        },
        {
          mean: [-1.22, -1.3, -1.3, -1.14, -1.13],
          '0.1': [-4.51, -5.48, -6.12, -6.5, -7.1],
          '0.5': [-1.22, -1.3, -1.3, -1.14, -1.13],
          '0.9': [2.84, 4.02, 4.92, 5.99, 6.79],
          item_id: 'product_B',
          start: '2024-02-02T10:00:00',
        },
      ],
    };
    const [a, b] = decodeChronosResponse(body, requests);
    expect(a.model).toBe('sagemaker:chronos');
    expect(a.startMs).toBe(Date.parse('2024-01-01T10:00:00Z'));
    expect(Array.from(a.quantiles.get(0.9)!)).toEqual([3.29, 3.82, 4.09, 4.3, 4.56]);
    expect(Array.from(a.quantiles.get(0.1)!)).toEqual([0.12, 0, 0, 0, 0]);
    expect(Array.from(b.mean)).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(b.quantiles.get(0.9)!)).toEqual([2.84, 4.02, 4.92, 5.99, 6.79]);
  });

  it('names the offending field of a malformed response', () => {
    const good = (id: string, start: string) => ({
      mean: [1, 1, 1, 1, 1],
      '0.1': [1, 1, 1, 1, 1],
      '0.5': [1, 1, 1, 1, 1],
      '0.9': [1, 1, 1, 1, 1],
      item_id: id,
      start,
    });
    const a = good('product_A', '2024-01-01T10:00:00');
    const b = good('product_B', '2024-02-02T10:00:00');
    const cases: [unknown, string][] = [
      [{ predictions: 'x' }, 'predictions'],
      [{ predictions: [a, { ...b, item_id: 'product_C' }] }, 'predictions[1].item_id'],
      [{ predictions: [a, { ...b, start: '2024-02-02T11:00:00' }] }, 'predictions[1].start'],
      [{ predictions: [a, { ...b, '0.9': undefined }] }, 'predictions[1].0.9'],
      [{ predictions: [{ ...a, mean: [1, 2, null, 4, 5] }, b] }, 'predictions[0].mean[2]'],
    ];
    for (const [body, field] of cases) {
      expect(() => decodeChronosResponse(body, requests)).toThrow(expect.objectContaining({ field }));
    }
  });

  it('refuses short series, too many series and unsupported frequencies', () => {
    expect(() => encodeChronosRequest([request('s', '2024-01-01T00:00:00Z', [1, 2, 3, 4], HOUR, 2)])).toThrow(
      /at least 5/,
    );
    const many = Array.from({ length: 1001 }, (_, i) =>
      request(`i${i}`, '2024-01-01T00:00:00Z', [1, 2, 3, 4, 5], HOUR, 1),
    );
    expect(() => encodeChronosRequest(many)).toThrow(/at most 1000/);
    expect(pandasFrequency(86_400_000)).toBe('D');
    expect(pandasFrequency(30 * 60_000)).toBe('30min');
    expect(pandasFrequency(2 * HOUR)).toBe('2h');
    expect(() => pandasFrequency(1500)).toThrow(ForecastRequestContractError);
  });
});

describe('HostedForecastModel', () => {
  it('round-trips through an injected invoke: one body per horizon/levels group, forecasts in request order', async () => {
    const a = request('a', '2024-01-01T00:00:00Z', [1, 2, 3, 4, 5], HOUR, 2);
    const b = request('b', '2024-01-01T00:00:00Z', [5, 4, 3, 2, 1], HOUR, 3);
    const c = request('c', '2024-01-01T00:00:00Z', [2, 2, 2, 2, 2], HOUR, 2);
    const bodies: unknown[] = [];
    const invoke = async (body: string) => {
      const parsed = JSON.parse(body);
      bodies.push(parsed);
      const predictions = parsed.inputs.map((input: { item_id: string }) => {
        const n = parsed.parameters.prediction_length;
        const value = input.item_id.charCodeAt(0);
        const series = Array.from({ length: n }, () => value);
        return { mean: series, '0.1': series, '0.5': series, '0.9': series, item_id: input.item_id };
      });
      return JSON.stringify({ predictions });
    };
    const model = new HostedForecastModel({ codec: chronosCodec(), invoke });
    expect(model.name).toBe('sagemaker:chronos');
    const forecasts = await model.forecast([a, b, c]);
    expect(forecasts.map((f) => f.itemId)).toEqual(['a', 'b', 'c']);
    expect(forecasts.map((f) => f.mean.length)).toEqual([2, 3, 2]);
    expect(forecasts[1].mean[0]).toBe('b'.charCodeAt(0));
    expect(bodies).toEqual([encodeChronosRequest([a, c]), encodeChronosRequest([b])]);
  });

  it('splits large batches and reports a non-JSON response as malformed', async () => {
    const requests = Array.from({ length: 5 }, (_, i) =>
      request(`i${i}`, '2024-01-01T00:00:00Z', [1, 2, 3], HOUR, 1),
    );
    let calls = 0;
    const model = new HostedForecastModel({
      codec: deepArCodec(),
      maxItemsPerRequest: 2,
      invoke: async (body) => {
        calls++;
        const n = JSON.parse(body).instances.length;
        return JSON.stringify({
          predictions: Array.from({ length: n }, () => ({
            mean: [1],
            quantiles: { '0.1': [0], '0.5': [1], '0.9': [2] },
          })),
        });
      },
    });
    expect((await model.forecast(requests)).length).toBe(5);
    expect(calls).toBe(3);
    const broken = new HostedForecastModel({ codec: deepArCodec(), invoke: async () => '<html>oops' });
    await expect(broken.forecast(requests)).rejects.toThrow(MalformedForecastResponseError);
  });
});
