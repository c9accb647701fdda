import { Duration } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import type { Node } from 'constructs';
import { z } from 'zod';
import { DEFAULT_EVENTS_TABLE } from '../src/adapters/dynamodb/event-repository.ts';
import { PrestageError } from '../src/domain/errors.ts';
import { DEFAULT_ROUTING_LEASE, type RoutingLeaseConfig } from '../src/domain/migration/routing-lease.ts';
import { CONTROL_PLANE_ENV, readControlPlaneConfig } from '../src/lambda/control-plane-env.ts';
import { readDataPlaneConfig } from '../src/lambda/data-plane-config.ts';
import { deepArImageUri } from './deepar-image.ts';

/** A context value is missing or wrong; the message names the key and says how to fix it. */
export class PrestageConfigError extends PrestageError {}

export interface CellConfig {
  /** Cell id; its data table is `<cellTablePrefix><id>`. */
  readonly id: string;
  readonly capacityOpsPerSec: number;
  readonly capacityBytes: number;
}

export type ForecastModelConfig =
  | { readonly kind: 'embedded' }
  | {
      readonly kind: 'sagemaker';
      readonly endpointName: string;
      readonly contract: 'deepar' | 'chronos';
      /** DeepAR: the model was trained with the known-event multiplier as its one dynamic_feat. @default false */
      readonly eventFeature?: boolean;
    }
  | {
      readonly kind: 'deepar-endpoint';
      /** `s3://bucket/key/model.tar.gz`, the artifact of a DeepAR training job. */
      readonly modelDataUrl: string;
      readonly instanceType: string;
      readonly instanceCount: number;
      /** The model was trained with the known-event multiplier as its one dynamic_feat. @default false */
      readonly eventFeature?: boolean;
    };

export interface PrestageConfig {
  readonly homeRegion: string;
  readonly dataRegions: readonly string[];
  /** Cells of each data region. */
  readonly cells: Readonly<Record<string, readonly CellConfig[]>>;
  readonly profiler: {
    /** EventBridge rate, e.g. `15 minutes`; also the forecast step. */
    readonly rate: string;
    readonly interval: Duration;
    readonly horizonSteps: number;
    /** Shard invocations per cycle (each scores 1/shards of the partitions). */
    readonly shards: number;
  };
  readonly forecastModel: ForecastModelConfig;
  readonly approvalMode: 'auto' | 'approval';
  readonly migration: {
    readonly maxConcurrentMovesPerCell: number;
    /** Static cap of moves in flight per ExecutePlan page (the Map's MaxConcurrency). */
    readonly maxConcurrency: number;
    readonly maxBytesPerCycle: number;
    readonly canarySteps: readonly number[];
  };
  readonly scaling: {
    /** A cell's capacity alarm fires above this share of its ops/s capacity. */
    readonly capacityAlarmThreshold: number;
    readonly cooldownMinutes: number;
    /** Predictive scale-out starts this long before the forecast shortfall. */
    readonly predictiveBufferMinutes: number;
    /** The profiler drains and retires a cell when the forecast says its region has spare capacity long enough. */
    readonly predictiveScaleIn: boolean;
    /** Price of one cell-hour (US dollars) for that decision; absent: the cell's capacity at DynamoDB prices. */
    readonly cellHourPriceUsd?: number;
  };
  readonly alarmEmail?: string;
  readonly logRetentionDays: number;
  /**
   * Routing-lease settings given to the interceptor and every migration step (one source, so a deployment
   * never runs two). Correctness does not rest on it: records carry their lease terms (docs/migration.md).
   */
  readonly routingLease: Omit<RoutingLeaseConfig, 'clockDriftRate'>;
  /**
   * Reserve concurrency for the planner (2) and the profiler (its shard count + 1). Off by default: an account
   * whose Lambda concurrency quota is still 10 cannot reserve any (docs/configuration.md).
   */
  readonly reserveConcurrency: boolean;
  /** Physical names shared with the handlers (the defaults of the handlers' environment schemas). */
  readonly names: PrestageNames;
}

