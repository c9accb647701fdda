import { registerCommand } from '../main.ts';
import { approveCommand } from './approve.ts';
import { backtestCommand } from './backtest.ts';
import { demoCommand } from './demo.ts';
import { forecastCommand } from './forecast.ts';
import { migrateCommand } from './migrate.ts';
import { migrationsCommand } from './migrations.ts';
import { modelServerCommand } from './model-server.ts';
import { nemesisCommand } from './nemesis.ts';
import { planCommand } from './plan.ts';
import { serveCommand } from './serve.ts';

// Each command module registers itself here; the order is the order `prestage --help` lists them.
export function registerAllCommands(): void {
  registerCommand(forecastCommand);
  registerCommand(planCommand);
  void registerCommand;
  registerCommand(backtestCommand);
  registerCommand(demoCommand);
  registerCommand(serveCommand);
  registerCommand(migrateCommand);
  registerCommand(nemesisCommand);
  registerCommand(migrationsCommand);
  registerCommand(approveCommand);
  registerCommand(modelServerCommand);
}
