import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../src/cli/commands/index.ts';
import { runCli } from '../../src/cli/main.ts';
import { captureCliIo } from '../support/cli-capture.ts';
import { suiteTempDir } from '../support/temp-dir.ts';

/**
 * `prestage up` through the CLI entry on a tiny generated trace: two regions, four partitions, three days
 * (two of warm-up, one replayed live in about 15 s). Partition `eu-heavy` starts in a us-east-1 cell although
 * 90% of its demand comes from eu-west-1: the loop must move it there, and the live local share must beat the
 * same traffic with `--loop off`.
 */

const US = 'us-east-1';
const EU = 'eu-west-1';
const BUCKET_MS = 15 * 60_000;
const DAYS = 3;
const START = Date.parse('2024-01-01T00:00:00Z');

const PARTITIONS = [
  { id: 'eu-heavy', cell: 'us-a', eu: 0.9 },
  { id: 'us-one', cell: 'us-a', eu: 0.05 },
  { id: 'us-two', cell: 'us-b', eu: 0.05 },
  { id: 'eu-local', cell: 'eu-a', eu: 0.9 },
];

function writeTinyTrace(dir: string): { trace: string; partitions: string; topology: string } {
  const rows = ['timestamp,partition,region,reads,writes'];
  for (let b = 0; b < (DAYS * 86_400_000) / BUCKET_MS; b++) {
    const at = new Date(START + b * BUCKET_MS).toISOString().replace('.000Z', 'Z');
    const hour = new Date(START + b * BUCKET_MS).getUTCHours();
    const daily = 1 + 0.3 * Math.cos((2 * Math.PI * (hour - 13)) / 24);
    for (const p of PARTITIONS) {
      for (const [region, share] of [
        [US, 1 - p.eu],
        [EU, p.eu],
      ] as const) {
        const ops = (20 * share * daily * BUCKET_MS) / 1000;
        rows.push(`${at},${p.id},${region},${Math.round(ops * 0.8)},${Math.round(ops * 0.2)}`);
      }
    }
  }
  const files = {
    trace: join(dir, 'trace.csv'),
    partitions: join(dir, 'partitions.csv'),
    topology: join(dir, 'topology.json'),
  };
  writeFileSync(files.trace, `${rows.join('\n')}\n`);
  writeFileSync(
    files.partitions,
    `partition,sizeBytes,cell\n${PARTITIONS.map((p) => `${p.id},${2 ** 30},${p.cell}`).join('\n')}\n`,
  );
  const cell = (id: string, region: string) => ({
    id,
    region,
    capacityOpsPerSec: 1000,
    capacityBytes: 2 ** 40,
  });
  writeFileSync(
    files.topology,
    JSON.stringify({
      regions: { [US]: { utcOffsetHours: -5 }, [EU]: { utcOffsetHours: 0 } },
      latencyMs: { [US]: { [EU]: 80 } },
      transferCostPerGB: 0.02,
      migrationBandwidthBytesPerSec: 8 * 2 ** 20,
      cells: [cell('us-a', US), cell('us-b', US), cell('eu-a', EU), cell('eu-b', EU)],
    }),
  );
  return files;
}

interface UpJson {
  status: string;
  loop: string;
  live: {
    remoteShare: number;
    meanLatencyMs: number;
    p50LatencyMsByRegion: Record<string, number>;
    p99LatencyMsByRegion: Record<string, number>;
    localShareByRegion: Record<string, number>;
    bytesMoved: number;
    moves: number;
    warmupMoves: number;
    cellsInServiceAvg: number;
    writesAcked: number;
    writesLost: number;
    errors5xx: number;
    requests: number;
    finalPlacement: Record<string, string>;
  };
  backtest?: {
    static: { remoteShare: number; meanLatencyMs: number };
    predictive: { remoteShare: number; meanLatencyMs: number };
  };
}

async function up(args: string[]) {
  const { io, out, err } = captureCliIo();
  const code = await runCli(['up', ...args], io);
  return { code, out: out(), err: err() };
}

