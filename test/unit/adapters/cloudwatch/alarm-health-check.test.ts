import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { AlarmHealthCheck } from '../../../../src/adapters/cloudwatch/alarm-health-check.ts';
import type { CanaryHealthCheck } from '../../../../src/migration/migration-deps.ts';

function cloudwatch(state: string | undefined, seen: unknown[]) {
  return {
    send: async (command: { input: unknown }) => {
      seen.push(command.input);
      return {
        MetricAlarms: state ? [{ StateValue: state, StateReason: 'Threshold Crossed: 3 datapoints' }] : [],
      };
    },
  } as unknown as CloudWatchClient;
}

describe('AlarmHealthCheck', () => {
  it("serves MigratePartition's CanaryHealthCheck port", async () => {
    // Typed as the port: the compiler checks the fit the adapter cannot declare (it must not import src/migration).
    const port: CanaryHealthCheck = new AlarmHealthCheck(cloudwatch('ALARM', []), 'errors-');
    expect(await port.check('c1', 0)).toMatchObject({
      healthy: false,
      reason: expect.stringContaining('errors-c1'),
    });
  });

  it("reads the target cell's alarm and is unhealthy only in ALARM, naming the alarm", async () => {
    const seen: unknown[] = [];
    expect(await new AlarmHealthCheck(cloudwatch('OK', seen), 'errors-').check('eu-west-1-c1')).toMatchObject(
      {
        healthy: true,
      },
    );
    expect(seen[0]).toEqual({ AlarmNames: ['errors-eu-west-1-c1'] });
    const bad = await new AlarmHealthCheck(cloudwatch('ALARM', seen), 'errors-').check('eu-west-1-c1');
    expect(bad).toMatchObject({
      healthy: false,
      reason: expect.stringMatching(/errors-eu-west-1-c1 is in ALARM: Threshold/),
    });
    expect(await new AlarmHealthCheck(cloudwatch('INSUFFICIENT_DATA', seen), 'e-').check('c')).toMatchObject({
      healthy: true,
    });
    expect(await new AlarmHealthCheck(cloudwatch(undefined, seen), 'e-').check('c')).toMatchObject({
      healthy: true,
    });
  });

  it("asks the client of the target cell (the alarm lives in the cell's region)", async () => {
    const seenIn: Record<string, unknown[]> = { 'eu-west-1': [], 'us-east-1': [] };
    const clients = {
      'eu-west-1': cloudwatch('ALARM', seenIn['eu-west-1']),
      'us-east-1': cloudwatch('OK', seenIn['us-east-1']),
    };
    const regionOf: Record<string, keyof typeof clients> = { 'euw1-a': 'eu-west-1', 'use1-a': 'us-east-1' };
    const check = new AlarmHealthCheck((cell) => clients[regionOf[cell]], 'errors-');
    expect((await check.check('euw1-a')).healthy).toBe(false);
    expect((await check.check('use1-a')).healthy).toBe(true);
    expect(seenIn).toEqual({
      'eu-west-1': [{ AlarmNames: ['errors-euw1-a'] }],
      'us-east-1': [{ AlarmNames: ['errors-use1-a'] }],
    });
  });
});
