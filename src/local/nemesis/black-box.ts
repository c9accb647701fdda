import { randomUUID } from 'node:crypto';
import { InputValidationError, PrestageError } from '../../domain/errors.ts';
import { MIGRATION_STAGES } from '../../domain/migration/migration-stage.ts';
import { seededRandom } from '../../domain/seeded-random.ts';
import {
  type AppendOp,
  type AppendOutcome,
  checkListAppend,
  type HistoryOp,
  type ListAppendReport,
  type MigrationOp,
  type ReadOp,
} from '../../verification/list-append-checker.ts';
import { FAULT_MODES } from '../fault-injector.ts';
import type { NemesisCounts } from '../local-server.ts';
import type { NemesisProgress } from './nemesis-options.ts';
import type { NemesisSettings } from './nemesis-settings.ts';
import { type MigrationSummary, migrationSummary, reportProgress, sleep } from './run-support.ts';

export interface BlackBoxOptions {
  /** Base URL of a running `prestage serve --embedded` (with `--faults` for the nemesis and step faults). */
  readonly server: string;
  /** How long clients append and read while migrations run. */
  readonly durationMs: number;
  readonly seed: number;
  readonly writers?: number;
  readonly readers?: number;
  readonly partitions?: number;
  readonly keysPerPartition?: number;
  /** Migrations in flight at once; new ones start as others end, until the duration is over. */
  readonly migrationConcurrency?: number;
  /**
   * Sent with `POST /v1/admin/nemesis` once the keys are seeded (omitted settings are off), and turned off with
   * `DELETE` at the end. Undefined: the nemesis endpoints are not used (the server needs no `--faults`).
   */
  readonly nemesis?: Partial<NemesisSettings>;
  /** Probability that one step fault (random stage and mode, `times: 1`) is armed before a migration starts. */
  readonly stepFaultRate?: number;
  /** Every migration ends within this after the workload stopped, or it counts as never ending. @default 60000 */
  readonly livenessBoundMs?: number;
  /** A data request without an answer by then is abandoned: an append in doubt, a failed read. @default 10000 */
  readonly requestTimeoutMs?: number;
  /** Prefix of the partitions this run creates, so runs against one server never share keys. @default unique */
  readonly runId?: string;
  readonly onProgress?: (progress: NemesisProgress) => void;
}

export interface BlackBoxReport {
  readonly checker: ListAppendReport;
  readonly migrations: MigrationSummary;
  /** The server's nemesis counts over this run; null when `nemesis` was not given. */
  readonly nemesisCounts: NemesisCounts | null;
  /** Step faults armed through `POST /v1/admin/faults`. */
  readonly stepFaultsArmed: number;
  /** Partitions found fenced (or MIGRATING) once every migration had ended or been given up on. */
  readonly partitionsLeftFenced: readonly string[];
  readonly elapsedMs: number;
}

/** The server answered the harness itself (admin calls, seeding, the final reads) in a way the run cannot use. */
export class BlackBoxRunError extends PrestageError {}

interface Answer {
  readonly status: number;
  /** `error.code` of an error body. */
  readonly code: string | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: the server's JSON bodies, read field by field
  readonly body: Record<string, any>;
}

/**
 * What a write's answer proves, per docs/data-plane.md ("What each operation promises"): 200 applied; 409,
 * 404 and `503 PARTITION_MOVING` certainly not applied; anything else, and no answer at all, may or may not
 * have applied.
 */
export function writeOutcome(answer: Answer | null): AppendOutcome {
  if (answer === null) return 'unknown';
  if (answer.status === 200) return 'ok';
  if (answer.status === 409 || answer.status === 404) return 'conflict';
  if (answer.status === 503 && answer.code === 'PARTITION_MOVING') return 'conflict';
  return 'unknown';
}

/** One HTTP exchange; null when there was no complete answer (network error, reset, timeout). */
async function send(url: string, init: RequestInit, timeoutMs: number): Promise<Answer | null> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // A body that is not JSON still has a status; the status is what the outcome depends on.
    }
    const error = body.error as { code?: unknown } | undefined;
    return {
      status: response.status,
      code: typeof error?.code === 'string' ? error.code : undefined,
      body,
    };
  } catch {
    return null;
  }
}

