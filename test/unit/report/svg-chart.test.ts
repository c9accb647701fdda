import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barChart, escapeXml, lineChart, niceTicks } from '../../../src/report/svg-chart.ts';
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

  it('draws a step series flat across each slot', () => {
    const svg = lineChart({
      ...base,
      series: [{ name: 'cells', color: '#111', values: [2, 3], step: true }],
    });
    const d = /<path d="([^"]+)"/.exec(svg)![1];
    const points = [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(points).toHaveLength(4);
    expect(points[0][1]).toBe(points[1][1]);
    expect(points[2][1]).toBe(points[3][1]);
    expect(points[1][0]).toBe(points[2][0]);
  });

  it('carries the values for the hover and makes each legend entry a toggle', () => {
    const svg = lineChart({
      ...base,
      series: [
        { name: 'a', color: '#111', values: [1.23456, Number.NaN], symbol: 'diamond' },
        { name: 'b', color: '#222', values: [2, 3] },
      ],
    });
    const data = JSON.parse(
      /data-chart="([^"]+)"/.exec(svg)![1].replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))),
    );
    expect(data.t).toEqual([base.startMs, base.stepMs]);
    expect(data.series[0]).toMatchObject({ name: 'a', symbol: 'diamond', values: [1.235, null] });
    expect(svg.match(/class="legend-item" data-toggle="\d"/g)).toHaveLength(2);
  });

  it('escapes every XML special character', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).not.toMatch(/[<>"']/);
  });
});

describe('barChart', () => {
  it('stacks the segments of each row and puts the hover text on each', () => {
    const svg = barChart({
      title: 'cost',
      unit: 'GiB',
      rows: [
        {
          label: 'a',
          note: '$1',
          segments: [
            { value: 3, color: '#111', tip: 'a: 3 GiB copied' },
            { value: 1, color: '#222', tip: 'a: 1 GiB <remote>' },
          ],
        },
        { label: 'b', segments: [{ value: 0, color: '#111', tip: 'nothing' }] },
      ],
    });
    const rects = [
      ...svg.matchAll(
        /<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*class="segment" data-tip="([^"]*)"/g,
      ),
    ];
    expect(rects.map((r) => r[3])).toEqual(['a: 3 GiB copied', 'a: 1 GiB &#60;remote&#62;']);
    expect(Number(rects[0][1]) + Number(rects[0][2])).toBeCloseTo(Number(rects[1][1]), 1);
    expect(Number(rects[0][2])).toBeCloseTo(3 * Number(rects[1][2]), 0);
    expect(svg).toContain('>$1</text>');
    expect(svg).not.toContain('nothing');
  });
});
