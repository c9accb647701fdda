import type { CliIo } from '../../src/cli/command.ts';

/** Captured stdout and stderr for running CLI commands in tests. */
export function captureCliIo(): { io: CliIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } },
    out: () => out,
    err: () => err,
  };
}
