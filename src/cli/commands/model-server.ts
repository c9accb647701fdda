import { parseDuration } from '../../domain/duration.ts';
import { InputValidationError } from '../../domain/errors.ts';
import { type RunningModelServer, startModelServer } from '../../local/model-server.ts';
import { type CliCommand, type CliIo, parseOptions, parsePositiveInt } from '../command.ts';

const HELP = `Usage: prestage model-server [--port 8080] [--host 127.0.0.1] [--prediction-length 8] [--interval 15m] [--endpoint NAME]… [--quiet]

Serves the SageMaker runtime invocation path with the DeepAR JSON contract, backed by the embedded model,
so the SageMaker forecast adapter (and the AWS SDK) can run against it without AWS:
  POST /endpoints/{EndpointName}/invocations   request  {"instances":[{"start","target","dynamic_feat"?}],
                                                         "configuration":{"num_samples","output_types","quantiles"}}
                                               response {"predictions":[{"mean":[…],"quantiles":{"0.9":[…]}}]}
  POST /invocations                            the same, on the container path
  GET  /ping                                   200 when up
A bad request answers 400 (ModelError) with a message naming the field. Stop with Ctrl-C.

Options:
  --port <n>               port to listen on (default 8080; 0 picks a free one)
  --host <address>         address to bind (default 127.0.0.1)
  --prediction-length <n>  steps forecast per series, like DeepAR's prediction_length (default 8)
  --interval <duration>    bucket length of the series, like DeepAR's time_freq: 5m, 15m, 1h (default 15m)
  --endpoint <name>        serve only this endpoint name (repeatable); others answer ValidationError
  --quiet                  no line per invocation on stderr

Example:
  prestage model-server --port 8080 --prediction-length 8 --interval 15m
  # then: SageMakerRuntimeClient({ endpoint: 'http://127.0.0.1:8080', ... }) and InvokeEndpoint as usual
`;

/** Start the model server and keep it up until `stop` resolves. Exported for tests. */
export async function runModelServer(
  argv: readonly string[],
  io: CliIo,
  stop: Promise<unknown>,
): Promise<number> {
  const { values } = parseOptions(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      'prediction-length': { type: 'string' },
      interval: { type: 'string' },
      endpoint: { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
    },
    'model-server',
  );
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (values.port?.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new InputValidationError(
      { field: '--port' },
      `expected a port number 0-65535, found '${values.port}'`,
    );
  }
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '')
    throw new InputValidationError({ field: '--host' }, 'expected an address such as 127.0.0.1');
  const predictionLength = parsePositiveInt(values['prediction-length'] ?? '8', 'prediction-length');
  const intervalMs = parseDuration(values.interval ?? '15m', '--interval');
  if (!Number.isInteger(intervalMs) || intervalMs < 1000) {
    throw new InputValidationError(
      { field: '--interval' },
      `expected a bucket length of at least 1s such as 5m or 15m, found '${values.interval}'`,
    );
  }
  const endpointNames = values.endpoint;
  let server: RunningModelServer;
  try {
    server = await startModelServer({
      port,
      host,
      predictionLength,
      intervalMs,
      endpointNames,
      log: values.quiet ? undefined : (line) => io.stderr.write(`${line}\n`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new InputValidationError(
        { field: '--port' },
        `port ${port} is already in use; pass another --port`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new InputValidationError({ field: '--host' }, `cannot bind '${host}' on this machine`);
    }
    throw error;
  }
  const example = endpointNames?.[0] ?? 'prestage-forecast';
  io.stdout.write(
    [
      `prestage model server listening on ${server.url}`,
      `  contract: DeepAR JSON, prediction length ${predictionLength}, interval ${values.interval ?? '15m'}, embedded model`,
      `  invoke:   POST ${server.url}/endpoints/${encodeURIComponent(example)}/invocations`,
      `  endpoints: ${endpointNames ? endpointNames.join(', ') : 'any name'}`,
      '',
    ].join('\n'),
  );
  await stop;
  await server.close();
  io.stdout.write(
    `prestage model server stopped after ${server.stats.invocations} invocation${server.stats.invocations === 1 ? '' : 's'}\n`,
  );
  return 0;
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export const modelServerCommand: CliCommand = {
  name: 'model-server',
  summary: 'Serve a local SageMaker DeepAR endpoint backed by the embedded model',
  help: HELP,
  run: (argv, io) => runModelServer(argv, io, untilSignal()),
};
