import { registerCommand } from '../main.ts';

// The order here is the order `prestage --help` lists the commands. Each module is imported only when its
// command runs (or prints its --help): some pull in the AWS SDK, dynalite or the CDK, and `prestage --help`
// starts in well under 300 ms only without them. The summaries are the modules' own; a unit test checks
// that they match (test/unit/cli/main.test.ts).
export function registerAllCommands(): void {
  registerCommand({
    name: 'forecast',
    summary: 'Forecast a demand series (embedded model or seasonal-naive baseline)',
    load: async () => (await import('./forecast.ts')).forecastCommand,
  });
  registerCommand({
    name: 'plan',
    summary: 'Plan partition moves ahead of forecast demand (dry run)',
    load: async () => (await import('./plan.ts')).planCommand,
  });
  registerCommand({
    name: 'backtest',
    summary: 'replay a demand trace against placement policies and compare them',
    load: async () => (await import('./backtest.ts')).backtestCommand,
  });
  registerCommand({
    name: 'up',
    summary: 'Run the whole control loop live on this machine against a trace (npm start)',
    load: async () => (await import('./up.ts')).upCommand,
  });
  registerCommand({
    name: 'demo',
    summary: 'backtest the bundled semi-synthetic trace and write an HTML report (npm start)',
    load: async () => (await import('./demo.ts')).demoCommand,
  });
  registerCommand({
    name: 'serve',
    summary: 'Run the data plane locally: embedded DynamoDB per region, data API and admin API',
    load: async () => (await import('./serve.ts')).serveCommand,
  });
  registerCommand({
    name: 'migrate',
    summary: 'Move one partition to another cell on a running local server, with progress',
    load: async () => (await import('./migrate.ts')).migrateCommand,
  });
  registerCommand({
    name: 'nemesis',
    summary: 'Check a running local server black-box: list-append clients, migrations and faults, Elle-style',
    load: async () => (await import('./nemesis.ts')).nemesisCommand,
  });
  registerCommand({
    name: 'migrations',
    summary: 'Operate on migrations: recover one that left its partition fenced',
    load: async () => (await import('./migrations.ts')).migrationsCommand,
  });
  registerCommand({
    name: 'approve',
    summary: 'approve or reject a movement plan waiting for approval',
    load: async () => (await import('./approve.ts')).approveCommand,
  });
  registerCommand({
    name: 'events',
    summary: 'add, list or remove the known events (launches, holidays) the profiler forecasts with',
    load: async () => (await import('./events.ts')).eventsCommand,
  });
  registerCommand({
    name: 'model-server',
    summary: 'Serve a local SageMaker DeepAR endpoint backed by the embedded model',
    load: async () => (await import('./model-server.ts')).modelServerCommand,
  });
}