export interface PrestageNames {
  /**
   * The routing tables (global tables: the home region's table and a replica in every other data region) and
   * each data region's access-stats table. Fixed names, so that a stack in any region can name them without a
   * cross-region reference, and so that a redeploy can adopt retained tables (docs/deployment.md).
   */
  readonly partitionsTable: string;
  readonly cellsTable: string;
  /**
   * The known-events table in the home region: operator input that nothing can rebuild, so, like the routing
   * tables, fixed (`prestage events` finds it without a stack output; a redeploy adopts it) and retained.
   */
  readonly eventsTable: string;
  readonly accessStatsTable: string;
  /**
   * KMS alias of the control-plane key in the home region. The home region's routing tables are encrypted with
   * the key it names, and the grants name the alias, so a routing table adopted after `cdk destroy` keeps
   * working with the retained key that encrypts it.
   */
  readonly controlPlaneKeyAlias: string;
  readonly cellTablePrefix: string;
  readonly capacityAlarmPrefix: string;
  readonly canaryAlarmPrefix: string;
  /**
   * KMS alias of each data region's cell-table key. Cell tables, the region's access-stats table and the
   * region's routing replicas are encrypted with the key it names (scale-out encrypts new cells with it too).
   */
  readonly cellKeyAlias: string;
}

// The handlers' own defaults, so the stacks and the handlers cannot disagree on a name.
const controlDefaults = readControlPlaneConfig({
  [CONTROL_PLANE_ENV.scoresTable]: 'unused',
  [CONTROL_PLANE_ENV.plansTable]: 'unused',
  [CONTROL_PLANE_ENV.coordinationTable]: 'unused',
});
/** The data-plane handlers' own defaults (the stacks set the same values explicitly). */
export const DATA_PLANE_DEFAULTS = readDataPlaneConfig({
  PRESTAGE_PARTITIONS_TABLE: 'unused',
  PRESTAGE_CELLS_TABLE: 'unused',
  PRESTAGE_ACCESS_STATS_TABLE: 'unused',
  PRESTAGE_HOME_REGION: 'unused',
  AWS_REGION: 'unused',
});

export const PRESTAGE_NAMES: PrestageNames = {
  partitionsTable: 'prestage-partitions',
  eventsTable: DEFAULT_EVENTS_TABLE,
  cellsTable: 'prestage-cells',
  accessStatsTable: 'prestage-access-stats',
  controlPlaneKeyAlias: 'alias/prestage-control-plane',
  cellTablePrefix: controlDefaults.cellTablePrefix,
  capacityAlarmPrefix: controlDefaults.capacityAlarmPrefix,
  canaryAlarmPrefix: DATA_PLANE_DEFAULTS.canaryAlarmPrefix,
  cellKeyAlias: 'alias/prestage-cells',
};

/** The context keys prestage reads (cdk.json `context`, or `-c key=value`). */
export const CONTEXT_KEYS = [
  'homeRegion',
  'dataRegions',
  'cells',
  'profiler',
  'forecastModel',
  'approvalMode',
  'migration',
  'scaling',
  'alarmEmail',
  'logRetentionDays',
  'reserveConcurrency',
  'routingLease',
] as const;

const KNOWN_REGIONS = new Set(RegionInfo.regions.map((r) => r.name));
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653];

const region = z
  .string({ error: 'expected a region name such as eu-west-1' })
  .refine((r) => KNOWN_REGIONS.has(r), {
    error: (issue) => `'${String(issue.input)}' is not an AWS region; use e.g. eu-west-1`,
  });
const positiveNumber = (example: string) =>
  z.number({ error: `expected a positive number, e.g. ${example}` }).positive({
    error: `must be greater than 0, e.g. ${example}`,
  });
const positiveInt = (example: number) =>
  z
    .number({ error: `expected a whole number, e.g. ${example}` })
    .int({ error: `expected a whole number, e.g. ${example}` })
    .positive({ error: `must be at least 1, e.g. ${example}` });
const nonNegative = (example: number) =>
  z
    .number({ error: `expected a number, e.g. ${example}` })
    .nonnegative({ error: `must not be negative, e.g. ${example}` });

/** Milliseconds in [min, max], a whole number. */
const millis = (min: number, max: number, fallback: number) =>
  z
    .number({ error: `expected a whole number of milliseconds, e.g. ${fallback}` })
    .int({ error: `expected a whole number of milliseconds, e.g. ${fallback}` })
    .min(min, { error: `must be at least ${min} ms` })
    .max(max, { error: `must be at most ${max} ms` })
    .default(fallback);

const cellSchema = z.strictObject({
  id: z.string({ error: 'expected a cell id such as "euw1-a"' }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
    error: (issue) =>
      `'${String(issue.input)}' is not a valid cell id; use 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit, e.g. euw1-a`,
  }),
  capacityOpsPerSec: positiveNumber('1000'),
  capacityBytes: positiveNumber('10737418240 (10 GiB)'),
});

