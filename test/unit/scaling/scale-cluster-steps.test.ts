import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCellRepository } from '../../../src/adapters/dynamodb/cell-repository.ts';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../../../src/adapters/dynamodb/partition-repository.ts';
import { DynamoScalingCoordination } from '../../../src/adapters/dynamodb/scaling-coordination.ts';
import {
  cellsTableDefinition,
  coordinationTableDefinition,
  ensureTable,
  partitionsTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import { newPartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { cellAlarmDefinitions } from '../../../src/scaling/cell-alarm-definitions.ts';
import { createScaleClusterStepHandler } from '../../../src/scaling/scale-cluster-handlers.ts';
import type { ScaleClusterDeps } from '../../../src/scaling/scale-cluster-steps.ts';
import type { ScaleClusterTaskName } from '../../../src/scaling/scale-cluster-tasks.ts';
import { localDynamo } from '../../support/local-tables.ts';

describe('ScaleCluster steps (real handlers on dynalite)', () => {
  let dynamo: LocalDynamo;
  let deps: ScaleClusterDeps;
  let cells: DynamoCellRepository;
  let partitions: DynamoPartitionRepository;
  let coordination: DynamoScalingCoordination;
  let nowMs = Date.parse('2025-01-01T00:00:00Z');
  let run = 0;
  let execution: { name: string; id: string };
  const step = (task: ScaleClusterTaskName, event: unknown) =>
    createScaleClusterStepHandler(task, deps)(event, {});
  const cell = (id: string, status: CellRecord['status'] = 'ACTIVE'): CellRecord => ({
    id,
    region: 'us-east-1',
    table: `t-${id}`,
    capacityOpsPerSec: 100,
    capacityBytes: 1e9,
    status,
    version: 1,
  });

  beforeAll(async () => {
    const local = await localDynamo();
    dynamo = local.dynamo;
    await ensureTable(local.client, cellsTableDefinition('cells'));
    await ensureTable(local.client, partitionsTableDefinition('partitions'));
    await ensureTable(local.client, coordinationTableDefinition('coordination'));
    const documents = documentClient(local.client);
    cells = new DynamoCellRepository(documents, 'cells');
    partitions = new DynamoPartitionRepository(documents, 'partitions');
    coordination = new DynamoScalingCoordination(documents, 'coordination');
    deps = {
      cells,
      partitions,
      coordination,
      config: {
        homeRegion: 'us-east-1',
        dataRegions: ['us-east-1'],
        cellTablePrefix: 'cell-',
        capacityAlarmPrefix: 'cap-',
        canaryAlarmPrefix: 'err-',
        capacityAlarmThreshold: 0.5,
        cooldownMinutes: 10,
        maxDrainRounds: 2,
      },
      now: () => nowMs,
    };
    for (const id of ['a', 'b']) await cells.register(cell(id));
  });
  afterAll(async () => {
    await dynamo.close();
  });
  beforeEach(() => {
    run++;
    execution = { name: `exec-${run}`, id: `arn:aws:states:us-east-1:1:execution:ScaleCluster:exec-${run}` };
  });

  it('validates the event of every step (InvalidEventError names the field)', async () => {
    await expect(step('AcquireLock', { execution })).rejects.toMatchObject({
      name: 'InvalidEventError',
      message: expect.stringMatching(/AcquireLock: event field 'request'/),
    });
    await expect(step('SetCellStatus', { cellIds: ['a'], status: 'GONE' })).rejects.toMatchObject({
      name: 'InvalidEventError',
    });
  });

  it('ParseRequest turns an unknown cell into InvalidScalingRequestError', async () => {
    await expect(
      step('ParseRequest', { input: { action: 'scale-in', cellId: 'zz' }, execution }),
    ).rejects.toMatchObject({
      name: 'InvalidScalingRequestError',
    });
  });

  it('a scale-out: register PROVISIONING twice without doubling, lock, complete with a cooldown', async () => {
    const request = await step('ParseRequest', {
      input: { action: 'scale-out', region: 'us-east-1', cells: 2 },
      execution,
    });
    const state = { execution, request };
    expect(await step('AcquireLock', state)).toMatchObject({
      acquired: true,
      lockKey: 'scaling-lock#us-east-1',
    });
    await step('RegisterCells', state);
    await step('RegisterCells', state);
    const ids = (request as { cellIds: string[] }).cellIds;
    const all = await cells.list();
    expect(all.filter((c) => ids.includes(c.id)).map((c) => c.status)).toEqual([
      'PROVISIONING',
      'PROVISIONING',
    ]);
    expect(all).toHaveLength(4);
    const summary = await step('CompleteScaling', state);
    expect(summary).toMatchObject({
      action: 'scale-out',
      lockReleased: true,
      cooldownUntil: new Date(nowMs + 600_000).toISOString(),
    });
    expect(await coordination.currentLock('us-east-1')).toBeUndefined();
    // Inside the cooldown the next run is skipped, unless forced.
    nowMs += 60_000;
    expect(await step('AcquireLock', state)).toEqual({
      acquired: false,
      reason: 'cooldown',
      cooldownUntil: new Date(nowMs + 540_000).toISOString(),
    });
    const forced = { ...state, request: { ...(request as object), force: true } };
    expect(await step('AcquireLock', forced)).toMatchObject({ acquired: true });
    await coordination.release('us-east-1', execution.name);
    for (const id of ids) await cells.setStatus(id, 'RETIRED');
  });

  it('AbortScaling: a scale-out that failed before its cells were ACTIVE retires them and releases the lock', async () => {
    const request = await step('ParseRequest', {
      input: { action: 'scale-out', region: 'us-east-1', force: true },
      execution,
    });
    const state = { execution, request, guard: await step('AcquireLock', { execution, request }) };
    await step('RegisterCells', state);
    const result = await step('AbortScaling', {
      ...state,
      failedStage: 'provision',
      error: { Error: 'X', Cause: 'y' },
    });
    const [id] = (request as { cellIds: string[] }).cellIds;
    expect(result).toEqual({
      failedStage: 'provision',
      error: 'X',
      cellStatus: { [id]: 'RETIRED' },
      lockReleased: true,
    });
    expect(await cells.get(id)).toMatchObject({ status: 'RETIRED' });
  });

  it('AbortScaling: a scale-in that failed planning its first round is ACTIVE again; later, it stays DRAINING', async () => {
    await cells.register(cell('c'));
    const request = await step('ParseRequest', {
      input: { action: 'scale-in', cellId: 'c', force: true },
      execution,
    });
    const state = { execution, request, guard: await step('AcquireLock', { execution, request }) };
    await step('SetCellStatus', { cellIds: ['c'], status: 'DRAINING' });
    const first = await step('AbortScaling', {
      ...state,
      drain: { round: 1 },
      failedStage: 'plan',
      error: { Error: 'InfeasiblePlacementError' },
    });
    expect(first).toMatchObject({ cellStatus: { c: 'ACTIVE' }, lockReleased: true });
    expect(await cells.get('c')).toMatchObject({ status: 'ACTIVE' });

    const again = { ...state, guard: await step('AcquireLock', { execution, request }) };
    await step('SetCellStatus', { cellIds: ['c'], status: 'DRAINING' });
    const later = await step('AbortScaling', {
      ...again,
      drain: { round: 2 },
      failedStage: 'plan',
      error: { Error: 'E' },
    });
    expect(later).toMatchObject({ cellStatus: {}, lockReleased: true });
    expect(await cells.get('c')).toMatchObject({ status: 'DRAINING' });
  });

  it('AbortScaling: a scale-in whose table is deleted but whose alarms are not leaves the cell RETIRED', async () => {
    await cells.register(cell('r'));
    const request = await step('ParseRequest', {
      input: { action: 'scale-in', cellId: 'r', force: true },
      execution,
    });
    expect(request).toMatchObject({ alarmNames: ['cap-r', 'err-r'] });
    const state = { execution, request, guard: await step('AcquireLock', { execution, request }) };
    await step('SetCellStatus', { cellIds: ['r'], status: 'DRAINING' });
    const result = await step('AbortScaling', {
      ...state,
      drain: { round: 1 },
      failedStage: 'delete-alarms',
      error: { Error: 'CloudWatch.AccessDeniedException' },
    });
    expect(result).toMatchObject({ cellStatus: { r: 'RETIRED' }, lockReleased: true });
    expect(await cells.get('r')).toMatchObject({ status: 'RETIRED' });
  });

  it('ParseRequest gives each new cell its two alarm definitions, threshold from its capacity', async () => {
    const request = (await step('ParseRequest', {
      input: { action: 'scale-out', region: 'us-east-1', capacityOpsPerSec: 400, capacityBytes: 1e9 },
      execution,
    })) as { cells: { cellId: string; table: string; alarms: Record<string, unknown> }[] };
    const [created] = request.cells;
    expect(created.alarms).toEqual(
      cellAlarmDefinitions(
        { cellId: created.cellId, table: created.table, capacityOpsPerSec: 400 },
        { capacityAlarmPrefix: 'cap-', canaryAlarmPrefix: 'err-', capacityAlarmThreshold: 0.5 },
      ),
    );
    expect(created.alarms.capacity).toMatchObject({ AlarmName: `cap-${created.cellId}`, Threshold: 200 });
  });

  it('AbortScaling without the lock changes nothing', async () => {
    const request = await step('ParseRequest', { input: { action: 'scale-in', cellId: 'a' }, execution });
    await coordination.acquire({
      region: 'us-east-1',
      owner: 'someone-else',
      action: 'scale-out',
      nowMs,
      ttlSeconds: 60,
    });
    const result = await step('AbortScaling', {
      execution,
      request,
      guard: { acquired: false },
      failedStage: 'plan',
    });
    expect(result).toEqual({ failedStage: 'plan', cellStatus: {}, lockReleased: false });
    expect(await coordination.currentLock('us-east-1')).toMatchObject({ owner: 'someone-else' });
    await coordination.release('us-east-1', 'someone-else');
  });

  it('VerifyDrained: another round while a partition is left, DrainIncompleteError after the last; forgets retained copies once empty', async () => {
    await cells.register(cell('d'));
    const request = await step('ParseRequest', { input: { action: 'scale-in', cellId: 'd' }, execution });
    await partitions.createIfAbsent(newPartitionRecord('on-d', 'd', 2, nowMs));
    expect(await step('VerifyDrained', { request, drain: { round: 1 } })).toEqual({
      drained: false,
      remaining: 1,
      round: 2,
    });
    await expect(step('VerifyDrained', { request, drain: { round: 2 } })).rejects.toMatchObject({
      name: 'DrainIncompleteError',
      message: expect.stringMatching(
        /cell 'd' still holds 1 partition\(s\) after 2 drain round\(s\) \(on-d\)/,
      ),
    });
    // Moved away, but a cold copy was retained on d.
    await partitions.update('on-d', (p) => ({
      ...p,
      cell: 'a',
      replicas: { d: { state: 'cold', watermark: '1', updatedAtMs: nowMs } },
    }));
    expect(await step('VerifyDrained', { request, drain: { round: 2 } })).toEqual({
      drained: true,
      remaining: 0,
      round: 2,
      replicasForgotten: 1,
    });
    expect((await partitions.get('on-d'))?.replicas).toEqual({});
  });

  it('VerifyDrained counts a cell that is a migration peer or fence end as not drained', async () => {
    await cells.register(cell('e'));
    const request = await step('ParseRequest', { input: { action: 'scale-in', cellId: 'e' }, execution });
    await partitions.createIfAbsent(newPartitionRecord('peer-e', 'a', 2, nowMs));
    await partitions.update('peer-e', (p) => ({
      ...p,
      routing: { phase: 'switched', peer: 'e', readWeight: 1 },
    }));
    expect(await step('VerifyDrained', { request, drain: { round: 1 } })).toMatchObject({
      drained: false,
      remaining: 1,
    });
  });
});
