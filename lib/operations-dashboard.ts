import { ComparisonOperator } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import {
  type AlarmWithAnnotation,
  type CustomMetricWithAlarm,
  type CustomThreshold,
  DefaultDashboardFactory,
  type ErrorCountThreshold,
  type MaxMessageCountThreshold,
  MonitoringFacade,
  notifySns,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  CellMetricFactory,
  ForecastMetricFactory,
  InterceptorMetricFactory,
  METRIC_PERIOD,
  MigrationMetricFactory,
} from './operations-metrics.ts';
import { allCells, type PrestageConfig } from './prestage-config.ts';

export interface OperationsDashboardProps {
  readonly config: PrestageConfig;
  /** Every alarm notifies this topic. */
  readonly alarmTopic: ITopic;
  readonly migratePartition: IStateMachine;
  /** @default not monitored */
  readonly executePlan?: IStateMachine;
  /** @default not monitored */
  readonly scaleCluster?: IStateMachine;
  /** @default not monitored */
  readonly profiler?: IFunction;
  /** @default not monitored */
  readonly planner?: IFunction;
  /** Dead-letter queues; any message in one raises an alarm. */
  readonly deadLetterQueues: readonly { readonly name: string; readonly queue: IQueue }[];
  /** @default 'prestage' */
  readonly dashboardName?: string;
}

/** The one alarm severity: every alarm notifies `alarmTopic`. */
const CRITICAL = 'Critical';

/**
 * The alarms, apart from the metrics they watch and the widgets they are drawn on. Each goes off on the first
 * bad datapoint (one period of five minutes), because each means something an operator must look at.
 */
const ALARMS = {
  /** A failed MigratePartition, as ExecutePlan records it. */
  anyFailedMigration: {
    [CRITICAL]: {
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      alarmDescriptionOverride:
        'A migration failed (ExecutePlan recorded a FAILED move): open the ExecutePlan execution, then the child MigratePartition execution',
    },
  } satisfies Record<string, CustomThreshold>,
  /** A failed execution of a workflow. */
  anyFailedExecution: { [CRITICAL]: { maxErrorCount: 0 } } satisfies Record<string, ErrorCountThreshold>,
  /** An error of a scheduled Lambda (profiler, planner), whose failures nobody else sees. */
  anyFault: { [CRITICAL]: { maxErrorCount: 0 } } satisfies Record<string, ErrorCountThreshold>,
  /** Any message in a dead-letter queue: an asynchronous invocation or event delivery that gave up. */
  anyDeadLetter: { [CRITICAL]: { maxMessageCount: 0 } } satisfies Record<string, MaxMessageCountThreshold>,
} as const;

/**
 * The operations dashboard and the alarms, on cdk-monitoring-constructs: migrations in flight, succeeded, failed
 * and rolled back, bytes moved, plan sizes, forecast error, each data region's interceptor (latency, local share,
 * invocations, errors, throttles, read across regions), cell utilization, and each workflow, the scheduled
 * functions and every dead-letter queue. Alarms (all to `alarmTopic`): a failed
 * execution of any workflow, MigrationsFailed, profiler and planner faults, and any message in a DLQ.
 *
 * The metrics come from the factories in operations-metrics.ts, the alarm thresholds from ALARMS; each
 * `monitorX` method lays out one part of the dashboard, in the order the dashboard shows them.
 */
export class OperationsDashboard extends Construct {
  readonly monitoring: MonitoringFacade;

