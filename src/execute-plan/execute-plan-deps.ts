import type { DynamoPlanRepository } from '../adapters/dynamodb/plan-repository.ts';
import type { MetricName } from '../lambda/metric-names.ts';
import type { MigrationSlots } from './migration-slots.ts';

export type ExecutePlanMetricUnit = 'Count' | 'Bytes';

/** Where the steps publish their metrics (Powertools EMF in Lambda, a recorder in tests). */
export interface MetricsSink {
  add(name: MetricName, unit: ExecutePlanMetricUnit, value: number): void;
}

/** Sends the approval request to people (SNS in AWS). */
export interface ApprovalNotifier {
  publish(subject: string, message: string): Promise<void>;
}

export interface ExecutePlanSettings {
  /** Read weights of the canary steps of each child migration. */
  readonly canarySteps: readonly number[];
  /** How long a move first waits before asking again for a slot; each further wait doubles it. @default 30 */
  readonly slotWaitSeconds: number;
  /** The longest wait between two asks for a slot. @default 240 */
  readonly slotWaitMaxSeconds: number;
  /** A slot whose holder never released it is free again after this long. @default 12 h */
  readonly slotLeaseSeconds: number;
}

export const DEFAULT_EXECUTE_PLAN_SETTINGS: ExecutePlanSettings = {
  canarySteps: [0.1, 0.5, 1],
  slotWaitSeconds: 30,
  slotWaitMaxSeconds: 240,
  slotLeaseSeconds: 12 * 3600,
};

/** Dependencies of the ExecutePlan step handlers. */
export interface ExecutePlanDeps {
  readonly plans: DynamoPlanRepository;
  readonly slots: MigrationSlots;
  /** Absent: approval requests are only logged (no topic configured). */
  readonly notifier?: ApprovalNotifier;
  readonly metrics: MetricsSink;
  readonly settings: ExecutePlanSettings;
  readonly nowMs: () => number;
  readonly log?: (message: string, details?: Record<string, unknown>) => void;
}
