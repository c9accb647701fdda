import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCellRepository } from '../adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../adapters/dynamodb/partition-repository.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { DynamoScoreRepository } from '../adapters/dynamodb/score-repository.ts';
import { SfnPlanExecutionStarter } from '../adapters/stepfunctions/plan-execution-starter.ts';
import type { PlannerServiceConfig, PlannerServiceDeps } from '../planner-service/planner-service.ts';
import type { ControlPlaneConfig } from './control-plane-env.ts';
import type { DataPlaneConfig } from './data-plane-config.ts';

/** The planner's configuration from the control-plane and data-plane environment. */
export function plannerConfig(control: ControlPlaneConfig, data: DataPlaneConfig): PlannerServiceConfig {
  return {
    stepSeconds: control.intervalSeconds,
    horizonSteps: control.horizonSteps,
    homeRegion: data.homeRegion,
    dataRegions: control.dataRegions,
    maxConcurrentMovesPerCell: control.maxConcurrentMovesPerCell,
    maxBytesPerCycle: control.maxBytesPerCycle,
    planTtlDays: control.planTtlDays,
    approvalMode: control.approvalMode,
  };
}

/** The planner's repositories and ExecutePlan starter on AWS clients (home-region tables). */
export function awsPlannerDeps(
  control: ControlPlaneConfig,
  data: DataPlaneConfig,
): Omit<PlannerServiceDeps, 'recordPlan' | 'warn'> {
  const home = documentClient(createDynamoClient({ region: data.homeRegion }));
  return {
    scores: new DynamoScoreRepository(home, control.scoresTable),
    partitions: new DynamoPartitionRepository(home, data.partitionsTable),
    cells: new DynamoCellRepository(home, data.cellsTable),
    plans: new DynamoPlanRepository(home, control.plansTable),
    ...(control.executePlanArn
      ? {
          executions: new SfnPlanExecutionStarter(
            new SFNClient({ region: data.region }),
            control.executePlanArn,
          ),
        }
      : {}),
    now: Date.now,
  };
}
