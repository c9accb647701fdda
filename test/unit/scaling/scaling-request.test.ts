import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import { InvalidScalingRequestError } from '../../../src/domain/scaling/scaling-errors.ts';
import { type CellAlarmSettings, cellAlarmDefinitions } from '../../../src/scaling/cell-alarm-definitions.ts';
import {
  finalBackupName,
  MAX_CELLS_PER_SCALE_OUT,
  newCellIds,
  normalizeScalingRequest,
  type ScalingRequestContext,
} from '../../../src/scaling/scaling-request.ts';
import { assertProperty } from '../../support/property.ts';

const cell = (
  id: string,
  region: string,
  status: CellRecord['status'] = 'ACTIVE',
  ops = 100,
): CellRecord => ({
  id,
  region,
  table: `t-${id}`,
  capacityOpsPerSec: ops,
  capacityBytes: 1e9,
  status,
  version: 1,
});

const ALARMS: CellAlarmSettings = {
  capacityAlarmPrefix: 'prestage-cell-capacity-',
  canaryAlarmPrefix: 'prestage-cell-errors-',
  capacityAlarmThreshold: 0.8,
};

const context = (overrides: Partial<ScalingRequestContext> = {}): ScalingRequestContext => ({
  cells: [
    cell('use1-a', 'us-east-1', 'ACTIVE', 100),
    cell('use1-b', 'us-east-1', 'ACTIVE', 300),
    cell('euw1-a', 'eu-west-1'),
  ],
  homeRegion: 'us-east-1',
  dataRegions: ['us-east-1', 'eu-west-1'],
  cellTablePrefix: 'prestage-cell-',
  alarms: ALARMS,
  executionName: 'exec-1',
  ...overrides,
});

const alarm = (alarmName: string, value = 'ALARM') => ({
  version: '0',
  id: 'e1',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  account: '123456789012',
  time: '2025-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
  detail: {
    alarmName,
    state: { value, reason: 'Threshold Crossed', timestamp: '2025-01-01T00:00:00Z' },
    previousState: { value: 'OK', reason: 'ok', timestamp: '2025-01-01T00:00:00Z' },
    configuration: { metrics: [] },
  },
});

const rejects = (input: unknown, pattern: RegExp, ctx = context()) => {
  expect(() => normalizeScalingRequest(input, ctx)).toThrow(InvalidScalingRequestError);
  expect(() => normalizeScalingRequest(input, ctx)).toThrow(pattern);
};

