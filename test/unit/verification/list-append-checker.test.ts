import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/domain/seeded-random.ts';
import {
  ANOMALY_NAMES,
  type AnomalyName,
  type AppendOp,
  type AppendOutcome,
  checkListAppend,
  formatReport,
  type HistoryInput,
  type HistoryOp,
  type ListAppendReport,
  type MigrationOp,
  type ReadOp,
} from '../../../src/verification/list-append-checker.ts';
import { assertProperty } from '../../support/property.ts';

function append(
  key: string,
  element: string,
  outcome: AppendOutcome,
  startMs: number,
  endMs: number,
  client = 'w1',
): AppendOp {
  return { kind: 'append', key, element, outcome, startMs, endMs, client };
}

function read(
  key: string,
  list: readonly string[] | null,
  startMs: number,
  endMs: number,
  client = 'r1',
): ReadOp {
  return { kind: 'read', key, list, startMs, endMs, client };
}

function history(
  ops: readonly HistoryOp[],
  finals: Record<string, readonly string[]>,
  fencedPartitionsAtEnd: readonly string[] = [],
): HistoryInput {
  return { ops, finalLists: new Map(Object.entries(finals)), fencedPartitionsAtEnd };
}

function failing(report: ListAppendReport): AnomalyName[] {
  return ANOMALY_NAMES.filter((name) => report.anomalies[name].count > 0);
}

/** Asserts that the history shows exactly the given classes, and returns the report for further checks. */
function expectOnly(input: HistoryInput, ...names: AnomalyName[]): ListAppendReport {
  const report = checkListAppend(input);
  expect(failing(report), formatReport(report)).toEqual(names);
  expect(report.valid).toBe(false);
  for (const name of names) expect(report.anomalies[name].examples.length).toBeGreaterThan(0);
  return report;
}

