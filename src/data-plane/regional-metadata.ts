import type { CellRecord, CellStatus } from '../domain/data-plane/cell-record.ts';
import type { PartitionRecord } from '../domain/data-plane/partition-record.ts';
import type { CellRepository, PartitionRepository } from '../domain/data-plane/ports.ts';

/**
 * The partition table as the clients of one region use it: routing is read from that region's replica (no
 * cross-region round trip on the hot path), and every write goes to the home region, the only place routing is
 * ever written. Creation included: two regions creating the same partition at once must agree on one cell, and
 * only a conditional write against one table decides that (a global table resolves concurrent writes in
 * different regions by last writer wins, which would let both creators write their own cell).
 *
 * In the home region the clients use the home table directly.
 */
export class RegionalPartitions implements PartitionRepository {
  private readonly replica: PartitionRepository;
  private readonly home: PartitionRepository;

  constructor(replica: PartitionRepository, home: PartitionRepository) {
    this.replica = replica;
    this.home = home;
  }

  /**
   * The replica's record; if the replica has none, the home region's. A partition created a moment ago in
   * another region may not have reached this replica yet, and answering "no such partition" then would be a
   * stale read of an acknowledged write. Only misses pay the cross-region read (new or unknown partitions); a
   * record, once replicated, is always read locally, and only moves forward.
   */
  async get(partition: string): Promise<PartitionRecord | undefined> {
    return (await this.replica.get(partition)) ?? this.home.get(partition);
  }

  createIfAbsent(record: PartitionRecord): Promise<PartitionRecord> {
    return this.home.createIfAbsent(record);
  }

  update(
    partition: string,
    mutate: (current: PartitionRecord) => PartitionRecord | undefined,
  ): Promise<PartitionRecord> {
    return this.home.update(partition, mutate);
  }

  list(): Promise<PartitionRecord[]> {
    return this.replica.list();
  }
}

/** The cells table as one region's clients use it: read from the region's replica, written in the home region. */
export class RegionalCells implements CellRepository {
  private readonly replica: CellRepository;
  private readonly home: CellRepository;

  constructor(replica: CellRepository, home: CellRepository) {
    this.replica = replica;
    this.home = home;
  }

  list(): Promise<CellRecord[]> {
    return this.replica.list();
  }

  get(id: string): Promise<CellRecord | undefined> {
    return this.replica.get(id);
  }

  register(cell: CellRecord): Promise<CellRecord> {
    return this.home.register(cell);
  }

  setStatus(id: string, status: CellStatus): Promise<CellRecord> {
    return this.home.setStatus(id, status);
  }
}
