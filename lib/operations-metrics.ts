import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '../src/support/metrics.ts';
import { type CellConfig, cellTableName, type PrestageConfig } from './prestage-config.ts';
import { interceptorFunctionName } from './regional-edge-stack.ts';

/**
 * The metrics of the operations dashboard, and only the metrics: each factory returns CloudWatch metrics for
 * one concern, and OperationsDashboard decides which get alarms and how they are drawn (the split of
 * cdk-monitoring-constructs' metric factories and monitorings). prestage's own metrics are those the handlers
 * publish through Powertools, by the names in src/support/metrics.ts.
 */

/** Powertools adds the service as a dimension to every metric (instrumented-handler's serviceName). */
const POWERTOOLS_DIMENSIONS = { service: 'prestage' } as const;

/** The period of every metric on the dashboard, and of the alarms on them. */
export const METRIC_PERIOD = Duration.minutes(5);

/** A metric the handlers publish, with the statistic and label it is drawn with. */
function prestageMetric(name: MetricName, statistic: string, label: string): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: POWERTOOLS_DIMENSIONS,
    statistic,
    label,
    period: METRIC_PERIOD,
  });
}

/** Migrations (MigratePartition executions as ExecutePlan records them) and the plans they come from. */
export class MigrationMetricFactory {
  metricInFlight(): Metric {
    return prestageMetric(METRIC.migrationsInFlight, 'Maximum', 'in flight');
  }

  metricSucceeded(): Metric {
    return prestageMetric(METRIC.migrationsSucceeded, 'Sum', 'succeeded');
  }

  metricFailed(): Metric {
    return prestageMetric(METRIC.migrationsFailed, 'Sum', 'failed');
  }

  metricRolledBack(): Metric {
    return prestageMetric(METRIC.migrationsRolledBack, 'Sum', 'rolled back');
  }

  metricBytesMoved(): Metric {
    return prestageMetric(METRIC.bytesMoved, 'Sum', 'bytes moved');
  }

  /** Moves per plan: the largest plan of the period (`Maximum`) or the average one. */
  metricPlanMoves(statistic: 'Maximum' | 'Average'): Metric {
    return prestageMetric(
      METRIC.planMoves,
      statistic,
      statistic === 'Maximum' ? 'largest plan' : 'average plan',
    );
  }
}

/** The profiler's forecasts and scoring. */
export class ForecastMetricFactory {
  metricMase(): Metric {
    return prestageMetric(METRIC.forecastMase, 'Average', 'MASE');
  }

  metricMape(): Metric {
    return prestageMetric(METRIC.forecastMape, 'Average', 'MAPE');
  }

  metricPartitionsScored(): Metric {
    return prestageMetric(METRIC.partitionsScored, 'Sum', 'partitions scored');
  }

  /** Cycles that fell back from the SageMaker model to the embedded one. */
  metricEmbeddedFallbacks(): Metric {
    return prestageMetric(METRIC.forecastFallbacks, 'Sum', 'embedded fallbacks');
  }

  metricPredictiveScaleOuts(): Metric {
    return prestageMetric(METRIC.predictiveScaleOuts, 'Sum', 'predictive scale-outs');
  }
}

/**
 * One region's interceptor: latency, how much of the traffic that arrived in the region a cell of the region
 * served, and its Lambda invocations, errors and throttles. Each interceptor publishes its EMF metrics in its own
 * region, so every metric carries the region (the dashboard, in the home region, reads them across regions).
 */
export class InterceptorMetricFactory {
  readonly region: string;

  constructor(region: string) {
    this.region = region;
  }

  private emf(name: MetricName, statistic: string, label: string): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: POWERTOOLS_DIMENSIONS,
      statistic,
      label,
      period: METRIC_PERIOD,
      region: this.region,
    });
  }

  metricLatency(percentile: 'p50' | 'p99'): Metric {
    return this.emf(METRIC.interceptorLatency, percentile, `${percentile} ${this.region}`);
  }

  /** Requests served by a cell in the region they arrived in, in percent of all requests that arrived there. */
  metricLocalShare(): MathExpression {
    return new MathExpression({
      expression: '100 * local / (local + remote)',
      usingMetrics: {
        local: this.emf(METRIC.interceptorLocalRequests, 'Sum', 'local'),
        remote: this.emf(METRIC.interceptorRemoteRequests, 'Sum', 'remote'),
      },
      label: `local share ${this.region}`,
      period: METRIC_PERIOD,
    });
  }

  /** The interceptor function's own AWS/Lambda metric (`Invocations`, `Errors`, `Throttles`), by its name. */
  metricFunction(metricName: 'Invocations' | 'Errors' | 'Throttles'): Metric {
    return new Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: { FunctionName: interceptorFunctionName(this.region) },
      statistic: 'Sum',
      label: `${metricName} ${this.region}`,
      period: METRIC_PERIOD,
      region: this.region,
    });
  }
}

/** The cells: utilization as the profiler sees it, the tables' consumed capacity, and scaling. */
export class CellMetricFactory {
  private readonly config: PrestageConfig;

  constructor(config: PrestageConfig) {
    this.config = config;
  }

  /** The profiler's view of a cell's utilization (%). */
  metricUtilization(cellId: string): Metric {
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: METRIC.cellUtilization,
      dimensionsMap: { ...POWERTOOLS_DIMENSIONS, CellId: cellId },
      statistic: 'Maximum',
      label: cellId,
      period: METRIC_PERIOD,
    });
  }

  /**
   * A cell table's consumed read and write capacity against the cell's configured capacity (%). `index` keeps
   * the expression's metric ids unique among the cells drawn on one graph.
   */
  metricConsumedCapacityShare(region: string, cell: CellConfig, index: number): MathExpression {
    const consumed = (metricName: string) =>
      new Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: cellTableName(this.config, cell.id) },
        statistic: 'Sum',
        region,
        period: METRIC_PERIOD,
      });
    return new MathExpression({
      expression: `100 * (r${index} + w${index}) / PERIOD(r${index}) / ${cell.capacityOpsPerSec}`,
      usingMetrics: {
        [`r${index}`]: consumed('ConsumedReadCapacityUnits'),
        [`w${index}`]: consumed('ConsumedWriteCapacityUnits'),
      },
      label: `${cell.id} (${region})`,
      period: METRIC_PERIOD,
    });
  }

  metricScaleOuts(): Metric {
    return prestageMetric(METRIC.scaleOuts, 'Sum', 'scale-outs');
  }

  metricScaleIns(): Metric {
    return prestageMetric(METRIC.scaleIns, 'Sum', 'scale-ins');
  }
}
