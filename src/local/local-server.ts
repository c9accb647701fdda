import type { IncomingMessage, ServerResponse } from 'node:http';
import { CellHealth } from '../data-plane/cell-health.ts';
import type { RoutingClient } from '../data-plane/routing-client.ts';
import {
  DataPlaneError,
  InvalidRequestError,
  ItemTooLargeError,
  PartitionNotFoundError,
} from '../domain/data-plane/data-plane-errors.ts';
import { validatePartitionId } from '../domain/data-plane/item-rules.ts';
import { PrestageError } from '../domain/errors.ts';
import { DEFAULT_ROUTING_LEASE, type RoutingLeaseConfig } from '../domain/migration/routing-lease.ts';
import { seededRandom } from '../domain/seeded-random.ts';
import type { DataResponse } from '../interceptor/data-api.ts';
import { DEFAULT_TUNING, type MigrationDeps, type MigrationTuning } from '../migration/migration-deps.ts';
import { recoverMigration } from '../migration/recover-migration.ts';
import { EmbeddedCluster, type EmbeddedClusterOptions } from './embedded-cluster.ts';
import { FaultInjector, parseFaultSpec } from './fault-injector.ts';
import { localMigrationDeps } from './local-migration-deps.ts';
import { LocalMigrationRunner, type MigrationExecution } from './local-migration-runner.ts';
import { type NemesisSettings, parseNemesisSettings } from './nemesis/nemesis-settings.ts';
import { StepFreezer, type StepFreezerCounts } from './nemesis/step-freezer.ts';
import { StorageNemesis, type StorageNemesisCounts } from './nemesis/storage-nemesis.ts';
import { RegionalListener, type RegionalListenerOptions } from './regional-listener.ts';
import type { WanLatency } from './wan-latency.ts';

export interface LocalServerOptions {
  /**
   * The first region's listener port; region i (in `regions` order) listens on port + i. 0 gives every listener
   * a free port. @default 8080
   */
  readonly port?: number;
  /** Delay of calls from one region's listener to another region's cells. @default off */
  readonly wanLatency?: WanLatency;
  readonly regions: readonly string[];
  readonly cellsPerRegion: number;
  /** Enable `POST /v1/admin/faults` and the nemesis (`/v1/admin/nemesis`: storage faults, step freezes). */
  readonly faults?: boolean;
  /** Seed of the nemesis' random draws (with `faults`), so a hostile run can be replayed. @default 0x5eed */
  readonly nemesisSeed?: number;
  /** Routing-lease rules shared by the interceptor and the migrations. @default short local values */
  readonly lease?: RoutingLeaseConfig;
  readonly tuning?: Partial<MigrationTuning>;
  /**
   * Task timeout of the migration steps. With `faults` it is short, so an injected `timeout` fault (the step
   * outlives its timeout) costs seconds, not a minute, and a nemesis run's liveness bound can hold.
   * @default 60, or 5 with `faults`
   */
  readonly stepTimeoutSeconds?: number;
  /** Wait states of migrations run this long (ms) instead of their seconds. @default 200 */
  readonly waitOverrideMs?: number;
  readonly shardsPerPartition?: number;
  readonly log?: (line: string) => void;
  /**
   * Build the admin API's migration runner on its first use rather than at start: synthesizing MigratePartition's
   * state machine costs seconds of CPU, and `prestage up` runs its migrations on the control plane's thread.
   * @default false
   */
  readonly lazyMigrationRunner?: boolean;
  /** Each region's embedded DynamoDB on its own thread, off the listeners' event loop. @default false */
  readonly dynaliteThread?: boolean;
  /** Round trips between regions from a matrix (a topology's `latencyMs`), overriding `wanLatency`. */
  readonly wanRoundTripMs?: RegionalListenerOptions['wanRoundTripMs'];
  /** Named cells instead of `cellsPerRegion` numbered ones (see EmbeddedClusterOptions.cells). */
  readonly cells?: EmbeddedClusterOptions['cells'];
  /** The access recorders' clock and buckets (see RegionalListenerOptions.accessCounting). */
  readonly accessCounting?: RegionalListenerOptions['accessCounting'];
  /** Data responses say where the listener's time went (see RegionalListenerOptions.timingHeader). */
  readonly timingHeader?: boolean;
  /** See RegionalListenerOptions.serviceFloorMs. */
  readonly serviceFloorMs?: number;
  /** Reload the cells table this often, so cells added at run time are served (EmbeddedClusterOptions). */
  readonly cellRefreshMs?: number;
}

