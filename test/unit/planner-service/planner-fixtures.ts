import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  coordinationTableDefinition,
  ensureTable,
  idempotencyTableDefinition,
  plansTableDefinition,
  scoresTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import type { ScoreRecord } from '../../../src/domain/scoring/score-record.ts';

export const CONTROL_TABLES = {
  scores: 'prestage-scores',
  plans: 'prestage-plans',
  coordination: 'prestage-coordination',
  idempotency: 'prestage-idempotency',
} as const;

/** The control-plane tables the planner and ScaleCluster use, in a (home-region) dynalite. */
export async function createControlTables(client: DynamoDBClient): Promise<void> {
  await ensureTable(client, scoresTableDefinition(CONTROL_TABLES.scores));
  await ensureTable(client, plansTableDefinition(CONTROL_TABLES.plans));
  await ensureTable(client, coordinationTableDefinition(CONTROL_TABLES.coordination));
  await ensureTable(client, idempotencyTableDefinition(CONTROL_TABLES.idempotency));
}

/** A score as the profiler writes it: `opsPerSec` per region, flat over `steps` steps from `nowMs`. */
export function flatScore(
  partition: string,
  cell: string,
  opsPerSec: Readonly<Record<string, number>>,
  options: { nowMs: number; steps: number; stepSeconds: number; sizeBytes?: number; cycleId?: string },
): ScoreRecord {
  const series = (factor: number) =>
    Object.fromEntries(
      Object.entries(opsPerSec).map(([r, v]) => [r, new Array(options.steps).fill(v * factor)]),
    );
  const total = Object.values(opsPerSec).reduce((a, b) => a + b, 0);
  return {
    partition,
    cell,
    affinity: 0.9,
    predictionVector: Object.fromEntries(
      Object.entries(opsPerSec).map(([r, v]) => [r, total > 0 ? v / total : 0]),
    ),
    confidence: 0.8,
    peakStep: 0,
    peakOpsPerSec: total,
    models: ['test'],
    sizeBytes: options.sizeBytes ?? 100_000,
    stepSeconds: options.stepSeconds,
    forecastStartMs: options.nowMs,
    mean: series(1),
    upper: series(1.1),
    upperLevel: 0.9,
    observedOpsPerSec: { ...opsPerSec },
    scoredAtMs: options.nowMs,
    cycleId: options.cycleId ?? 'cycle-test',
    expiresAt: Math.floor(options.nowMs / 1000) + 86_400,
  };
}
