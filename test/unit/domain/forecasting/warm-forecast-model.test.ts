import { describe, expect, it } from 'vitest';
import { EmbeddedForecastModel } from '../../../../src/domain/forecasting/embedded-forecaster.ts';
import type { ForecastRequest, KnownEvent } from '../../../../src/domain/forecasting/forecast-model.ts';
import { WarmEmbeddedForecastModel } from '../../../../src/domain/forecasting/warm-forecast-model.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2024, 0, 1);

/** Hourly demand with a daily cycle, noise and a missing bucket: what a partition's series looks like. */
function demand(n: number, seed = 1): Float64Array {
  let s = seed;
  const random = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  return Float64Array.from({ length: n }, (_, i) =>
    i === 30 ? Number.NaN : 100 + 60 * Math.sin((2 * Math.PI * i) / 24) + 20 * random(),
  );
}

function request(
  itemId: string,
  values: Float64Array,
  startMs = START,
  events?: KnownEvent[],
): ForecastRequest {
  return {
    itemId,
    series: { startMs, intervalMs: HOUR, values },
    horizon: 2,
    quantileLevels: [0.1, 0.5, 0.9],
    ...(events ? { events } : {}),
  };
}

const replay = new EmbeddedForecastModel();

async function expectSameAsReplay(warm: WarmEmbeddedForecastModel, requests: ForecastRequest[]) {
  expect(await warm.forecast(requests)).toEqual(await replay.forecast(requests));
}

describe('WarmEmbeddedForecastModel', () => {
  it('forecasts exactly as a replay of the whole series, observing only the buckets appended since', async () => {
    const warm = new WarmEmbeddedForecastModel();
    const a = demand(200, 1);
    const b = demand(200, 2);
    for (let n = 96; n <= 120; n++) {
      await expectSameAsReplay(warm, [request('a#us', a.subarray(0, n)), request('b#eu', b.subarray(0, n))]);
    }
    // 2 first replays, then 24 cycles × 2 series each fed one bucket.
    expect(warm.stats).toEqual({ replayed: 2, extended: 48, observedBuckets: 2 * 96 + 48 });
  });

  it('replays a series whose past bucket changed (a count flushed late), whose start moved, or whose events changed', async () => {
    const warm = new WarmEmbeddedForecastModel();
    const values = demand(150);
    await expectSameAsReplay(warm, [request('a#us', values.subarray(0, 100))]);

    const late = values.slice(0, 101);
    late[98] += 5;
    await expectSameAsReplay(warm, [request('a#us', late)]);
    expect(warm.stats.replayed).toBe(2);

    // The lookback's anchor moved: the series starts a day later.
    await expectSameAsReplay(warm, [request('a#us', late.subarray(24), START + 24 * HOUR)]);
    expect(warm.stats.replayed).toBe(3);

    // An operator added a known event over buckets already observed.
    const event: KnownEvent = {
      name: 'sale',
      region: '*',
      startMs: START + 40 * HOUR,
      endMs: START + 44 * HOUR,
      multiplier: 2,
    };
    await expectSameAsReplay(warm, [request('a#us', late.subarray(24), START + 24 * HOUR, [event])]);
    expect(warm.stats.replayed).toBe(4);
    await expectSameAsReplay(warm, [request('a#us', values.subarray(24, 102), START + 24 * HOUR, [event])]);
    // values[98] differs from the late copy again: replayed.
    expect(warm.stats).toMatchObject({ replayed: 5, extended: 0 });
    await expectSameAsReplay(warm, [request('a#us', values.subarray(24, 103), START + 24 * HOUR, [event])]);
    expect(warm.stats).toMatchObject({ replayed: 5, extended: 1 });
  });

  it('a series asked again with nothing new observes nothing and forecasts the same', async () => {
    const warm = new WarmEmbeddedForecastModel();
    const values = demand(100);
    const first = await warm.forecast([request('a#us', values)]);
    const observed = warm.stats.observedBuckets;
    expect(await warm.forecast([request('a#us', values)])).toEqual(first);
    expect(warm.stats.observedBuckets).toBe(observed);
  });

  it('keeps at most maxSeries series, dropping the least recently used', async () => {
    const warm = new WarmEmbeddedForecastModel({}, 2);
    const values = demand(60);
    for (const id of ['a', 'b', 'a', 'c', 'a', 'b']) await warm.forecast([request(id, values)]);
    // a: replayed, b: replayed, a: kept, c: replayed (b dropped), a: kept, b: replayed.
    expect(warm.stats).toMatchObject({ replayed: 4, extended: 2 });
    expect(() => new WarmEmbeddedForecastModel({}, 0)).toThrow(RangeError);
  });
});
