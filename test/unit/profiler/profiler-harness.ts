import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoAccessStatsRepository } from '../../../src/adapters/dynamodb/access-stats-repository.ts';
import { DynamoCellRepository } from '../../../src/adapters/dynamodb/cell-repository.ts';
import { documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../../../src/adapters/dynamodb/partition-repository.ts';
import { DynamoProfilerCycleRepository } from '../../../src/adapters/dynamodb/profiler-cycle-repository.ts';
import { DynamoScoreRepository } from '../../../src/adapters/dynamodb/score-repository.ts';
import {
  accessStatsTableDefinition,
  cellsTableDefinition,
  coordinationTableDefinition,
  ensureTable,
  partitionsTableDefinition,
  scoresTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import { StepFunctionsScalingStarter } from '../../../src/adapters/stepfunctions/scaling-starter.ts';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import { newPartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import type { AccessCount } from '../../../src/domain/data-plane/ports.ts';
import { EmbeddedForecastModel } from '../../../src/domain/forecasting/embedded-forecaster.ts';
import type { CellMetrics, CellMetricsSource } from '../../../src/domain/profiling/ports.ts';
import type { ProfilerDeps } from '../../../src/profiler/profiler-deps.ts';
import type { MetricName } from '../../../src/support/metrics.ts';

export const SCALE_CLUSTER_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ScaleCluster';

export interface Recorded {
  shards: { cycleId: string; shard: number; shards: number }[];
  planner: { trigger: 'schedule'; cycleId: string }[];
  metrics: { name: MetricName; unit: string; value: number; dimensions?: Readonly<Record<string, string>> }[];
  warnings: string[];
}

/** The profiler's tables on dynalite (unique names per call), its repositories, and recording fakes for the rest. */
export async function profilerFixture(client: DynamoDBClient, prefix: string) {
  const names = {
    partitions: `${prefix}-partitions`,
    cells: `${prefix}-cells`,
    stats: `${prefix}-stats`,
    scores: `${prefix}-scores`,
    coordination: `${prefix}-coordination`,
  };
  await Promise.all([
    ensureTable(client, partitionsTableDefinition(names.partitions)),
    ensureTable(client, cellsTableDefinition(names.cells)),
    ensureTable(client, accessStatsTableDefinition(names.stats)),
    ensureTable(client, scoresTableDefinition(names.scores)),
    ensureTable(client, coordinationTableDefinition(names.coordination)),
  ]);
  const documents = documentClient(client);
  const partitions = new DynamoPartitionRepository(documents, names.partitions);
  const cells = new DynamoCellRepository(documents, names.cells);
  const accessStats = new DynamoAccessStatsRepository(documents, names.stats);
  const scores = new DynamoScoreRepository(documents, names.scores);
  const cycles = new DynamoProfilerCycleRepository(documents, names.coordination);
  const recorded: Recorded = { shards: [], planner: [], metrics: [], warnings: [] };
  let cellMetrics: Map<string, CellMetrics> | Error = new Map();
  const metricsSource: CellMetricsSource = {
    read: async () => {
      if (cellMetrics instanceof Error) throw cellMetrics;
      return cellMetrics;
    },
  };
  let nowMs = 0;
  const deps: ProfilerDeps = {
    partitions,
    cells,
    accessStats,
    scores,
    cycles,
    cellMetrics: metricsSource,
    model: new EmbeddedForecastModel(),
    invoker: {
      invokeShard: async (event) => {
        recorded.shards.push(event);
      },
      invokePlanner: async (event) => {
        recorded.planner.push(event);
      },
    },
    scaling: new StepFunctionsScalingStarter(new SFNClient({ region: 'us-east-1' }), SCALE_CLUSTER_ARN),
    metrics: {
      add: (name, unit, value, dimensions) => recorded.metrics.push({ name, unit, value, dimensions }),
    },
    log: { info: () => undefined, warn: (message) => recorded.warnings.push(message) },
    now: () => nowMs,
  };
  return {
    deps,
    recorded,
    partitions,
    cells,
    accessStats,
    scores,
    cycles,
    setNow: (ms: number) => {
      nowMs = ms;
    },
    setCellMetrics: (value: Map<string, CellMetrics> | Error) => {
      cellMetrics = value;
    },
    async addCell(
      cell: Omit<CellRecord, 'table' | 'version' | 'status'> & { status?: CellRecord['status'] },
    ) {
      await cells.register({ status: 'ACTIVE', table: `data-${cell.id}`, version: 1, ...cell });
    },
    async addPartition(id: string, cell: string) {
      await partitions.createIfAbsent(newPartitionRecord(id, cell, 1, 0));
    },
    /** Write counts through the real repository, as the interceptor's recorder does. */
    async record(counts: AccessCount[]) {
      for (let i = 0; i < counts.length; i += 200) await accessStats.add(counts.slice(i, i + 200), []);
    },
  };
}
