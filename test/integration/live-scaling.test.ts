import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../src/cli/commands/index.ts';
import { runCli } from '../../src/cli/main.ts';
import { captureCliIo } from '../support/cli-capture.ts';
import { suiteTempDir } from '../support/temp-dir.ts';

/**
 * `prestage up`'s control loop scaling the embedded cluster through ScaleCluster's synthesized ASL, on tiny
 * generated traces in one region: the profiler's forecast-driven decisions (the simulator's decision code) start
 * ScaleCluster; a scale-out's cell is created, filled by the planner and serves the load generator's requests; a
 * quiet cell is drained, backed up and retired while writes go on, and every acknowledged write reads back.
 */

const US = 'us-east-1';
const BUCKET_MS = 15 * 60_000;
const START = Date.parse('2024-01-01T00:00:00Z');

interface TraceSpec {
  readonly days: number;
  readonly partitions: readonly { readonly id: string; readonly cell: string }[];
  /** Ops/s of one partition at an hour of the day (UTC). */
  readonly opsAt: (hour: number) => number;
  readonly cells: readonly string[];
  readonly capacityOpsPerSec: number;
  readonly maxCellsPerRegion: number;
}

function writeTrace(dir: string, spec: TraceSpec) {
  mkdirSync(dir, { recursive: true });
  const rows = ['timestamp,partition,region,reads,writes'];
  for (let b = 0; b < (spec.days * 86_400_000) / BUCKET_MS; b++) {
    const at = new Date(START + b * BUCKET_MS);
    const ops = (spec.opsAt(at.getUTCHours()) * BUCKET_MS) / 1000;
    const stamp = at.toISOString().replace('.000Z', 'Z');
    for (const p of spec.partitions)
      rows.push(`${stamp},${p.id},${US},${Math.round(ops * 0.7)},${Math.round(ops * 0.3)}`);
  }
  const files = {
    trace: join(dir, 'trace.csv'),
    partitions: join(dir, 'partitions.csv'),
    topology: join(dir, 'topology.json'),
  };
  writeFileSync(files.trace, `${rows.join('\n')}\n`);
  writeFileSync(
    files.partitions,
    `partition,sizeBytes,cell\n${spec.partitions.map((p) => `${p.id},${2 ** 20},${p.cell}`).join('\n')}\n`,
  );
  writeFileSync(
    files.topology,
    JSON.stringify({
      regions: { [US]: { utcOffsetHours: 0 } },
      latencyMs: {},
      transferCostPerGB: 0.02,
      migrationBandwidthBytesPerSec: 8 * 2 ** 20,
      cells: spec.cells.map((id) => ({
        id,
        region: US,
        capacityOpsPerSec: spec.capacityOpsPerSec,
        capacityBytes: 2 ** 40,
      })),
      alarmScaling: {
        utilizationThreshold: 0.8,
        sustainMinutes: 10,
        provisionMinutes: 15,
        cooldownMinutes: 60,
        maxCellsPerRegion: spec.maxCellsPerRegion,
        cellCapacityOpsPerSec: spec.capacityOpsPerSec,
        cellCapacityBytes: 2 ** 40,
      },
    }),
  );
  return files;
}

interface CellEvent {
  traceMs: number;
  cell: string;
  region: string;
  kind: 'added' | 'removed';
}

interface UpJson {
  live: {
    cellsInServiceAvg: number;
    cellEvents: CellEvent[];
    servedByCell: Record<string, number>;
    scaleOuts: number;
    scaleIns: number;
    scalingsFailed: number;
    writesAcked: number;
    writesLost: number;
    finalPlacement: Record<string, string>;
  };
  backtest?: { predictive: { cellsInServiceAvg: number } };
}

async function up(files: ReturnType<typeof writeTrace>, json: string, extra: string[]): Promise<UpJson> {
  const { io, err } = captureCliIo();
  const args = [
    'up',
    '--trace',
    files.trace,
    '--partitions',
    files.partitions,
    '--topology',
    files.topology,
    '--port',
    '0',
    '--no-dashboard',
    '--rate',
    '30',
    '--json',
    json,
    ...extra,
  ];
  const code = await runCli(args, io);
  expect({ code, err: code === 0 ? '' : err() }).toEqual({ code: 0, err: '' });
  return JSON.parse(readFileSync(json, 'utf8')) as UpJson;
}