describe('normalizeScalingRequest', () => {
  it('maps a capacity alarm to one new cell in the alarmed cell region, sized like its largest ACTIVE cell', () => {
    const request = normalizeScalingRequest(alarm('prestage-cell-capacity-use1-a'), context());
    const [id] = newCellIds('us-east-1', 'exec-1', 1);
    expect(request).toEqual({
      action: 'scale-out',
      region: 'us-east-1',
      cellIds: [id],
      cells: [
        {
          cellId: id,
          region: 'us-east-1',
          table: `prestage-cell-${id}`,
          capacityOpsPerSec: 300,
          capacityBytes: 1e9,
          alarms: cellAlarmDefinitions(
            { cellId: id, table: `prestage-cell-${id}`, capacityOpsPerSec: 300 },
            ALARMS,
          ),
        },
      ],
      reason: 'alarm prestage-cell-capacity-use1-a: Threshold Crossed',
      source: 'alarm',
      force: false,
      alarmName: 'prestage-cell-capacity-use1-a',
    });
  });

  it('refuses alarms that are not in ALARM, not capacity alarms, or name an unknown cell', () => {
    rejects(alarm('prestage-cell-capacity-use1-a', 'OK'), /detail\.state\.value.*'OK'/);
    rejects(alarm('other-alarm'), /not a cell capacity alarm/);
    rejects(alarm('prestage-cell-capacity-nope'), /unknown cell 'nope'/);
    rejects({ ...alarm('x'), source: 'aws.ec2' }, /source/);
  });

  it('takes a manual scale-out with a count and explicit capacity', () => {
    const request = normalizeScalingRequest(
      { action: 'scale-out', region: 'eu-west-1', cells: 3, capacityOpsPerSec: 50, capacityBytes: 2e9 },
      context(),
    );
    expect(request.action).toBe('scale-out');
    if (request.action !== 'scale-out') return;
    expect(request.cells.map((c) => c.cellId)).toEqual(newCellIds('eu-west-1', 'exec-1', 3));
    expect(request.cells.every((c) => c.capacityOpsPerSec === 50 && c.capacityBytes === 2e9)).toBe(true);
    // Each new cell's alarms are named after it and its capacity alarm fires at 80% of the asked capacity.
    for (const c of request.cells) {
      expect(c.alarms.capacity).toMatchObject({
        AlarmName: `prestage-cell-capacity-${c.cellId}`,
        Threshold: 40,
      });
      expect(c.alarms.canary.AlarmName).toBe(`prestage-cell-errors-${c.cellId}`);
      expect(JSON.stringify(c.alarms)).toContain(`"Value":"${c.table}"`);
    }
    expect(request).toMatchObject({ source: 'manual', reason: 'manual scale-out', force: false });
  });

  it('is strict on manual input but lets the profiler add fields', () => {
    rejects({ action: 'scale-out', region: 'us-east-1', cell: 2 }, /'cell': unknown field/);
    const predictive = normalizeScalingRequest(
      {
        action: 'scale-out',
        region: 'us-east-1',
        cells: 2,
        reason: 'predicted-shortfall',
        source: 'profiler',
        shortfallAtMs: 123,
      },
      context(),
    );
    expect(predictive).toMatchObject({
      source: 'profiler',
      reason: 'predicted-shortfall',
      cellIds: newCellIds('us-east-1', 'exec-1', 2),
    });
  });

  it('refuses regions without a data stack, too many cells, and unknown actions', () => {
    rejects(
      { action: 'scale-out', region: 'ap-south-1' },
      /region 'ap-south-1' has no data stack; expected one of eu-west-1, us-east-1/,
    );
    rejects({ action: 'scale-out', region: 'us-east-1', cells: MAX_CELLS_PER_SCALE_OUT + 1 }, /cells/);
    rejects({ action: 'grow' }, /action.*'grow'/);
    rejects({}, /action.*missing/);
    rejects('scale-out', /expected a CloudWatch Alarm State Change event/);
  });

  it('without configured data regions allows the home region and regions that have cells', () => {
    const ctx = context({ dataRegions: [] });
    expect(normalizeScalingRequest({ action: 'scale-out', region: 'eu-west-1' }, ctx).region).toBe(
      'eu-west-1',
    );
    rejects({ action: 'scale-out', region: 'sa-east-1' }, /no data stack/, ctx);
  });

  it('needs an ACTIVE cell to size a new cell when no capacity is given', () => {
    const ctx = context({ cells: [cell('only', 'us-east-1', 'DRAINING')] });
    rejects({ action: 'scale-out', region: 'us-east-1' }, /capacityOpsPerSec/, ctx);
  });

  it('takes a scale-in of an ACTIVE or DRAINING cell, with a final backup name', () => {
    const request = normalizeScalingRequest({ action: 'scale-in', cellId: 'use1-a' }, context());
    expect(request).toEqual({
      action: 'scale-in',
      region: 'us-east-1',
      cellId: 'use1-a',
      cellIds: ['use1-a'],
      table: 't-use1-a',
      backupName: 't-use1-a-final-exec-1',
      alarmNames: ['prestage-cell-capacity-use1-a', 'prestage-cell-errors-use1-a'],
      reason: 'manual scale-in',
      source: 'manual',
      force: false,
    });
    const draining = context({ cells: [cell('x', 'us-east-1', 'DRAINING'), cell('y', 'us-east-1')] });
    expect(normalizeScalingRequest({ action: 'scale-in', cellId: 'x', force: true }, draining)).toMatchObject(
      {
        force: true,
      },
    );
  });

  it('refuses to scale in a retired, provisioning, unknown or last ACTIVE cell', () => {
    const ctx = context({
      cells: [
        cell('r', 'us-east-1', 'RETIRED'),
        cell('p', 'us-east-1', 'PROVISIONING'),
        cell('last', 'us-east-1'),
      ],
    });
    rejects({ action: 'scale-in', cellId: 'r' }, /already RETIRED/, ctx);
    rejects({ action: 'scale-in', cellId: 'p' }, /still PROVISIONING/, ctx);
    rejects({ action: 'scale-in', cellId: 'last' }, /last ACTIVE cell/, ctx);
    rejects({ action: 'scale-in', cellId: 'zz' }, /unknown cell 'zz'; expected one of r, p, last/, ctx);
    rejects({ action: 'scale-in', cellId: 'last', cells: 1 }, /cells/, ctx);
  });

  it('derives cell ids from the execution: the same execution gets the same ids, another gets others', () => {
    assertProperty(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.string({ minLength: 1, maxLength: 80 }),
        (a, b) => {
          expect(newCellIds('us-east-1', a, 2)).toEqual(newCellIds('us-east-1', a, 2));
          if (a !== b) expect(newCellIds('us-east-1', a, 1)).not.toEqual(newCellIds('us-east-1', b, 1));
        },
      ),
    );
  });

  it('builds valid DynamoDB backup names from any table and execution name', () => {
    assertProperty(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{3,255}$/),
        fc.string({ minLength: 1, maxLength: 80 }),
        (table, name) => {
          const backup = finalBackupName(table, name);
          expect(backup).toMatch(/^[A-Za-z0-9_.-]{3,255}$/);
        },
      ),
    );
  });
});
