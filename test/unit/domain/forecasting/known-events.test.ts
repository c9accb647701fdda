import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KnownEvent } from '../../../../src/domain/forecasting/forecast-model.ts';
import {
  eventMultipliersFor,
  eventsForSeries,
  eventsOverlapping,
} from '../../../../src/domain/forecasting/known-events.ts';
import { assertProperty } from '../../../support/property.ts';

const T0 = Date.UTC(2024, 5, 1);
const STEP = 300_000;

function event(partial: Partial<KnownEvent>): KnownEvent {
  return { name: 'e', region: 'us-east-1', startMs: T0, endMs: T0 + STEP, multiplier: 2, ...partial };
}

describe('eventMultipliersFor', () => {
  it('is 1 everywhere without events', () => {
    expect(Array.from(eventMultipliersFor([], 'us-east-1', T0, STEP, 3))).toEqual([1, 1, 1]);
    expect(Array.from(eventMultipliersFor(undefined, undefined, T0, STEP, 2))).toEqual([1, 1]);
  });

  it('applies an event to the buckets it covers, pro rata at partly covered edges', () => {
    const out = eventMultipliersFor(
      [event({ startMs: T0 + STEP / 2, endMs: T0 + 2 * STEP, multiplier: 3 })],
      'us-east-1',
      T0,
      STEP,
      4,
    );
    expect(Array.from(out)).toEqual([2, 3, 1, 1]);
  });

  it('filters by region (with the * wildcard) and multiplies overlapping events', () => {
    const events = [
      event({ region: 'eu-west-1', multiplier: 5 }),
      event({ region: '*', multiplier: 2, endMs: T0 + 2 * STEP }),
      event({ multiplier: 1.5 }),
    ];
    expect(Array.from(eventMultipliersFor(events, 'us-east-1', T0, STEP, 3))).toEqual([3, 2, 1]);
    expect(Array.from(eventMultipliersFor(events, 'eu-west-1', T0, STEP, 3))).toEqual([10, 2, 1]);
    // No region: every event applies.
    expect(Array.from(eventMultipliersFor(events, undefined, T0, STEP, 1))).toEqual([15]);
  });

  it('writes into a caller-owned buffer and ignores events outside the range', () => {
    const out = new Float64Array(3).fill(7);
    const result = eventMultipliersFor(
      [
        event({ startMs: T0 - 10 * STEP, endMs: T0 - STEP }),
        event({ startMs: T0 + 9 * STEP, endMs: T0 + 10 * STEP }),
      ],
      'us-east-1',
      T0,
      STEP,
      3,
      out,
    );
    expect(result).toBe(out);
    expect(Array.from(out)).toEqual([1, 1, 1]);
  });

  it('stays between 1 and the product of multipliers for any event placement', () => {
    assertProperty(
      fc.property(
        fc.integer({ min: -20, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (startStep, lengthSteps, multiplier) => {
          const e = event({
            startMs: T0 + startStep * (STEP / 3),
            endMs: T0 + (startStep + lengthSteps) * (STEP / 3),
            multiplier,
          });
          const out = eventMultipliersFor([e], 'us-east-1', T0, STEP, 12);
          for (const v of out) {
            expect(v).toBeGreaterThanOrEqual(Math.min(1, multiplier) - 1e-12);
            expect(v).toBeLessThanOrEqual(Math.max(1, multiplier) + 1e-12);
          }
        },
      ),
    );
  });
});

describe('eventsForSeries and eventsOverlapping', () => {
  const at = (
    name: string,
    region: string,
    startMs: number,
    endMs: number,
    partition?: string,
  ): KnownEvent => ({
    name,
    region,
    startMs,
    endMs,
    multiplier: 2,
    ...(partition !== undefined && { partition }),
  });
  const regional = at('regional', 'eu-west-1', 10, 20);
  const everywhere = at('everywhere', '*', 10, 20);
  const onePartition = at('one', 'eu-west-1', 10, 20, 'orders-fr');
  const otherRegion = at('other', 'us-east-1', 10, 20);
  const all = [regional, everywhere, onePartition, otherRegion];

  it("selects a series' events: its region's or every region's, for its partition or every partition", () => {
    expect(eventsForSeries(all, 'eu-west-1', 'orders-fr')).toEqual([regional, everywhere, onePartition]);
    expect(eventsForSeries(all, 'eu-west-1', 'orders-de')).toEqual([regional, everywhere]);
    expect(eventsForSeries(all, 'us-east-1', 'orders-fr')).toEqual([everywhere, otherRegion]);
    expect(eventsForSeries(all, 'ap-south-1', 'orders-fr')).toEqual([everywhere]);
  });

  it('keeps the events that overlap [from, to), end exclusive', () => {
    expect(
      eventsOverlapping([at('a', '*', 0, 10), at('b', '*', 10, 15), at('c', '*', 20, 30)], 10, 20).map(
        (e) => e.name,
      ),
    ).toEqual(['b']);
    expect(eventsOverlapping([at('a', '*', 0, 11), at('c', '*', 19, 30)], 10, 20).map((e) => e.name)).toEqual(
      ['a', 'c'],
    );
  });
});