const RATE = /^(\d+) (minute|minutes|hour|hours|day|days)$/;

const rateSchema = z
  .string({ error: "expected a rate such as '15 minutes'" })
  .refine((rate) => RATE.test(rate) && Number(RATE.exec(rate)![1]) >= 1, {
    error: (issue) => `'${String(issue.input)}' is not a rate; use e.g. '15 minutes', '1 hour' or '1 day'`,
  });

const fraction = z
  .number({ error: 'expected a fraction such as 0.5' })
  .gt(0, { error: 'must be greater than 0 and at most 1, e.g. 0.5' })
  .lte(1, { error: 'must be greater than 0 and at most 1, e.g. 0.5' });

/** DeepAR refuses a dynamic_feat it was not trained with and requires one it was: the operator says which. */
const eventFeatureSchema = z
  .boolean({
    error:
      'expected true (the DeepAR model was trained with the known-event multiplier as its one dynamic_feat) or false',
  })
  .default(false);

const forecastModelSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('embedded') }),
    z.strictObject({
      kind: z.literal('sagemaker'),
      endpointName: z
        .string({ error: 'expected the name of an existing SageMaker endpoint' })
        .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, {
          error: (issue) =>
            `'${String(issue.input)}' is not a SageMaker endpoint name; use 1-63 letters, digits and '-', e.g. prestage-deepar`,
        }),
      contract: z.enum(['deepar', 'chronos'], { error: "expected 'deepar' or 'chronos'" }),
      eventFeature: eventFeatureSchema,
    }),
    z.strictObject({
      kind: z.literal('deepar-endpoint'),
      modelDataUrl: z
        .string({ error: 'expected the S3 URI of a DeepAR model artifact' })
        .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/, {
          error: (issue) =>
            `'${String(issue.input)}' is not an S3 URI of a model artifact; use e.g. s3://my-bucket/deepar/output/model.tar.gz`,
        }),
      instanceType: z
        .string({ error: "expected a SageMaker instance type such as 'ml.c5.large'" })
        .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, {
          error: (issue) => `'${String(issue.input)}' is not a SageMaker instance type; use e.g. ml.c5.large`,
        })
        .default('ml.c5.large'),
      instanceCount: positiveInt(1).default(1),
      eventFeature: eventFeatureSchema,
    }),
  ],
  {
    error: () =>
      'expected {"kind":"embedded"}, {"kind":"sagemaker","endpointName":…,"contract":"deepar"|"chronos"} or {"kind":"deepar-endpoint","modelDataUrl":"s3://…","instanceType":"ml.c5.large"}',
  },
);