describe('checkListAppend on hand-built histories', () => {
  it('passes a clean concurrent history, whatever concurrent reads saw of in-flight appends', () => {
    const input = history(
      [
        append('k1', 'a', 'ok', 0, 10, 'w1'),
        // Both read version 1; b won the compare-and-set, c was refused and must never show up.
        append('k1', 'b', 'ok', 12, 30, 'w1'),
        append('k1', 'c', 'conflict', 14, 32, 'w2'),
        // A timeout that applied, and one that did not: either is allowed.
        append('k1', 'd', 'unknown', 35, 60, 'w2'),
        append('k1', 'e', 'unknown', 36, 61, 'w3'),
        // Concurrent with b: may or may not hold it.
        read('k1', ['a'], 11, 31, 'r1'),
        read('k1', ['a', 'b'], 13, 31, 'r2'),
        // Began after b was acknowledged, concurrent with d.
        read('k1', ['a', 'b'], 31, 50, 'r1'),
        read('k1', ['a', 'b', 'd'], 40, 55, 'r3'),
        read('k1', ['a', 'b', 'd'], 62, 70, 'r2'),
        read('k1', null, 63, 90, 'r1'),
        read('k2', [], 0, 5, 'r1'),
        append('k2', 'x', 'ok', 6, 9, 'w3'),
        read('k2', ['x'], 8, 12, 'r2'),
        { kind: 'migration', id: 'm1', partition: 'p1', startMs: 0, endMs: 40, outcome: 'SUCCEEDED' },
      ],
      { k1: ['a', 'b', 'd'], k2: ['x'] },
    );
    const report = checkListAppend(input);
    expect(failing(report), formatReport(report)).toEqual([]);
    expect(report.valid).toBe(true);
    expect(report.totals).toEqual({
      appends: { total: 6, ok: 3, conflict: 1, unknown: 2 },
      readsChecked: 7,
      readsFailed: 1,
      keys: 2,
      migrations: 1,
    });
    expect(report.notes).toEqual([]);
  });

  it('lost: an acknowledged append missing from the final list', () => {
    const report = expectOnly(
      history([append('k', 'a', 'ok', 0, 5), append('k', 'b', 'ok', 6, 9, 'w2')], { k: ['a'] }),
      'lost',
    );
    expect(report.anomalies.lost.examples[0]).toContain('b, appended to k by w2 [6–9 ms]');
  });

  it('lost: a key with acknowledged appends but no final list counts as empty', () => {
    expectOnly(history([append('k', 'a', 'ok', 0, 5)], {}), 'lost');
  });

  it('duplicated: an element twice in one list, counted once however often it is seen', () => {
    const report = expectOnly(
      history([append('k', 'a', 'ok', 0, 5), read('k', ['a', 'a'], 6, 7), read('k', ['a', 'a'], 8, 9)], {
        k: ['a', 'a'],
      }),
      'duplicated',
    );
    expect(report.anomalies.duplicated.count).toBe(1);
  });

  it('phantom: a refused append that shows up in a list', () => {
    expectOnly(
      history([append('k', 'a', 'ok', 0, 5), append('k', 'b', 'conflict', 1, 6, 'w2')], { k: ['a', 'b'] }),
      'phantom',
    );
  });

  it('reordered: lists that disagree on the order of two elements (and so are not prefixes)', () => {
    const report = expectOnly(
      history(
        [
          append('k', 'a', 'ok', 0, 5),
          append('k', 'b', 'ok', 6, 9),
          read('k', ['a'], 7, 11),
          read('k', ['a', 'b'], 10, 11),
          read('k', ['b', 'a'], 12, 13, 'r2'),
        ],
        { k: ['a', 'b'] },
      ),
      'reordered',
      'notPrefix',
    );
    // Every list holding both elements disagrees with [b, a], and it with them; [a] disagrees with none.
    expect(report.anomalies.reordered.count).toBe(3);
    expect(report.anomalies.reordered.examples).toContain(
      'read of k by r2 [12–13 ms] has b before a, but the final list of k (length 2) has a before b',
    );
  });

  it('reordered: between two reads, on elements the final list lost', () => {
    const report = checkListAppend(
      history(
        [
          append('k', 'a', 'unknown', 0, 5),
          append('k', 'b', 'unknown', 0, 5),
          read('k', ['a', 'b'], 10, 11),
          read('k', ['b', 'a'], 12, 13),
        ],
        { k: [] },
      ),
    );
    expect(report.anomalies.reordered.count).toBe(2);
    expect(report.valid).toBe(false);
  });

  it('staleRead: a read that began after an append was acknowledged and lacks it', () => {
    const report = expectOnly(
      history([append('k', 'a', 'ok', 0, 10), read('k', [], 11, 12), read('k', [], 5, 12)], { k: ['a'] }),
      'staleRead',
    );
    // The read concurrent with the append may miss it.
    expect(report.anomalies.staleRead.count).toBe(1);
    expect(report.anomalies.staleRead.examples[0]).toMatch(/lacks a, .* acknowledged before the read began/);
  });

  it('nonMonotonicRead: a read that lacks an unacknowledged element an earlier-completed read returned (reported, not promised)', () => {
    const report = checkListAppend(
      history(
        [append('k', 'a', 'unknown', 0, 10), read('k', ['a'], 5, 20, 'r1'), read('k', [], 21, 30, 'r2')],
        { k: ['a'] },
      ),
    );
    expect(failing(report)).toEqual(['nonMonotonicRead']);
    // Not one of the promised classes: a write in doubt may be seen by one client before another.
    expect(report.valid).toBe(true);
    expect(report.anomalies.nonMonotonicRead.examples[0]).toMatch(
      /read of k by r2 .* lacks a, which read of k by r1 \[5–20 ms\] had already returned/,
    );
  });

  it('staleRead: also in a read that is not a prefix of the final list', () => {
    const report = checkListAppend(
      history([append('k', 'a', 'ok', 0, 5), append('k', 'b', 'ok', 6, 9), read('k', ['b'], 10, 11)], {
        k: ['a', 'b'],
      }),
    );
    expect(failing(report)).toEqual(['staleRead', 'notPrefix']);
  });

  it('notPrefix: a read that skips an element the final list has before', () => {
    const report = expectOnly(
      history(
        [append('k', 'a', 'unknown', 0, 10), append('k', 'b', 'unknown', 0, 10), read('k', ['b'], 2, 8)],
        { k: ['a', 'b'] },
      ),
      'notPrefix',
    );
    expect(report.anomalies.notPrefix.examples[0]).toContain('first difference at index 0: b');
  });

  it('notPrefix: a read longer than the final list', () => {
    expectOnly(history([append('k', 'a', 'unknown', 0, 10), read('k', ['a'], 2, 8)], { k: [] }), 'notPrefix');
  });

  it('unknownElement: an element nobody appended, or appended to another key', () => {
    const report = expectOnly(
      history([append('k1', 'a', 'ok', 0, 5), append('k2', 'b', 'unknown', 0, 5)], {
        k1: ['a', 'zz', 'b'],
      }),
      'unknownElement',
    );
    expect(report.anomalies.unknownElement.count).toBe(2);
    expect(report.anomalies.unknownElement.examples).toEqual([
      'zz in the final list of k1 (length 3) was never appended by any client',
      'b in the final list of k1 (length 3) was appended to k2, not k1 (appended to k2 by w1 [0–5 ms])',
    ]);
  });

  it('futureRead: a read that returned an element before its append began', () => {
    expectOnly(
      history([read('k', ['a'], 0, 5), append('k', 'a', 'unknown', 10, 20)], { k: ['a'] }),
      'futureRead',
    );
  });

  it('migrationsNotEnded and partitionsLeftFenced', () => {
    const running: MigrationOp = {
      kind: 'migration',
      id: 'm7',
      partition: 'p3',
      startMs: 100,
      endMs: null,
      outcome: 'RUNNING',
    };
    const report = expectOnly(
      history([running], {}, ['p3', 'p4']),
      'migrationsNotEnded',
      'partitionsLeftFenced',
    );
    expect(report.anomalies.partitionsLeftFenced.count).toBe(2);
    expect(report.anomalies.migrationsNotEnded.examples).toEqual([
      'migration m7 of partition p3, started at 100 ms, never ended (outcome: RUNNING)',
    ]);
  });

  it('keeps at most maxExamples examples but counts everything', () => {
    const ops = Array.from({ length: 20 }, (_, i) => append('k', `e${i}`, 'ok', i, i + 1));
    const report = checkListAppend(history(ops, { k: [] }), { maxExamples: 3 });
    expect(report.anomalies.lost).toMatchObject({ count: 20 });
    expect(report.anomalies.lost.examples).toHaveLength(3);
  });

  it('refuses a history that appends one element twice', () => {
    expect(() =>
      checkListAppend(history([append('k', 'a', 'ok', 0, 1), append('k', 'a', 'ok', 2, 3)], { k: ['a'] })),
    ).toThrow(/element 'a' is appended twice/);
  });

  it('formats one line per anomaly class with its examples', () => {
    const text = formatReport(checkListAppend(history([append('k', 'a', 'ok', 0, 5)], { k: [] }, ['p1'])));
    const lines = text.split('\n');
    expect(lines[0]).toBe('list-append check: INVALID (2 anomaly classes: lost, partitionsLeftFenced)');
    for (const name of ANOMALY_NAMES) expect(lines.some((line) => line.trim().startsWith(name))).toBe(true);
    expect(text).toContain(
      `  ${'lost'.padEnd(22)}${'1'.padStart(8)}\n      - a, appended to k by w1 [0–5 ms]`,
    );
  });
});