/** Local leases: short, so cutovers take a moment (no GSI lag on dynalite, one clock for every "host"). */
export const LOCAL_LEASE: RoutingLeaseConfig = {
  ...DEFAULT_ROUTING_LEASE,
  leaseTtlMs: 1_000,
  maxRequestMs: 1_000,
  maxClockSkewMs: 50,
  indexLagMs: 0,
};

/**
 * A step's send budget (a quarter of its task timeout) and inline waits (half): a step that works or waits past
 * its timeout is retried while it still runs, which is safe but slow.
 */
export function stepTimingWithin(timeoutSeconds: number): Partial<MigrationTuning> {
  if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds >= 1)) {
    throw new RangeError(`stepTimeoutSeconds must be at least 1, got ${timeoutSeconds}`);
  }
  return {
    stepBudgetMs: Math.min(DEFAULT_TUNING.stepBudgetMs, timeoutSeconds * 250),
    maxInlineWaitMs: Math.min(DEFAULT_TUNING.maxInlineWaitMs, timeoutSeconds * 500),
  };
}

const MAX_BODY_BYTES = 1024 * 1024;

export const DEFAULT_NEMESIS_SEED = 0x5eed;

/** What `/v1/admin/nemesis` reports: the storage nemesis' counts and the step freezer's freezes. */
export type NemesisCounts = StorageNemesisCounts &
  Pick<StepFreezerCounts, 'frozenInvocations' | 'requestsHeld'>;

/** The nemesis of a server started with `faults`: both or neither, so one check guards the endpoints. */
interface Chaos {
  readonly nemesis: StorageNemesis;
  readonly freezer: StepFreezer;
}

function createChaos(seed: number): Chaos {
  // All off until an admin request turns something on. The freezer draws from its own stream, so turning
  // freezes on or off does not shift which storage attempts fail for a given seed.
  const freezer = new StepFreezer({ random: seededRandom((seed ^ 0x9e3779b9) >>> 0), freezeRate: 0 });
  const nemesis = new StorageNemesis({ seed, freezer });
  return { nemesis, freezer };
}

function chaosCounts({ nemesis, freezer }: Chaos): NemesisCounts {
  return {
    ...nemesis.counts,
    frozenInvocations: freezer.counts.frozenInvocations,
    requestsHeld: freezer.counts.requestsHeld,
  };
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): DataResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

function errorResponse(statusCode: number, code: string, message: string): DataResponse {
  return json(statusCode, { error: { code, message } });
}

function faultsDisabled(): DataResponse {
  return errorResponse(
    404,
    'FAULTS_DISABLED',
    "fault injection is off; start the server with 'prestage serve --embedded --faults'",
  );
}

function describeExecution(execution: MigrationExecution) {
  const input = execution.input as { partition?: string; targetCell?: string };
  return {
    migrationId: execution.migrationId,
    status: execution.status,
    stage: execution.stage,
    stages: execution.stages,
    partition: input.partition,
    targetCell: input.targetCell,
    progress: execution.progress,
    startedAt: execution.startedAt,
    ...(execution.endedAt ? { endedAt: execution.endedAt } : {}),
    ...(execution.error ? { error: { code: execution.error.name, message: execution.error.cause } } : {}),
  };
}

/**
 * `prestage serve --embedded`: the data plane on one machine. One dynalite per region in process, the tables
 * and cells created at start, and on 127.0.0.1 the data API (same contract as the interceptor Lambda),
 * `GET /healthz`, the admin API, and with `faults` the fault-injection and nemesis endpoints.
 */
