import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCellRepository } from '../adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../adapters/dynamodb/partition-repository.ts';
import { DynamoScalingCoordination } from '../adapters/dynamodb/scaling-coordination.ts';
import { executionProbe } from '../adapters/stepfunctions/execution-probe.ts';
import type { ScaleClusterDeps } from '../scaling/scale-cluster-steps.ts';
import type { ControlPlaneConfig } from './control-plane-env.ts';
import type { DataPlaneConfig } from './data-plane-config.ts';

/** ScaleCluster step dependencies on AWS clients (home-region tables), built once per execution environment. */
export function awsScaleClusterDeps(control: ControlPlaneConfig, data: DataPlaneConfig): ScaleClusterDeps {
  const home = documentClient(createDynamoClient({ region: data.homeRegion }));
  return {
    cells: new DynamoCellRepository(home, data.cellsTable),
    partitions: new DynamoPartitionRepository(home, data.partitionsTable),
    coordination: new DynamoScalingCoordination(home, control.coordinationTable),
    config: {
      homeRegion: data.homeRegion,
      dataRegions: control.dataRegions,
      cellTablePrefix: control.cellTablePrefix,
      capacityAlarmPrefix: control.capacityAlarmPrefix,
      canaryAlarmPrefix: data.canaryAlarmPrefix,
      capacityAlarmThreshold: control.capacityAlarmThreshold,
      cooldownMinutes: control.scalingCooldownMinutes,
    },
    isExecutionRunning: executionProbe(new SFNClient({ region: data.region })),
    now: Date.now,
  };
}