describe('checkListAppend against divergent read orders', () => {
  const elements = Array.from({ length: 30 }, (_, i) => `e${i}`);
  const appends = elements.map((element) => append('k', element, 'unknown', 0, 1));
  // Reads in rotated orders: every pair of them disagrees, and none is a prefix of the final list.
  const reads = Array.from({ length: 40 }, (_, r) =>
    read('k', [...elements.slice(r % 30), ...elements.slice(0, r % 30)].reverse(), 2 + r, 3 + r),
  );

  it('counts every disagreeing read when the shapes fit the caps', () => {
    const report = checkListAppend(history([...appends, ...reads], { k: elements }));
    expect(report.anomalies.reordered.count).toBe(41);
    expect(report.notes).toEqual([]);
  });

  it('falls back to comparing with the final list, and says so, past the caps', () => {
    const capped = checkListAppend(history([...appends, ...reads], { k: elements }), {
      maxOrderShapesPerKey: 4,
      orderComparisonBudget: 50,
    });
    expect(capped.anomalies.reordered.count).toBe(41);
    expect(capped.notes).toHaveLength(2);
    expect(capped.notes.join('\n')).toMatch(/lower bound/);
  });
});

// --- A simulated linearizable store: every history it produces is correct by construction. ---

type Fault = 'none' | 'lostRequest' | 'lostResponse' | 'late' | 'failedRead';

