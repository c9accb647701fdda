import { z } from 'zod';
import { isRegionName } from '../domain/region-name.ts';

/**
 * Environment of the control-plane Lambdas (profiler, planner, ExecutePlan and ScaleCluster steps). The names
 * are the contract with the CDK stacks, which set them from these constants; DATA_PLANE_ENV holds the rest.
 */
export const CONTROL_PLANE_ENV = {
  scoresTable: 'PRESTAGE_SCORES_TABLE',
  plansTable: 'PRESTAGE_PLANS_TABLE',
  /** Locks, cooldowns, profiler cycles and run-time limits; `pk` string key, TTL `expiresAt`. */
  coordinationTable: 'PRESTAGE_COORDINATION_TABLE',
  /** Powertools idempotency records (`id` key, TTL `expiration`). */
  idempotencyTable: 'PRESTAGE_IDEMPOTENCY_TABLE',
  executePlanArn: 'PRESTAGE_EXECUTE_PLAN_ARN',
  scaleClusterArn: 'PRESTAGE_SCALE_CLUSTER_ARN',
  plannerFunction: 'PRESTAGE_PLANNER_FUNCTION',
  profilerFunction: 'PRESTAGE_PROFILER_FUNCTION',
  approvalTopicArn: 'PRESTAGE_APPROVAL_TOPIC_ARN',
  /** `auto` starts plans at once; `approval` waits for `prestage approve` or the console. */
  approvalMode: 'PRESTAGE_APPROVAL_MODE',
  /** `embedded` or `sagemaker`. */
  forecastModel: 'PRESTAGE_FORECAST_MODEL',
  sagemakerEndpoint: 'PRESTAGE_SAGEMAKER_ENDPOINT',
  /** `deepar` or `chronos`. */
  forecastContract: 'PRESTAGE_FORECAST_CONTRACT',
  /**
   * `true`: send known events to a DeepAR endpoint as its one `dynamic_feat` (only for a model trained with that
   * feature: DeepAR refuses one it was not trained with). Chronos gets them as covariates regardless. @default false
   */
  forecastEventFeature: 'PRESTAGE_FORECAST_EVENT_FEATURE',
  /** The known-events table (`name` key), read by the profiler; unset: forecasts without events. */
  eventsTable: 'PRESTAGE_EVENTS_TABLE',
  /** Profiler bucket and planning step, seconds. */
  intervalSeconds: 'PRESTAGE_INTERVAL_SECONDS',
  horizonSteps: 'PRESTAGE_HORIZON_STEPS',
  profilerShards: 'PRESTAGE_PROFILER_SHARDS',
  /** Predictive scale-out starts ScaleCluster when a shortfall is this close (minutes) before the alarm would fire. */
  scaleOutBufferMinutes: 'PRESTAGE_SCALE_OUT_BUFFER_MINUTES',
  /** Forecast-driven scale-in by the profiler ('true' or 'false'). */
  predictiveScaleIn: 'PRESTAGE_PREDICTIVE_SCALE_IN',
  /** Price of one cell-hour, US dollars; unset: the cell's capacity at DynamoDB provisioned prices. */
  cellHourPriceUsd: 'PRESTAGE_CELL_HOUR_PRICE_USD',
  maxConcurrentMovesPerCell: 'PRESTAGE_MAX_CONCURRENT_MOVES_PER_CELL',
  maxBytesPerCycle: 'PRESTAGE_MAX_BYTES_PER_CYCLE',
  canarySteps: 'PRESTAGE_CANARY_STEPS',
  planTtlDays: 'PRESTAGE_PLAN_TTL_DAYS',
  scalingCooldownMinutes: 'PRESTAGE_SCALING_COOLDOWN_MINUTES',
  /** Name prefix of cell data tables; a cell's table is `<prefix><cellId>`. */
  cellTablePrefix: 'PRESTAGE_CELL_TABLE_PREFIX',
  /** Name prefix of the per-cell capacity alarms (`<prefix><cellId>`), which trigger ScaleCluster. */
  capacityAlarmPrefix: 'PRESTAGE_CAPACITY_ALARM_PREFIX',
  /** Share of a cell's ops/s capacity above which its capacity alarm fires (ScaleCluster alarms new cells). */
  capacityAlarmThreshold: 'PRESTAGE_CAPACITY_ALARM_THRESHOLD',
  /**
   * Comma-separated data regions: where cells are, and where interceptors record access counts (the profiler
   * reads each region's access-stats table).
   */
  dataRegions: 'PRESTAGE_DATA_REGIONS',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const controlPlaneEnvSchema = z.object({
  [CONTROL_PLANE_ENV.scoresTable]: z.string().min(3),
  [CONTROL_PLANE_ENV.plansTable]: z.string().min(3),
  [CONTROL_PLANE_ENV.coordinationTable]: z.string().min(3),
  [CONTROL_PLANE_ENV.idempotencyTable]: z.string().min(3).optional(),
  [CONTROL_PLANE_ENV.executePlanArn]: z.string().optional(),
  [CONTROL_PLANE_ENV.scaleClusterArn]: z.string().optional(),
  [CONTROL_PLANE_ENV.plannerFunction]: z.string().optional(),
  [CONTROL_PLANE_ENV.profilerFunction]: z.string().optional(),
  [CONTROL_PLANE_ENV.approvalTopicArn]: z.string().optional(),
  [CONTROL_PLANE_ENV.approvalMode]: z.enum(['auto', 'approval']).default('auto'),
  [CONTROL_PLANE_ENV.forecastModel]: z.enum(['embedded', 'sagemaker']).default('embedded'),
  [CONTROL_PLANE_ENV.sagemakerEndpoint]: z.string().optional(),
  [CONTROL_PLANE_ENV.forecastContract]: z.enum(['deepar', 'chronos']).default('deepar'),
  [CONTROL_PLANE_ENV.forecastEventFeature]: z
    .enum(['true', 'false'], { error: "expected 'true' or 'false'" })
    .default('false')
    .transform((v) => v === 'true'),
  [CONTROL_PLANE_ENV.eventsTable]: z.string().min(3).optional(),
  [CONTROL_PLANE_ENV.intervalSeconds]: positiveInt(900),
  [CONTROL_PLANE_ENV.horizonSteps]: positiveInt(8),
  [CONTROL_PLANE_ENV.profilerShards]: positiveInt(1),
  [CONTROL_PLANE_ENV.scaleOutBufferMinutes]: z.coerce.number().nonnegative().default(30),
  [CONTROL_PLANE_ENV.predictiveScaleIn]: z
    .enum(['true', 'false'], { error: "expected 'true' or 'false'" })
    .default('true')
    .transform((v) => v === 'true'),
  [CONTROL_PLANE_ENV.cellHourPriceUsd]: z.coerce.number().nonnegative().optional(),
  [CONTROL_PLANE_ENV.maxConcurrentMovesPerCell]: positiveInt(2),
  [CONTROL_PLANE_ENV.maxBytesPerCycle]: positiveInt(50 * 1024 ** 3),
  [CONTROL_PLANE_ENV.canarySteps]: z
    .string()
    .default('0.1,0.5,1')
    .transform((s) => s.split(',').map(Number))
    .pipe(z.array(z.number().gt(0).lte(1)).min(1)),
  [CONTROL_PLANE_ENV.planTtlDays]: positiveInt(30),
  [CONTROL_PLANE_ENV.scalingCooldownMinutes]: z.coerce.number().nonnegative().default(20),
  [CONTROL_PLANE_ENV.cellTablePrefix]: z.string().default('prestage-cell-'),
  [CONTROL_PLANE_ENV.capacityAlarmPrefix]: z.string().default('prestage-cell-capacity-'),
  [CONTROL_PLANE_ENV.capacityAlarmThreshold]: z.coerce.number().gt(0).lte(1).default(0.8),
  [CONTROL_PLANE_ENV.dataRegions]: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter((r) => r.length > 0),
    )
    .refine((regions) => regions.every(isRegionName), {
      error: 'expected comma-separated AWS region names, e.g. us-east-1,eu-west-1',
    })
    .refine((regions) => new Set(regions).size === regions.length, {
      error: 'lists a region twice; list each data region once',
    }),
  [CONTROL_PLANE_ENV.metricsNamespace]: z.string().default('Prestage'),
});

