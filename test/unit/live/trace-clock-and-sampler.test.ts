import { describe, expect, it } from 'vitest';
import { emptyTrace, traceIndex } from '../../../src/domain/simulation/demand-trace.ts';
import { TraceClock } from '../../../src/live/clock.ts';
import {
  carrierScaleFor,
  RequestSampler,
  type SampledRequest,
  traceRequests,
} from '../../../src/live/request-sampler.ts';

describe('TraceClock', () => {
  it('runs at its speed from where it is held, holds still, and never goes back', () => {
    let wall = 1_000;
    const clock = new TraceClock(5_000_000, 100, () => wall);
    expect(clock.nowMs()).toBe(5_000_000);
    wall += 50;
    expect(clock.nowMs()).toBe(5_000_000); // held until run
    clock.run();
    wall += 10;
    expect(clock.nowMs()).toBe(5_001_000);
    expect(clock.wallMsUntil(5_002_000)).toBe(10);
    clock.holdAt(4_000_000); // never back
    expect(clock.nowMs()).toBe(5_001_000);
    wall += 1_000;
    expect(clock.nowMs()).toBe(5_001_000);
    expect(clock.wallMsUntil(6_000_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it('reads the same on another thread from its state, held or running', () => {
    let wall = 1_000;
    const owner = new TraceClock(5_000_000, 100, () => wall);
    const held = TraceClock.following(owner.state(), () => wall);
    wall += 20;
    expect(held.nowMs()).toBe(owner.nowMs());
    owner.run();
    const running = TraceClock.following(owner.state(), () => wall);
    wall += 30;
    expect(running.nowMs()).toBe(5_003_000);
    expect(running.nowMs()).toBe(owner.nowMs());
    expect(running.isRunning).toBe(true);
  });

  it('reads a past wall instant on the trace clock: exact while it runs, the hold before it, never ahead of now', () => {
    let wall = 1_000;
    const clock = new TraceClock(5_000_000, 100, () => wall);
    wall += 50;
    expect(clock.fromWallMs(1_020)).toBe(5_000_000); // held: the held instant
    clock.run(); // runs from wall 1_050
    wall += 10;
    expect(clock.fromWallMs(1_055)).toBe(5_000_500);
    expect(clock.fromWallMs(1_020)).toBe(5_000_000); // before the run: where it ran from
    expect(clock.fromWallMs(2_000)).toBe(clock.nowMs()); // never ahead of now
    const follower = TraceClock.following(clock.state(), () => wall);
    expect(follower.fromWallMs(1_055)).toBe(5_000_500);
  });

  it('refuses a speed that is not a positive number', () => {
    expect(() => new TraceClock(0, 0)).toThrow(/speed/);
    expect(() => new TraceClock(0, Number.NaN)).toThrow(/speed/);
  });
});

describe('RequestSampler', () => {
  const BUCKET = 900_000;
  const trace = emptyTrace(0, BUCKET, 96, ['a', 'b'], ['us-east-1', 'eu-west-1']);
  for (let b = 0; b < 96; b++) {
    trace.reads[traceIndex(trace, b, 0, 0)] = 10; // a: 10 reads/s from us-east-1
    trace.writes[traceIndex(trace, b, 0, 0)] = 2.5;
    trace.reads[traceIndex(trace, b, 1, 1)] = 0.3; // b: a trickle from eu-west-1
  }

  it('sends the trace times the scale per series, keeping the read/write mix, within one request', () => {
    const scale = 1 / 1000;
    const sampler = new RequestSampler(trace, scale);
    const sent = Array.from({ length: 96 }, (_, b) => sampler.requestsOf(b)).flat();
    const count = (p: string, r: string, k: string) =>
      sent.filter((q) => q.partition === p && q.region === r && q.kind === k).length;
    expect(Math.abs(count('a', 'us-east-1', 'read') - 10 * 86_400 * scale)).toBeLessThanOrEqual(1);
    expect(Math.abs(count('a', 'us-east-1', 'write') - 2.5 * 86_400 * scale)).toBeLessThanOrEqual(1);
    expect(Math.abs(count('b', 'eu-west-1', 'read') - 0.3 * 86_400 * scale)).toBeLessThanOrEqual(1);
    expect(count('a', 'eu-west-1', 'read') + count('b', 'us-east-1', 'read')).toBe(0);
    expect(Math.abs(sent.length - traceRequests(trace, 0, 96) * scale)).toBeLessThanOrEqual(3);
    // Each bucket's requests are due inside that bucket, in order.
    const fresh = new RequestSampler(trace, scale);
    for (let b = 0; b < 3; b++) {
      const due = fresh.requestsOf(b).map((q) => q.atTraceMs);
      expect(due.length).toBeGreaterThan(0);
      expect(due.every((t) => t >= b * BUCKET && t < (b + 1) * BUCKET)).toBe(true);
      expect(due).toEqual([...due].sort((x, y) => x - y));
    }
  });

  it('counts what the recorders would have counted, per region and recorder bucket, as sending would', () => {
    const scale = 1 / 1000;
    const counted = new RequestSampler(trace, scale).countsOver(0, 96, 3_600_000);
    const sent = new RequestSampler(trace, scale);
    const requests = Array.from({ length: 96 }, (_, b) => sent.requestsOf(b)).flat();
    const us = counted.get('us-east-1')!;
    expect(us.every((c) => c.partition === 'a' && c.bucketStartMs % 3_600_000 === 0)).toBe(true);
    expect(us.reduce((n, c) => n + c.count, 0)).toBe(requests.filter((q) => q.region === 'us-east-1').length);
    expect(us.reduce((n, c) => n + (c.writes ?? 0), 0)).toBe(
      requests.filter((q) => q.region === 'us-east-1' && q.kind === 'write').length,
    );
    expect(counted.get('eu-west-1')!.reduce((n, c) => n + c.count, 0)).toBe(
      requests.filter((q) => q.region === 'eu-west-1').length,
    );
  });
});

describe('RequestSampler, counted (every request declares the trace demand it stands for)', () => {
  const BUCKET = 900_000;
  const HOUR = 3_600_000;
  const trace = emptyTrace(0, BUCKET, 96, ['a', 'b', 'c'], ['us-east-1', 'eu-west-1']);
  for (let b = 0; b < 96; b++) {
    trace.reads[traceIndex(trace, b, 0, 0)] = 10; // a: 10 reads/s from us-east-1, a quarter of them writes
    trace.writes[traceIndex(trace, b, 0, 0)] = 2.5;
    trace.reads[traceIndex(trace, b, 1, 1)] = 0.3; // b: a trickle, far below one sampled request an hour
    if (b % 8 === 3) trace.writes[traceIndex(trace, b, 2, 0)] = 0.01; // c: writes in one bucket of two hours
  }
  const scale = 1 / 10_000;

  /** What the recorders count from the requests: their weights summed per series and recorder hour. */
  function countedPerHour(requests: readonly SampledRequest[]) {
    const counts = new Map<string, { reads: number; writes: number; requests: number }>();
    for (const q of requests) {
      const id = `${q.partition}/${q.region}/${q.atTraceMs - (q.atTraceMs % HOUR)}`;
      const c = counts.get(id) ?? { reads: 0, writes: 0, requests: 0 };
      c.reads += q.standsFor!.reads;
      c.writes += q.standsFor!.writes;
      c.requests += 1;
      counts.set(id, c);
    }
    return counts;
  }

  it("adds up to the trace's exact reads and writes per series and hour, with a request wherever there is demand", () => {
    const sampler = new RequestSampler(trace, scale, { countingBucketMs: HOUR });
    const sent = Array.from({ length: 96 }, (_, b) => sampler.requestsOf(b)).flat();
    expect(sent.every((q) => q.standsFor !== undefined)).toBe(true);
    const counts = countedPerHour(sent);
    for (let hour = 0; hour < 24; hour++) {
      const a = counts.get(`a/us-east-1/${hour * HOUR}`)!;
      expect(a.reads).toBeCloseTo(10 * 3600, 6);
      expect(a.writes).toBeCloseTo(2.5 * 3600, 6);
      // The sample alone would send b about one request a day: every hour still gets one.
      const b = counts.get(`b/eu-west-1/${hour * HOUR}`)!;
      expect(b.requests).toBe(1);
      expect(b.reads).toBeCloseTo(0.3 * 3600, 6);
      expect(b.writes).toBe(0);
      const c = counts.get(`c/us-east-1/${hour * HOUR}`);
      if (hour % 2 === 0) {
        expect(c!.writes).toBeCloseTo(0.01 * 900, 9);
        expect(
          sent.filter((q) => q.partition === 'c' && q.atTraceMs - (q.atTraceMs % HOUR) === hour * HOUR)[0]
            .kind,
        ).toBe('write');
      } else expect(c).toBeUndefined();
    }
    // No demand, no request.
    expect([...counts.keys()].some((k) => k.startsWith('a/eu-west-1') || k.startsWith('b/us-east-1'))).toBe(
      false,
    );
    // The sample is still there: a's requests follow the trace times the scale (4.5 an hour: no carrier needed).
    const aSent = sent.filter((q) => q.partition === 'a').length;
    expect(Math.abs(aSent - 12.5 * 86_400 * scale)).toBeLessThanOrEqual(2);
    // Each bucket's requests are due in that bucket, in order.
    const fresh = new RequestSampler(trace, scale, { countingBucketMs: HOUR });
    for (let b = 0; b < 8; b++) {
      const due = fresh.requestsOf(b).map((q) => q.atTraceMs);
      expect(due.every((t) => t >= b * BUCKET && t < (b + 1) * BUCKET)).toBe(true);
      expect(due).toEqual([...due].sort((x, y) => x - y));
    }
  });

  it('counts the history exactly, in trace units, and a replay starting mid-hour counts only the rest of it', () => {
    const counts = new RequestSampler(trace, scale, { countingBucketMs: HOUR }).countsOver(0, 8, HOUR);
    const us = counts.get('us-east-1')!;
    const a0 = us.find((c) => c.partition === 'a' && c.bucketStartMs === 0)!;
    expect(a0.count).toBeCloseTo(12.5 * 3600, 6);
    expect(a0.writes).toBeCloseTo(2.5 * 3600, 6);
    // History up to bucket 2 (half of hour 0), then the replay from bucket 2: together, hour 0 once.
    const sampler = new RequestSampler(trace, scale, { countingBucketMs: HOUR });
    const history = sampler
      .countsOver(0, 2, HOUR)
      .get('us-east-1')!
      .find((c) => c.partition === 'a')!;
    const replayed = [2, 3].flatMap((b) => sampler.requestsOf(b)).filter((q) => q.partition === 'a');
    const total = history.count + replayed.reduce((n, q) => n + q.standsFor!.reads + q.standsFor!.writes, 0);
    expect(total).toBeCloseTo(12.5 * 3600, 6);
  });

  it('within a carrier budget: the busy series stay exact, the quiet ones unbiased, about the budget sent', () => {
    const P = 40;
    const quiet = emptyTrace(
      0,
      BUCKET,
      96,
      Array.from({ length: P }, (_, p) => `p${p}`),
      ['us-east-1'],
    );
    // Demand from 0.01 to 0.4 req/s: every series-hour is below one sampled request at this scale.
    for (let b = 0; b < 96; b++)
      for (let p = 0; p < P; p++) quiet.reads[traceIndex(quiet, b, p, 0)] = 0.01 * (p + 1);
    const hours = 24 * P;
    const budget = (2 * hours) / 3;
    const carrierScale = carrierScaleFor(quiet, 0, 96, HOUR, scale, budget);
    expect(carrierScale).toBeLessThan(Number.POSITIVE_INFINITY);
    // A budget that covers every series-hour needs no scale.
    expect(carrierScaleFor(quiet, 0, 96, HOUR, scale, hours)).toBe(Number.POSITIVE_INFINITY);
    let sent = 0;
    const totals = new Float64Array(P);
    const draws = 40;
    for (let seed = 1; seed <= draws; seed++) {
      const sampler = new RequestSampler(quiet, scale, { countingBucketMs: HOUR, carrierScale, seed });
      const requests = Array.from({ length: 96 }, (_, b) => sampler.requestsOf(b)).flat();
      sent += requests.length;
      for (const q of requests) totals[Number(q.partition.slice(1))] += q.standsFor!.reads;
      // The busiest series are included every hour with their exact count.
      const busiest = countedPerHour(requests.filter((q) => q.partition === `p${P - 1}`));
      expect(busiest.size).toBe(24);
      for (const c of busiest.values()) expect(c.reads).toBeCloseTo(0.01 * P * 3600, 6);
    }
    expect(sent / draws).toBeGreaterThan(budget * 0.85);
    expect(sent / draws).toBeLessThan(budget * 1.15);
    // Every series' day is counted right on average (Horvitz–Thompson): within 4 standard errors of the exact
    // count for each (an hour included with probability π weighs 1/π of its count), and the whole within 2%.
    let counted = 0;
    let exactTotal = 0;
    for (let p = 0; p < P; p++) {
      const perHour = 0.01 * (p + 1) * 3600;
      const inclusion = Math.min(1, perHour * carrierScale);
      const exact = perHour * 24;
      const standardError = perHour * Math.sqrt((24 * (1 - inclusion)) / inclusion / draws);
      expect(Math.abs(totals[p] / draws - exact)).toBeLessThanOrEqual(4 * standardError + 1e-6 * exact);
      counted += totals[p] / draws;
      exactTotal += exact;
    }
    expect(Math.abs(counted - exactTotal) / exactTotal).toBeLessThan(0.02);
  });

  it('refuses a counting bucket that is not a multiple of the trace bucket', () => {
    expect(() => new RequestSampler(trace, scale, { countingBucketMs: 1_000_000 })).toThrow(/multiple/);
  });
});
