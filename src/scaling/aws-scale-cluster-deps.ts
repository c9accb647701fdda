import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoCellRepository } from '../adapters/dynamodb/cell-repository.ts';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPartitionRepository } from '../adapters/dynamodb/partition-repository.ts';
import type { ControlPlaneConfig } from '../lambda/control-plane-env.ts';
import type { DataPlaneConfig } from '../lambda/data-plane-config.ts';
import type { ScaleClusterDeps } from './scale-cluster-steps.ts';
import { ScalingCoordination } from './scaling-coordination.ts';

/** Whether an execution is RUNNING; anything but a clear answer counts as running (the lock is kept). */
export function executionProbe(client: SFNClient): (executionArn: string) => Promise<boolean> {
  return async (executionArn) => {
    try {
      const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
      return status === 'RUNNING' || status === 'PENDING_REDRIVE';
    } catch (error) {
      return (error as Error).name !== 'ExecutionDoesNotExist';
    }
  };
}

/** ScaleCluster step dependencies on AWS clients (home-region tables), built once per execution environment. */
export function awsScaleClusterDeps(control: ControlPlaneConfig, data: DataPlaneConfig): ScaleClusterDeps {
  const home = documentClient(createDynamoClient({ region: data.homeRegion }));
  return {
    cells: new DynamoCellRepository(home, data.cellsTable),
    partitions: new DynamoPartitionRepository(home, data.partitionsTable),
    coordination: new ScalingCoordination(home, control.coordinationTable),
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
