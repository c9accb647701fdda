import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The worker's bootstrap (CommonJS, run with `eval`): it registers tsx, then imports the TypeScript module, so
 * the same module runs whether the CLI runs from its sources, from the esbuild bundle (whose chunks do not carry
 * the worker modules), or under vitest.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((tsx) => { tsx.register(); return import(workerData.moduleUrl); })
  .catch((error) => { process.nextTick(() => { throw error; }); });
`;

/** The repository's file at `relative` (`src/live/…`), found upward from this module (sources or dist/cli/chunks). */
function sourceFile(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${relative} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * Run a TypeScript module of this repository (`src/…`) on its own thread, with its own event loop: the piece
 * of the deployment that is a separate process in AWS. `data` reaches the module as `workerData.data`.
 */
export function startSourceWorker(relativePath: string, data: unknown): Worker {
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  const moduleUrl = pathToFileURL(sourceFile(relativePath)).href;
  return new Worker(BOOTSTRAP, { eval: true, workerData: { tsxApi, moduleUrl, data } });
}