const contextSchema = z.strictObject({
  homeRegion: region,
  dataRegions: z
    .array(region, { error: 'expected a list of regions, e.g. ["us-east-1","eu-west-1"]' })
    .min(1, { error: 'list at least one data region, e.g. ["us-east-1"]' }),
  cells: z.record(z.string(), z.array(cellSchema, { error: 'expected a list of cells' }), {
    error:
      'expected an object of region → cells, e.g. {"eu-west-1":[{"id":"euw1-a","capacityOpsPerSec":1000,"capacityBytes":10737418240}]}',
  }),
  profiler: z
    .strictObject({
      rate: rateSchema.default('15 minutes'),
      horizonSteps: positiveInt(8)
        .max(672, { error: 'must be at most 672 steps (one week of 15-minute steps)' })
        .default(8),
      shards: positiveInt(1).max(100, { error: 'must be at most 100' }).default(1),
    })
    .default({ rate: '15 minutes', horizonSteps: 8, shards: 1 }),
  forecastModel: forecastModelSchema.default({ kind: 'embedded' }),
  approvalMode: z.enum(['auto', 'approval'], { error: "expected 'auto' or 'approval'" }).default('auto'),
  migration: z
    .strictObject({
      maxConcurrentMovesPerCell: positiveInt(2).default(controlDefaults.maxConcurrentMovesPerCell),
      maxConcurrency: positiveInt(10)
        .max(1000, { error: 'must be at most 1000 (a Map state limit)' })
        .default(10),
      maxBytesPerCycle: positiveInt(53687091200).default(controlDefaults.maxBytesPerCycle),
      canarySteps: z
        .array(fraction, { error: 'expected a list of increasing fractions, e.g. [0.1,0.5,1]' })
        .refine((steps) => steps.every((w, i) => i === 0 || w > steps[i - 1]), {
          error: 'canary steps must increase, e.g. [0.1,0.5,1]; [] skips canary reads',
        })
        .default([...controlDefaults.canarySteps]),
    })
    .default({
      maxConcurrentMovesPerCell: controlDefaults.maxConcurrentMovesPerCell,
      maxConcurrency: 10,
      maxBytesPerCycle: controlDefaults.maxBytesPerCycle,
      canarySteps: [...controlDefaults.canarySteps],
    }),
  scaling: z
    .strictObject({
      capacityAlarmThreshold: fraction.default(0.8),
      cooldownMinutes: nonNegative(20).default(controlDefaults.scalingCooldownMinutes),
      predictiveBufferMinutes: nonNegative(30).default(controlDefaults.scaleOutBufferMinutes),
      predictiveScaleIn: z.boolean({ error: 'expected true or false' }).default(true),
      cellHourPriceUsd: nonNegative(0.42).optional(),
    })
    .default({
      capacityAlarmThreshold: 0.8,
      cooldownMinutes: controlDefaults.scalingCooldownMinutes,
      predictiveBufferMinutes: controlDefaults.scaleOutBufferMinutes,
      predictiveScaleIn: true,
    }),
  alarmEmail: z
    .email({
      error: (issue) => `'${String(issue.input)}' is not an email address; use e.g. oncall@example.com`,
    })
    .optional(),
  logRetentionDays: z
    .number({ error: 'expected a number of days, e.g. 30' })
    .refine((d) => LOG_RETENTION_DAYS.includes(d), {
      error: `CloudWatch Logs accepts ${LOG_RETENTION_DAYS.join(', ')} days; e.g. 30`,
    })
    .default(30),
  reserveConcurrency: z.boolean({ error: 'expected true or false' }).default(false),
  routingLease: z
    .strictObject({
      leaseTtlMs: millis(100, 600_000, DEFAULT_ROUTING_LEASE.leaseTtlMs),
      maxRequestMs: millis(50, 60_000, DEFAULT_ROUTING_LEASE.maxRequestMs),
      maxClockSkewMs: millis(0, 60_000, DEFAULT_ROUTING_LEASE.maxClockSkewMs),
      indexLagMs: millis(0, 600_000, DEFAULT_ROUTING_LEASE.indexLagMs),
    })
    .default({
      leaseTtlMs: DEFAULT_ROUTING_LEASE.leaseTtlMs,
      maxRequestMs: DEFAULT_ROUTING_LEASE.maxRequestMs,
      maxClockSkewMs: DEFAULT_ROUTING_LEASE.maxClockSkewMs,
      indexLagMs: DEFAULT_ROUTING_LEASE.indexLagMs,
    }),
});

type ContextInput = z.input<typeof contextSchema>;

/** `cells.eu-west-1[0].id` from a zod path. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out.length === 0 ? String(part) : `.${String(part)}`;
  }
  return out || '(context)';
}

function fail(problems: readonly string[]): never {
  throw new PrestageConfigError(problems.join('\n'));
}

function problem(path: string, message: string): string {
  return `prestage: context '${path}': ${message}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? `${path}.${issue.keys[0]}` : issue.keys[0];
    return problem(where, 'unknown key; check its spelling (see docs/configuration.md)');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return problem(path, `missing; ${issue.message}`);
  }
  return problem(path, issue.message);
}

/** Cross-field rules that a per-field schema cannot express. */
function crossCheck(config: z.output<typeof contextSchema>): string[] {
  const problems: string[] = [];
  const seenRegions = new Set<string>();
  config.dataRegions.forEach((r, i) => {
    if (seenRegions.has(r))
      problems.push(problem(`dataRegions[${i}]`, `'${r}' is listed twice; list each region once`));
    seenRegions.add(r);
  });
  for (const r of Object.keys(config.cells)) {
    if (!seenRegions.has(r)) {
      problems.push(
        problem(`cells.${r}`, `'${r}' is not one of dataRegions; add it to dataRegions or remove its cells`),
      );
    }
  }
  for (const r of config.dataRegions) {
    if ((config.cells[r] ?? []).length === 0) {
      problems.push(
        problem(
          `cells.${r}`,
          `data region ${r} has no cells; add at least one, e.g. [{"id":"${r.replace(/-/g, '').slice(0, 6)}-a","capacityOpsPerSec":1000,"capacityBytes":10737418240}]`,
        ),
      );
    }
  }
  const seenCells = new Map<string, string>();
  for (const [r, cells] of Object.entries(config.cells)) {
    cells.forEach((cell, i) => {
      const other = seenCells.get(cell.id);
      if (other) {
        problems.push(
          problem(
            `cells.${r}[${i}].id`,
            `'${cell.id}' is also the id of a cell at ${other}; cell ids must be unique`,
          ),
        );
      }
      seenCells.set(cell.id, `cells.${r}[${i}]`);
    });
  }
  const interval = parseRate(config.profiler.rate);
  if (interval && interval.toSeconds() % 60 !== 0) {
    problems.push(problem('profiler.rate', 'must be a whole number of minutes'));
  }
  const model = config.forecastModel;
  if (model.kind === 'sagemaker' && model.contract === 'chronos' && model.eventFeature) {
    problems.push(
      problem(
        'forecastModel.eventFeature',
        'is for a DeepAR model; Chronos gets known events as covariates without it: remove eventFeature',
      ),
    );
  }
  if (config.forecastModel.kind === 'deepar-endpoint' && !deepArImageUri(config.homeRegion)) {
    problems.push(
      problem(
        'forecastModel.kind',
        `SageMaker has no DeepAR image in ${config.homeRegion}; train and host the model elsewhere and use {"kind":"sagemaker",…}`,
      ),
    );
  }
  return problems;
}