function describe(answer: Answer | null): string {
  if (answer === null) return 'no answer';
  const error = answer.body.error as { code?: string; message?: string } | undefined;
  return error ? `HTTP ${answer.status} ${error.code}: ${error.message}` : `HTTP ${answer.status}`;
}

/**
 * The list-append check of `runNemesis`, black-box: the same workload and checker, but every operation goes
 * through a running server's HTTP API (data API and admin API) and nothing is read from its internals, so it
 * checks what a real client of `prestage serve --embedded --faults` gets, HTTP layer and status mapping included.
 */
export async function runBlackBoxNemesis(options: BlackBoxOptions): Promise<BlackBoxReport> {
  const server = options.server.replace(/\/+$/, '');
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const adminTimeoutMs = 30_000;
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const admin = (method: string, path: string, body?: unknown) =>
    send(
      `${server}${path}`,
      {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      adminTimeoutMs,
    );
  const itemUrl = (partition: string, key: string, base = server) =>
    `${base}/v1/partitions/${encodeURIComponent(partition)}/items/${encodeURIComponent(key)}`;

  // Preflight: a clear error for the wrong URL or a server without what the options ask for.
  const health = await admin('GET', '/healthz');
  if (health?.status !== 200) {
    throw new InputValidationError(
      { field: '--server' },
      `cannot reach the prestage server at ${server} (${describe(health)}); start it with ` +
        "'prestage serve --embedded --faults'",
    );
  }
  // Clients spread over every region's listener (a request's region is the listener it arrives on), each
  // reading routing from its own region's replica; a server that names none is one listener.
  const listeners = Object.values((health.body.listeners ?? {}) as Record<string, string>);
  if (listeners.length === 0) listeners.push(server);
  const listenerOf = (name: string) => listeners[Number(name.slice(1)) % listeners.length];
  const cellsAnswer = await admin('GET', '/v1/admin/cells');
  const cells = ((cellsAnswer?.body.cells ?? []) as { id: string; status: string }[])
    .filter((cell) => cell.status === 'ACTIVE')
    .map((cell) => cell.id);
  if (cells.length < 2) {
    throw new InputValidationError(
      { field: '--server' },
      `migrations need at least two active cells, the server has ${cells.length}; start it with more ` +
        '(--regions, --cells-per-region)',
    );
  }
  const useNemesis = options.nemesis !== undefined;
  const useFaults = useNemesis || (options.stepFaultRate ?? 0) > 0;
  if (useFaults) {
    // DELETE first: it thaws anything an earlier run left frozen and restarts the counts, so they are this run's.
    const reset = await admin('DELETE', '/v1/admin/nemesis');
    if (reset?.status !== 200) {
      throw new InputValidationError(
        { field: '--server' },
        `the server has no nemesis (${describe(reset)}); start it with 'prestage serve --embedded --faults'`,
      );
    }
  }

  // Not from `random`: the same seed must draw the same operations whatever the run is called.
  const runId = options.runId ?? `bb-${randomUUID().slice(0, 8)}`;
  const partitions = Array.from({ length: options.partitions ?? 6 }, (_, i) => `${runId}-p${i}`);
  const keys = partitions.flatMap((partition) =>
    Array.from({ length: options.keysPerPartition ?? 3 }, (_, k) => ({ partition, key: `k${k}` })),
  );
  const history: HistoryOp[] = [];
  const started = performance.now();

  // Seed every key before the faults start, so every partition exists before a migration picks it.
  for (const { partition, key } of keys) {
    const element = `seed-${partition}-${key}`;
    const startMs = performance.now();
    const answer = await send(
      itemUrl(partition, key),
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'if-match': '0', 'x-prestage-client': 'seed' },
        body: JSON.stringify([element]),
      },
      timeoutMs,
    );
    if (answer?.status !== 200) {
      throw new BlackBoxRunError(`seeding ${partition}/${key} failed: ${describe(answer)}`);
    }
    history.push({
      kind: 'append',
      key: `${partition}/${key}`,
      element,
      outcome: 'ok',
      startMs,
      endMs: performance.now(),
      client: 'seed',
    });
  }
  if (useNemesis) {
    const configured = await admin('POST', '/v1/admin/nemesis', options.nemesis);
    if (configured?.status !== 200) {
      throw new BlackBoxRunError(`the server refused the nemesis settings: ${describe(configured)}`);
    }
  }

  let stopping = false;
  let acked = 0;
  let elementSeq = 0;

  const appendLoop = async (name: string) => {
    while (!stopping) {
      const { partition, key } = pick(keys);
      const element = `${name}-${elementSeq++}`;
      const startMs = performance.now();
      const read = await send(
        itemUrl(partition, key, listenerOf(name)),
        { method: 'GET', headers: { 'x-prestage-client': name } },
        timeoutMs,
      );
      let list: string[];
      let version: number;
      if (read?.status === 200) {
        list = read.body.value as string[];
        version = read.body.version as number;
      } else if (read?.status === 404) {
        list = [];
        version = 0;
      } else {
        // Nothing to append to: no operation happened, so none is recorded.
        await sleep(5);
        continue;
      }
      const answer = await send(
        itemUrl(partition, key, listenerOf(name)),
        {
          method: 'PUT',
          headers: {
            'content-type': 'application/json',
            'if-match': String(version),
            'x-prestage-client': name,
          },
          body: JSON.stringify([...list, element]),
        },
        timeoutMs,
      );
      const outcome = writeOutcome(answer);
      if (outcome === 'ok') acked += 1;
      history.push({
        kind: 'append',
        key: `${partition}/${key}`,
        element,
        outcome,
        startMs,
        endMs: performance.now(),
        client: name,
      } satisfies AppendOp);
      if (outcome !== 'ok') await sleep(2);
    }
  };

  const readLoop = async (name: string) => {
    while (!stopping) {
      const { partition, key } = pick(keys);
      const startMs = performance.now();
      const read = await send(
        itemUrl(partition, key, listenerOf(name)),
        { method: 'GET', headers: { 'x-prestage-client': name } },
        timeoutMs,
      );
      const list = read?.status === 200 ? (read.body.value as string[]) : read?.status === 404 ? [] : null;
      history.push({
        kind: 'read',
        key: `${partition}/${key}`,
        list,
        startMs,
        endMs: performance.now(),
        client: name,
      } satisfies ReadOp);
      await sleep(1);
    }
  };

  const migrationOps: { -readonly [K in keyof MigrationOp]: MigrationOp[K] }[] = [];
  let migrationsEnded = 0;
  let stepFaultsArmed = 0;
  // Set when the liveness bound is over: pollers stop and what is still running stays un-ended.
  let abandoned = false;
  const moving = new Set<string>();

  const migrationLoop = async () => {
    while (!stopping) {
      const free = partitions.filter((p) => !moving.has(p));
      if (free.length === 0) {
        await sleep(10);
        continue;
      }
      const partition = pick(free);
      moving.add(partition);
      try {
        const record = await admin('GET', `/v1/admin/partitions/${encodeURIComponent(partition)}`);
        if (record?.status !== 200 || record.body.fence) {
          await sleep(20);
          continue;
        }
        const target = pick(cells.filter((cell) => cell !== record.body.cell));
        if (random() < (options.stepFaultRate ?? 0)) {
          // The server has one fault injector for every migration: a fault armed here fires at the next
          // invocation of its stage, whichever migration that is. Each arm is one fault (`times: 1`), so it
          // fails one step of one migration, as runNemesis' per-migration injector does.
          const armed = await admin('POST', '/v1/admin/faults', {
            step: pick(MIGRATION_STAGES),
            mode: pick(FAULT_MODES),
            times: 1,
          });
          if (armed?.status === 201) stepFaultsArmed += 1;
        }
        const startMs = performance.now();
        const answer = await admin('POST', '/v1/admin/migrations', {
          partition,
          targetCell: target,
          canarySteps: pick([[], [0.5, 1], [1]]),
          waitSeconds: 0,
          retainSource: random() < 0.5,
        });
        if (answer?.status !== 202) {
          // Refused (busy partition, a cell that just changed, ...): nothing started, nothing to check.
          await sleep(50);
          continue;
        }
        const op: (typeof migrationOps)[number] = {
          kind: 'migration',
          id: answer.body.migrationId as string,
          partition,
          startMs,
          endMs: null,
          outcome: 'RUNNING',
        };
        migrationOps.push(op);
        while (!abandoned) {
          const status = await admin('GET', `/v1/admin/migrations/${encodeURIComponent(op.id)}`);
          if (status?.status === 200 && status.body.status !== 'RUNNING') {
            op.endMs = performance.now();
            op.outcome = status.body.status as string;
            migrationsEnded += 1;
            break;
          }
          await sleep(100);
        }
      } finally {
        moving.delete(partition);
      }
    }
  };

  const stopProgress = reportProgress(options.onProgress, () => ({
    elapsedMs: performance.now() - started,
    migrationsStarted: migrationOps.length,
    migrationsEnded,
    appendsAcked: acked,
  }));
  let nemesisCounts: NemesisCounts | null = null;
  try {
    const workers = [
      ...Array.from({ length: options.writers ?? 4 }, (_, i) => appendLoop(`w${i}`)),
      ...Array.from({ length: options.readers ?? 3 }, (_, i) => readLoop(`r${i}`)),
    ];
    const movers = Promise.all(
      Array.from({ length: options.migrationConcurrency ?? 2 }, () => migrationLoop()),
    );
    await sleep(options.durationMs);
    stopping = true;
    await Promise.all(workers);
    // Liveness: every migration in flight ends within the bound, with the faults still on.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      movers,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.livenessBoundMs ?? 60_000);
      }),
    ]);
    clearTimeout(timer);
    abandoned = true;
    await movers;
  } finally {
    stopProgress();
    stopping = true;
    abandoned = true;
    if (useFaults) {
      // Counts before the DELETE, which resets them; the DELETE also releases frozen step work.
      const counts = await admin('GET', '/v1/admin/nemesis');
      if (useNemesis && counts?.status === 200) nemesisCounts = counts.body.counts as NemesisCounts;
      await admin('DELETE', '/v1/admin/nemesis');
    }
  }

  const partitionsLeftFenced: string[] = [];
  for (const partition of partitions) {
    const record = await admin('GET', `/v1/admin/partitions/${encodeURIComponent(partition)}`);
    if (record?.status !== 200) {
      throw new BlackBoxRunError(`cannot read the record of partition ${partition}: ${describe(record)}`);
    }
    if (record.body.fence || record.body.status === 'MIGRATING') partitionsLeftFenced.push(partition);
  }
  const finalLists = new Map<string, string[]>();
  for (const { partition, key } of keys)
    finalLists.set(`${partition}/${key}`, await finalRead(partition, key));

  async function finalRead(partition: string, key: string): Promise<string[]> {
    // The faults are off, but a partition left fenced or a cell marked unhealthy may answer 503 for a while.
    const deadline = performance.now() + 15_000;
    for (;;) {
      const read = await send(itemUrl(partition, key), { method: 'GET' }, timeoutMs);
      if (read?.status === 200) return read.body.value as string[];
      if (read?.status === 404) return [];
      if (performance.now() > deadline) {
        throw new BlackBoxRunError(`the final read of ${partition}/${key} failed: ${describe(read)}`);
      }
      await sleep(200);
    }
  }

  const checker = checkListAppend({
    ops: [...history, ...migrationOps],
    finalLists,
    fencedPartitionsAtEnd: partitionsLeftFenced,
  });
  return {
    checker,
    migrations: migrationSummary(migrationOps),
    nemesisCounts,
    stepFaultsArmed,
    partitionsLeftFenced,
    elapsedMs: performance.now() - started,
  };
}
