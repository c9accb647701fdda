import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ensureTable, idempotencyTableDefinition } from '../../../src/adapters/dynamodb/table-definitions.ts';
import {
  InvalidEventError,
  instrumentedHandler,
  metrics,
  powertoolsMetricsSink,
} from '../../../src/lambda/instrumented-handler.ts';
import type { LocalDynamo } from '../../../src/local/dynalite-server.ts';
import { METRIC } from '../../../src/support/metrics.ts';
import { localDynamo } from '../../support/local-tables.ts';

describe('instrumentedHandler', () => {
  it('validates the event and names the field that is wrong', async () => {
    const handler = instrumentedHandler(
      { name: 'Echo', schema: z.object({ planId: z.string().min(1), count: z.number().int() }) },
      async (event) => ({ seen: event.planId, twice: event.count * 2 }),
    );
    await expect(handler({ planId: 'p1', count: 2 })).resolves.toEqual({ seen: 'p1', twice: 4 });
    const rejected = handler({ planId: 'p1', count: 'two' });
    await expect(rejected).rejects.toBeInstanceOf(InvalidEventError);
    await expect(handler({ planId: 'p1', count: 'two' })).rejects.toThrow(/event field 'count'/);
  });

  it('keeps the error name a Step Functions Catch matches on', async () => {
    class MoveRefusedError extends Error {
      override name = 'MoveRefusedError';
    }
    const handler = instrumentedHandler({ name: 'Refuse', schema: z.object({}) }, async () => {
      throw new MoveRefusedError('no');
    });
    await expect(handler({})).rejects.toMatchObject({ name: 'MoveRefusedError' });
  });

  describe('idempotency against dynalite', () => {
    let dynamo: LocalDynamo;
    let client: DynamoDBClient;
    beforeAll(async () => {
      ({ dynamo, client } = await localDynamo());
    });
    afterAll(async () => dynamo?.close());

    it('runs a redelivered event once and returns the first result again', async () => {
      const table = 'idempotency';
      await ensureTable(client, idempotencyTableDefinition(table));
      let runs = 0;
      const handler = instrumentedHandler(
        {
          name: 'Shard',
          schema: z.object({ cycleId: z.string(), shard: z.number() }),
          idempotency: { table, eventKeyJmesPath: '[cycleId, shard]', client },
        },
        async (event) => {
          runs += 1;
          return { cycleId: event.cycleId, run: runs };
        },
      );
      const context = {
        functionName: 'profiler',
        awsRequestId: 'r1',
        getRemainingTimeInMillis: () => 60_000,
      };
      const first = await handler({ cycleId: 'c1', shard: 0 }, context);
      const again = await handler({ cycleId: 'c1', shard: 0 }, { ...context, awsRequestId: 'r2' });
      const other = await handler({ cycleId: 'c1', shard: 1 }, { ...context, awsRequestId: 'r3' });
      expect(first).toEqual({ cycleId: 'c1', run: 1 });
      expect(again).toEqual(first);
      expect(other).toEqual({ cycleId: 'c1', run: 2 });
      expect(runs).toBe(2);
    });
  });
});

describe('powertoolsMetricsSink (the MetricsSink port on the shared Powertools metrics)', () => {
  it('adds metrics to the invocation with their units', () => {
    const spy = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    powertoolsMetricsSink.add(METRIC.bytesMoved, 'Bytes', 10);
    powertoolsMetricsSink.add(METRIC.migrationsStarted, 'Count', 1);
    powertoolsMetricsSink.add(METRIC.forecastMase, 'None', 0.8);
    powertoolsMetricsSink.add(METRIC.cellUtilization, 'Percent', 42);
    expect(spy.mock.calls).toEqual([
      ['BytesMoved', 'Bytes', 10],
      ['MigrationsStarted', 'Count', 1],
      ['ForecastMASE', 'None', 0.8],
      ['CellUtilization', 'Percent', 42],
    ]);
    spy.mockRestore();
  });

  it('publishes a metric with dimensions as a single metric, so they do not stick to the others', () => {
    const single = { addDimension: vi.fn(), addMetric: vi.fn() };
    const singleMetric = vi.spyOn(metrics, 'singleMetric').mockReturnValue(single as never);
    const addMetric = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    powertoolsMetricsSink.add(METRIC.cellUtilization, 'Percent', 55, { CellId: 'use1-a' });
    expect(single.addDimension.mock.calls).toEqual([['CellId', 'use1-a']]);
    expect(single.addMetric.mock.calls).toEqual([['CellUtilization', 'Percent', 55]]);
    expect(addMetric).not.toHaveBeenCalled();
    singleMetric.mockRestore();
    addMetric.mockRestore();
  });
});
