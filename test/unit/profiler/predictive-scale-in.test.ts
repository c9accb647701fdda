import { describe, expect, it } from 'vitest';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import type { ScaleInRequest, ScaleOutRequest } from '../../../src/domain/profiling/ports.ts';
import {
  type ScoreRecord,
  UPPER_PEAK_SLOT_MS,
  withUpperPeaks,
} from '../../../src/domain/scoring/score-record.ts';
import { cellSnapshot } from '../../../src/profiler/cell-state.ts';
import { checkCapacity } from '../../../src/profiler/predictive-scaling.ts';
import { startPredictiveScaling } from '../../../src/profiler/predictive-scaling-starts.ts';
import {
  acquireLock,
  parseRequest,
  registerCells,
  type ScaleClusterDeps,
} from '../../../src/scaling/scale-cluster-steps.ts';
import { METRIC } from '../../../src/support/metrics.ts';
import {
  InMemoryCellRepository,
  InMemoryPartitionRepository,
  InMemoryScalingCoordination,
} from '../../support/in-memory-ports.ts';

/**
 * The forecast-driven scale-in on the AWS path, at the use-case level on in-memory ports: the profiler's capacity
 * check (the domain's decideScaleIns, the simulator's function) chooses a cell, the profiler starts ScaleCluster
 * with it through the ScalingStarter port, and ScaleCluster's own steps accept it as a scale-in of that cell.
 */

const REGION = 'us-east-1';
const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 2, 5, 12);
const STEP_S = 900;

/** A partition on `cell` forecast at `ops` ops/s, scored over a whole day of hourly cycles at `dayOps`. */
function scored(i: number, cell: string, ops: number, dayOps: number, sizeBytes: number): ScoreRecord {
  const at = (nowMs: number, level: number): ScoreRecord => ({
    partition: `p${i}`,
    cell,
    affinity: 0.2,
    predictionVector: { [REGION]: 1 },
    confidence: 0.8,
    peakStep: 0,
    peakOpsPerSec: level,
    models: ['embedded'],
    sizeBytes,
    stepSeconds: STEP_S,
    forecastStartMs: nowMs,
    mean: { [REGION]: new Array(8).fill(level * 0.8) },
    upper: { [REGION]: new Array(8).fill(level) },
    upperLevel: 0.9,
    observedOpsPerSec: { [REGION]: level * 0.8 },
    scoredAtMs: nowMs,
    cycleId: `c${nowMs}`,
    expiresAt: 0,
  });
  // What the profiler does each cycle: roll the previous record's peaks into this one's.
  let record: ScoreRecord | undefined;
  for (let h = 24; h >= 1; h--) record = withUpperPeaks(at(NOW - h * HOUR, dayOps), record?.upperPeaks);
  return withUpperPeaks(at(NOW, ops), record?.upperPeaks);
}

const cellRecord = (id: string, status: CellRecord['status'] = 'ACTIVE'): CellRecord => ({
  id,
  region: REGION,
  table: `cell-${id}`,
  capacityOpsPerSec: 1000,
  capacityBytes: 1e12,
  status,
  version: 1,
});

const snapshot = (c: CellRecord) => ({
  id: c.id,
  region: c.region,
  capacityOpsPerSec: c.capacityOpsPerSec,
  capacityBytes: c.capacityBytes,
  status: c.status,
});

const options = {
  nowMs: NOW,
  stepSeconds: STEP_S,
  bufferMs: 30 * 60_000,
  provisionMs: 15 * 60_000,
  migrationBandwidthBytesPerSec: 1e8,
};

function recorder() {
  const starts: { name: string; input: ScaleOutRequest | ScaleInRequest }[] = [];
  const metrics: { name: string; value: number }[] = [];
  const started = new Set<string>();
  return {
    starts,
    metrics,
    deps: {
      scaling: {
        start: async (name: string, input: ScaleOutRequest | ScaleInRequest) => {
          starts.push({ name, input });
          const fresh = !started.has(name);
          started.add(name);
          return { started: fresh };
        },
      },
      metrics: { add: (name: string, _unit: string, value: number) => metrics.push({ name, value }) },
      log: { info: () => {}, warn: () => {} },
    },
  };
}

