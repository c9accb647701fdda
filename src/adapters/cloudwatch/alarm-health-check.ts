import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';

/** What a canary health check answers (the CanaryHealthCheck port of MigratePartition). */
export interface CanaryHealthAnswer {
  readonly healthy: boolean;
  readonly requests: number;
  readonly failures: number;
  readonly reason?: string;
}

/**
 * The canary health check in AWS: the target cell is unhealthy while its CloudWatch alarm is in ALARM (each
 * region's cell stack creates one alarm per cell, named `<prefix><cellId>`, on the cell table's server errors and
 * throttles). Alarms live in the cell's own region, so the client is chosen per target cell.
 *
 * It fits MigratePartition's CanaryHealthCheck port structurally: that port is still declared in
 * src/migration/migration-deps.ts, a use-case folder adapters must not import (docs/architecture.md).
 * src/lambda/data-plane-config.ts, which puts it into MigrationDeps, is where the compiler checks the fit.
 */
export class AlarmHealthCheck {
  private readonly cloudwatchFor: (targetCell: string) => CloudWatchClient;
  private readonly alarmPrefix: string;

  /** `cloudwatch`: one client for every cell, or the client of the region each target cell lives in. */
  constructor(
    cloudwatch: CloudWatchClient | ((targetCell: string) => CloudWatchClient),
    alarmPrefix: string,
  ) {
    this.cloudwatchFor = typeof cloudwatch === 'function' ? cloudwatch : () => cloudwatch;
    this.alarmPrefix = alarmPrefix;
  }

  async check(targetCell: string): Promise<CanaryHealthAnswer> {
    const name = `${this.alarmPrefix}${targetCell}`;
    const result = await this.cloudwatchFor(targetCell).send(
      new DescribeAlarmsCommand({ AlarmNames: [name] }),
    );
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
