/**
 * The dashboard on made-up data, to look at it without starting the system:
 *   npx tsx src/live/dashboard/try-dashboard.ts [--port 8090] [--step-ms 1000]
 * Prints the URL; the demo run (demo-snapshots.ts) advances one step (30 trace minutes) per `--step-ms`, from
 * starting to finished in about 100 steps, then stays finished until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startDashboard } from './dashboard-server.ts';
import { DemoRun } from './demo-snapshots.ts';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, 'step-ms': { type: 'string', default: '1000' } },
});
const port = Number(values.port);
const stepMs = Number(values['step-ms']);
if (!Number.isInteger(port) || port < 0 || port > 65_535)
  throw new Error(`--port: not a port: ${values.port}`);
if (!(stepMs >= 50)) throw new Error(`--step-ms: at least 50, got ${values['step-ms']}`);

const run = new DemoRun();
const dashboard = await startDashboard({ port, snapshot: () => run.snapshot(), log: console.error });
process.stdout.write(`dashboard (demo data): ${dashboard.url}\nCtrl-C stops it.\n`);
const timer = setInterval(() => {
  run.advance();
  if (run.done) clearInterval(timer);
}, stepMs);
process.once('SIGINT', () => {
  clearInterval(timer);
  void dashboard.close().then(() => process.exit(0));
});
