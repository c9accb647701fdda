import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InputValidationError } from '../../domain/errors.ts';
import type { CliCommand, CliIo } from '../command.ts';
import { parseOptions } from '../command.ts';
import { projectRoot } from '../project-root.ts';
import { backtestOptionsFrom, executeBacktest, workersFrom } from './backtest.ts';

/** The traces bundled with the repository (built by scripts/make-traces.ts). */
export const BUNDLED_TRACES_DIR = join(projectRoot(), 'data', 'traces');
export const DEFAULT_DEMO_TRACE = 'tweets-3region';

const HELP = `Usage: prestage demo [--out DIR] [--trace NAME] [--policies LIST] [--workers N]

Run the backtest on the bundled semi-synthetic trace (data/traces/${DEFAULT_DEMO_TRACE}: partitions
whose demand comes from real NAB Twitter-volume series, split across us-east-1, eu-west-1 and
ap-northeast-1), print the comparison table and the targets, and write the HTML report and the JSON.
This is what 'npm start' runs; it takes well under a minute.

Options:
  --out DIR         where to write backtest-report.html and backtest.json (default: out)
  --trace NAME      a trace directory under data/traces (default: ${DEFAULT_DEMO_TRACE})
  --policies LIST   comma-separated subset of the policies (default: all five)
  --workers N       policies replayed at once on worker threads; 1 = one after another (default: one per core)

Examples:
  npm start
  prestage demo --out /tmp/prestage-demo
`;

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'backtest the bundled semi-synthetic trace and write an HTML report (npm start)',
  help: HELP,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(
      argv,
      {
        out: { type: 'string' },
        trace: { type: 'string' },
        policies: { type: 'string' },
        workers: { type: 'string' },
      },
      'demo',
    );
    const name = values.trace ?? DEFAULT_DEMO_TRACE;
    const dir = join(BUNDLED_TRACES_DIR, name);
    const trace = ['trace.csv', 'trace.csv.gz'].map((f) => join(dir, f)).find((f) => existsSync(f));
    if (!trace) {
      throw new InputValidationError(
        { field: '--trace' },
        `no bundled trace '${name}' (looked for ${relative(process.cwd(), dir)}/trace.csv[.gz]); run 'npx tsx scripts/make-traces.ts'`,
      );
    }
    const out = values.out ?? 'out';
    const shown = (path: string) => {
      const rel = relative(process.cwd(), path);
      return rel.startsWith('..') ? path : rel;
    };
    const jsonPath = join(out, 'backtest.json');
    const htmlPath = join(out, 'backtest-report.html');
    io.stdout.write(`prestage demo: backtest of the bundled semi-synthetic trace ${shown(dir)}\n`);
    await executeBacktest(
      {
        files: {
          trace: shown(trace),
          partitions: shown(join(dir, 'partitions.csv')),
          topology: shown(join(dir, 'topology.json')),
          ...(existsSync(join(dir, 'relationships.csv'))
            ? { relationships: shown(join(dir, 'relationships.csv')) }
            : {}),
        },
        options: backtestOptionsFrom({ policies: values.policies }),
        jsonPath,
        htmlPath,
        workers: workersFrom(values.workers),
      },
      io,
    );
    io.stdout.write(`\nOpen ${shown(htmlPath)} in a browser for the charts.\n`);
    return 0;
  },
};
