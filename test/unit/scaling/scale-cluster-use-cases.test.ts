import { beforeEach, describe, expect, it } from 'vitest';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import { newPartitionRecord, type PartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { DrainIncompleteError, ScalingInProgressError } from '../../../src/domain/scaling/scaling-errors.ts';
import {
  abortScaling,
  acquireLock,
  completeScaling,
  DEFAULT_LOCK_TTL_SECONDS,
  registerCells,
  type ScaleClusterDeps,
  verifyDrained,
} from '../../../src/scaling/scale-cluster-steps.ts';
import {
  InMemoryCellRepository,
  InMemoryPartitionRepository,
  InMemoryScalingCoordination,
} from '../../support/in-memory-ports.ts';

/**
 * The ScaleCluster use cases on their ports alone: cells, partitions and the lock and cooldown in memory (the
 * lock's contract is shared with the DynamoDB adapter, see test/unit/ports/port-contracts.test.ts).
 */

const T0 = Date.UTC(2025, 5, 1, 12);
const REGION = 'us-east-1';

const cell = (id: string, status: CellRecord['status'] = 'ACTIVE'): CellRecord => ({
  id,
  region: REGION,
  table: `cell-${id}`,
  capacityOpsPerSec: 100,
  capacityBytes: 1e9,
  status,
  version: 1,
});

const scaleOut = (cellIds: string[], force = false) => ({
  action: 'scale-out' as const,
  region: REGION,
  cellIds,
  reason: 'test',
  source: 'manual' as const,
  force,
  cells: cellIds.map((cellId) => ({
    cellId,
    region: REGION,
    table: `cell-${cellId}`,
    capacityOpsPerSec: 200,
    capacityBytes: 2e9,
  })),
});

const scaleIn = (cellId: string) => ({
  action: 'scale-in' as const,
  region: REGION,
  cellIds: [cellId],
  reason: 'test',
  source: 'manual' as const,
  force: true,
  cellId,
  table: `cell-${cellId}`,
  backupName: `backup-${cellId}`,
});

const execution = (name: string) => ({
  name,
  id: `arn:aws:states:${REGION}:1:execution:ScaleCluster:${name}`,
});

describe('ScaleCluster use cases on in-memory ports', () => {
  let cells: InMemoryCellRepository;
  let partitions: InMemoryPartitionRepository;
  let coordination: InMemoryScalingCoordination;
  let running: Set<string>;
  let nowMs: number;
  let deps: ScaleClusterDeps;

  beforeEach(() => {
    nowMs = T0;
    cells = new InMemoryCellRepository([cell('a'), cell('b')]);
    partitions = new InMemoryPartitionRepository();
    coordination = new InMemoryScalingCoordination();
    running = new Set();
    deps = {
      cells,
      partitions,
      coordination,
      config: {
        homeRegion: REGION,
        dataRegions: [REGION],
        cellTablePrefix: 'cell-',
        capacityAlarmPrefix: 'cap-',
        canaryAlarmPrefix: 'canary-',
        capacityAlarmThreshold: 0.8,
        cooldownMinutes: 10,
        maxDrainRounds: 2,
      },
      isExecutionRunning: async (arn) => running.has(arn),
      now: () => nowMs,
    };
  });

  it('one scaling per region: the lock, its takeover from a stopped run, the cooldown after a finished one', async () => {
    const first = execution('first');
    running.add(first.id);
    expect(await acquireLock(deps, { execution: first, request: scaleOut(['c']) })).toEqual({
      acquired: true,
      lockKey: `scaling-lock#${REGION}`,
      expiresAt: T0 / 1000 + DEFAULT_LOCK_TTL_SECONDS,
    });
    const second = execution('second');
    const refused = await acquireLock(deps, { execution: second, request: scaleOut(['d']) }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ScalingInProgressError);
    expect(refused).toMatchObject({ region: REGION, holder: 'first' });
    // Someone stops the first run in the console (no Catch runs): the next run takes the lock over.
    running.delete(first.id);
    expect(await acquireLock(deps, { execution: second, request: scaleOut(['d']) })).toMatchObject({
      acquired: true,
    });

    nowMs += 5 * 60_000;
    expect(await completeScaling(deps, { execution: second, request: scaleOut(['d']) })).toEqual({
      action: 'scale-out',
      region: REGION,
      cellIds: ['d'],
      cooldownUntil: new Date(nowMs + 10 * 60_000).toISOString(),
      lockReleased: true,
    });
    expect(coordination.locks.size).toBe(0);
    // Inside the cooldown a run is skipped and holds no lock, unless forced.
    nowMs += 60_000;
    expect(await acquireLock(deps, { execution: execution('third'), request: scaleOut(['e']) })).toEqual({
      acquired: false,
      reason: 'cooldown',
      cooldownUntil: new Date(nowMs + 9 * 60_000).toISOString(),
    });
    expect(coordination.locks.size).toBe(0);
    expect(
      await acquireLock(deps, { execution: execution('third'), request: scaleOut(['e'], true) }),
    ).toMatchObject({ acquired: true });
  });

  it('a finished scaling without a cooldown releases the lock and starts none', async () => {
    deps = { ...deps, config: { ...deps.config, cooldownMinutes: 0 } };
    const run = execution('run');
    await acquireLock(deps, { execution: run, request: scaleOut(['c']) });
    expect(await completeScaling(deps, { execution: run, request: scaleOut(['c']) })).toEqual({
      action: 'scale-out',
      region: REGION,
      cellIds: ['c'],
      lockReleased: true,
    });
    expect(coordination.cooldowns.size).toBe(0);
  });

  it('registers new cells PROVISIONING once; a failure before they serve retires them, a later one keeps them', async () => {
    const run = execution('out');
    const request = scaleOut(['c', 'd']);
    await acquireLock(deps, { execution: run, request });
    expect(await registerCells(deps, { execution: run, request })).toEqual({ registered: ['c', 'd'] });
    await registerCells(deps, { execution: run, request });
    expect((await cells.list()).map((c) => [c.id, c.status, c.capacityOpsPerSec])).toEqual([
      ['a', 'ACTIVE', 100],
      ['b', 'ACTIVE', 100],
      ['c', 'PROVISIONING', 200],
      ['d', 'PROVISIONING', 200],
    ]);
    await cells.setStatus('d', 'ACTIVE');
    expect(
      await abortScaling(deps, {
        execution: run,
        request,
        guard: { acquired: true },
        failedStage: 'provision',
        error: { Error: 'ResourceLimitExceeded', Cause: 'too many tables' },
      }),
    ).toEqual({
      failedStage: 'provision',
      error: 'ResourceLimitExceeded',
      cellStatus: { c: 'RETIRED' },
      lockReleased: true,
    });
    expect((await cells.get('d'))?.status).toBe('ACTIVE');

    // After activation a failure leaves the new cells serving (they may hold data already).
    const later = execution('out-2');
    const request2 = scaleOut(['e'], true);
    await acquireLock(deps, { execution: later, request: request2 });
    await registerCells(deps, { execution: later, request: request2 });
    expect(
      await abortScaling(deps, {
        execution: later,
        request: request2,
        guard: { acquired: true },
        failedStage: 'complete',
      }),
    ).toEqual({ failedStage: 'complete', cellStatus: { e: 'ACTIVE' }, lockReleased: true });
  });

  it('a scale-in that failed before its first plan ran makes the cell ACTIVE again; one that failed later keeps it DRAINING', async () => {
    const run = execution('in');
    const request = scaleIn('b');
    await acquireLock(deps, { execution: run, request });
    await cells.setStatus('b', 'DRAINING');
    expect(
      await abortScaling(deps, {
        execution: run,
        request,
        guard: { acquired: true },
        drain: { round: 1 },
        failedStage: 'plan',
      }),
    ).toMatchObject({ cellStatus: { b: 'ACTIVE' }, lockReleased: true });

    await acquireLock(deps, { execution: run, request });
    await cells.setStatus('b', 'DRAINING');
    expect(
      await abortScaling(deps, {
        execution: run,
        request,
        guard: { acquired: true },
        drain: { round: 2 },
        failedStage: 'plan',
      }),
    ).toMatchObject({ cellStatus: {}, lockReleased: true });
    expect((await cells.get('b'))?.status).toBe('DRAINING');
  });

  it('a run that never took the lock changes no cell and leaves the holder its lock', async () => {
    const holder = execution('holder');
    await acquireLock(deps, { execution: holder, request: scaleIn('b') });
    await cells.setStatus('b', 'DRAINING');
    expect(
      await abortScaling(deps, {
        execution: execution('other'),
        request: scaleIn('b'),
        guard: { acquired: false },
        failedStage: 'drain-mark',
      }),
    ).toEqual({ failedStage: 'drain-mark', cellStatus: {}, lockReleased: false });
    expect(coordination.locks.get(REGION)?.owner).toBe('holder');
    expect((await cells.get('b'))?.status).toBe('DRAINING');
  });

  it('drains in rounds until nothing names the cell, then forgets the copies it retained', async () => {
    const record = (
      partition: string,
      primary: string,
      extra: Partial<PartitionRecord> = {},
    ): PartitionRecord => ({
      ...newPartitionRecord(partition, primary, 1, T0),
      ...extra,
    });
    partitions = new InMemoryPartitionRepository([
      record('primary', 'b'),
      record('peer', 'a', { routing: { phase: 'mirroring', readWeight: 0, peer: 'b' } }),
      record('fenced', 'a', {
        status: 'MIGRATING',
        fence: { owner: 'm1', sourceCell: 'a', targetCell: 'b', acquiredAtMs: T0, stage: 'acquire' },
      }),
      record('kept', 'a', { replicas: { b: { state: 'cold', watermark: '1', updatedAtMs: T0 } } }),
    ]);
    deps = { ...deps, partitions };
    const request = scaleIn('b');
    expect(await verifyDrained(deps, { request, drain: { round: 1 } })).toEqual({
      drained: false,
      remaining: 3,
      round: 2,
    });
    const refused = await verifyDrained(deps, { request, drain: { round: 2 } }).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DrainIncompleteError);
    expect(refused).toMatchObject({ cellId: 'b', partitions: ['fenced', 'peer', 'primary'] });

    await partitions.update('primary', (p) => ({ ...p, cell: 'a' }));
    await partitions.update('peer', (p) => ({ ...p, routing: { phase: 'stable', readWeight: 0 } }));
    await partitions.update('fenced', ({ fence: _released, ...p }) => ({ ...p, status: 'ACTIVE' }));
    expect(await verifyDrained(deps, { request, drain: { round: 2 } })).toEqual({
      drained: true,
      remaining: 0,
      round: 2,
      replicasForgotten: 1,
    });
    expect((await partitions.get('kept'))?.replicas).toEqual({});
  });
});
