/**
 * The metric catalogue moved to src/support/metrics.ts. functions/interceptor/handler.ts still imports it from
 * here and is being rewritten in parallel; remove this file once that handler imports src/support/metrics.ts.
 */
export { METRIC, METRICS_NAMESPACE, type MetricName } from '../support/metrics.ts';
