import { InputValidationError } from '../../domain/errors.ts';
import { type CliCommand, type CliIo, parseOptions, requireOption } from '../command.ts';
import { callLocalServer, serverUrl } from '../local-server-client.ts';

const HELP = `Usage: prestage migrate --partition <id> --to <cell> [--server http://127.0.0.1:8080]
                        [--canary 0.1,0.5,1] [--wait-seconds 60] [--retain-source]

Starts one MigratePartition workflow on a running 'prestage serve --embedded' and follows it until it ends,
printing each stage as it starts. Exit code 0 when the migration committed, 1 when it rolled back or failed.

Options:
  --partition <id>      the partition to move
  --to <cell>           the target cell (see GET /v1/admin/cells)
  --server <url>        the server (default http://127.0.0.1:8080)
  --canary <weights>    read weights shifted to the target before the cutover, increasing (default 0.1,0.5,1)
  --wait-seconds <n>    wait between canary steps (default 60; the local server shortens Wait states)
  --retain-source       keep the source as a cold copy, so a move back ships only the delta

Example (after docs/data-plane.md's first PUT, which creates 'orders' in eu-west-1):
  prestage migrate --partition orders --to us-east-1-c1 --canary 0.5,1 --retain-source
`;

interface MigrationStatusBody {
  status: string;
  stage: string;
  /** Every stage entered so far, in order. */
  stages?: string[];
  progress?: Record<string, number | undefined> & { failedStage?: string };
  error?: { code: string; message: string };
}

function describeProgress(stage: string, progress: MigrationStatusBody['progress'] = {}): string {
  if (stage === 'copy' && progress.itemsCopied !== undefined)
    return `${stage} (${progress.itemsCopied} items copied)`;
  if (stage === 'catchUp' && progress.catchUpRounds !== undefined) {
    return `${stage} (round ${progress.catchUpRounds}, ${progress.itemsCaughtUp ?? 0} items)`;
  }
  if (stage === 'shiftReads' && progress.readWeight !== undefined) {
    return `${stage} (${Math.round(progress.readWeight * 100)}% of reads on the target)`;
  }
  if (stage === 'removeSource' && progress.itemsRemoved)
    return `${stage} (${progress.itemsRemoved} items removed)`;
  return stage;
}

/** Start a migration and follow it. `pollMs` is for tests. */
export async function runMigrate(argv: readonly string[], io: CliIo, pollMs = 250): Promise<number> {
  const { values } = parseOptions(
    argv,
    {
      partition: { type: 'string' },
      to: { type: 'string' },
      server: { type: 'string' },
      canary: { type: 'string' },
      'wait-seconds': { type: 'string' },
      'retain-source': { type: 'boolean' },
    },
    'migrate',
  );
  const partition = requireOption(values.partition, 'partition', 'migrate');
  const targetCell = requireOption(values.to, 'to', 'migrate');
  const server = serverUrl(values.server);
  const input: Record<string, unknown> = { partition, targetCell };
  if (values.canary !== undefined) {
    const steps = values.canary.split(',').map((w) => Number(w.trim()));
    if (steps.some((w) => !(w > 0 && w <= 1))) {
      throw new InputValidationError(
        { field: '--canary' },
        `expected weights in (0, 1] such as 0.1,0.5,1, found '${values.canary}'`,
      );
    }
    input.canarySteps = steps;
  }
  if (values['wait-seconds'] !== undefined) {
    const seconds = Number(values['wait-seconds']);
    if (!Number.isInteger(seconds) || seconds < 0) {
      throw new InputValidationError(
        { field: '--wait-seconds' },
        `expected a whole number of seconds, found '${values['wait-seconds']}'`,
      );
    }
    input.waitSeconds = seconds;
  }
  if (values['retain-source']) input.retainSource = true;

  const started = await callLocalServer(`${server}/v1/admin/migrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  if (started.status !== 202) {
    const error = started.body.error as { code: string; message: string } | undefined;
    io.stderr.write(`prestage migrate: ${error?.code ?? started.status}: ${error?.message ?? 'refused'}\n`);
    return 2;
  }
  const migrationId = started.body.migrationId as string;
  io.stdout.write(`migration ${migrationId}: ${partition} → ${targetCell}\n`);
  const t0 = Date.now();
  let last = '';
  let stagesShown = 0;
  for (;;) {
    const { status, body } = await callLocalServer(
      `${server}/v1/admin/migrations/${encodeURIComponent(migrationId)}`,
    );
    if (status !== 200) {
      io.stderr.write(`prestage migrate: lost track of ${migrationId} (HTTP ${status})\n`);
      return 1;
    }
    const state = body as unknown as MigrationStatusBody;
    const elapsed = `[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s]`;
    // Every stage entered, including those that began and ended between two polls (copy and verify of a small
    // partition); then the current stage again whenever its progress changes.
    const stages = state.stages ?? [state.stage];
    const line = describeProgress(state.stage, state.progress);
    for (let i = stagesShown; i < stages.length - 1; i++) io.stdout.write(`  ${elapsed} ${stages[i]}\n`);
    if (stagesShown < stages.length || line !== last) {
      io.stdout.write(`  ${elapsed} ${line}\n`);
      last = line;
    }
    stagesShown = stages.length;
    if (state.status !== 'RUNNING') {
      const seconds = ((Date.now() - t0) / 1000).toFixed(1);
      if (state.status === 'SUCCEEDED') {
        io.stdout.write(`${state.status} in ${seconds}s\n`);
        return 0;
      }
      const stage = state.progress?.failedStage ?? state.stage;
      io.stdout.write(
        `${state.status} after ${seconds}s (failed at ${stage}): ${state.error?.message ?? ''}\n`,
      );
      return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'Move one partition to another cell on a running local server, with progress',
  help: HELP,
  run: (argv, io) => runMigrate(argv, io),
};
