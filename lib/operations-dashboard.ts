import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import {
  type AlarmWithAnnotation,
  DefaultDashboardFactory,
  MonitoringFacade,
  notifySns,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '../src/support/metrics.ts';
import { allCells, cellTableName, type PrestageConfig } from './prestage-config.ts';

/** Powertools adds the service as a dimension to every metric (instrumented-handler's serviceName). */
export const POWERTOOLS_DIMENSIONS = { service: 'prestage' } as const;

export interface OperationsDashboardProps {
  readonly config: PrestageConfig;
  /** Every alarm notifies this topic. */
  readonly alarmTopic: ITopic;
  readonly migratePartition: IStateMachine;
  readonly executePlan?: IStateMachine;
  readonly scaleCluster?: IStateMachine;
  readonly interceptor: IFunction;
  readonly profiler?: IFunction;
  readonly planner?: IFunction;
  /** Dead-letter queues; any message in one raises an alarm. */
  readonly deadLetterQueues: readonly { readonly name: string; readonly queue: IQueue }[];
  /** @default 'prestage' */
  readonly dashboardName?: string;
}

const CRITICAL = 'Critical';

/**
 * The operations dashboard and the alarms, on cdk-monitoring-constructs: migrations in flight, succeeded, failed
 * and rolled back, bytes moved, plan sizes, forecast error, interceptor latency and local share, cell
 * utilization, and each workflow, function and dead-letter queue. Alarms (all to `alarmTopic`): failed
 * ExecutePlan and MigratePartition executions, MigrationsFailed, profiler errors, and any message in a DLQ.
 * Metric names come from src/lambda/metric-names.ts, the constants the handlers publish with.
 */
export class OperationsDashboard extends Construct {
  readonly monitoring: MonitoringFacade;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    const { config } = props;
    this.monitoring = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: {
        alarmNamePrefix: 'prestage',
        actionsEnabled: true,
        action: notifySns(props.alarmTopic),
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
      },
      metricFactoryDefaults: { period: Duration.minutes(5) },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: props.dashboardName ?? 'prestage',
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });
    const m = this.monitoring;
    const prestage = (name: MetricName, statistic: string, label: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: POWERTOOLS_DIMENSIONS,
        statistic,
        label,
        period: Duration.minutes(5),
      });
    const failed = prestage(METRIC.migrationsFailed, 'Sum', 'failed');

    m.addLargeHeader('prestage: migrations');
    m.monitorCustom({
      alarmFriendlyName: 'Migrations',
      humanReadableName: 'Migrations',
      metricGroups: [
        {
          title: 'Migrations in flight',
          metrics: [prestage(METRIC.migrationsInFlight, 'Maximum', 'in flight')],
        },
        {
          title: 'Migrations by outcome',
          metrics: [
            prestage(METRIC.migrationsSucceeded, 'Sum', 'succeeded'),
            {
              metric: failed,
              alarmFriendlyName: 'MigrationsFailed',
              addAlarm: {
                [CRITICAL]: {
                  threshold: 0,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  alarmDescriptionOverride:
                    'A migration failed (ExecutePlan recorded a FAILED move): open the ExecutePlan execution, then the child MigratePartition execution',
                },
              },
            },
            prestage(METRIC.migrationsRolledBack, 'Sum', 'rolled back'),
          ],
        },
        { title: 'Bytes moved', metrics: [prestage(METRIC.bytesMoved, 'Sum', 'bytes moved')] },
        {
          title: 'Plan sizes (moves per plan)',
          metrics: [
            prestage(METRIC.planMoves, 'Maximum', 'largest plan'),
            prestage(METRIC.planMoves, 'Average', 'average plan'),
          ],
        },
      ],
    });

    const workflow = (stateMachine: IStateMachine, name: string, alarmOnFailure: boolean) =>
      m.monitorStepFunction({
        stateMachine,
        humanReadableName: name,
        alarmFriendlyName: name,
        ...(alarmOnFailure ? { addFailedExecutionCountAlarm: { [CRITICAL]: { maxErrorCount: 0 } } } : {}),
      });
    if (props.executePlan) workflow(props.executePlan, 'ExecutePlan', true);
    workflow(props.migratePartition, 'MigratePartition', true);
    if (props.scaleCluster) workflow(props.scaleCluster, 'ScaleCluster', true);

    m.addLargeHeader('prestage: forecasts and routing');
    m.monitorCustom({
      alarmFriendlyName: 'Forecast',
      humanReadableName: 'Forecast',
      metricGroups: [
        {
          title: 'Online forecast error',
          metrics: [
            prestage(METRIC.forecastMase, 'Average', 'MASE'),
            prestage(METRIC.forecastMape, 'Average', 'MAPE'),
          ],
        },
        {
          title: 'Scoring',
          metrics: [
            prestage(METRIC.partitionsScored, 'Sum', 'partitions scored'),
            prestage(METRIC.forecastFallbacks, 'Sum', 'embedded fallbacks'),
            prestage(METRIC.predictiveScaleOuts, 'Sum', 'predictive scale-outs'),
          ],
        },
      ],
    });
    const local = prestage(METRIC.interceptorLocalRequests, 'Sum', 'local');
    const remote = prestage(METRIC.interceptorRemoteRequests, 'Sum', 'remote');
    m.monitorCustom({
      alarmFriendlyName: 'Interceptor',
      humanReadableName: 'Interceptor',
      metricGroups: [
        {
          title: 'Interceptor latency (ms)',
          metrics: [
            prestage(METRIC.interceptorLatency, 'p50', 'p50'),
            prestage(METRIC.interceptorLatency, 'p99', 'p99'),
          ],
        },
        {
          title: 'Requests served from the caller’s region (%)',
          metrics: [
            new MathExpression({
              expression: '100 * local / (local + remote)',
              usingMetrics: { local, remote },
              label: 'local share',
              period: Duration.minutes(5),
            }),
          ],
        },
      ],
    });

    m.addLargeHeader('prestage: cells');
    m.monitorCustom({
      alarmFriendlyName: 'Cells',
      humanReadableName: 'Cells',
      metricGroups: [
        {
          title: 'Cell utilization, profiler view (%)',
          metrics: allCells(config).map(
            ({ cell }) =>
              new Metric({
                namespace: METRICS_NAMESPACE,
                metricName: METRIC.cellUtilization,
                dimensionsMap: { ...POWERTOOLS_DIMENSIONS, CellId: cell.id },
                statistic: 'Maximum',
                label: cell.id,
                period: Duration.minutes(5),
              }),
          ),
        },
        {
          title: 'Cell consumed capacity vs capacity (%)',
          metrics: allCells(config).map(({ region, cell }, i) => {
            const consumed = (metricName: string) =>
              new Metric({
                namespace: 'AWS/DynamoDB',
                metricName,
                dimensionsMap: { TableName: cellTableName(config, cell.id) },
                statistic: 'Sum',
                region,
                period: Duration.minutes(5),
              });
            return new MathExpression({
              expression: `100 * (r${i} + w${i}) / PERIOD(r${i}) / ${cell.capacityOpsPerSec}`,
              usingMetrics: {
                [`r${i}`]: consumed('ConsumedReadCapacityUnits'),
                [`w${i}`]: consumed('ConsumedWriteCapacityUnits'),
              },
              label: `${cell.id} (${region})`,
              period: Duration.minutes(5),
            });
          }),
        },
        {
          title: 'Scaling',
          metrics: [
            prestage(METRIC.scaleOuts, 'Sum', 'scale-outs'),
            prestage(METRIC.scaleIns, 'Sum', 'scale-ins'),
          ],
        },
      ],
    });

    m.addLargeHeader('prestage: functions and queues');
    if (props.profiler) {
      m.monitorLambdaFunction({
        lambdaFunction: props.profiler,
        humanReadableName: 'Profiler',
        alarmFriendlyName: 'Profiler',
        addFaultCountAlarm: { [CRITICAL]: { maxErrorCount: 0 } },
      });
    }
    if (props.planner) {
      m.monitorLambdaFunction({
        lambdaFunction: props.planner,
        humanReadableName: 'Planner',
        alarmFriendlyName: 'Planner',
        addFaultCountAlarm: { [CRITICAL]: { maxErrorCount: 0 } },
      });
    }
    m.monitorLambdaFunction({
      lambdaFunction: props.interceptor,
      humanReadableName: 'Interceptor function',
      alarmFriendlyName: 'InterceptorFunction',
    });
    for (const { name, queue } of props.deadLetterQueues) {
      m.monitorSqsQueue({
        queue,
        humanReadableName: `${name} dead letters`,
        alarmFriendlyName: `${name}DeadLetters`,
        addQueueMaxSizeAlarm: { [CRITICAL]: { maxMessageCount: 0 } },
      });
    }
  }

  /** Every alarm created, with its name (for tests and docs). */
  alarms(): AlarmWithAnnotation[] {
    return this.monitoring.createdAlarms();
  }
}
