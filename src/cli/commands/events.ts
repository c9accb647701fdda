import { type ParseArgsConfig, parseArgs } from 'node:util';
import { createDynamoClient, documentClient } from '../../adapters/dynamodb/dynamodb-client.ts';
import {
  DEFAULT_EVENTS_TABLE,
  DynamoEventRepository,
  eventsTableDefinition,
} from '../../adapters/dynamodb/event-repository.ts';
import { ensureTable } from '../../adapters/dynamodb/table-definitions.ts';
import { InputValidationError, PrestageError } from '../../domain/errors.ts';
import type { KnownEvent } from '../../domain/forecasting/forecast-model.ts';
import { knownEventInput, parseKnownEvent } from '../../domain/forecasting/known-event-input.ts';
import type { KnownEventStore } from '../../domain/forecasting/known-event-store.ts';
import { readEventsCalendar } from '../../io/events-calendar.ts';
import { CONTROL_PLANE_ENV } from '../../lambda/control-plane-env.ts';
import { type CliCommand, type CliIo, optionParseError } from '../command.ts';

const HELP = `Usage: prestage events add --name N --region R --start TIME --end TIME --multiplier X [--partition P] [--replace]
       prestage events add --file EVENTS.json [--replace]
       prestage events list [--json]
       prestage events remove NAME [NAME ...]
  each with [--table NAME] [--aws-region R] [--endpoint URL]

Keeps the known future events (launches, sales, holidays) the profiler passes to the forecast model, in the
events table of the deployment. An event multiplies the demand of one region (or of every region: --region '*'),
optionally of one partition only, from --start to --end. The profiler reads the table every cycle; an event is
used as soon as it is stored (docs/events.md).

Subcommands:
  add       store one event from the flags, or every event of a calendar file (the JSON array that
            'prestage forecast --events' reads); all or nothing: a name already stored refuses the whole add
            unless --replace
  list      the stored events by start; stored items that are not valid events are listed apart with why
  remove    remove the named events; all or nothing: an unknown name removes none

Event options (add):
  --name <name>          the event's name, its key in the table (unique)
  --region <region>      the region whose demand changes (e.g. eu-west-1), or '*' for every region
  --start <time>         ISO-8601 with a zone, e.g. 2025-06-02T09:00:00Z
  --end <time>           after --start
  --multiplier <x>       demand factor while the event runs, > 0 (3 = three times the usual demand)
  --partition <id>       only this partition's demand (default: every partition in the region)
  --file <path>          a calendar file instead of the flags above
  --replace              overwrite events of the same name

Where (every subcommand):
  --table <name>         the events table (default: $${CONTROL_PLANE_ENV.eventsTable}, then ${DEFAULT_EVENTS_TABLE}, the
                         name the control-plane stack gives it)
  --aws-region <region>  the home region (default: $AWS_REGION, then $AWS_DEFAULT_REGION)
  --endpoint <url>       a local DynamoDB (the embedded cluster's home-region dynalite); the table is created
                         there on the first add. Without it: AWS, with the default credential chain.
  --json                 (list) the events as a JSON array in their written form

Needs dynamodb:Scan (list), dynamodb:BatchGetItem, PutItem (add) and DeleteItem (remove) on the table, and the
use of the control-plane key through DynamoDB.

Examples:
  npx prestage events add --name eu-launch --region eu-west-1 --start 2025-06-02T09:00:00Z \\
    --end 2025-06-02T15:00:00Z --multiplier 3 --aws-region us-east-1
  npx prestage events add --file docs/examples/events.json --aws-region us-east-1
  npx prestage events list --aws-region us-east-1
  npx prestage events remove eu-launch --aws-region us-east-1
`;

const OPTIONS = {
  name: { type: 'string' },
  region: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  multiplier: { type: 'string' },
  partition: { type: 'string' },
  file: { type: 'string' },
  replace: { type: 'boolean' },
  json: { type: 'boolean' },
  table: { type: 'string' },
  'aws-region': { type: 'string' },
  endpoint: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
};

/** The flags of the event itself, which only `add` takes (from the flags or from --file). */
const EVENT_FLAGS = ['name', 'region', 'start', 'end', 'multiplier', 'partition'] as const;
/** Which subcommand takes which flags besides the where-flags. */
const SUBCOMMAND_FLAGS: Record<string, readonly (keyof Values)[]> = {
  add: [...EVENT_FLAGS, 'file', 'replace'],
  list: ['json'],
  remove: [],
};
const WHERE_FLAGS: readonly (keyof Values)[] = ['table', 'aws-region', 'endpoint', 'help'];

