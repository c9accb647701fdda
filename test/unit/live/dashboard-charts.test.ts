import { describe, expect, it } from 'vitest';
import {
  binByTime,
  binWidthMs,
  durationLabel,
  timeTicks,
  traceClockLabel,
} from '../../../src/live/dashboard/chart-geometry.ts';
import { hoverHtml, nearestIndex, readHover, svgX } from '../../../src/live/dashboard/chart-hover.ts';
import {
  alignSeries,
  legendLayout,
  linePath,
  scales,
  type TimeChartHoverData,
  type TimeSeries,
  timeChart,
  valueDomain,
} from '../../../src/live/dashboard/time-chart.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2015, 3, 16);

function hoverData(svg: string): TimeChartHoverData {
  const raw = /data-chart="([^"]*)"/.exec(svg)![1];
  return JSON.parse(raw.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code))));
}

describe('time axis', () => {
  it('ticks a two-day window every 12 hours, dates at midnight and hours between', () => {
    const ticks = timeTicks(T0, T0 + 48 * HOUR, 6);
    expect(ticks.map((t) => t.label)).toEqual(['Apr 16', '12:00', 'Apr 17', '12:00', 'Apr 18']);
    expect(ticks.map((t) => t.major)).toEqual([true, false, true, false, true]);
    expect(ticks[1].atMs).toBe(T0 + 12 * HOUR);
  });

  it('takes the finest round step that fits, aligned to round UTC instants', () => {
    const ticks = timeTicks(T0 + 10 * 60_000, T0 + 3 * HOUR, 6);
    expect(ticks.map((t) => t.label)).toEqual(['00:30', '01:00', '01:30', '02:00', '02:30', '03:00']);
    const weeks = timeTicks(T0, T0 + 60 * 24 * HOUR, 5);
    expect(weeks.length).toBeLessThanOrEqual(5);
    expect(weeks.every((t) => /^[A-Z][a-z]{2} \d\d$/.test(t.label))).toBe(true);
  });

  it('has no tick for an empty window', () => {
    expect(timeTicks(T0, T0, 5)).toEqual([]);
    expect(timeTicks(T0 + 1, T0, 5)).toEqual([]);
  });

  it('writes the trace clock and durations', () => {
    expect(traceClockLabel(T0 + 4.5 * HOUR)).toBe('2015-04-16 04:30 UTC');
    expect(durationLabel(45 * 60_000)).toBe('45 min');
    expect(durationLabel(3 * HOUR + 20 * 60_000)).toBe('3 h 20 min');
    expect(durationLabel(52 * HOUR)).toBe('2 d 4 h');
  });
});

describe('bins', () => {
  it('keeps the trace bucket while the window fits, and takes whole buckets beyond', () => {
    const bucket = 15 * 60_000;
    expect(binWidthMs(T0, T0 + 48 * HOUR, bucket, 200)).toBe(bucket); // 192 buckets
    expect(binWidthMs(T0, T0 + 7 * 24 * HOUR, bucket, 200)).toBe(4 * bucket); // 672 buckets
  });

  it('groups items by bin from the window start, in time order, leaving empty bins out', () => {
    const items = [5, 0, 31, 12, 95].map((m) => T0 + m * 60_000);
    const bins = binByTime(items, (t) => t, T0, 30 * 60_000);
    expect(bins.map((b) => (b.startMs - T0) / 60_000)).toEqual([0, 30, 90]);
    expect(bins[0].items).toEqual([T0 + 5 * 60_000, T0, T0 + 12 * 60_000]);
  });
});

