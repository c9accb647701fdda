import type { CellStatus } from '../planning/movement-plan.ts';

/** A cell: one DynamoDB data table in one region, with a capacity (the topology in the cells table). */
export interface CellRecord {
  readonly id: string;
  readonly region: string;
  readonly table: string;
  readonly capacityOpsPerSec: number;
  readonly capacityBytes: number;
  readonly status: CellStatus;
  readonly version: number;
}

export type { CellStatus };
