import { InputValidationError } from '../../domain/errors.ts';
import type { LocalServer } from '../../local/local-server.ts';
import { type CliCommand, type CliIo, parseOptions, parsePositiveInt } from '../command.ts';

const DEFAULT_REGIONS = 'us-east-1,eu-west-1,ap-northeast-1';

const HELP = `Usage: prestage serve --embedded [--port 8080] [--regions ${DEFAULT_REGIONS}] [--cells-per-region 2] [--faults]

Runs the data plane on this machine: one embedded DynamoDB (dynalite) per region, the partitions, cells and
access-stats tables, one data table per cell, and on 127.0.0.1:
  PUT|GET|DELETE /v1/partitions/{partition}/items/{key}   the data API (header x-prestage-region, If-Match)
  GET  /healthz
  POST /v1/admin/migrations {"partition","targetCell"}    runs the MigratePartition workflow locally
  GET  /v1/admin/migrations/{id}, /v1/admin/partitions/{partition}, /v1/admin/cells
  POST /v1/admin/faults {"step","mode","times"}           with --faults only

Options:
  --embedded            run everything in this process (required; AWS deployments use 'cdk deploy')
  --port <n>            port to listen on (default 8080; 0 picks a free one)
  --regions <list>      comma-separated AWS region names (default ${DEFAULT_REGIONS})
  --cells-per-region <n>  cells (data tables) per region (default 2)
  --faults              enable fault injection into migration steps

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
  // Loaded on demand: the server pulls in dynalite and aws-cdk-lib (to synthesize the workflow).
  const { LocalServer: Server } = await import('../../local/local-server.ts');
  let server: LocalServer;
  try {
    server = await Server.start({
      port,
      regions,
      cellsPerRegion,
      faults: values.faults ?? false,
      log: (line) => io.stderr.write(`${line}\n`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new InputValidationError(
        { field: '--port' },
        `port ${port} is already in use; pass another --port`,
      );
    }
    throw error;
  }
  const cells = await server.cluster.cells.list();
  io.stdout.write(
    [
      `prestage data plane listening on ${server.url}`,
      `  regions: ${regions.join(', ')} (home: ${server.cluster.homeRegion})`,
      `  cells:   ${cells.map((c) => c.id).join(', ')}`,
      `  faults:  ${values.faults ? 'enabled (POST /v1/admin/faults)' : 'disabled'}`,
      '',
    ].join('\n'),
  );
  await stop;
  await server.close();
  return 0;
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