export interface ControlPlaneConfig {
  readonly scoresTable: string;
  readonly plansTable: string;
  readonly coordinationTable: string;
  readonly idempotencyTable?: string;
  readonly executePlanArn?: string;
  readonly scaleClusterArn?: string;
  readonly plannerFunction?: string;
  readonly profilerFunction?: string;
  readonly approvalTopicArn?: string;
  readonly approvalMode: 'auto' | 'approval';
  readonly forecastModel: 'embedded' | 'sagemaker';
  readonly sagemakerEndpoint?: string;
  readonly forecastContract: 'deepar' | 'chronos';
  readonly forecastEventFeature: boolean;
  readonly eventsTable?: string;
  readonly intervalSeconds: number;
  readonly horizonSteps: number;
  readonly profilerShards: number;
  readonly scaleOutBufferMinutes: number;
  readonly predictiveScaleIn: boolean;
  readonly cellHourPriceUsd?: number;
  readonly maxConcurrentMovesPerCell: number;
  readonly maxBytesPerCycle: number;
  readonly canarySteps: readonly number[];
  readonly planTtlDays: number;
  readonly scalingCooldownMinutes: number;
  readonly cellTablePrefix: string;
  readonly capacityAlarmPrefix: string;
  readonly capacityAlarmThreshold: number;
  readonly dataRegions: readonly string[];
  readonly metricsNamespace: string;
}