describe('prestage up scales the embedded cluster with ScaleCluster', () => {
  const dir = suiteTempDir('prestage-up-scaling-');
  beforeAll(() => registerAllCommands());

  // Four partitions of 5 ops/s on one 100 ops/s cell, each rising to 40 ops/s from 10:00 to 16:00 UTC every day:
  // 160 ops/s at the peak against 80 usable. The profiler has seen two such days when the window starts.
  const rise: Omit<TraceSpec, 'maxCellsPerRegion'> = {
    days: 3,
    partitions: ['p0', 'p1', 'p2', 'p3'].map((id) => ({ id, cell: 'us-a' })),
    opsAt: (hour) => (hour >= 10 && hour < 16 ? 40 : 5),
    cells: ['us-a'],
    capacityOpsPerSec: 100,
  };

  it('a forecast demand rise runs ScaleCluster: a new cell, filled by the planner, serves requests; no write lost', async () => {
    const files = writeTrace(join(dir, 'rise'), { ...rise, maxCellsPerRegion: 3 });
    const run = await up(files, join(dir, 'rise.json'), ['--warmup', '2d', '--duration', '20s']);
    const live = run.live;
    expect(live.scaleOuts).toBeGreaterThan(0);
    expect(live.scalingsFailed).toBe(0);
    const added = live.cellEvents.filter((e) => e.kind === 'added');
    expect(added.length).toBeGreaterThan(0);
    // Added during the window's day, for the 10:00–16:00 rise. Known weakness: it comes about 15 minutes after 10:00,
    // not ahead of it. The shortfall becomes due at the cycle before its latest start (09:00 here), and the shared
    // rule (shortfall-trigger.ts) buys it only when the next cycle confirms it, at 10:00. Until the forecaster's
    // intervals were calibrated (41eb2e8), their inflated upper quantile made it due an hour earlier.
    const windowDay = START + 2 * 86_400_000;
    expect(added[0].traceMs).toBeGreaterThanOrEqual(windowDay);
    expect(added[0].traceMs).toBeLessThan(windowDay + 11 * 3_600_000);
    // The data plane served the load generator's requests from the new cells.
    const servedByAdded = added.reduce((sum, e) => sum + (live.servedByCell[e.cell] ?? 0), 0);
    expect(servedByAdded).toBeGreaterThan(0);
    expect(live.cellsInServiceAvg).toBeGreaterThan(1);
    expect(live.writesAcked).toBeGreaterThan(20);
    expect(live.writesLost).toBe(0);
    // The backtest's predictive policy scales out too (the same decision code, the same settings).
    expect(run.backtest?.predictive.cellsInServiceAvg).toBeGreaterThan(1);
  }, 180_000);

  it('negative control: with the region at its cap no ScaleCluster runs and only the one cell serves', async () => {
    const files = writeTrace(join(dir, 'capped'), { ...rise, maxCellsPerRegion: 1 });
    const run = await up(files, join(dir, 'capped.json'), [
      '--warmup',
      '2d',
      '--duration',
      '20s',
      '--no-backtest',
    ]);
    expect(run.live.scaleOuts).toBe(0);
    expect(run.live.cellEvents).toEqual([]);
    expect(Object.keys(run.live.servedByCell)).toEqual(['us-a']);
    expect(run.live.cellsInServiceAvg).toBe(1);
  }, 180_000);

  it('a quiet cell is scaled in (drained, backed up, retired) while writes go on, and no acknowledged write is lost', async () => {
    // Six partitions of 10 ops/s on three 1000 ops/s cells: 60 ops/s fit one cell; the scale-in rule waits for a
    // day of hourly peaks, so the window is two days long.
    const files = writeTrace(join(dir, 'quiet'), {
      days: 4,
      partitions: ['q0', 'q1', 'q2', 'q3', 'q4', 'q5'].map((id, i) => ({
        id,
        cell: ['us-a', 'us-b', 'us-c'][i % 3],
      })),
      opsAt: () => 10,
      cells: ['us-a', 'us-b', 'us-c'],
      capacityOpsPerSec: 1000,
      maxCellsPerRegion: 3,
    });
    const run = await up(files, join(dir, 'quiet.json'), ['--warmup', '2d', '--duration', '40s']);
    const live = run.live;
    expect(live.scaleIns).toBeGreaterThan(0);
    expect(live.scalingsFailed).toBe(0);
    const removed = live.cellEvents.filter((e) => e.kind === 'removed').map((e) => e.cell);
    expect(removed.length).toBeGreaterThan(0);
    // No partition is left on a retired cell, and the retired cell had served requests before its drain.
    for (const cell of removed) {
      expect(Object.values(live.finalPlacement)).not.toContain(cell);
      expect(live.servedByCell[cell]).toBeGreaterThan(0);
    }
    expect(live.cellsInServiceAvg).toBeLessThan(3);
    expect(live.writesAcked).toBeGreaterThan(20);
    expect(live.writesLost).toBe(0);
  }, 240_000);
});
