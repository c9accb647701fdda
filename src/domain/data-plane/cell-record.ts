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
  /**
   * When a scale-out (ScaleCluster's RegisterCells, on an alarm or a forecast) added the cell, epoch ms; absent for
   * the cells of the initial topology. The forecast-driven scale-in waits a quiet time after a region's last one.
   */
  readonly scaledOutAtMs?: number;
}

export type { CellStatus };