  private readonly props: OperationsDashboardProps;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    this.props = props;
    this.monitoring = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: {
        alarmNamePrefix: 'prestage',
        actionsEnabled: true,
        action: notifySns(props.alarmTopic),
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
      },
      metricFactoryDefaults: { period: METRIC_PERIOD },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: props.dashboardName ?? 'prestage',
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });
    this.monitoring.addLargeHeader('prestage: migrations');
    this.monitorMigrations(new MigrationMetricFactory());
    this.monitorWorkflows();
    this.monitoring.addLargeHeader('prestage: forecasts and routing');
    this.monitorForecasts(new ForecastMetricFactory());
    for (const region of props.config.dataRegions)
      this.monitorInterceptor(new InterceptorMetricFactory(region));
    this.monitoring.addLargeHeader('prestage: cells');
    this.monitorCells(new CellMetricFactory(props.config));
    this.monitoring.addLargeHeader('prestage: functions and queues');
    this.monitorFunctionsAndQueues();
  }

  /** Every alarm created, with its name (for tests and docs). */
  alarms(): AlarmWithAnnotation[] {
    return this.monitoring.createdAlarms();
  }

  private monitorMigrations(metrics: MigrationMetricFactory): void {
    const failed: CustomMetricWithAlarm = {
      metric: metrics.metricFailed(),
      alarmFriendlyName: 'MigrationsFailed',
      addAlarm: ALARMS.anyFailedMigration,
    };
    this.monitoring.monitorCustom({
      alarmFriendlyName: 'Migrations',
      humanReadableName: 'Migrations',
      metricGroups: [
        { title: 'Migrations in flight', metrics: [metrics.metricInFlight()] },
        {
          title: 'Migrations by outcome',
          metrics: [metrics.metricSucceeded(), failed, metrics.metricRolledBack()],
        },
        { title: 'Bytes moved', metrics: [metrics.metricBytesMoved()] },
        {
          title: 'Plan sizes (moves per plan)',
          metrics: [metrics.metricPlanMoves('Maximum'), metrics.metricPlanMoves('Average')],
        },
      ],
    });
  }

  /** Each workflow's executions, alarmed on any failed one. */
  private monitorWorkflows(): void {
    const { executePlan, migratePartition, scaleCluster } = this.props;
    const workflow = (stateMachine: IStateMachine, name: string) =>
      this.monitoring.monitorStepFunction({
        stateMachine,
        humanReadableName: name,
        alarmFriendlyName: name,
        addFailedExecutionCountAlarm: ALARMS.anyFailedExecution,
      });
    if (executePlan) workflow(executePlan, 'ExecutePlan');
    workflow(migratePartition, 'MigratePartition');
    if (scaleCluster) workflow(scaleCluster, 'ScaleCluster');
  }

  private monitorForecasts(metrics: ForecastMetricFactory): void {
    this.monitoring.monitorCustom({
      alarmFriendlyName: 'Forecast',
      humanReadableName: 'Forecast',
      metricGroups: [
        { title: 'Online forecast error', metrics: [metrics.metricMase(), metrics.metricMape()] },
        {
          title: 'Scoring',
          metrics: [
            metrics.metricPartitionsScored(),
            metrics.metricEmbeddedFallbacks(),
            metrics.metricPredictiveScaleOuts(),
          ],
        },
      ],
    });
  }

  /** One region's interceptor (each region's edge stack deploys one; its metrics are in that region). */
  private monitorInterceptor(metrics: InterceptorMetricFactory): void {
    const { region } = metrics;
    this.monitoring.monitorCustom({
      alarmFriendlyName: `Interceptor-${region}`,
      humanReadableName: `Interceptor ${region}`,
      metricGroups: [
        {
          title: `Interceptor latency in ${region} (ms)`,
          metrics: [metrics.metricLatency('p50'), metrics.metricLatency('p99')],
        },
        {
          title: `Requests served in ${region}, their region of arrival (%)`,
          metrics: [metrics.metricLocalShare()],
        },
        {
          title: `Interceptor function in ${region}`,
          metrics: [
            metrics.metricFunction('Invocations'),
            metrics.metricFunction('Errors'),
            metrics.metricFunction('Throttles'),
          ],
        },
      ],
    });
  }

  /** Every configured cell on one graph per view; cells ScaleCluster adds at run time are not drawn. */
  private monitorCells(metrics: CellMetricFactory): void {
    const cells = allCells(this.props.config);
    this.monitoring.monitorCustom({
      alarmFriendlyName: 'Cells',
      humanReadableName: 'Cells',
      metricGroups: [
        {
          title: 'Cell utilization, profiler view (%)',
          metrics: cells.map(({ cell }) => metrics.metricUtilization(cell.id)),
        },
        {
          title: 'Cell consumed capacity vs capacity (%)',
          metrics: cells.map(({ region, cell }, i) => metrics.metricConsumedCapacityShare(region, cell, i)),
        },
        { title: 'Scaling', metrics: [metrics.metricScaleOuts(), metrics.metricScaleIns()] },
      ],
    });
  }

  /** The scheduled Lambdas (alarmed on any fault) and every dead-letter queue (alarmed). */
  private monitorFunctionsAndQueues(): void {
    const { profiler, planner, deadLetterQueues } = this.props;
    if (profiler) {
      this.monitoring.monitorLambdaFunction({
        lambdaFunction: profiler,
        humanReadableName: 'Profiler',
        alarmFriendlyName: 'Profiler',
        addFaultCountAlarm: ALARMS.anyFault,
      });
    }
    if (planner) {
      this.monitoring.monitorLambdaFunction({
        lambdaFunction: planner,
        humanReadableName: 'Planner',
        alarmFriendlyName: 'Planner',
        addFaultCountAlarm: ALARMS.anyFault,
      });
    }
    for (const { name, queue } of deadLetterQueues) {
      this.monitoring.monitorSqsQueue({
        queue,
        humanReadableName: `${name} dead letters`,
        alarmFriendlyName: `${name}DeadLetters`,
        addQueueMaxSizeAlarm: ALARMS.anyDeadLetter,
      });
    }
  }
}