interface PlannedOp {
  readonly kind: 'append' | 'read';
  readonly key: number;
  readonly fault: Fault;
  /** For a late PUT: ticks until it reaches the store, after the client has given up. */
  readonly delay: number;
}

interface Scenario {
  /** One script per client. */
  readonly scripts: readonly (readonly PlannedOp[])[];
  /** Which live client takes the next step (modulo); round-robin once it runs out. */
  readonly schedule: readonly number[];
}

interface Versioned {
  readonly list: readonly string[];
  readonly version: number;
}

interface ClientState {
  next: number;
  phase: number;
  startMs: number;
  got: Versioned | null;
  outcome: AppendOutcome;
  readList: readonly string[] | null;
}

/**
 * Each op takes several ticks (start, GET, PUT, end) and clients interleave at every tick, so an op's effect
 * falls strictly inside its [start, end]. Unknown outcomes model a request lost before the store, a response
 * lost after it, and a timed-out PUT that lands later.
 */
function simulate(scenario: Scenario): HistoryInput {
  const store = new Map<string, Versioned>();
  const ops: HistoryOp[] = [];
  const inFlight: { dueAt: number; key: string; expected: number; list: readonly string[] }[] = [];
  const compareAndSet = (key: string, expected: number, list: readonly string[]): boolean => {
    const current = store.get(key) ?? { list: [], version: 0 };
    if (current.version !== expected) return false;
    store.set(key, { list, version: expected + 1 });
    return true;
  };
  const deliver = (now: number) => {
    for (let i = 0; i < inFlight.length; ) {
      const put = inFlight[i];
      if (put.dueAt <= now) {
        compareAndSet(put.key, put.expected, put.list);
        inFlight.splice(i, 1);
      } else i++;
    }
  };
  const clients: ClientState[] = scenario.scripts.map(() => ({
    next: 0,
    phase: 0,
    startMs: 0,
    got: null,
    outcome: 'ok',
    readList: null,
  }));
  const step = (index: number, now: number) => {
    const client = clients[index];
    const op = scenario.scripts[index][client.next];
    const key = `k${op.key}`;
    const name = `c${index}`;
    const element = `${name}-${client.next}`;
    if (client.phase === 0) {
      client.startMs = now;
    } else if (op.kind === 'read') {
      if (client.phase === 1) {
        client.readList = op.fault === 'failedRead' ? null : (store.get(key)?.list ?? []);
      } else {
        ops.push(read(key, client.readList, client.startMs, now, name));
        client.next++;
        client.phase = 0;
        return;
      }
    } else if (client.phase === 1) {
      client.got = store.get(key) ?? { list: [], version: 0 };
    } else if (client.phase === 2) {
      const { list, version } = client.got!;
      const next = [...list, element];
      if (op.fault === 'lostRequest') client.outcome = 'unknown';
      else if (op.fault === 'lostResponse') {
        compareAndSet(key, version, next);
        client.outcome = 'unknown';
      } else if (op.fault === 'late') {
        inFlight.push({ dueAt: now + 1 + op.delay, key, expected: version, list: next });
        client.outcome = 'unknown';
      } else client.outcome = compareAndSet(key, version, next) ? 'ok' : 'conflict';
    } else {
      ops.push(append(key, element, client.outcome, client.startMs, now, name));
      client.next++;
      client.phase = 0;
      return;
    }
    client.phase++;
  };

  let now = 0;
  let turn = 0;
  for (;;) {
    const live = clients.flatMap((client, index) =>
      client.next < scenario.scripts[index].length ? [index] : [],
    );
    if (live.length === 0) break;
    now++;
    deliver(now);
    const pick = turn < scenario.schedule.length ? scenario.schedule[turn] : turn;
    turn++;
    step(live[pick % live.length], now);
  }
  while (inFlight.length > 0) deliver(++now);
  ops.push({ kind: 'migration', id: 'm1', partition: 'p1', startMs: 0, endMs: now, outcome: 'SUCCEEDED' });
  return {
    ops,
    finalLists: new Map([...store].map(([key, { list }]) => [key, list])),
    fencedPartitionsAtEnd: [],
  };
}

