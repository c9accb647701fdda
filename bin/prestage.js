#!/usr/bin/env node
// `prestage` launcher: re-executes on the Node 24 that `npm install` put in node_modules when the caller's
// node is older, then runs the CLI compiled by `npm run build` into dist/cli/ (`prepare` builds it on every
// npm install and npm ci). Without a build, or when a source file it was built from has changed since, it
// runs the TypeScript sources through tsx instead (a second slower to start), so an edit never runs stale.
// PRESTAGE_FROM_SOURCE=1 forces the sources.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(node24)) {
    process.stderr.write(
      `prestage needs Node 24 or later (found ${process.version}); run 'npm install' first\n`,
    );
    process.exit(1);
  }
  const child = spawn(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  // Ctrl-C reaches both processes from the terminal; a signal sent to this one alone (a supervisor, `kill`) is
  // passed on. Either way this process waits for the CLI to finish (`prestage up` prints its summary on SIGINT)
  // and exits as it did, instead of dying first and leaving it running behind the shell's prompt.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  process.exit(code ?? (signal === 'SIGINT' ? 130 : 1));
}

/** The compiled CLI's entry point, if a complete build is newer than every source file it was built from. */
function upToDateBuild() {
  const dist = join(root, 'dist', 'cli');
  const manifestPath = join(dist, 'inputs.json');
  let builtAtMs;
  let inputs;
  try {
    builtAtMs = statSync(manifestPath).mtimeMs;
    inputs = JSON.parse(readFileSync(manifestPath, 'utf8')).inputs;
  } catch {
    return undefined;
  }
  for (const input of inputs) {
    const source = statSync(join(root, input), { throwIfNoEntry: false });
    if (!source || source.mtimeMs > builtAtMs) return undefined;
  }
  return join(dist, 'prestage.js');
}

const compiled = process.env.PRESTAGE_FROM_SOURCE ? undefined : upToDateBuild();
if (compiled) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./prestage.ts');
}
