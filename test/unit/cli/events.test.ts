import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient, documentClient } from '../../../src/adapters/dynamodb/dynamodb-client.ts';
import { DynamoEventRepository } from '../../../src/adapters/dynamodb/event-repository.ts';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { type LocalDynamo, startDynalite } from '../../../src/local/dynalite-server.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

registerAllCommands();

const START = Date.UTC(2025, 5, 2, 9);
const HOUR = 3_600_000;

/** `prestage events` against a local DynamoDB, as against the embedded cluster's home-region dynalite. */
describe('prestage events', () => {
  let dynamo: LocalDynamo;
  const dir = suiteTempDir('prestage-events-');
  let tables = 0;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => dynamo?.close());

  const newTable = () => `events-${++tables}`;
  const run = async (table: string, ...argv: string[]) => {
    const { io, out, err } = captureCliIo();
    const code = await runCli(['events', ...argv, '--endpoint', dynamo.endpoint, '--table', table], io);
    return { code, out: out(), err: err() };
  };
  const stored = (table: string) =>
    new DynamoEventRepository(
      documentClient(createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint })),
      table,
    ).listEvents();
  const launchFlags = (overrides: Record<string, string> = {}) =>
    Object.entries({
      name: 'eu-launch',
      region: 'eu-west-1',
      start: '2025-06-02T09:00:00Z',
      end: '2025-06-02T17:00:00+02:00',
      multiplier: '3',
      ...overrides,
    }).flatMap(([flag, value]) => [`--${flag}`, value]);
  const launch = {
    name: 'eu-launch',
    region: 'eu-west-1',
    startMs: START,
    endMs: START + 6 * HOUR,
    multiplier: 3,
  };

  it('adds an event (creating the local table), lists it, refuses it twice, replaces it, removes it', async () => {
    const table = newTable();
    const added = await run(table, 'add', ...launchFlags());
    expect(added).toEqual({
      code: 0,
      err: '',
      out:
        "added 'eu-launch': eu-west-1, 2025-06-02T09:00:00.000Z → 2025-06-02T15:00:00.000Z, demand × 3\n" +
        `1 event in table ${table} (the local DynamoDB at ${dynamo.endpoint})\n`,
    });
    expect(await stored(table)).toEqual({ events: [launch], rejected: [] });

    const again = await run(table, 'add', ...launchFlags({ multiplier: '5' }));
    expect(again.code).toBe(2);
    expect(again.err).toBe(
      "prestage events: EventAlreadyExistsError: event 'eu-launch' already stored; nothing was written (replace to overwrite)\n",
    );
    expect((await stored(table)).events).toEqual([launch]);
    expect((await run(table, 'add', ...launchFlags({ multiplier: '5' }), '--replace')).code).toBe(0);
    expect((await stored(table)).events).toEqual([{ ...launch, multiplier: 5 }]);

    const listed = await run(table, 'list');
    expect(listed.out.split('\n')).toEqual([
      'name       region     partition  start                     end                       multiplier',
      'eu-launch  eu-west-1  (all)      2025-06-02T09:00:00.000Z  2025-06-02T15:00:00.000Z  5',
      `1 event in table ${table} (the local DynamoDB at ${dynamo.endpoint})`,
      '',
    ]);
    const json = await run(table, 'list', '--json');
    expect(JSON.parse(json.out)).toEqual([
      {
        name: 'eu-launch',
        region: 'eu-west-1',
        start: '2025-06-02T09:00:00.000Z',
        end: '2025-06-02T15:00:00.000Z',
        multiplier: 5,
      },
    ]);

    expect((await run(table, 'remove', 'eu-launch', 'nope')).err).toBe(
      "prestage events: EventNotFoundError: no stored event named 'nope'; nothing was removed\n",
    );
    expect((await stored(table)).events).toHaveLength(1);
    expect(await run(table, 'remove', 'eu-launch')).toMatchObject({ code: 0 });
    expect((await stored(table)).events).toEqual([]);
  });

  it('adds every event of a calendar file, or none when one is bad, naming the file and field', async () => {
    const table = newTable();
    const good = [
      {
        name: 'eu-launch',
        region: 'eu-west-1',
        start: '2025-06-02T09:00:00Z',
        end: '2025-06-02T15:00:00Z',
        multiplier: 3,
      },
      {
        name: 'fr-sale',
        region: 'eu-west-1',
        partition: 'orders-fr',
        start: '2025-06-03T09:00:00Z',
        end: '2025-06-03T12:00:00Z',
        multiplier: 1.5,
      },
    ];
    const bad = [...good, { ...good[0], name: 'holiday', region: 'europe' }];
    const badFile = join(dir, 'bad.json');
    await writeFile(badFile, JSON.stringify(bad));
    const refused = await run(table, 'add', '--file', badFile);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(
      `prestage events: InputValidationError: ${badFile}, field '[2].region': expected a region name such as eu-west-1, or * for every region, found 'europe'\n`,
    );
    const twice = join(dir, 'twice.json');
    await writeFile(twice, JSON.stringify([good[0], good[0]]));
    expect((await run(table, 'add', '--file', twice)).err).toMatch(
      /field '\[1\]\.name': event name 'eu-launch' is used by \[0\] too/,
    );
    const goodFile = join(dir, 'good.json');
    await writeFile(goodFile, JSON.stringify(good));
    expect((await run(table, 'add', '--file', goodFile)).code).toBe(0);
    expect((await stored(table)).events.map((e) => [e.name, e.partition])).toEqual([
      ['eu-launch', undefined],
      ['fr-sale', 'orders-fr'],
    ]);
    // Nothing of the earlier refused file was written (its first two events were valid).
    expect((await stored(table)).events).toHaveLength(2);
  });

  it('names the flag of bad input in one line, exit code 2, and writes nothing', async () => {
    const table = newTable();
    const cases: [string[], string][] = [
      [
        ['add', ...launchFlags({ multiplier: 'lots' })],
        "field '--multiplier': expected a number > 0 such as 3, found 'lots'",
      ],
      [['add', ...launchFlags({ multiplier: '0' })], "field '--multiplier': expected a number > 0"],
      [
        ['add', ...launchFlags({ start: 'tomorrow' })],
        "field '--start': expected an ISO-8601 time with a zone",
      ],
      [['add', ...launchFlags({ end: '2025-06-02T08:00:00Z' })], "field '--end': event 'eu-launch' ends"],
      [['add', ...launchFlags({ region: 'eu' })], "field '--region': expected a region name"],
      [['add', '--name', 'x'], "field '--region': is required (or give --file)"],
      [['add', ...launchFlags(), '--file', 'x.json'], "field '--name': cannot be combined with --file"],
      [
        ['list', '--replace'],
        "field '--replace': is not an option of 'events list' (it belongs to 'events add')",
      ],
      [['remove'], "field 'NAME': expected the names of the events to remove"],
      [['purge'], "field 'SUBCOMMAND': expected add, list or remove, found 'purge'"],
      [['add', ...launchFlags(), '--colour', 'red'], "field '--colour': unknown option"],
    ];
    for (const [argv, message] of cases) {
      const result = await run(table, ...argv);
      expect({ argv, code: result.code, lines: result.err.split('\n').length }).toEqual({
        argv,
        code: 2,
        lines: 2,
      });
      expect(result.err).toContain(message);
    }
    const { io, err } = captureCliIo();
    expect(await runCli(['events', 'list', '--endpoint', 'localhost:8000'], io)).toBe(2);
    expect(err()).toContain("field '--endpoint': expected a URL");
    // A list of a table that does not exist (nothing was ever added) says so.
    const missing = await run(table, 'list');
    expect(missing.err).toContain(`field '--table': no events table '${table}'`);
  });

  it('needs the home region against AWS, from --aws-region or AWS_REGION', async () => {
    const { createEventsCommand } = await import('../../../src/cli/commands/events.ts');
    const { io } = captureCliIo();
    await expect(createEventsCommand(undefined, {}).run(['list'], io)).rejects.toThrow(
      "field '--aws-region': is required (or set AWS_REGION)",
    );
    const seen: unknown[] = [];
    const command = createEventsCommand(
      async (where) => {
        seen.push(where);
        return { listEvents: async () => ({ events: [], rejected: [] }) } as never;
      },
      { AWS_REGION: 'eu-central-1', PRESTAGE_EVENTS_TABLE: 'my-events' },
    );
    expect(await command.run(['list'], io)).toBe(0);
    expect(seen).toEqual([{ table: 'my-events', region: 'eu-central-1' }]);
  });
});
