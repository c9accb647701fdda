import { registerCommand } from '../main.ts';

// Each command module registers itself here; the order is the order `prestage --help` lists them.
export function registerAllCommands(): void {
  void registerCommand;
}
