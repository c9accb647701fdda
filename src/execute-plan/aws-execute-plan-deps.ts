import { SNSClient } from '@aws-sdk/client-sns';
import { createDynamoClient, documentClient } from '../adapters/dynamodb/dynamodb-client.ts';
import { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import type { ControlPlaneConfig } from '../lambda/control-plane-env.ts';
import { SnsApprovalNotifier } from './approval-notifier.ts';
import { DEFAULT_EXECUTE_PLAN_SETTINGS, type ExecutePlanDeps } from './execute-plan-deps.ts';
import { powertoolsLog, powertoolsMetricsSink } from './execute-plan-handlers.ts';
import { MigrationSlots } from './migration-slots.ts';

/** Clients and repositories of the ExecutePlan step Lambdas, built once per execution environment. */
export function awsExecutePlanDeps(config: ControlPlaneConfig, region: string): ExecutePlanDeps {
  const documents = documentClient(createDynamoClient({ region }));
  return {
    plans: new DynamoPlanRepository(documents, config.plansTable),
    slots: new MigrationSlots(documents, config.coordinationTable, {
      maxConcurrentMovesPerCell: config.maxConcurrentMovesPerCell,
    }),
    ...(config.approvalTopicArn
      ? { notifier: new SnsApprovalNotifier(new SNSClient({ region }), config.approvalTopicArn) }
      : {}),
    metrics: powertoolsMetricsSink,
    settings: { ...DEFAULT_EXECUTE_PLAN_SETTINGS, canarySteps: config.canarySteps },
    nowMs: Date.now,
    log: powertoolsLog,
  };
}
