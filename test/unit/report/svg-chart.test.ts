import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeXml, lineChart, niceTicks } from '../../../src/report/svg-chart.ts';
import { assertProperty } from '../../support/property.ts';

describe('niceTicks', () => {
  it('covers the range with evenly spaced round ticks (property)', () => {
    assertProperty(
      fc.property(
        fc.integer({ min: -1e8, max: 1e8 }),
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        (cents, span) => {
          const lo = cents / 100;
          const ticks = niceTicks(lo, lo + span);
          expect(ticks[0]).toBeLessThanOrEqual(lo + 1e-9 * Math.abs(lo));
          expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(lo + span - 1e-9 * Math.abs(lo + span));
          expect(ticks.length).toBeGreaterThanOrEqual(2);
          expect(ticks.length).toBeLessThanOrEqual(13);
          const step = ticks[1] - ticks[0];
          const mantissa = step / 10 ** Math.floor(Math.log10(step));
          expect([1, 2, 2.5, 5, 10].some((m) => Math.abs(m - mantissa) < 1e-6)).toBe(true);
        },
      ),
    );
  });
});

describe('lineChart', () => {
  const base = { title: 'Remote <share>', unit: '%', startMs: Date.UTC(2024, 0, 1), stepMs: 3_600_000 };

  it('draws one path per series, breaking it at missing values', () => {
    const svg = lineChart({
      ...base,
      series: [
        { name: 'a', color: '#111', values: [1, 2, Number.NaN, 4, 5] },
        { name: 'b', color: '#222', values: [5, 4, 3, 2, 1] },
      ],
    });
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    expect(paths[0].match(/M/g)).toHaveLength(2);
    expect(paths[0].match(/L/g)).toHaveLength(2);
    expect(paths[1].match(/[ML]/g)).toHaveLength(5);
    expect(svg).toContain('Remote &#60;share&#62;');
    expect(svg).not.toContain('<share>');
  });

  it('shades the warm-up and draws markers inside the time range only', () => {
    const svg = lineChart({
      ...base,
      series: [{ name: 'a', color: '#111', values: new Float64Array(48).fill(1) }],
      shadeUntilMs: base.startMs + 24 * 3_600_000,
      markers: [
        { atMs: base.startMs + 30 * 3_600_000, label: '+cell' },
        { atMs: base.startMs + 100 * 3_600_000, label: 'later' },
      ],
    });
    expect(svg).toContain('class="warmup"');
    expect(svg).toContain('+cell');
    expect(svg).not.toContain('later');
  });

  it('clips values above yMax to the top of the plot', () => {
    const svg = lineChart({ ...base, series: [{ name: 'a', color: '#111', values: [1, 2, 1000] }], yMax: 2 });
    const ys = [...svg.matchAll(/[ML][\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(3);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(30);
    expect(ys[2]).toBe(ys[1]);
  });

  it('escapes every XML special character', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).not.toMatch(/[<>"']/);
  });
});
