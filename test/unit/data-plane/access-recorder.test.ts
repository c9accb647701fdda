import { describe, expect, it } from 'vitest';
import { AccessRecorder } from '../../../src/data-plane/access-recorder.ts';
import type {
  AccessCount,
  AccessStatsRepository,
  CoAccessCount,
} from '../../../src/domain/data-plane/ports.ts';

function memoryStats(failures = 0) {
  const batches: { counts: AccessCount[]; pairs: CoAccessCount[] }[] = [];
  let failing = failures;
  const repository: AccessStatsRepository = {
    add: async (counts, pairs) => {
      if (failing > 0) {
        failing -= 1;
        throw new Error('throttled');
      }
      batches.push({ counts: [...counts], pairs: [...pairs] });
    },
    countsFor: async () => [],
    coAccessFor: async () => [],
  };
  return { repository, batches };
}

describe('AccessRecorder', () => {
  it('counts per partition, region and bucket in memory and writes once per interval', async () => {
    let now = 1_000_000;
    const { repository, batches } = memoryStats();
    const recorder = new AccessRecorder(repository, {
      bucketMs: 60_000,
      flushIntervalMs: 10_000,
      wallNow: () => now,
    });
    // Every fourth request is a write.
    for (let i = 0; i < 500; i++) {
      recorder.record('p1', i % 5 === 0 ? 'eu-west-1' : 'us-east-1', i % 4 === 0 ? 'write' : 'read');
    }
    await recorder.flushIfDue();
    expect(batches).toHaveLength(0);
    now += 10_000;
    await recorder.flushIfDue();
    expect(batches).toHaveLength(1);
    // Reads and writes apart: of the 100 eu-west-1 requests (i = 0, 5, 10, ...) 25 are writes (i = 0, 20, ...).
    expect(batches[0].counts.map((c) => [c.region, c.count, c.writes]).sort()).toEqual([
      ['eu-west-1', 100, 25],
      ['us-east-1', 400, 100],
    ]);
    expect(batches[0].counts[0].bucketStartMs).toBe(960_000);
    expect(recorder.pendingRequests()).toBe(0);
  });

  it('keeps the counts of a failed flush for the next one', async () => {
    const { repository, batches } = memoryStats(1);
    const recorder = new AccessRecorder(repository, { flushIntervalMs: 0, wallNow: () => 5_000 });
    recorder.record('p1', 'us-east-1', 'write');
    await expect(recorder.flush()).rejects.toThrow('throttled');
    recorder.record('p1', 'us-east-1', 'read');
    await recorder.flush();
    expect(batches[0].counts).toEqual([
      { partition: 'p1', region: 'us-east-1', bucketStartMs: 0, count: 2, writes: 1 },
    ]);
  });

  it('pairs partitions a sampled client touches within the window, and ignores unsampled clients', async () => {
    let now = 0;
    const { repository, batches } = memoryStats();
    const all = new AccessRecorder(repository, {
      coAccessSampleRate: 1,
      coAccessWindowMs: 1_000,
      wallNow: () => now,
    });
    all.record('a', 'r', 'read', 'client');
    now += 500;
    all.record('b', 'r', 'read', 'client');
    now += 2_000;
    all.record('c', 'r', 'read', 'client');
    await all.flush();
    expect(batches[0].pairs).toEqual([{ a: 'a', b: 'b', bucketStartMs: 0, count: 1 }]);

    const none = new AccessRecorder(repository, { coAccessSampleRate: 0, wallNow: () => now });
    none.record('a', 'r', 'read', 'client');
    none.record('b', 'r', 'read', 'client');
    await none.flush();
    expect(batches[1].pairs).toEqual([]);
  });
});