export class LocalServer {
  readonly cluster: EmbeddedCluster;
  /** One listener per region, in the order of `regions`. */
  readonly listeners: readonly RegionalListener[];
  private migrationRunner: LocalMigrationRunner | undefined;
  private readonly runnerOptions: ConstructorParameters<typeof LocalMigrationRunner>[0];
  readonly faults: FaultInjector | undefined;
  /** With `faults` only: nothing is attached to the clients or wrapped around the steps without it. */
  readonly nemesis: StorageNemesis | undefined;
  readonly freezer: StepFreezer | undefined;
  readonly health: CellHealth;
  private readonly flushTimer: NodeJS.Timeout;
  private readonly log: (line: string) => void;
  private readonly chaos: Chaos | undefined;
  /** The runner's step dependencies, shared by `POST /v1/admin/migrations/recover`. */
  private readonly migrationDeps: MigrationDeps;
  /** The counts at the last `DELETE /v1/admin/nemesis`: the endpoint reports counts since then. */
  private chaosBaseline: NemesisCounts | undefined;
  /** The first region's listener (the home region's). */
  url = '';

  private constructor(cluster: EmbeddedCluster, options: LocalServerOptions, chaos: Chaos | undefined) {
    this.cluster = cluster;
    this.chaos = chaos;
    this.nemesis = chaos?.nemesis;
    this.freezer = chaos?.freezer;
    this.chaosBaseline = chaos && chaosCounts(chaos);
    this.log = options.log ?? (() => undefined);
    const lease = options.lease ?? LOCAL_LEASE;
    this.health = new CellHealth();
    this.listeners = cluster.regionNames().map(
      (region) =>
        new RegionalListener({
          region,
          cluster,
          lease,
          health: this.health,
          wanLatency: options.wanLatency ?? { kind: 'off' },
          shardsPerPartition: options.shardsPerPartition ?? 8,
          log: this.log,
          ...(options.accessCounting ? { accessCounting: options.accessCounting } : {}),
          ...(options.timingHeader ? { timingHeader: true } : {}),
          ...(options.serviceFloorMs ? { serviceFloorMs: options.serviceFloorMs } : {}),
          ...(options.wanRoundTripMs ? { wanRoundTripMs: options.wanRoundTripMs } : {}),
        }),
    );
    this.faults = options.faults ? new FaultInjector() : undefined;
    const stepTimeoutSeconds = options.stepTimeoutSeconds ?? (options.faults ? 5 : 60);
    this.migrationDeps = localMigrationDeps(cluster, {
      lease,
      health: this.health,
      tuning: { ...stepTimingWithin(stepTimeoutSeconds), ...options.tuning },
    });
    this.runnerOptions = {
      deps: this.migrationDeps,
      faults: this.faults,
      ...(chaos ? { runInvocation: (task, invoke) => chaos.freezer.run(task, invoke) } : {}),
      waitOverrideMs: options.waitOverrideMs ?? 200,
      retryIntervalMs: 100,
      taskTimeoutSeconds: stepTimeoutSeconds,
    };
    if (!options.lazyMigrationRunner) this.migrationRunner = new LocalMigrationRunner(this.runnerOptions);
    // Off the request path: requests only count in memory; this timer writes the counts.
    this.flushTimer = setInterval(() => {
      for (const listener of this.listeners) {
        listener.recorder
          .flush()
          .catch((error) => this.log(`access stats flush failed: ${(error as Error).message}`));
      }
    }, 5_000);
    this.flushTimer.unref();
  }

  /** The migrations started through the admin API (built at start, or on first use: `lazyMigrationRunner`). */
  get runner(): LocalMigrationRunner {
    this.migrationRunner ??= new LocalMigrationRunner(this.runnerOptions);
    return this.migrationRunner;
  }

  static async start(options: LocalServerOptions): Promise<LocalServer> {
    const chaos = options.faults ? createChaos(options.nemesisSeed ?? DEFAULT_NEMESIS_SEED) : undefined;
    const cluster = await EmbeddedCluster.start({
      regions: options.regions,
      cellsPerRegion: options.cellsPerRegion,
      ...(options.cells ? { cells: options.cells } : {}),
      ...(options.dynaliteThread ? { dynaliteThread: true } : {}),
      ...(options.cellRefreshMs !== undefined ? { cellRefreshMs: options.cellRefreshMs } : {}),
      ...(chaos
        ? {
            nemesis: chaos.nemesis,
            // The usual few tens of milliseconds, plus what the nemesis adds (`replicationLagMs`).
            replicationLagMs: () => 5 + Math.random() * 45 + chaos.nemesis.replicationDelayMs(),
          }
        : {}),
    });
    let server: LocalServer;
    try {
      server = new LocalServer(cluster, options, chaos);
    } catch (error) {
      await cluster.close();
      throw error;
    }
    try {
      const first = options.port ?? 8080;
      for (const [i, listener] of server.listeners.entries()) {
        await listener.listen(first === 0 ? 0 : first + i, (l, req, res) => server.serve(l, req, res));
      }
    } catch (error) {
      // Nothing half-started stays behind: listeners already open and the cluster are closed.
      await server.close();
      throw error;
    }
    server.url = server.listeners[0].url;
    return server;
  }