describe('prestage up on a tiny trace', () => {
  const dir = suiteTempDir('prestage-up-');
  let files: ReturnType<typeof writeTinyTrace>;
  const common = () => [
    '--trace',
    files.trace,
    '--partitions',
    files.partitions,
    '--topology',
    files.topology,
    '--warmup',
    '2d',
    '--duration',
    '15s',
    '--rate',
    '30',
    '--port',
    '0',
    '--no-dashboard',
  ];

  beforeAll(() => {
    registerAllCommands();
    files = writeTinyTrace(dir);
  });

  let on: UpJson;
  let off: UpJson;

  it('runs the loop: traffic through both listeners, the misplaced partition moved to its demand, no write lost', async () => {
    const json = join(dir, 'on.json');
    const run = await up([...common(), '--json', json]);
    expect({ code: run.code, err: run.code === 0 ? '' : run.err }).toEqual({ code: 0, err: '' });
    on = JSON.parse(readFileSync(json, 'utf8'));
    // The documented shape.
    expect(Object.keys(on.live)).toEqual(
      expect.arrayContaining([
        'remoteShare',
        'meanLatencyMs',
        'p50LatencyMsByRegion',
        'p99LatencyMsByRegion',
        'bytesMoved',
        'moves',
        'cellsInServiceAvg',
        'writesAcked',
        'writesLost',
        'errors5xx',
      ]),
    );
    expect(Object.keys(on.backtest ?? {})).toEqual(expect.arrayContaining(['static', 'predictive']));
    expect(on.backtest?.static.remoteShare).toBeGreaterThan(0);
    // Requests flowed through both regions' listeners, and each was measured.
    for (const region of [US, EU]) expect(on.live.p50LatencyMsByRegion[region]).toBeGreaterThan(0);
    expect(on.live.requests).toBeGreaterThan(200);
    // The loop moved eu-heavy into eu-west-1 (warm-up or window), and left the US-local partitions in the US.
    expect(on.live.finalPlacement['eu-heavy']).toMatch(/^eu-/);
    expect(on.live.finalPlacement['us-one']).toMatch(/^us-/);
    expect(on.live.warmupMoves + on.live.moves).toBeGreaterThan(0);
    expect(on.live.writesAcked).toBeGreaterThan(20);
    expect(on.live.writesLost).toBe(0);
  }, 120_000);

  it('--loop off sends the same traffic, moves nothing, and measures the misplacement', async () => {
    const json = join(dir, 'off.json');
    const run = await up([...common(), '--loop', 'off', '--no-backtest', '--json', json]);
    expect({ code: run.code, err: run.code === 0 ? '' : run.err }).toEqual({ code: 0, err: '' });
    off = JSON.parse(readFileSync(json, 'utf8'));
    expect(off.live.moves).toBe(0);
    expect(off.live.warmupMoves).toBe(0);
    expect(off.live.finalPlacement['eu-heavy']).toBe('us-a');
    expect(off.live.writesLost).toBe(0);
    // eu-heavy's EU requests are remote without the loop: ~0.9 × 1/4 of all requests more remote than with it.
    expect(off.live.remoteShare - on.live.remoteShare).toBeGreaterThan(0.1);
    expect(off.live.localShareByRegion[EU]).toBeLessThan(on.live.localShareByRegion[EU]);
  }, 120_000);

  it('stops on a trace region the topology lacks, naming file, line and field, before anything starts', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(
      join(bad, 'trace.csv'),
      'timestamp,partition,region,reads,writes\n2024-01-01T00:00:00Z,eu-heavy,ap-south-1,1,1\n',
    );
    const run = await up([
      '--trace',
      join(bad, 'trace.csv'),
      '--partitions',
      files.partitions,
      '--topology',
      files.topology,
      '--port',
      '0',
      '--no-dashboard',
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(join(bad, 'trace.csv'));
    expect(run.err).toMatch(/line 2/);
    expect(run.err).toMatch(/field 'region'/);
  });

  it('stops on a topology region that cannot have a listener, naming the field', async () => {
    const topology = JSON.parse(readFileSync(files.topology, 'utf8'));
    topology.regions['mars-1'] = { utcOffsetHours: 0 };
    topology.latencyMs['mars-1'] = { [US]: 300, [EU]: 300 };
    const path = join(dir, 'mars.json');
    writeFileSync(path, JSON.stringify(topology));
    const run = await up([
      '--trace',
      files.trace,
      '--partitions',
      files.partitions,
      '--topology',
      path,
      '--port',
      '0',
      '--no-dashboard',
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toContain(`${path}, field 'regions.mars-1'`);
  });

  describe('with the port taken', () => {
    let blocker: Server;
    let port: number;
    beforeAll(async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      port = (blocker.address() as { port: number }).port;
    });
    afterAll(async () => new Promise<void>((resolve) => blocker.close(() => resolve())));

    it('exits 2 with one line naming the port, and leaves nothing listening', async () => {
      const run = await up([...common().slice(0, -3), '--port', String(port), '--no-dashboard']);
      expect(run.code).toBe(2);
      expect(run.err.trim().split('\n').at(-1)).toMatch(new RegExp(`field '--port'.*port ${port}`));
    }, 60_000);
  });

  it('Ctrl-C (SIGINT) on the CLI stops everything it started, prints the summary so far, and exits 130', async () => {
    // The CLI as a user runs it: the launcher (which forwards the signal when it re-executes on Node 24).
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(new URL('../../bin/prestage.js', import.meta.url)),
        'up',
        ...common().slice(0, -1),
        '--no-backtest',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const windowRunning = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk) => {
        err += chunk;
        if (/^day \d/m.test(err)) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await windowRunning;
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toMatch(/stopping: no new requests/);
    expect(out).toMatch(/remote share/);
    // Every listener and the dashboard it printed are closed.
    const urls = [...err.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const port of urls) {
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.on('error', () => resolve(true));
      });
      expect(refused, `port ${port}`).toBe(true);
    }
  }, 120_000);
});
