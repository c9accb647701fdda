import { SNSClient } from '@aws-sdk/client-sns';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoMigrationSlots } from '../adapters/dynamodb/migration-slots.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import { SnsApprovalNotifier } from '../adapters/sns/approval-notifier.ts';
import { DEFAULT_EXECUTE_PLAN_SETTINGS, type ExecutePlanDeps } from '../execute-plan/execute-plan-deps.ts';
import type { ControlPlaneConfig } from './control-plane-env.ts';
import { powertoolsLog, powertoolsMetricsSink } from './instrumented-handler.ts';

/** Clients and repositories of the ExecutePlan step Lambdas, built once per execution environment. */
export function awsExecutePlanDeps(config: ControlPlaneConfig, region: string): ExecutePlanDeps {
  const documents = documentClient(createDynamoClient({ region }));
  return {
    plans: new DynamoPlanRepository(documents, config.plansTable),
    slots: new DynamoMigrationSlots(documents, config.coordinationTable, {
      maxConcurrentMovesPerCell: config.maxConcurrentMovesPerCell,
    }),
    ...(config.approvalTopicArn
      ? { notifier: new SnsApprovalNotifier(new SNSClient({ region }), config.approvalTopicArn) }
      : {}),
    metrics: powertoolsMetricsSink,
    settings: { ...DEFAULT_EXECUTE_PLAN_SETTINGS, canarySteps: config.canarySteps },
    nowMs: Date.now,
    log: powertoolsLog.info,
  };
}