/** Read and validate the control-plane environment; a bad value names the variable and what was expected. */
export function readControlPlaneConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ControlPlaneConfig {
  const parsed = controlPlaneEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`configuration: environment variable ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const config: ControlPlaneConfig = {
    scoresTable: e[CONTROL_PLANE_ENV.scoresTable],
    plansTable: e[CONTROL_PLANE_ENV.plansTable],
    coordinationTable: e[CONTROL_PLANE_ENV.coordinationTable],
    idempotencyTable: e[CONTROL_PLANE_ENV.idempotencyTable],
    executePlanArn: e[CONTROL_PLANE_ENV.executePlanArn],
    scaleClusterArn: e[CONTROL_PLANE_ENV.scaleClusterArn],
    plannerFunction: e[CONTROL_PLANE_ENV.plannerFunction],
    profilerFunction: e[CONTROL_PLANE_ENV.profilerFunction],
    approvalTopicArn: e[CONTROL_PLANE_ENV.approvalTopicArn],
    approvalMode: e[CONTROL_PLANE_ENV.approvalMode],
    forecastModel: e[CONTROL_PLANE_ENV.forecastModel],
    sagemakerEndpoint: e[CONTROL_PLANE_ENV.sagemakerEndpoint],
    forecastContract: e[CONTROL_PLANE_ENV.forecastContract],
    forecastEventFeature: e[CONTROL_PLANE_ENV.forecastEventFeature],
    eventsTable: e[CONTROL_PLANE_ENV.eventsTable],
    intervalSeconds: e[CONTROL_PLANE_ENV.intervalSeconds],
    horizonSteps: e[CONTROL_PLANE_ENV.horizonSteps],
    profilerShards: e[CONTROL_PLANE_ENV.profilerShards],
    scaleOutBufferMinutes: e[CONTROL_PLANE_ENV.scaleOutBufferMinutes],
    predictiveScaleIn: e[CONTROL_PLANE_ENV.predictiveScaleIn],
    cellHourPriceUsd: e[CONTROL_PLANE_ENV.cellHourPriceUsd],
    maxConcurrentMovesPerCell: e[CONTROL_PLANE_ENV.maxConcurrentMovesPerCell],
    maxBytesPerCycle: e[CONTROL_PLANE_ENV.maxBytesPerCycle],
    canarySteps: e[CONTROL_PLANE_ENV.canarySteps],
    planTtlDays: e[CONTROL_PLANE_ENV.planTtlDays],
    scalingCooldownMinutes: e[CONTROL_PLANE_ENV.scalingCooldownMinutes],
    cellTablePrefix: e[CONTROL_PLANE_ENV.cellTablePrefix],
    capacityAlarmPrefix: e[CONTROL_PLANE_ENV.capacityAlarmPrefix],
    capacityAlarmThreshold: e[CONTROL_PLANE_ENV.capacityAlarmThreshold],
    dataRegions: e[CONTROL_PLANE_ENV.dataRegions],
    metricsNamespace: e[CONTROL_PLANE_ENV.metricsNamespace],
  };
  if (config.forecastModel === 'sagemaker' && !config.sagemakerEndpoint)
    throw new Error(
      `configuration: environment variable ${CONTROL_PLANE_ENV.sagemakerEndpoint}: required when ${CONTROL_PLANE_ENV.forecastModel} is 'sagemaker'`,
    );
  return config;
}