const plannedOp: fc.Arbitrary<PlannedOp> = fc.record({
  kind: fc.constantFrom('append', 'read'),
  key: fc.nat({ max: 2 }),
  fault: fc.constantFrom<Fault>('none', 'none', 'none', 'lostRequest', 'lostResponse', 'late', 'failedRead'),
  delay: fc.nat({ max: 20 }),
});

const scenario: fc.Arbitrary<Scenario> = fc.record({
  scripts: fc.array(fc.array(plannedOp, { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
  schedule: fc.array(fc.nat({ max: 7 }), { maxLength: 200 }),
});

describe('checkListAppend on simulated linearizable histories', () => {
  it('finds nothing wrong with any history of a linearizable store', () => {
    assertProperty(
      fc.property(scenario, (s) => {
        const report = checkListAppend(simulate(s));
        expect(report.valid, formatReport(report)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reports lost when an acknowledged element is dropped from the final list', () => {
    assertProperty(
      fc.property(scenario, fc.nat(), (s, pick) => {
        const input = simulate(s);
        const acked = input.ops.filter((op): op is AppendOp => op.kind === 'append' && op.outcome === 'ok');
        fc.pre(acked.length > 0);
        const victim = acked[pick % acked.length];
        const finalLists = new Map(input.finalLists);
        finalLists.set(
          victim.key,
          finalLists.get(victim.key)!.filter((element) => element !== victim.element),
        );
        const report = checkListAppend({ ...input, finalLists });
        expect(report.anomalies.lost.count, formatReport(report)).toBe(1);
        expect(report.valid).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('reports duplicated when a final list repeats an element', () => {
    assertProperty(
      fc.property(scenario, (s) => {
        const input = simulate(s);
        const [key, list] = [...input.finalLists].find(([, l]) => l.length > 0) ?? [];
        fc.pre(key !== undefined && list !== undefined);
        const finalLists = new Map(input.finalLists).set(key!, [...list!, list![0]]);
        const report = checkListAppend({ ...input, finalLists });
        expect(report.anomalies.duplicated.count, formatReport(report)).toBe(1);
      }),
      { numRuns: 100 },
    );
  });

  it('checks a 100k-op history in well under quadratic time', () => {
    // Seeded rather than fast-check: one big deterministic history, where shrinking would not help.
    const uniform = seededRandom(42);
    const random = (n: number) => Math.floor(uniform() * n);
    const faults: Fault[] = [
      'none',
      'none',
      'none',
      'none',
      'lostRequest',
      'lostResponse',
      'late',
      'failedRead',
    ];
    const scripts = Array.from({ length: 50 }, () =>
      Array.from({ length: 2_000 }, () => ({
        kind: random(2) === 0 ? ('append' as const) : ('read' as const),
        key: random(200),
        fault: faults[random(faults.length)],
        delay: random(50),
      })),
    );
    const schedule = Array.from({ length: 400_000 }, () => random(1_000));
    const input = simulate({ scripts, schedule });
    expect(input.ops.length).toBeGreaterThan(100_000);

    const started = performance.now();
    const report = checkListAppend(input);
    const elapsedMs = performance.now() - started;
    expect(report.valid, formatReport(report)).toBe(true);
    expect(report.totals.readsChecked).toBeGreaterThan(40_000);
    // About 1.5 s on an idle core; comparing every read with every other read would take minutes. Loose,
    // because the test machines are shared.
    expect(elapsedMs).toBeLessThan(30_000);

    const mutated = new Map(input.finalLists);
    const victim = input.ops.find((op): op is AppendOp => op.kind === 'append' && op.outcome === 'ok')!;
    mutated.set(victim.key, []);
    const broken = checkListAppend({ ...input, finalLists: mutated });
    expect(broken.anomalies.lost.count).toBeGreaterThan(0);
    expect(broken.anomalies.notPrefix.count).toBeGreaterThan(0);
  });
});
