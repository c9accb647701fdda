import { registerAllCommands } from '../src/cli/commands/index.ts';
import { runCli } from '../src/cli/main.ts';

registerAllCommands();
process.exitCode = await runCli(process.argv.slice(2));