/** Where the events table is. */
export interface EventsTableLocation {
  readonly table: string;
  readonly region: string;
  readonly endpoint?: string;
}

/** How the command reaches the table; tests may pass their own. */
export type EventStoreFactory = (
  where: EventsTableLocation,
  purpose: 'read' | 'write',
) => Promise<KnownEventStore>;

const DYNAMO_STORE: EventStoreFactory = async (where, purpose) => {
  const client = createDynamoClient({ region: where.region, endpoint: where.endpoint });
  // A local DynamoDB starts empty: the first add creates the table there. In AWS the stack owns it.
  if (where.endpoint && purpose === 'write') await ensureTable(client, eventsTableDefinition(where.table));
  return new DynamoEventRepository(documentClient(client), where.table);
};

export function createEventsCommand(
  openStore: EventStoreFactory = DYNAMO_STORE,
  env: Readonly<Record<string, string | undefined>> = process.env,
): CliCommand {
  return {
    name: 'events',
    summary: 'add, list or remove the known events (launches, holidays) the profiler forecasts with',
    help: HELP,
    async run(argv: readonly string[], io: CliIo): Promise<number> {
      let parsed: { values: Values; positionals: string[] };
      try {
        parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
      } catch (error) {
        throw optionParseError(error, OPTIONS, 'events');
      }
      const { values, positionals } = parsed;
      const [subcommand, ...names] = positionals;
      if (subcommand === undefined || !(subcommand in SUBCOMMAND_FLAGS))
        throw new InputValidationError(
          { field: 'SUBCOMMAND' },
          subcommand === undefined
            ? "expected add, list or remove; see 'prestage events --help'"
            : `expected add, list or remove, found '${subcommand}'; see 'prestage events --help'`,
        );
      checkFlagsOf(subcommand, values);
      const where = locate(values, env);
      if (subcommand === 'add') {
        if (names.length > 0) throw unexpectedArguments('add', names);
        const events = await eventsToAdd(values);
        const store = await reach(() => openStore(where, 'write'), where);
        await reach(() => store.putEvents(events, { replace: values.replace === true }), where);
        for (const event of events)
          io.stdout.write(`${values.replace ? 'stored' : 'added'} ${describeEvent(event)}\n`);
        io.stdout.write(
          `${events.length} event${events.length === 1 ? '' : 's'} in ${describeWhere(where)}\n`,
        );
        return 0;
      }
      if (subcommand === 'list') {
        if (names.length > 0) throw unexpectedArguments('list', names);
        const store = await reach(() => openStore(where, 'read'), where);
        const { events, rejected } = await reach(() => store.listEvents(), where);
        if (values.json) {
          io.stdout.write(`${JSON.stringify(events.map(knownEventInput), null, 2)}\n`);
        } else {
          io.stdout.write(eventsTable(events));
          io.stdout.write(
            `${events.length} event${events.length === 1 ? '' : 's'} in ${describeWhere(where)}\n`,
          );
        }
        for (const r of rejected)
          io.stderr.write(
            `left out (not a valid event, the profiler ignores it): '${r.name}': ${r.problem}\n`,
          );
        return 0;
      }
      if (names.length === 0)
        throw new InputValidationError(
          { field: 'NAME' },
          "expected the names of the events to remove; see 'prestage events list'",
        );
      const store = await reach(() => openStore(where, 'write'), where);
      await reach(() => store.removeEvents(names), where);
      io.stdout.write(`removed ${names.map((n) => `'${n}'`).join(', ')} from ${describeWhere(where)}\n`);
      return 0;
    },
  };
}

/** A flag the subcommand does not take is named, with the subcommand that takes it. */
function checkFlagsOf(subcommand: string, values: Values): void {
  const allowed = new Set([...SUBCOMMAND_FLAGS[subcommand], ...WHERE_FLAGS]);
  for (const flag of Object.keys(values) as (keyof Values)[]) {
    if (values[flag] === undefined || allowed.has(flag)) continue;
    const owner = Object.keys(SUBCOMMAND_FLAGS).find((s) => SUBCOMMAND_FLAGS[s].includes(flag));
    throw new InputValidationError(
      { field: `--${flag}` },
      `is not an option of 'events ${subcommand}'${owner ? ` (it belongs to 'events ${owner}')` : ''}`,
    );
  }
}

