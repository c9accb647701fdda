import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { AlarmHealthCheck } from '../../../../src/adapters/cloudwatch/alarm-health-check.ts';

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
});
