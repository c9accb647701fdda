import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../../src/cli/commands/index.ts';
import { runCli } from '../../../src/cli/main.ts';
import { captureCliIo } from '../../support/cli-capture.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

registerAllCommands();

// The README's promise: bad input stops with one line that names the file (or the flag) and says what was
// expected, exit code 2, no stack trace. These are the cases a first-time user hit that broke it.

const FIXTURE = 'test/fixtures/backtest';
const PARTITIONS = join(FIXTURE, 'partitions.csv');
const TOPOLOGY = join(FIXTURE, 'topology.json');

const dir = suiteTempDir('prestage-input-errors-');

async function failingRun(argv: string[]): Promise<string> {
  const c = captureCliIo();
  const code = await runCli(argv, c.io);
  expect(c.out()).toBe('');
  expect(code).toBe(2);
  const err = c.err();
  expect(err.endsWith('\n')).toBe(true);
  expect(err.trimEnd().split('\n'), 'exactly one line').toHaveLength(1);
  expect(err).not.toMatch(/internal error|\n\s+at /);
  return err;
}

const backtest = (trace: string, topology = TOPOLOGY) => [
  'backtest',
  '--trace',
  trace,
  '--partitions',
  PARTITIONS,
  '--topology',
  topology,
];

describe('a directory where a file belongs', () => {
  it('names the directory as --trace', async () => {
    const err = await failingRun(backtest(dir));
    expect(err).toBe(`prestage backtest: InputValidationError: ${dir}: is a directory; expected a file\n`);
  });

  it('names the directory as --topology and as --snapshot', async () => {
    expect(await failingRun(backtest(join(FIXTURE, 'trace.csv'), FIXTURE))).toContain(
      `${FIXTURE}: is a directory; expected a file`,
    );
    expect(await failingRun(['plan', '--snapshot', dir])).toContain(`${dir}: is a directory`);
  });

  it('names the directory given as an output file', async () => {
    const out = join(dir, 'report-dir');
    mkdirSync(out, { recursive: true });
    const err = await failingRun([...backtest(join(FIXTURE, 'trace.csv')), '--warmup', '1h', '--json', out]);
    expect(err).toContain(`${out}: is a directory; expected a file to write`);
  });
});

describe('a gzip trace', () => {
  it('reads a complete .csv.gz', async () => {
    const gz = join(dir, 'complete.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(FIXTURE, 'trace.csv'))));
    const c = captureCliIo();
    expect(await runCli([...backtest(gz), '--warmup', '1h', '--policies', 'static'], c.io)).toBe(0);
  });

  it('names a truncated .csv.gz and says it is truncated', async () => {
    const whole = gzipSync(readFileSync(join(FIXTURE, 'trace.csv')));
    const truncated = join(dir, 'truncated.csv.gz');
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const err = await failingRun(backtest(truncated));
    expect(err).toMatch(new RegExp(`InputValidationError: ${truncated}: gzip data ends early .*truncated`));
  });

  it('names a .csv.gz whose gzip data is corrupt', async () => {
    const whole = gzipSync(readFileSync(join(FIXTURE, 'trace.csv')));
    const corrupt = Buffer.from(whole);
    corrupt.fill(0xff, 10, 40);
    const path = join(dir, 'corrupt.csv.gz');
    writeFileSync(path, corrupt);
    expect(await failingRun(backtest(path))).toContain(`${path}: corrupt gzip data`);
  });
});

describe('the wrong format', () => {
  it('says a JSON file passed as --trace is JSON, not CSV, and what header was expected', async () => {
    const err = await failingRun(backtest(TOPOLOGY));
    expect(err).toBe(
      `prestage backtest: InputValidationError: ${TOPOLOGY}, line 1: this is JSON, not CSV; expected a CSV file with the header 'timestamp,partition,region,reads,writes'\n`,
    );
  });

  it('says a JSON file passed as --partitions is JSON, not CSV', async () => {
    const err = await failingRun([
      'backtest',
      '--trace',
      TOPOLOGY,
      '--partitions',
      TOPOLOGY,
      '--topology',
      TOPOLOGY,
    ]);
    expect(err).toContain(`${TOPOLOGY}, line 1: this is JSON, not CSV`);
  });

  it('says a CSV file passed as --topology looks like CSV, not JSON', async () => {
    const err = await failingRun(backtest(join(FIXTURE, 'trace.csv'), PARTITIONS));
    expect(err).toContain(`${PARTITIONS}, line 1: this looks like CSV (header 'partition,sizeBytes,cell'`);
    expect(err).toContain('not JSON; expected a JSON document');
  });
});

describe('flags', () => {
  it('reports an unknown flag as the flag, with the closest known one', async () => {
    const err = await failingRun(['forecast', '--horizn', '3']);
    expect(err).toMatch(
      /^prestage forecast: InputValidationError: field '--horizn': unknown option; did you mean --horizon\?/,
    );
    expect(err).not.toContain("field 'forecast'");
    expect(err).toContain("see 'prestage forecast --help'");
  });

  it('lists the known flags when nothing is close', async () => {
    const err = await failingRun(['backtest', '--forecast', 'x.csv']);
    expect(err).toContain(
      "field '--forecast': unknown option; backtest takes --trace, --partitions, --topology",
    );
    expect(err).not.toContain('did you mean');
  });

  it('names a flag whose value is missing, and a flag that takes none', async () => {
    expect(await failingRun(['forecast', '--series', 's.csv', '--horizon'])).toContain(
      "field '--horizon': expects a value",
    );
    expect(await failingRun(['forecast', '--json=yes'])).toContain("field '--json': takes no value");
  });

  it('names a stray positional argument', async () => {
    expect(await failingRun(['plan', 'snapshot.json'])).toContain(
      "unexpected argument 'snapshot.json'; plan takes only --options",
    );
  });

  it('reports an unknown flag to approve, which parses its own arguments', async () => {
    expect(await failingRun(['approve', 'plan-1', '--rejct'])).toContain(
      "field '--rejct': unknown option; did you mean --reject?",
    );
  });
});
