import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedCluster } from '../../../src/local/embedded-cluster.ts';
import { migrationRunner } from '../../support/migration-harness.ts';
import { clientOn, startTestCluster } from '../../support/test-cluster.ts';

describe('MigratePartition, synthesized ASL run locally against dynalite', () => {
  let cluster: EmbeddedCluster;
  beforeAll(async () => {
    cluster = await startTestCluster(['us-east-1', 'eu-west-1'], 1);
  });
  afterAll(async () => {
    await cluster.close();
  });

  it('moves a partition to another region and every key keeps its value', async () => {
    const client = clientOn(cluster);
    const expected = new Map<string, string>();
    for (let i = 0; i < 150; i++) {
      const value = { i, text: `value ${i}`.repeat(i % 7) };
      await client.put('moving', `key-${i}`, value);
      expected.set(`key-${i}`, JSON.stringify(value));
    }
    await client.delete('moving', 'key-3');
    expected.delete('key-3');
    const before = (await cluster.partitions.get('moving'))!;
    const target = cluster.cellIds().find((c) => c !== before.cell)!;
    const { runner } = migrationRunner(cluster);
    const execution = runner.start({
      partition: 'moving',
      targetCell: target,
      canarySteps: [0.5, 1],
      waitSeconds: 0,
    });
    const done = await runner.wait(execution.migrationId);
    expect(done.error).toBeUndefined();
    expect(done.status).toBe('SUCCEEDED');
    const after = (await cluster.partitions.get('moving'))!;
    expect(after).toMatchObject({ cell: target, status: 'ACTIVE', routing: { phase: 'stable' } });
    expect(after.fence).toBeUndefined();
    expect(after.lastMigration).toMatchObject({ id: execution.migrationId, outcome: 'COMMITTED' });
    const reader = clientOn(cluster);
    for (const [key, json] of expected) expect((await reader.get('moving', key)).json).toBe(json);
    await expect(reader.get('moving', 'key-3')).rejects.toMatchObject({ code: 'ITEM_NOT_FOUND' });
    const source = cluster.stores.forCell(before.cell);
    for (let shard = 0; shard < before.shards; shard++) {
      expect((await source.queryShard('moving', shard, { limit: 10 })).items).toHaveLength(0);
    }
  });
});
