/**
 * `npm run build` (and `prepare`, so `npm install` and `npm ci` run it): compiles the `prestage` CLI from
 * bin/prestage.ts into dist/cli/ with esbuild, so bin/prestage.js starts without transpiling TypeScript.
 *
 * - Packages stay external: node_modules is next to dist/, and native or WASM packages (dynalite's
 *   leveldb, HiGHS) load as they do from the sources.
 * - Code splitting keeps each command's module in its own chunk, loaded by the command registry's dynamic
 *   imports, so `prestage --help` loads neither the AWS SDK nor dynalite nor the CDK.
 * - The live dashboard's browser script is bundled on its own and carried as a string constant
 *   (src/live/dashboard/client-bundler.ts), so the compiled CLI serves it without esbuild or the sources.
 * - dist/cli/inputs.json lists the source files the bundle was built from; the launcher falls back to the
 *   sources (through tsx) when any of them is newer than the bundle, so an edit is never run stale.
 *
 * Runs on Node 24's type stripping (`node scripts/build-cli.ts`): erasable TypeScript only.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inlineDashboardClientPlugin } from '../src/live/dashboard/client-bundler.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUTDIR = join(REPO_ROOT, 'dist', 'cli');
/** Written last, so its presence means a complete build. */
export const INPUTS_FILE = 'inputs.json';

export interface BuildManifest {
  /** Source files (relative to the repository root) the bundle was compiled from. */
  readonly inputs: readonly string[];
}

/** Compile the CLI into `outdir` (emptied first); returns the source files it was built from. */
export async function buildCli(outdir: string = CLI_OUTDIR): Promise<BuildManifest> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const dashboardClient = inlineDashboardClientPlugin();
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: { prestage: 'bin/prestage.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [dashboardClient.plugin],
  });
  const inputs = [
    ...new Set([
      ...Object.keys(result.metafile.inputs).map((input) => relative(REPO_ROOT, resolve(REPO_ROOT, input))),
      ...dashboardClient.inputs.map((input) => relative(REPO_ROOT, input)),
    ]),
  ].sort();
  const manifest: BuildManifest = { inputs };
  writeFileSync(join(outdir, INPUTS_FILE), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const { inputs } = await buildCli();
  process.stdout.write(
    `prestage: compiled the CLI from ${inputs.length} source files into ${relative(REPO_ROOT, CLI_OUTDIR)}/ in ${Math.round(performance.now() - started)} ms\n`,
  );
}