  /** The home region's routing client (diagnostics and tests). */
  get client(): RoutingClient {
    return this.listeners[0].client;
  }

  /** Each region's listener URL. */
  get urls(): ReadonlyMap<string, string> {
    return new Map(this.listeners.map((l) => [l.region, l.url]));
  }

  async close(): Promise<void> {
    // Step work frozen by the nemesis waits for a thaw that would never come: release it before anything closes.
    if (this.chaos) this.calmChaos(this.chaos);
    clearInterval(this.flushTimer);
    for (const listener of this.listeners) await listener.close();
    await this.cluster.close();
  }

  private async serve(listener: RegionalListener, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let response: DataResponse;
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      if (path.startsWith('/v1/partitions/')) {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === 'string') headers[name] = value;
        }
        response = await listener.handleData({
          method: req.method ?? 'GET',
          rawPath: (req.url ?? '/').split('?')[0],
          headers,
          body: body.length > 0 ? body.toString('utf8') : undefined,
          clientId: headers['x-prestage-client'] ?? req.socket.remoteAddress,
        });
      } else {
        response = await this.admin(listener, req.method ?? 'GET', path, body);
      }
    } catch (error) {
      if (error instanceof DataPlaneError) {
        const status =
          error instanceof PartitionNotFoundError ? 404 : error instanceof ItemTooLargeError ? 413 : 400;
        response = errorResponse(status, error.code, error.message);
      } else {
        this.log(`error: ${(error as Error).stack ?? error}`);
        response = errorResponse(500, 'INTERNAL', 'internal error');
      }
    }
    res.writeHead(response.statusCode, response.headers);
    res.end(response.body);
  }

  private async admin(
    listener: RegionalListener,
    method: string,
    path: string,
    body: Buffer,
  ): Promise<DataResponse> {
    if (path === '/healthz' && method === 'GET') {
      return json(200, {
        status: 'ok',
        region: listener.region,
        listeners: Object.fromEntries(this.urls),
        regions: this.cluster.regionNames(),
        cells: this.cluster.cellIds().length,
      });
    }
    if (path === '/v1/admin/cells' && method === 'GET') {
      return json(200, { cells: await this.cluster.cells.list() });
    }
    const partitionMatch = /^\/v1\/admin\/partitions\/([^/]+)$/.exec(path);
    if (partitionMatch && method === 'GET') {
      const partition = decodeURIComponent(partitionMatch[1]);
      const record = await this.cluster.partitions.get(partition);
      if (!record) throw new PartitionNotFoundError(partition);
      return json(200, {
        partition: record.partition,
        cell: record.cell,
        status: record.status,
        version: record.version,
        routing: record.routing,
        shards: record.shards,
        replicas: record.replicas,
        ...(record.fence ? { fence: { owner: record.fence.owner, stage: record.fence.stage } } : {}),
        ...(record.lastMigration ? { lastMigration: record.lastMigration } : {}),
      });
    }
    if (path === '/v1/admin/migrations' && method === 'POST') {
      const input = parseJson(body);
      const partition = (input as { partition?: unknown }).partition;
      const targetCell = (input as { targetCell?: unknown }).targetCell;
      // Refused before a workflow starts: a request that cannot run gets its reason at once, not as a failed
      // execution.
      const current =
        typeof partition === 'string' ? await this.cluster.partitions.get(partition) : undefined;
      if (typeof partition === 'string' && !current) throw new PartitionNotFoundError(partition);
      if (typeof targetCell === 'string' && !(await this.cluster.cells.get(targetCell))) {
        throw new InvalidRequestError(
          'UNKNOWN_CELL',
          `unknown cell '${targetCell}'; see GET /v1/admin/cells`,
        );
      }
      if (current && current.cell === targetCell) {
        throw new InvalidRequestError(
          'ALREADY_IN_TARGET',
          `partition '${partition}' is already in cell '${targetCell}'; choose another target cell`,
        );
      }
      const execution = this.runner.start(input);
      this.log(`migration ${execution.migrationId}: ${partition} → ${targetCell}`);
      void this.runner.wait(execution.migrationId).then((done) => {
        this.log(
          `migration ${done.migrationId}: ${done.status}${done.error ? ` (${done.error.cause})` : ''}`,
        );
      });
      return json(202, { migrationId: execution.migrationId });
    }
    if (path === '/v1/admin/migrations' && method === 'GET') {
      return json(200, { migrations: this.runner.list().map(describeExecution) });
    }
    if (path === '/v1/admin/migrations/recover' && method === 'POST') {
      return this.recover(parseJson(body));
    }
    const migrationMatch = /^\/v1\/admin\/migrations\/([^/]+)$/.exec(path);
    if (migrationMatch && method === 'GET') {
      const execution = this.runner.get(decodeURIComponent(migrationMatch[1]));
      if (!execution) return errorResponse(404, 'MIGRATION_NOT_FOUND', `no migration '${migrationMatch[1]}'`);
      return json(200, describeExecution(execution));
    }
    if (path === '/v1/admin/faults' && method === 'POST') {
      if (!this.faults) return faultsDisabled();
      const spec = parseFaultSpec(parseJson(body));
      this.faults.arm(spec);
      return json(201, { armed: spec, pending: this.faults.pending() });
    }
    if (path === '/v1/admin/nemesis' && (method === 'GET' || method === 'POST' || method === 'DELETE')) {
      if (!this.chaos) return faultsDisabled();
      if (method === 'POST') {
        // Validated before anything changes: a bad request leaves the running settings as they were.
        const settings = parseNemesisSettings(parseJson(body));
        this.chaos.nemesis.configure(settings);
        this.chaos.freezer.freezeRate = settings.freezeRate;
        this.log(`nemesis: ${JSON.stringify(settings)}`);
      } else if (method === 'DELETE') {
        this.calmChaos(this.chaos);
        this.chaosBaseline = chaosCounts(this.chaos);
        this.log('nemesis: off');
      }
      return json(200, this.describeChaos(this.chaos));
    }
    return errorResponse(404, 'NOT_FOUND', `no route ${method} ${path}`);
  }

  /**
   * Release the fence a stuck migration left (its execution failed or vanished): the rollback use case, run
   * until done, as the migration's owner. Safe while the execution still runs (see recoverMigration).
   */
  private async recover(input: unknown): Promise<DataResponse> {
    const partition = (input as { partition?: unknown } | null)?.partition;
    if (typeof partition !== 'string' || partition === '') {
      throw new InvalidRequestError('INVALID_PARTITION', 'expected a body {"partition": "<id>"}');
    }
    validatePartitionId(partition);
    this.log(`recover: ${partition}`);
    try {
      const result = await recoverMigration(this.migrationDeps, partition);
      this.log(`recover: ${partition}: ${JSON.stringify(result)}`);
      return json(200, result);
    } catch (error) {
      if (error instanceof PartitionNotFoundError || !(error instanceof PrestageError)) throw error;
      // Nothing is left half done: every rollback transition is idempotent, so the request can simply be sent
      // again (once storage answers).
      return errorResponse(500, 'RECOVERY_FAILED', `${error.name}: ${error.message}`);
    }
  }

  /** Every fault off, and no work left frozen (else it would resume only at its step's next invocation). */
  private calmChaos({ nemesis, freezer }: Chaos): void {
    nemesis.off();
    freezer.freezeRate = 0;
    freezer.thawAll();
  }

  private describeChaos(chaos: Chaos): { settings: NemesisSettings; counts: NemesisCounts } {
    const now = chaosCounts(chaos);
    const baseline = this.chaosBaseline ?? now;
    const counts = Object.fromEntries(
      (Object.keys(now) as (keyof NemesisCounts)[]).map((key) => [key, now[key] - baseline[key]]),
    ) as unknown as NemesisCounts;
    return { settings: { ...chaos.nemesis.settings, freezeRate: chaos.freezer.freezeRate }, counts };
  }
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || 'null') ?? {};
  } catch {
    throw new InvalidRequestError('INVALID_JSON', 'the body is not valid JSON');
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ItemTooLargeError('the request body is over 1 MB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