function locate(values: Values, env: Readonly<Record<string, string | undefined>>): EventsTableLocation {
  const endpoint = values.endpoint;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint))
    throw new InputValidationError(
      { field: '--endpoint' },
      `expected a URL such as http://127.0.0.1:8000, found '${endpoint}'`,
    );
  const table = values.table ?? env[CONTROL_PLANE_ENV.eventsTable] ?? DEFAULT_EVENTS_TABLE;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table))
    throw new InputValidationError(
      { field: values.table !== undefined ? '--table' : CONTROL_PLANE_ENV.eventsTable },
      `expected a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -), found '${table}'`,
    );
  // A local DynamoDB answers in any region; AWS needs the home region.
  const region =
    values['aws-region'] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? 'us-east-1' : undefined);
  if (!region)
    throw new InputValidationError(
      { field: '--aws-region' },
      'is required (or set AWS_REGION): the home region, where the events table is',
    );
  return { table, region, ...(endpoint !== undefined && { endpoint }) };
}

/** The events of an add: the calendar file's, or the one the flags describe (its problems named by flag). */
async function eventsToAdd(values: Values): Promise<KnownEvent[]> {
  if (values.file !== undefined) {
    const given = EVENT_FLAGS.find((flag) => values[flag] !== undefined);
    if (given)
      throw new InputValidationError(
        { field: `--${given}` },
        'cannot be combined with --file: the file holds every field of its events',
      );
    const events = await readEventsCalendar(values.file, { uniqueNames: true });
    if (events.length === 0)
      throw new InputValidationError({ file: values.file }, 'holds no events; nothing to add');
    return events;
  }
  for (const flag of ['name', 'region', 'start', 'end', 'multiplier'] as const) {
    if (values[flag] === undefined)
      throw new InputValidationError(
        { field: `--${flag}` },
        "is required (or give --file); see 'prestage events --help'",
      );
  }
  const multiplier = Number(values.multiplier);
  if (values.multiplier!.trim() === '' || !Number.isFinite(multiplier))
    throw new InputValidationError(
      { field: '--multiplier' },
      `expected a number > 0 such as 3, found '${values.multiplier}'`,
    );
  const input = {
    name: values.name,
    region: values.region,
    start: values.start,
    end: values.end,
    multiplier,
    ...(values.partition !== undefined && { partition: values.partition }),
  };
  try {
    return [parseKnownEvent(input, 'event')];
  } catch (error) {
    if (!(error instanceof InputValidationError)) throw error;
    const { field } = error.location;
    const problem = error.message.replace(/^event, field '[^']*': /, '');
    throw new InputValidationError({ field: field ? `--${field}` : undefined }, problem);
  }
}

/** Run one call to the table; errors of the caller's set-up are said plainly, in one line. */
async function reach<T>(call: () => Promise<T>, where: EventsTableLocation): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof PrestageError) throw error;
    const name = (error as Error)?.name;
    const code =
      (error as NodeJS.ErrnoException)?.code ?? (error as { cause?: NodeJS.ErrnoException })?.cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT')
      throw new InputValidationError(
        { field: where.endpoint ? '--endpoint' : '--aws-region' },
        `cannot reach ${where.endpoint ?? `DynamoDB in ${where.region}`} (${code})`,
      );
    if (name === 'ResourceNotFoundException')
      throw new InputValidationError(
        { field: '--table' },
        `no events table '${where.table}' in ${describeWhere(where, false)}; deploy the control plane, or pass --table and --aws-region`,
      );
    if (name === 'CredentialsProviderError')
      throw new PrestageError('no AWS credentials found; set AWS_PROFILE or run `aws sso login`');
    if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException')
      throw new PrestageError(`AWS refused the call (${name}): ${(error as Error).message}`);
    throw error;
  }
}

function unexpectedArguments(subcommand: string, names: readonly string[]): InputValidationError {
  return new InputValidationError(
    {},
    `unexpected argument '${names[0]}'; 'events ${subcommand}' takes only --options; see 'prestage events --help'`,
  );
}

function describeWhere(where: EventsTableLocation, withTable = true): string {
  const place = where.endpoint ? `the local DynamoDB at ${where.endpoint}` : where.region;
  return withTable ? `table ${where.table} (${place})` : place;
}

function describeEvent(event: KnownEvent): string {
  const written = knownEventInput(event);
  const scope =
    event.partition !== undefined ? `${event.region}, partition ${event.partition}` : event.region;
  return `'${event.name}': ${scope}, ${written.start} → ${written.end}, demand × ${event.multiplier}`;
}

function eventsTable(events: readonly KnownEvent[]): string {
  const header = ['name', 'region', 'partition', 'start', 'end', 'multiplier'];
  const rows = events.map((e) => {
    const w = knownEventInput(e);
    return [w.name, w.region, w.partition ?? '(all)', w.start, w.end, String(w.multiplier)];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  return [header, ...rows]
    .map(
      (r) =>
        `${r
          .map((cell, c) => cell.padEnd(widths[c]))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

export const eventsCommand = createEventsCommand();
