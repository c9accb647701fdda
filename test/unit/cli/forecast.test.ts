import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

registerAllCommands();

const dir = suiteTempDir('prestage-forecast-');
let fixture: string;

beforeAll(async () => {
  // Two days of 5-minute buckets with a daily cycle, rows written in reverse order.
  const rows: string[] = [];
  const start = Date.UTC(2024, 0, 1);
  for (let i = 0; i < 576; i++) {
    const t = new Date(start + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
    rows.push(`${t},${(100 + 50 * Math.sin((2 * Math.PI * i) / 288)).toFixed(2)}`);
  }
  fixture = join(dir, 'series.csv');
  await writeFile(fixture, `timestamp,value\n${rows.reverse().join('\n')}\n`);
});

describe('prestage forecast', () => {
  it('prints exactly model, interval, start, mean and quantiles as JSON', async () => {
    const c = captureCliIo();
    expect(await runCli(['forecast', '--series', fixture, '--horizon', '6', '--json'], c.io)).toBe(0);
    const json = JSON.parse(c.out());
    expect(Object.keys(json)).toEqual(['model', 'interval', 'start', 'mean', 'quantiles']);
    expect(json.model).toBe('embedded:daily');
    expect(json.interval).toBe('PT5M');
    expect(json.start).toBe('2024-01-03T00:00:00.000Z');
    expect(json.mean).toHaveLength(6);
    expect(Object.keys(json.quantiles)).toEqual(['0.1', '0.5', '0.9']);
    for (let k = 0; k < 6; k++) {
      expect(json.quantiles['0.1'][k]).toBeLessThanOrEqual(json.quantiles['0.9'][k]);
      // The cycle restarts at 100 and rises: the forecast follows it.
      expect(Math.abs(json.mean[k] - (100 + 50 * Math.sin((2 * Math.PI * k) / 288)))).toBeLessThan(10);
    }
  });

  it('forecasts the real, unsorted Prophet file with the seasonal-naive baseline and custom quantiles', async () => {
    const c = captureCliIo();
    const code = await runCli(
      [
        'forecast',
        '--series',
        'data/real/prophet/example_wp_R.csv',
        '--horizon',
        '7',
        '--model',
        'seasonal-naive',
        '--quantiles',
        '0.9,0.05',
        '--json',
      ],
      c.io,
    );
    expect(code).toBe(0);
    const json = JSON.parse(c.out());
    expect(json.model).toBe('seasonal-naive:weekly');
    expect(json.interval).toBe('P1D');
    expect(json.start).toBe('2016-01-01T00:00:00.000Z');
    expect(Object.keys(json.quantiles)).toEqual(['0.05', '0.9']);
    expect(json.mean).toHaveLength(7);
  });

  it('applies known events for the chosen region', async () => {
    const events = join(dir, 'events.json');
    await writeFile(
      events,
      JSON.stringify([
        {
          name: 'launch',
          region: 'eu-west-1',
          start: '2024-01-03T00:10:00Z',
          end: '2024-01-03T01:00:00Z',
          multiplier: 3,
        },
        {
          name: 'elsewhere',
          region: 'us-east-1',
          start: '2024-01-03T00:00:00Z',
          end: '2024-01-03T01:00:00Z',
          multiplier: 10,
        },
      ]),
    );
    const plain = captureCliIo();
    await runCli(['forecast', '--series', fixture, '--horizon', '4', '--json'], plain.io);
    const boosted = captureCliIo();
    expect(
      await runCli(
        [
          'forecast',
          '--series',
          fixture,
          '--horizon',
          '4',
          '--events',
          events,
          '--region',
          'eu-west-1',
          '--json',
        ],
        boosted.io,
      ),
    ).toBe(0);
    const a = JSON.parse(plain.out()).mean;
    const b = JSON.parse(boosted.out()).mean;
    expect(b[0]).toBeCloseTo(a[0], 3);
    expect(b[1]).toBeCloseTo(a[1], 3);
    expect(b[2] / a[2]).toBeCloseTo(3, 3);
  });

  it('prints a readable table without --json, and help with an example', async () => {
    const c = captureCliIo();
    expect(await runCli(['forecast', '--series', fixture, '--horizon', '2'], c.io)).toBe(0);
    expect(c.out()).toMatch(/^model embedded:daily, interval PT5M, first step 2024-01-03T00:00:00.000Z/);
    expect(c.out()).toMatch(/step\s+time\s+mean\s+q0.1\s+q0.5\s+q0.9/);
    const help = captureCliIo();
    expect(await runCli(['forecast', '--help'], help.io)).toBe(0);
    expect(help.out()).toContain('Example:');
    expect(help.out()).toContain('prestage forecast --series');
  });

  it('reports bad input as one line naming the problem, with exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['forecast', '--horizon', '3'], /--series.*is required/],
      [['forecast', '--series', fixture, '--horizon', '0'], /--horizon.*positive integer/],
      [['forecast', '--series', fixture, '--horizon', '3', '--quantiles', '0.1,1.5'], /--quantiles.*'1.5'/],
      [
        ['forecast', '--series', fixture, '--horizon', '3', '--model', 'prophet'],
        /--model.*embedded, seasonal-naive/,
      ],
      [['forecast', '--series', fixture, '--horizon', '3', '--events', fixture], /--region.*is required/],
      [['forecast', '--series', join(dir, 'missing.csv'), '--horizon', '3'], /file not found/],
    ];
    for (const [argv, pattern] of cases) {
      const c = captureCliIo();
      expect(await runCli(argv, c.io)).toBe(2);
      expect(c.err()).toMatch(pattern);
      expect(c.err().trim().split('\n')).toHaveLength(1);
    }
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,-4\n');
    const c = captureCliIo();
    expect(await runCli(['forecast', '--series', bad, '--horizon', '3'], c.io)).toBe(2);
    expect(c.err()).toContain(`${bad}, line 3, field 'value'`);
  });
});
