import type { MigrationSlots } from '../domain/planning/migration-slots.ts';
import type { ApprovalNotifier, PlanRepository } from '../domain/planning/ports.ts';
import type { ColdCopyGcDeps } from '../migration/cold-copy-gc.ts';
import type { MetricsSink } from '../support/metrics.ts';

export interface ExecutePlanSettings {
  /** Read weights of the canary steps of each child migration. */
  readonly canarySteps: readonly number[];
  /** How long a move first waits before asking again for a slot; each further wait doubles it. @default 30 */
  readonly slotWaitSeconds: number;
  /** The longest wait between two asks for a slot. @default 240 */
  readonly slotWaitMaxSeconds: number;
  /** A slot whose holder never released it is free again after this long. @default 12 h */
  readonly slotLeaseSeconds: number;
  /**
   * Wall time one DropColdCopies invocation spends deleting before it returns to be called again: well inside the
   * step Lambda's timeout (30 s), so no invocation is cut off mid-page. @default 20 s
   */
  readonly dropBudgetMs: number;
}

export const DEFAULT_EXECUTE_PLAN_SETTINGS: ExecutePlanSettings = {
  canarySteps: [0.1, 0.5, 1],
  slotWaitSeconds: 30,
  slotWaitMaxSeconds: 240,
  slotLeaseSeconds: 12 * 3600,
  dropBudgetMs: 20_000,
};

/**
 * Dependencies of the ExecutePlan step handlers: ports only, bound to DynamoDB and SNS in Lambda
 * (src/lambda/aws-execute-plan-deps.ts), to dynalite in the local runner, and to memory in the unit tests.
 */
export interface ExecutePlanDeps {
  readonly plans: PlanRepository;
  readonly slots: MigrationSlots;
  /** Absent: approval requests are only logged (no topic configured). */
  readonly notifier?: ApprovalNotifier;
  readonly metrics: MetricsSink;
  readonly settings: ExecutePlanSettings;
  readonly nowMs: () => number;
  /**
   * The data plane, for DropColdCopies (the partition records and the cell tables). Bound only where that step
   * runs: its Lambda in AWS, the local runner on the embedded cluster.
   */
  readonly coldCopies?: ColdCopyGcDeps & { readonly wallNow?: () => number };
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}