function parseRate(rate: string): Duration | undefined {
  const match = RATE.exec(rate);
  if (!match) return undefined;
  const n = Number(match[1]);
  if (match[2].startsWith('minute')) return Duration.minutes(n);
  if (match[2].startsWith('hour')) return Duration.hours(n);
  return Duration.days(n);
}

/**
 * Validate prestage's context (already JSON values) and return the configuration. Every problem is reported,
 * one per line, as `prestage: context '<key path>': <what is wrong>; <how to fix it>`.
 */
export function parsePrestageConfig(context: Readonly<Record<string, unknown>>): PrestageConfig {
  const parsed = contextSchema.safeParse(context as ContextInput, { reportInput: true });
  if (!parsed.success) fail(parsed.error.issues.map(describeIssue));
  const c = parsed.data;
  const problems = crossCheck(c);
  if (problems.length > 0) fail(problems);
  return {
    homeRegion: c.homeRegion,
    dataRegions: c.dataRegions,
    cells: c.cells,
    profiler: { ...c.profiler, interval: parseRate(c.profiler.rate)! },
    forecastModel: c.forecastModel,
    approvalMode: c.approvalMode,
    migration: c.migration,
    scaling: c.scaling,
    alarmEmail: c.alarmEmail,
    logRetentionDays: c.logRetentionDays,
    reserveConcurrency: c.reserveConcurrency,
    routingLease: c.routingLease,
    names: PRESTAGE_NAMES,
  };
}

/** A `-c key=value` arrives as a string: read JSON where the key holds an object, a list or a number. */
function fromCommandLine(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (/^[[{]/.test(text) || /^-?\d+(\.\d+)?$/.test(text) || text === 'true' || text === 'false') {
    try {
      return JSON.parse(text);
    } catch {
      fail([problem(key, `is not valid JSON: ${text.slice(0, 60)}; quote the whole value in the shell`)]);
    }
  }
  if (key === 'dataRegions') return text.split(',').map((r) => r.trim());
  return value;
}

/** Read and validate prestage's context keys from a construct tree (bin/app.ts passes the App's node). */
export function readPrestageConfig(node: Node): PrestageConfig {
  const context: Record<string, unknown> = {};
  for (const key of CONTEXT_KEYS) {
    const value = node.tryGetContext(key);
    if (value !== undefined) context[key] = fromCommandLine(key, value);
  }
  return parsePrestageConfig(context);
}

/** Name of a cell's data table. */
export function cellTableName(config: PrestageConfig, cellId: string): string {
  return `${config.names.cellTablePrefix}${cellId}`;
}

/**
 * The data regions that hold a replica of the routing tables: every data region but the home region, whose table
 * is the one routing is written to.
 */
export function replicaRegions(config: PrestageConfig): string[] {
  return config.dataRegions.filter((region) => region !== config.homeRegion);
}

/** Every configured cell with its region. */
export function allCells(config: PrestageConfig): { region: string; cell: CellConfig }[] {
  return config.dataRegions.flatMap((r) => (config.cells[r] ?? []).map((cell) => ({ region: r, cell })));
}