describe('time chart geometry', () => {
  const box = { left: 40, top: 20, right: 440, bottom: 220 };

  it('maps the window onto the plot and clamps values to the axis', () => {
    const { x, y } = scales(box, [T0, T0 + 10 * HOUR], [0, 100]);
    expect(x(T0)).toBe(40);
    expect(x(T0 + 5 * HOUR)).toBe(240);
    expect(x(T0 + 10 * HOUR)).toBe(440);
    expect(y(0)).toBe(220);
    expect(y(50)).toBe(120);
    expect(y(250)).toBe(20);
    expect(y(-3)).toBe(220);
  });

  it('draws a line in time order, lifting the pen at a gap', () => {
    const { x, y } = scales(box, [T0, T0 + 4 * HOUR], [0, 100]);
    const d = linePath(
      [
        { t: T0 + 3 * HOUR, v: 50 },
        { t: T0, v: 0 },
        { t: T0 + HOUR, v: 100 },
        { t: T0 + 2 * HOUR, v: null },
      ],
      x,
      y,
    );
    expect(d).toBe('M40.0 220.0L140.0 20.0M340.0 120.0');
    expect(linePath([{ t: T0, v: null }], x, y)).toBe('');
  });

  it('starts the value axis at zero and ends it on a round tick above the data', () => {
    const series: TimeSeries[] = [{ name: 'a', color: '#000', points: [{ t: T0, v: 173 }] }];
    expect(valueDomain(series)).toEqual({ domain: [0, 200], ticks: [0, 50, 100, 150, 200] });
    expect(valueDomain(series, [0, 100]).domain).toEqual([0, 100]);
    const few: TimeSeries[] = [{ name: 'e', color: '#000', points: [{ t: T0, v: 2 }] }];
    expect(valueDomain(few, undefined, true).ticks).toEqual([0, 1, 2, 3, 4]);
    expect(valueDomain([]).domain).toEqual([0, 1]);
  });

  it('aligns series on every instant any of them has', () => {
    const { times, values } = alignSeries([
      {
        name: 'a',
        color: '#000',
        points: [
          { t: 2, v: 20 },
          { t: 1, v: 10 },
        ],
      },
      { name: 'b', color: '#000', points: [{ t: 3, v: 30 }] },
    ]);
    expect(times).toEqual([1, 2, 3]);
    expect(values).toEqual([
      [10, 20, null],
      [null, null, 30],
    ]);
  });

  it('wraps the legend to a new row when an entry would cross the right edge', () => {
    const { at, rows } = legendLayout(['us-east-1', 'eu-west-1', 'ap-northeast-1'], 40, 260);
    expect(rows).toBe(2);
    expect(at[0]).toEqual({ x: 40, row: 0 });
    expect(at[1].row).toBe(0);
    expect(at[2]).toEqual({ x: 40, row: 1 });
    expect(legendLayout([], 0, 100).rows).toBe(0);
  });
});

