import { InputValidationError } from '../../domain/errors.ts';
import type { LocalServer } from '../../local/local-server.ts';
import { parseWanLatency, REAL_WAN_LATENCY } from '../../local/wan-latency.ts';
import { type CliCommand, type CliIo, parseOptions, parsePositiveInt } from '../command.ts';

const DEFAULT_REGIONS = 'us-east-1,eu-west-1,ap-northeast-1';
/** Same as the server's default; repeated so that `--help` does not load the server (dynalite, aws-cdk-lib). */
const DEFAULT_NEMESIS_SEED = 0x5eed;
const MAX_SEED = 2 ** 32 - 1;

const HELP = `Usage: prestage serve --embedded [--port 8080] [--regions ${DEFAULT_REGIONS}] [--cells-per-region 2]
       [--wan-latency off|real|<factor>] [--faults [--nemesis-seed N]]

Runs the data plane on this machine, laid out as the deployment: one embedded DynamoDB (dynalite) per region,
the routing tables written in the first (home) region and replicated to the others with a lag, an access-stats
table per region, one data table per cell, and one listener per region on 127.0.0.1 (the first region on
--port, the next on --port + 1, and so on). A request's region is the listener it arrives on: new partitions
are placed there, and calls to another region's cells wait the inter-region round trip. Each listener serves:
  PUT|GET|DELETE /v1/partitions/{partition}/items/{key}   the data API (If-Match)
  GET  /healthz                                           {"status":"ok","region":...}
  POST /v1/admin/migrations {"partition","targetCell"}    runs the MigratePartition workflow locally
  GET  /v1/admin/migrations/{id}, /v1/admin/partitions/{partition}, /v1/admin/cells
  POST /v1/admin/faults {"step","mode","times"}           with --faults only
  POST /v1/admin/nemesis {settings}                       with --faults only: AWS-like storage faults and
                                                          frozen step work. Settings (omitted ones are off):
                                                          throttleRate, lostResponseRate, latencySpikeRate,
                                                          freezeRate (0-1), indexLagMs, latencySpikeMs,
                                                          replicationLagMs (ms)
  GET|DELETE /v1/admin/nemesis                            settings and counts; DELETE turns everything off

Options:
  --embedded            run everything in this process (required; AWS deployments use 'cdk deploy')
  --port <n>            port of the first region's listener (default 8080; region i listens on port + i;
                        0 picks free ports)
  --wan-latency <v>     delay of cross-region cell calls: real (estimated RTTs between the regions, the
                        default), off, or a scale factor such as 0.5
  --regions <list>      comma-separated AWS region names (default ${DEFAULT_REGIONS})
  --cells-per-region <n>  cells (data tables) per region (default 2)
  --faults              enable fault injection into migration steps and the nemesis endpoints
  --nemesis-seed <n>    seed of the nemesis' random draws, to replay a run (with --faults; default ${DEFAULT_NEMESIS_SEED})

Example:
  prestage serve --embedded --port 8080 --regions us-east-1,eu-west-1 --faults
`;

/** Start the server and keep it up until `stop` resolves. Exported for tests. */
export async function runServe(argv: readonly string[], io: CliIo, stop: Promise<unknown>): Promise<number> {
  const { values } = parseOptions(
    argv,
    {
      embedded: { type: 'boolean' },
      port: { type: 'string' },
      regions: { type: 'string' },
      'cells-per-region': { type: 'string' },
      faults: { type: 'boolean' },
      'nemesis-seed': { type: 'string' },
      'wan-latency': { type: 'string' },
    },
    'serve',
  );
  if (!values.embedded) {
    throw new InputValidationError(
      { field: '--embedded' },
      "is required: 'prestage serve' runs the embedded data plane only (deploy to AWS with 'npx cdk deploy')",
    );
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InputValidationError(
      { field: '--port' },
      `expected a port number 0-65535, found '${values.port}'`,
    );
  }
  const regions = (values.regions ?? DEFAULT_REGIONS)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const cellsPerRegion = parsePositiveInt(values['cells-per-region'] ?? '2', 'cells-per-region');
  const nemesisSeed = parseSeed(values['nemesis-seed'], values.faults ?? false);
  const wanLatency =
    values['wan-latency'] === undefined ? REAL_WAN_LATENCY : parseWanLatency(values['wan-latency']);
  if (!wanLatency) {
    throw new InputValidationError(
      { field: '--wan-latency' },
      `expected off, real or a scale factor from 0 to 10, found '${values['wan-latency']}'`,
    );
  }
  if (port !== 0 && port + regions.length - 1 > 65_535) {
    throw new InputValidationError(
      { field: '--port' },
      `${regions.length} regions need ports ${port} to ${port + regions.length - 1}; choose a lower --port`,
    );
  }
  // Loaded on demand: the server pulls in dynalite and aws-cdk-lib (to synthesize the workflow).
  const { LocalServer: Server } = await import('../../local/local-server.ts');
  let server: LocalServer;
  try {
    server = await Server.start({
      port,
      regions,
      cellsPerRegion,
      faults: values.faults ?? false,
      nemesisSeed,
      wanLatency,
      log: (line) => io.stderr.write(`${line}\n`),
    });
  } catch (error) {
    // The server has closed whatever it had started (listeners, the embedded tables) before throwing.
    if ((error as Error).name === 'PortInUseError') {
      throw new InputValidationError({ field: '--port' }, (error as Error).message);
    }
    throw error;
  }
  const cells = await server.cluster.cells.list();
  io.stdout.write(
    [
      'prestage data plane listening, one listener per region:',
      ...server.listeners.map((l) => `  ${l.region.padEnd(16)} ${l.url}`),
      `  home region: ${server.cluster.homeRegion} (routing is written there and replicated to the others)`,
      `  cross-region calls: ${wanLatency.kind === 'off' ? 'no added delay' : `estimated RTT × ${wanLatency.factor}`}`,
      `  cells:   ${cells.map((c) => c.id).join(', ')}`,
      `  faults:  ${values.faults ? `enabled (POST /v1/admin/faults; /v1/admin/nemesis, seed ${nemesisSeed})` : 'disabled'}`,
      '',
    ].join('\n'),
  );
  await stop;
  await server.close();
  return 0;
}

/** The nemesis seed: an integer the PRNG takes as is (32 bits), and only where a nemesis exists. */
function parseSeed(value: string | undefined, faults: boolean): number {
  if (value === undefined) return DEFAULT_NEMESIS_SEED;
  const seed = Number(value);
  if (value.trim() === '' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new InputValidationError(
      { field: '--nemesis-seed' },
      `expected an integer from 0 to ${MAX_SEED}, found '${value}'`,
    );
  }
  if (!faults) {
    throw new InputValidationError(
      { field: '--nemesis-seed' },
      'needs --faults (the nemesis runs only with it)',
    );
  }
  return seed;
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string) => resolve(signal);
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Run the data plane locally: embedded DynamoDB per region, data API and admin API',
  help: HELP,
  run: (argv, io) => runServe(argv, io, untilSignal()),
};
