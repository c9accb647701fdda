import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CellRecord } from '../../domain/data-plane/cell-record.ts';
import { CellUnavailableError } from '../../domain/data-plane/data-plane-errors.ts';
import type { CellRepository } from '../../domain/data-plane/ports.ts';

/**
 * Where each cell's table lives, loaded from the cells table and refreshed at most every `maxAgeMs`, so a
 * long-lived Lambda learns about cells added by a scale-out. Resolution is synchronous (from the last load).
 */
export class CellDirectory {
  private cells = new Map<string, CellRecord>();
  private loadedAtMs = Number.NEGATIVE_INFINITY;
  private readonly repository: CellRepository;
  private readonly clientFor: (region: string) => DynamoDBClient;
  private readonly maxAgeMs: number;

  constructor(repository: CellRepository, clientFor: (region: string) => DynamoDBClient, maxAgeMs = 60_000) {
    this.repository = repository;
    this.clientFor = clientFor;
    this.maxAgeMs = maxAgeMs;
  }

  async refreshIfStale(nowMs = Date.now()): Promise<void> {
    if (nowMs - this.loadedAtMs < this.maxAgeMs) return;
    const cells = await this.repository.list();
    this.cells = new Map(cells.map((c) => [c.id, c]));
    this.loadedAtMs = nowMs;
  }

  /** The region a cell lives in (from the last load). */
  regionOf(cellId: string): string {
    const cell = this.cells.get(cellId);
    if (!cell) throw new CellUnavailableError(cellId);
    return cell.region;
  }

  resolve(cellId: string): { client: DynamoDBClient; table: string } {
    const cell = this.cells.get(cellId);
    if (!cell) throw new CellUnavailableError(cellId);
    return { client: this.clientFor(cell.region), table: cell.table };
  }
}
