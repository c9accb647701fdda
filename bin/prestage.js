#!/usr/bin/env node
// `prestage` launcher: re-executes on the Node 24 that `npm install` put in node_modules
// when the caller's node is older, then runs the TypeScript CLI through tsx.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const node24 = join(here, '..', 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(node24)) {
    process.stderr.write(
      `prestage needs Node 24 or later (found ${process.version}); run 'npm install' first\n`,
    );
    process.exit(1);
  }
  const child = spawnSync(node24, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}
const { register } = await import('tsx/esm/api');
register();
await import('./prestage.ts');
