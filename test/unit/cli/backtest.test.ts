import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { POLICY_NAMES } from '../../../src/domain/simulation/simulation-options.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { tempDir } from '../../support/temp-dir.ts';

registerAllCommands();

const FIXTURE = 'test/fixtures/backtest';
const METRIC_KEYS = [
  'remoteShare',
  'meanLatencyMs',
  'p99LatencyMs',
  'bytesMoved',
  'bytesMovedUnderLoad',
  'transferCostUsd',
  'storedBytesAvg',
  'overloadCellMinutes',
  'moves',
  'thrashMoves',
  'cellsAdded',
];

const inputs = (trace = 'trace.csv', topology = 'topology.json') => [
  '--trace',
  join(FIXTURE, trace),
  '--partitions',
  join(FIXTURE, 'partitions.csv'),
  '--topology',
  join(FIXTURE, topology),
];

describe('prestage backtest', () => {
  it('prints usage with examples for --help', async () => {
    const c = captureCliIo();
    expect(await runCli(['backtest', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('Usage: prestage backtest --trace');
    expect(c.out()).toContain('Examples:');
    expect(c.out()).toContain('--policies');
  });

  it('replays the fixture, prints the table and targets, and writes the JSON and the HTML report', async () => {
    const dir = tempDir('backtest-');
    const c = captureCliIo();
    const code = await runCli(
      [
        'backtest',
        ...inputs(),
        '--relationships',
        join(FIXTURE, 'relationships.csv'),
        '--warmup',
        '1d',
        '--json',
        join(dir, 'out.json'),
        '--html',
        join(dir, 'report.html'),
      ],
      c.io,
    );
    expect(c.err()).not.toContain('Error');
    expect(code).toBe(0);
    for (const name of POLICY_NAMES) expect(c.out()).toMatch(new RegExp(`\\n[ ▶] ${name}`));
    expect(c.out()).toContain('▶ predictive (prestage)');
    expect(c.out()).toMatch(/(PASS|FAIL|n\/a) +locality/);
    // Not a terminal: one progress line per policy on stderr.
    for (const name of POLICY_NAMES) expect(c.err()).toContain(`backtest: ${name} done`);

    const json = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    expect(Object.keys(json.policies)).toEqual([...POLICY_NAMES]);
    for (const name of POLICY_NAMES) {
      expect(Object.keys(json.policies[name]).sort()).toEqual([...METRIC_KEYS].sort());
      for (const key of METRIC_KEYS) expect(Number.isFinite(json.policies[name][key])).toBe(true);
    }
    expect(json.semiSynthetic).toBe(false);
    expect(json.trace.partitions).toBe(3);
    expect(json.trace.bucketSeconds).toBe(900);
    // The fixture's demand is mostly away from where it starts: moving it must pay.
    expect(json.policies.oracle.remoteShare).toBeLessThan(json.policies.static.remoteShare);
    expect(json.policies['replicate-all'].remoteShare).toBe(0);

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('predictive (prestage)');
    // Self-contained: the inline hover script only, nothing fetched from anywhere.
    expect(html).not.toMatch(/<script [^>]*src=|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('Demand, in total and by client region');
  });

  it('prints the same figures with the policies on worker threads as one after another (--workers)', async () => {
    const dir = tempDir('backtest-workers-');
    const figures: unknown[] = [];
    for (const workers of ['1', '3']) {
      const c = captureCliIo();
      const json = join(dir, `workers-${workers}.json`);
      expect(
        await runCli(['backtest', ...inputs(), '--warmup', '1d', '--workers', workers, '--json', json], c.io),
      ).toBe(0);
      for (const name of POLICY_NAMES) expect(c.err()).toContain(`backtest: ${name} done`);
      const { generatedAt: _generatedAt, details, ...rest } = JSON.parse(readFileSync(json, 'utf8'));
      // Everything but the wall-clock timings of each replay.
      for (const policy of Object.values(details) as Record<string, unknown>[]) {
        delete policy.plannerMs;
        delete policy.simulationMs;
      }
      figures.push({ ...rest, details });
    }
    expect(figures[1]).toEqual(figures[0]);
  });

  it('shows each running policy’s share done on a terminal', async () => {
    const c = captureCliIo();
    const io = { ...c.io, stderr: { write: c.io.stderr.write, isTTY: true } };
    expect(await runCli(['backtest', ...inputs(), '--warmup', '1d', '--workers', '2'], io)).toBe(0);
    // The bar is redrawn in place, labelled with the policies under way and how far each has got.
    expect(c.err()).toContain('\r');
    expect(c.err()).toMatch(/backtest [█░]+ +\d+% (predictive|reactive) \d+%/);
    expect(c.err()).toMatch(/oracle \d+%/);
  });

  it('names the file, line and field of a bad trace row, exits 2, and prints no stack trace', async () => {
    const c = captureCliIo();
    expect(await runCli(['backtest', ...inputs('trace-bad-line.csv'), '--warmup', '1d'], c.io)).toBe(2);
    expect(c.err()).toContain(
      `prestage backtest: InputValidationError: ${join(FIXTURE, 'trace-bad-line.csv')}, line 8, field 'writes':`,
    );
    expect(c.err().trim().split('\n')).toHaveLength(1);
    expect(c.err()).not.toMatch(/\n\s+at /);
  });

  it('names the violated constraint of an infeasible topology', async () => {
    const c = captureCliIo();
    expect(await runCli(['backtest', ...inputs('trace.csv', 'topology-too-small.json')], c.io)).toBe(2);
    expect(c.err()).toContain("InfeasiblePlacementError: infeasible placement: constraint 'capacityBytes'");
    expect(c.err().trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [['--partitions', 'p.csv', '--topology', 't.json'], "field '--trace': is required"],
    [[...inputs(), '--policies', 'static,clairvoyant'], "unknown policy 'clairvoyant'"],
    [[...inputs(), '--interval', '10m'], 'multiple of the trace'],
    [[...inputs(), '--warmup', '30d'], 'warm-up'],
    [[...inputs(), '--quantile', '2'], "field '--quantile'"],
    [[...inputs(), '--workers', '0'], "field '--workers': expected a positive integer"],
    [[...inputs(), '--workers', 'two'], "field '--workers'"],
    [[...inputs(), '--frobnicate'], "field '--frobnicate': unknown option"],
    [
      [
        '--trace',
        'missing.csv',
        '--partitions',
        join(FIXTURE, 'partitions.csv'),
        '--topology',
        join(FIXTURE, 'topology.json'),
      ],
      'missing.csv: file not found',
    ],
  ])('rejects %j with exit 2', async (argv, message) => {
    const c = captureCliIo();
    expect(await runCli(['backtest', ...argv], c.io)).toBe(2);
    expect(c.err()).toContain(message);
  });
});

describe('prestage demo', () => {
  it('prints usage for --help', async () => {
    const c = captureCliIo();
    expect(await runCli(['demo', '--help'], c.io)).toBe(0);
    expect(c.out()).toContain('Usage: prestage demo');
    expect(c.out()).toContain('npm start');
  });

  it('backtests the bundled semi-synthetic trace and says where the report is', async () => {
    const dir = tempDir('demo-');
    const c = captureCliIo();
    // The cheap policies keep the test fast; `npm start` runs all five.
    expect(await runCli(['demo', '--out', dir, '--policies', 'static,replicate-all'], c.io)).toBe(0);
    expect(c.out()).toContain('semi-synthetic');
    expect(c.out()).toContain(join(dir, 'backtest-report.html'));
    const json = JSON.parse(readFileSync(join(dir, 'backtest.json'), 'utf8'));
    expect(json.semiSynthetic).toBe(true);
    expect(Object.keys(json.policies)).toEqual(['static', 'replicate-all']);
    const html = readFileSync(join(dir, 'backtest-report.html'), 'utf8');
    expect(html).toContain('Semi-synthetic trace.');
  });

  it('rejects an unknown bundled trace', async () => {
    const c = captureCliIo();
    expect(await runCli(['demo', '--trace', 'nope'], c.io)).toBe(2);
    expect(c.err()).toContain("no bundled trace 'nope'");
  });
});
