import { describe, expect, it } from 'vitest';
import { emptyTrace, traceIndex } from '../../../src/domain/simulation/demand-trace.ts';
import { TraceClock } from '../../../src/live/clock.ts';
import { RequestSampler, traceRequests } from '../../../src/live/request-sampler.ts';

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