describe('timeChart', () => {
  const series: TimeSeries[] = [
    {
      name: 'us-east-1',
      color: '#0072b2',
      symbol: 'circle',
      points: [
        { t: T0, v: 80 },
        { t: T0 + HOUR, v: 90 },
      ],
    },
    { name: 'eu-west-1', color: '#e69f00', points: [{ t: T0 + HOUR, v: 40 }] },
  ];
  const spec = { id: 'p50', title: 'p50 <latency>', unit: 'ms', startMs: T0, endMs: T0 + 4 * HOUR, series };

  it('carries aligned hover data and escapes its text', () => {
    const svg = timeChart(spec);
    expect(svg).toContain('p50 &#60;latency&#62;');
    const data = hoverData(svg);
    expect(data.id).toBe('p50');
    expect(data.times).toEqual([T0, T0 + HOUR]);
    expect(data.series.map((s) => s.values)).toEqual([
      [80, 90],
      [null, 40],
    ]);
    expect(data.y).toEqual([0, 100]);
  });

  it('shades the window after the trace clock', () => {
    const svg = timeChart({ ...spec, nowMs: T0 + 2 * HOUR, width: 420 });
    const data = hoverData(svg);
    const [left, , right] = data.plot;
    const x = left + (right - left) / 2;
    expect(svg).toContain(`<rect x="${x.toFixed(1)}" y="${data.plot[1]}" width="${(right - x).toFixed(1)}"`);
    expect(timeChart({ ...spec, nowMs: T0 + 4 * HOUR })).not.toContain('class="future"');
  });

  it('marks a switched-off series hidden, in the drawing, the legend and the hover data', () => {
    const svg = timeChart({ ...spec, hidden: new Set(['eu-west-1']) });
    expect(svg).toContain('<g class="series hidden" data-series="1">');
    expect(svg).toContain(
      '<g class="legend-item off" data-toggle="eu-west-1" role="button" tabindex="0" aria-pressed="false">',
    );
    expect(hoverData(svg).series.map((s) => s.hidden)).toEqual([false, true]);
  });

  it('writes the empty text when there is nothing to draw, and skips markers outside the window', () => {
    const svg = timeChart({
      ...spec,
      series: series.map((s) => ({ ...s, points: [] })),
      emptyText: 'waiting',
      markers: [
        { atMs: T0 + HOUR, glyph: '+', tip: 'cell added' },
        { atMs: T0 + 9 * HOUR, glyph: '−', tip: 'cell removed' },
      ],
    });
    expect(svg).toContain('class="empty">waiting</text>');
    expect(svg.match(/class="marker"/g)).toHaveLength(1);
    expect(svg).toContain('data-tip="cell added"');
  });

  it('draws no legend when told (small multiples share one)', () => {
    expect(timeChart({ ...spec, showLegend: false })).not.toContain('legend-item');
  });
});

describe('hover', () => {
  it('finds the nearest instant, the earlier on a tie', () => {
    expect(nearestIndex([], 5)).toBe(-1);
    expect(nearestIndex([10, 20, 30], 0)).toBe(0);
    expect(nearestIndex([10, 20, 30], 24)).toBe(1);
    expect(nearestIndex([10, 20, 30], 25)).toBe(1);
    expect(nearestIndex([10, 20, 30], 26)).toBe(2);
    expect(nearestIndex([10, 20, 30], 99)).toBe(2);
  });

  it('turns a pointer position into viewBox units', () => {
    expect(svgX(300, 100, 400, 420)).toBe(210);
  });

  it('reads every visible series at the nearest instant, highest first, with the dot on the line', () => {
    const svg = timeChart({
      id: 'p50',
      title: 't',
      unit: 'ms',
      startMs: T0,
      endMs: T0 + 4 * HOUR,
      hidden: new Set(['c']),
      series: [
        {
          name: 'a',
          color: '#111',
          points: [
            { t: T0, v: 10 },
            { t: T0 + 2 * HOUR, v: 30 },
          ],
        },
        { name: 'b', color: '#222', points: [{ t: T0 + 2 * HOUR, v: 70 }] },
        { name: 'c', color: '#333', points: [{ t: T0 + 2 * HOUR, v: 50 }] },
      ],
    });
    const data = hoverData(svg);
    const [left, top, right, bottom] = data.plot;
    const reading = readHover(data, left + (right - left) * 0.45)!;
    expect(reading.atMs).toBe(T0 + 2 * HOUR);
    expect(reading.x).toBeCloseTo((left + right) / 2, 6);
    expect(reading.rows.map((r) => [r.name, r.value])).toEqual([
      ['b', 70],
      ['a', 30],
    ]);
    expect(data.y).toEqual([0, 80]);
    expect(reading.rows[0].y).toBeCloseTo(bottom - (70 / 80) * (bottom - top), 6);
    expect(hoverHtml(data, reading)).toBe(
      '<div class="tip-time">Apr 16 02:00 UTC</div><table><tr><td><span class="tip-swatch" style="background:#222"></span>b</td><td class="tip-value">70 ms</td></tr><tr><td><span class="tip-swatch" style="background:#111"></span>a</td><td class="tip-value">30 ms</td></tr></table>',
    );
    expect(readHover(data, left - 1)).toBeNull();
    expect(readHover(data, right + 1)).toBeNull();
  });
});
