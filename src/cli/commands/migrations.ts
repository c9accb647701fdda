import { InputValidationError } from '../../domain/errors.ts';
import { type CliCommand, type CliIo, parseOptions, requireOption } from '../command.ts';
import { callLocalServer, serverUrl } from '../local-server-client.ts';

const HELP = `Usage: prestage migrations recover --partition <id> [--server http://127.0.0.1:8080]

Subcommands:
  recover   release the fence a stuck migration left on a partition

When to use 'recover': a migration's execution ended (FAILED, e.g. its Rollback exhausted its retries while
storage was down) or vanished, and the partition still holds its fence: every write to it gets
503 PARTITION_MOVING, or no other migration can start. 'recover' runs the migration's Rollback on a running
'prestage serve --embedded' until it is done, as the fence owner: the partition ends rolled back to its
source, or rolled forward to the target if the reverse repair cannot converge. Every step is idempotent, so
it is safe even if the execution is still running, and safe to run again. Prints the outcome; exit code 0
once the partition is unfenced (or was not fenced), 1 if the recovery failed (run it again), 2 for bad input.

In AWS the same is done by redriving the failed execution (the redrive restarts its failed Rollback state,
which is re-entrant):
  aws stepfunctions redrive-execution --execution-arn <arn>

Options:
  --partition <id>   the fenced partition
  --server <url>     the server (default http://127.0.0.1:8080)

Example:
  prestage migrations recover --partition orders
`;

const SUBCOMMANDS = ['recover'] as const;

interface RecoverBody {
  recovered: boolean;
  reason: string;
  migrationId?: string;
  outcome?: string;
  stage?: string;
  rounds?: number;
}

async function recover(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(
    argv,
    { partition: { type: 'string' }, server: { type: 'string' } },
    'migrations',
  );
  const partition = requireOption(values.partition, 'partition', 'migrations');
  const server = serverUrl(values.server);
  const { status, body } = await callLocalServer(`${server}/v1/admin/migrations/recover`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ partition }),
  });
  if (status !== 200) {
    const error = body.error as { code: string; message: string } | undefined;
    io.stderr.write(
      `prestage migrations recover: ${error?.code ?? status}: ${error?.message ?? 'refused'}\n`,
    );
    // A recovery that failed half way can be run again; bad input cannot.
    return status >= 500 ? 1 : 2;
  }
  const result = body as unknown as RecoverBody;
  if (!result.recovered) {
    io.stdout.write(`partition ${partition} is ${result.reason}: nothing to recover\n`);
    return 0;
  }
  if (result.outcome === 'COLD_COPY_DROPPED') {
    io.stdout.write(`cold-copy drop ${result.migrationId} of ${partition} finished: ${result.reason}\n`);
    return 0;
  }
  io.stdout.write(
    `migration ${result.migrationId} of ${partition}: ${result.outcome} (failed at ${result.stage}): ${result.reason}\n`,
  );
  return 0;
}

/** `prestage migrations <subcommand>`: operations on migrations (only `recover` so far). */
export async function runMigrations(argv: readonly string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === 'recover') return recover(rest, io);
  throw new InputValidationError(
    { field: 'migrations' },
    subcommand === undefined || subcommand.startsWith('-')
      ? `expected a subcommand (${SUBCOMMANDS.join(', ')}); see 'prestage migrations --help'`
      : `unknown subcommand '${subcommand}' (expected ${SUBCOMMANDS.join(', ')}); see 'prestage migrations --help'`,
  );
}

export const migrationsCommand: CliCommand = {
  name: 'migrations',
  summary: 'Operate on migrations: recover one that left its partition fenced',
  help: HELP,
  run: runMigrations,
};
