import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allCells,
  cellTableName,
  PrestageConfigError,
  parsePrestageConfig,
  readPrestageConfig,
} from '../../../lib/prestage-config.ts';
import { DEFAULT_ROUTING_LEASE } from '../../../src/domain/migration/routing-lease.ts';
import { assertProperty } from '../../support/property.ts';
import { tempDir } from '../../support/temp-dir.ts';

const cdkContext = JSON.parse(readFileSync('cdk.json', 'utf8')).context as Record<string, unknown>;

const minimal = {
  homeRegion: 'us-east-1',
  dataRegions: ['us-east-1', 'eu-west-1'],
  cells: {
    'us-east-1': [{ id: 'use1-a', capacityOpsPerSec: 1000, capacityBytes: 1e10 }],
    'eu-west-1': [{ id: 'euw1-a', capacityOpsPerSec: 500, capacityBytes: 1e10 }],
  },
};

/** The error message of parsing `context`, split into its lines. */
function problemsOf(context: Record<string, unknown>): string[] {
  try {
    parsePrestageConfig(context);
  } catch (error) {
    expect(error).toBeInstanceOf(PrestageConfigError);
    return (error as Error).message.split('\n');
  }
  throw new Error('expected a PrestageConfigError');
}

describe('prestage configuration (CDK context)', () => {
  it("accepts cdk.json's defaults as they are", () => {
    const config = parsePrestageConfig(cdkContext);
    expect(config.homeRegion).toBe('us-east-1');
    expect(config.dataRegions).toEqual(['us-east-1', 'eu-west-1']);
    expect(allCells(config).map((c) => `${c.region}/${c.cell.id}`)).toEqual([
      'us-east-1/use1-a',
      'us-east-1/use1-b',
      'eu-west-1/euw1-a',
    ]);
    expect(config.profiler.interval.toSeconds()).toBe(900);
    expect(cellTableName(config, 'euw1-a')).toBe('prestage-cell-euw1-a');
  });

  it('fills every optional key with the handlers’ defaults', () => {
    const config = parsePrestageConfig(minimal);
    expect(config.forecastModel).toEqual({ kind: 'embedded' });
    expect(config.approvalMode).toBe('auto');
    expect(config.profiler).toMatchObject({ rate: '15 minutes', horizonSteps: 8, shards: 1 });
    expect(config.migration).toEqual({
      maxConcurrentMovesPerCell: 2,
      maxConcurrency: 10,
      maxBytesPerCycle: 50 * 1024 ** 3,
      canarySteps: [0.1, 0.5, 1],
    });
    expect(config.names).toEqual({
      partitionsTable: 'prestage-partitions',
      cellsTable: 'prestage-cells',
      eventsTable: 'prestage-events',
      accessStatsTable: 'prestage-access-stats',
      controlPlaneKeyAlias: 'alias/prestage-control-plane',
      cellTablePrefix: 'prestage-cell-',
      capacityAlarmPrefix: 'prestage-cell-capacity-',
      canaryAlarmPrefix: 'prestage-cell-errors-',
      cellKeyAlias: 'alias/prestage-cells',
    });
    // What deploys in a new account, whose Lambda concurrency quota of 10 leaves nothing to reserve.
    expect(config.reserveConcurrency).toBe(false);
    expect(parsePrestageConfig({ ...minimal, reserveConcurrency: true }).reserveConcurrency).toBe(true);
  });

  it('names the routing, events and access-stats tables outside the cell-table prefix the cell grants cover', () => {
    const { names } = parsePrestageConfig(minimal);
    for (const name of [names.partitionsTable, names.cellsTable, names.eventsTable, names.accessStatsTable]) {
      expect(name.startsWith(names.cellTablePrefix), name).toBe(false);
    }
  });

  it('gives every data-plane Lambda one routing-lease setting, validated with the key and the limit', () => {
    expect(parsePrestageConfig(minimal).routingLease).toEqual({
      leaseTtlMs: DEFAULT_ROUTING_LEASE.leaseTtlMs,
      maxRequestMs: DEFAULT_ROUTING_LEASE.maxRequestMs,
      maxClockSkewMs: DEFAULT_ROUTING_LEASE.maxClockSkewMs,
      indexLagMs: DEFAULT_ROUTING_LEASE.indexLagMs,
    });
    expect(
      parsePrestageConfig({ ...minimal, routingLease: { leaseTtlMs: 1_000 } }).routingLease,
    ).toMatchObject({
      leaseTtlMs: 1_000,
      maxRequestMs: DEFAULT_ROUTING_LEASE.maxRequestMs,
    });
    expect(problemsOf({ ...minimal, routingLease: { leaseTtlMs: 10 } })).toEqual([
      "prestage: context 'routingLease.leaseTtlMs': must be at least 100 ms",
    ]);
  });

  it('names the key of a bad region and suggests a real one', () => {
    expect(problemsOf({ ...minimal, dataRegions: ['us-east-1', 'eu-west-9'] })).toContain(
      "prestage: context 'dataRegions[1]': 'eu-west-9' is not an AWS region; use e.g. eu-west-1",
    );
    expect(problemsOf({ ...minimal, homeRegion: 'mars-1' })).toEqual([
      "prestage: context 'homeRegion': 'mars-1' is not an AWS region; use e.g. eu-west-1",
    ]);
  });

  it('reports a missing key with how to set it', () => {
    const { homeRegion: _omit, ...rest } = minimal;
    expect(problemsOf(rest)).toEqual([
      "prestage: context 'homeRegion': missing; expected a region name such as eu-west-1",
    ]);
  });

  it('checks cells against the data regions, both ways, and cell ids for uniqueness', () => {
    expect(
      problemsOf({
        ...minimal,
        cells: { ...minimal.cells, 'ap-south-1': [{ id: 'aps1-a', capacityOpsPerSec: 1, capacityBytes: 1 }] },
      }),
    ).toEqual([
      "prestage: context 'cells.ap-south-1': 'ap-south-1' is not one of dataRegions; add it to dataRegions or remove its cells",
    ]);
    const [noCells] = problemsOf({ ...minimal, cells: { 'us-east-1': minimal.cells['us-east-1'] } });
    expect(noCells).toMatch(
      /^prestage: context 'cells\.eu-west-1': data region eu-west-1 has no cells; add at least one, e\.g\. \[\{"id":/,
    );
    expect(
      problemsOf({
        ...minimal,
        cells: { 'us-east-1': minimal.cells['us-east-1'], 'eu-west-1': minimal.cells['us-east-1'] },
      }),
    ).toEqual([
      "prestage: context 'cells.eu-west-1[0].id': 'use1-a' is also the id of a cell at cells.us-east-1[0]; cell ids must be unique",
    ]);
  });

  it('names the field of a bad cell', () => {
    const problems = problemsOf({
      ...minimal,
      cells: { ...minimal.cells, 'eu-west-1': [{ id: 'euw1 a', capacityOpsPerSec: -5, capacityBytes: 1 }] },
    });
    expect(problems).toContain(
      "prestage: context 'cells.eu-west-1[0].id': 'euw1 a' is not a valid cell id; use 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit, e.g. euw1-a",
    );
    expect(problems).toContain(
      "prestage: context 'cells.eu-west-1[0].capacityOpsPerSec': must be greater than 0, e.g. 1000",
    );
  });

  it('reports unknown keys inside an object (typos)', () => {
    expect(problemsOf({ ...minimal, profiler: { rate: '15 minutes', horizon: 8 } })).toEqual([
      "prestage: context 'profiler.horizon': unknown key; check its spelling (see docs/configuration.md)",
    ]);
  });

  it('validates the profiler rate, the approval mode and the migration limits', () => {
    expect(problemsOf({ ...minimal, profiler: { rate: 'every 15m' } })).toEqual([
      "prestage: context 'profiler.rate': 'every 15m' is not a rate; use e.g. '15 minutes', '1 hour' or '1 day'",
    ]);
    expect(
      parsePrestageConfig({ ...minimal, profiler: { rate: '1 hour' } }).profiler.interval.toSeconds(),
    ).toBe(3600);
    expect(problemsOf({ ...minimal, approvalMode: 'manual' })).toEqual([
      "prestage: context 'approvalMode': expected 'auto' or 'approval'",
    ]);
    expect(problemsOf({ ...minimal, migration: { canarySteps: [0.5, 0.1] } })).toEqual([
      "prestage: context 'migration.canarySteps': canary steps must increase, e.g. [0.1,0.5,1]; [] skips canary reads",
    ]);
    expect(problemsOf({ ...minimal, migration: { maxConcurrentMovesPerCell: 1.5 } })).toEqual([
      "prestage: context 'migration.maxConcurrentMovesPerCell': expected a whole number, e.g. 2",
    ]);
    expect(parsePrestageConfig({ ...minimal, migration: { canarySteps: [] } }).migration.canarySteps).toEqual(
      [],
    );
  });

  it('validates each forecast model kind', () => {
    expect(
      parsePrestageConfig({
        ...minimal,
        forecastModel: { kind: 'sagemaker', endpointName: 'prestage-deepar', contract: 'chronos' },
      }).forecastModel,
    ).toEqual({
      kind: 'sagemaker',
      endpointName: 'prestage-deepar',
      contract: 'chronos',
      eventFeature: false,
    });
    expect(
      problemsOf({ ...minimal, forecastModel: { kind: 'sagemaker', endpointName: 'x', contract: 'arima' } }),
    ).toEqual(["prestage: context 'forecastModel.contract': expected 'deepar' or 'chronos'"]);
    expect(problemsOf({ ...minimal, forecastModel: { kind: 'prophet' } })[0]).toMatch(
      /^prestage: context 'forecastModel\.kind': expected \{"kind":"embedded"\}/,
    );
    expect(
      problemsOf({
        ...minimal,
        forecastModel: { kind: 'deepar-endpoint', modelDataUrl: 'https://x/model.tar.gz' },
      }),
    ).toEqual([
      "prestage: context 'forecastModel.modelDataUrl': 'https://x/model.tar.gz' is not an S3 URI of a model artifact; use e.g. s3://my-bucket/deepar/output/model.tar.gz",
    ]);
    expect(
      parsePrestageConfig({
        ...minimal,
        forecastModel: { kind: 'deepar-endpoint', modelDataUrl: 's3://models-bucket/deepar/model.tar.gz' },
      }).forecastModel,
    ).toEqual({
      kind: 'deepar-endpoint',
      modelDataUrl: 's3://models-bucket/deepar/model.tar.gz',
      instanceType: 'ml.c5.large',
      instanceCount: 1,
      eventFeature: false,
    });
    expect(
      problemsOf({
        ...minimal,
        homeRegion: 'ap-southeast-7',
        dataRegions: ['eu-west-1'],
        cells: { 'eu-west-1': minimal.cells['eu-west-1'] },
        forecastModel: { kind: 'deepar-endpoint', modelDataUrl: 's3://models-bucket/m.tar.gz' },
      }),
    ).toEqual([
      'prestage: context \'forecastModel.kind\': SageMaker has no DeepAR image in ap-southeast-7; train and host the model elsewhere and use {"kind":"sagemaker",…}',
    ]);
  });

  it('reports every problem at once, one per line', () => {
    const problems = problemsOf({
      ...minimal,
      homeRegion: 'nowhere-1',
      approvalMode: 'yes',
      alarmEmail: 'ops',
    });
    expect(problems).toHaveLength(3);
    expect(problems).toContain(
      "prestage: context 'alarmEmail': 'ops' is not an email address; use e.g. oncall@example.com",
    );
  });

  it('reads `-c key=value` strings as JSON (or a comma list of regions) from the construct tree', () => {
    const app = new App({
      outdir: tempDir('prestage-cdk-'),
      context: {
        homeRegion: 'us-east-1',
        dataRegions: 'us-east-1,eu-west-1',
        cells: JSON.stringify(minimal.cells),
        profiler: '{"rate":"5 minutes","shards":4}',
        logRetentionDays: '90',
        reserveConcurrency: 'false',
      },
    });
    const config = readPrestageConfig(app.node);
    expect(config.dataRegions).toEqual(['us-east-1', 'eu-west-1']);
    expect(config.profiler).toMatchObject({ rate: '5 minutes', shards: 4 });
    expect(config.logRetentionDays).toBe(90);
    expect(config.reserveConcurrency).toBe(false);
    const broken = new App({
      outdir: tempDir('prestage-cdk-'),
      context: { ...minimal, cells: '{"us-east-1": [' },
    });
    expect(() => readPrestageConfig(broken.node)).toThrow(
      /^prestage: context 'cells': is not valid JSON: \{"us-east-1": \[; quote the whole value in the shell$/,
    );
  });

  it('accepts every region CDK knows, and rejects any other name, naming it', () => {
    assertProperty(
      fc.property(fc.stringMatching(/^[a-z]{2}-[a-z]{4,9}-[0-9]{1,2}$/), (region) => {
        try {
          parsePrestageConfig({ ...minimal, homeRegion: region });
          return true; // a real region
        } catch (error) {
          return (
            (error as Error).message ===
            `prestage: context 'homeRegion': '${region}' is not an AWS region; use e.g. eu-west-1`
          );
        }
      }),
    );
  });
});
