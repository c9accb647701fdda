import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { CanaryHealthCheck } from '../../migration/migration-deps.ts';

/**
 * The canary health check in AWS: the target cell is unhealthy while its CloudWatch alarm is in ALARM
 * (the data stack creates one alarm per cell, named `<prefix><cellId>`, on the interceptor's error metrics).
 */
export class AlarmHealthCheck implements CanaryHealthCheck {
  private readonly cloudwatch: CloudWatchClient;
  private readonly alarmPrefix: string;

  constructor(cloudwatch: CloudWatchClient, alarmPrefix: string) {
    this.cloudwatch = cloudwatch;
    this.alarmPrefix = alarmPrefix;
  }

  async check(targetCell: string) {
    const name = `${this.alarmPrefix}${targetCell}`;
    const result = await this.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    const alarm = result.MetricAlarms?.[0];
    const healthy = alarm?.StateValue !== 'ALARM';
    return {
      healthy,
      requests: 0,
      failures: 0,
      ...(healthy ? {} : { reason: `alarm ${name} is in ALARM: ${alarm?.StateReason ?? ''}`.trim() }),
    };
  }
}