describe('forecast-driven scale-in through the profiler to ScaleCluster', () => {
  const cells = [cellRecord('a'), cellRecord('b'), cellRecord('c')];
  // 1,000 ops/s on three 1,000 ops/s cells, all day: two cells would run at 50%.
  const records = [
    scored(0, 'a', 400, 400, 8e9),
    scored(1, 'b', 400, 400, 8e9),
    scored(2, 'c', 200, 200, 2e9),
  ];

  it('the score records carry a day of hourly peaks of the upper forecast capacity planned on', () => {
    expect(records[2].upperPeaks).toEqual({
      slotMs: UPPER_PEAK_SLOT_MS,
      endSlot: Math.floor(NOW / UPPER_PEAK_SLOT_MS),
      values: new Array(24).fill(200),
    });
  });

  it('chooses the cheapest cell to drain and starts ScaleCluster scale-in for it, once per cycle', async () => {
    const check = checkCapacity(records, cells.map(snapshot), options);
    expect(check.scaleOuts).toEqual([]);
    expect(check.scaleIns).toHaveLength(1);
    expect(check.scaleIns[0]).toMatchObject({
      region: REGION,
      cellId: 'c',
      remainingCapacityOpsPerSec: 2000,
    });

    const { starts, metrics, deps } = recorder();
    const cycle = {
      cycleId: 'cycle-1',
      shards: 1,
      seriesEndMs: NOW,
      startedAtMs: NOW,
      cells: [],
      doneShards: [],
      expiresAt: 0,
    };
    const first = await startPredictiveScaling(deps, cycle, check, 10);
    const again = await startPredictiveScaling(deps, cycle, check, 10);
    expect(first.scaleIns).toEqual([{ region: REGION, cellId: 'c', started: true }]);
    expect(again.scaleIns).toEqual([{ region: REGION, cellId: 'c', started: false }]);
    expect(starts[0]).toEqual({
      name: 'predictive-in-c-cycle-1',
      input: { action: 'scale-in', cellId: 'c', reason: 'predicted-spare-capacity', source: 'profiler' },
    });
    expect(starts[1].name).toBe(starts[0].name);
    expect(metrics).toEqual([{ name: METRIC.predictiveScaleIns, value: 1 }]);

    // ScaleCluster's own steps take the profiler's input as a scale-in of that cell, under its lock and cooldown.
    let nowMs = NOW;
    const scaleCluster: ScaleClusterDeps = {
      cells: new InMemoryCellRepository(cells),
      partitions: new InMemoryPartitionRepository(),
      coordination: new InMemoryScalingCoordination(),
      config: {
        homeRegion: REGION,
        dataRegions: [REGION],
        cellTablePrefix: 'cell-',
        capacityAlarmPrefix: 'cap-',
        canaryAlarmPrefix: 'canary-',
        capacityAlarmThreshold: 0.8,
        cooldownMinutes: 20,
      },
      now: () => nowMs,
    };
    const execution = { name: starts[0].name, id: `arn:aws:states:${REGION}:1:execution:ScaleCluster:x` };
    const request = await parseRequest(scaleCluster, { input: starts[0].input, execution });
    expect(request).toMatchObject({
      action: 'scale-in',
      region: REGION,
      cellId: 'c',
      table: 'cell-c',
      source: 'profiler',
      force: false,
      reason: 'predicted-spare-capacity',
    });
    const guard = await acquireLock(scaleCluster, {
      execution,
      request: { ...request, cellIds: [...request.cellIds] } as Parameters<typeof acquireLock>[1]['request'],
    });
    expect(guard.acquired).toBe(true);
    nowMs += 1;
    // A manual scale-in stays strict about unknown fields; the profiler's may carry its own.
    await expect(
      parseRequest(scaleCluster, { input: { action: 'scale-in', cellId: 'c', cell: 'c' }, execution }),
    ).rejects.toThrow(/unknown field/);
    await expect(
      parseRequest(scaleCluster, { input: { ...starts[0].input, cycleId: 'cycle-1' }, execution }),
    ).resolves.toMatchObject({ source: 'profiler' });
  });

  it('keeps every cell when yesterday the forecast needed them, or when turned off', () => {
    // Yesterday's peak (1,500 ops/s) needs more than 0.7 of two cells.
    const busyYesterday = [
      scored(0, 'a', 400, 600, 8e9),
      scored(1, 'b', 400, 600, 8e9),
      scored(2, 'c', 200, 300, 2e9),
    ];
    expect(checkCapacity(busyYesterday, cells.map(snapshot), options).scaleIns).toEqual([]);
    expect(checkCapacity(records, cells.map(snapshot), { ...options, scaleIn: false }).scaleIns).toEqual([]);
    // Records without the peaks (written before them): not enough history to scale in.
    const bare = records.map(({ upperPeaks: _, ...r }) => r);
    expect(checkCapacity(bare, cells.map(snapshot), options).scaleIns).toEqual([]);
  });

  it('waits the same quiet time after a scale-out as the simulator, known from the cells ScaleCluster registered', async () => {
    // ScaleCluster registers a cell 2 hours before the cycle: its record says when.
    let nowMs = NOW - 2 * HOUR;
    const repository = new InMemoryCellRepository(cells);
    const deps: ScaleClusterDeps = {
      cells: repository,
      partitions: new InMemoryPartitionRepository(),
      coordination: new InMemoryScalingCoordination(),
      config: {
        homeRegion: REGION,
        dataRegions: [REGION],
        cellTablePrefix: 'cell-',
        capacityAlarmPrefix: 'cap-',
        canaryAlarmPrefix: 'canary-',
        capacityAlarmThreshold: 0.8,
        cooldownMinutes: 20,
      },
      now: () => nowMs,
    };
    const newCell = {
      cellId: 'd',
      region: REGION,
      table: 'cell-d',
      capacityOpsPerSec: 1000,
      capacityBytes: 1e12,
    };
    const request = {
      action: 'scale-out' as const,
      region: REGION,
      cellIds: ['d'],
      reason: 'alarm',
      source: 'alarm' as const,
      force: false,
      cells: [newCell],
    };
    await registerCells(deps, { execution: { name: 'out-1', id: 'arn:x' }, request });
    // The new cell is still PROVISIONING in its record; once ACTIVE the region has four cells and spare capacity.
    const snapshots = async () =>
      (await repository.list()).map((c) => cellSnapshot({ ...c, status: 'ACTIVE' }, undefined));
    const registered = (await repository.list()).find((c) => c.id === 'd');
    expect(registered?.scaledOutAtMs).toBe(NOW - 2 * HOUR);
    expect((await snapshots()).find((c) => c.id === 'd')?.scaledOutAtMs).toBe(NOW - 2 * HOUR);
    // 2 hours after the scale-out: no scale-in, as in the simulator (12 h quiet time).
    expect(checkCapacity(records, await snapshots(), options).scaleIns).toEqual([]);
    // 13 hours after it, the same records and cells give a scale-in.
    nowMs = NOW;
    const later = { ...options, nowMs: NOW + 11 * HOUR };
    expect(checkCapacity(records, await snapshots(), later).scaleIns).toHaveLength(1);
    // The initial cells carry no scale-out time: without the registered cell, nothing holds the region back.
    const initial = (await snapshots()).filter((c) => c.id !== 'd');
    expect(checkCapacity(records, initial, options).scaleIns).toHaveLength(1);
  });
});
