/**
 * Bundles dashboard-client.ts and what it imports into one minified browser script, with esbuild. Two users:
 * - client-script.ts, when prestage runs from its sources (tsx, vitest): it bundles once per process;
 * - scripts/build-cli.ts, through `inlineDashboardClientPlugin`: the compiled CLI gets the script as a string
 *   constant in place of client-script.ts, so it needs neither esbuild nor the sources at run time.
 *
 * Loaded by Node's type stripping from scripts/build-cli.ts: erasable TypeScript only.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_CLIENT_ENTRY = resolve(HERE, 'dashboard-client.ts');
const REPO_ROOT = resolve(HERE, '../../..');

export interface DashboardClientBundle {
  readonly code: string;
  /** Absolute paths of the source files in the bundle. */
  readonly inputs: readonly string[];
}

export async function bundleDashboardClient(): Promise<DashboardClientBundle> {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [DASHBOARD_CLIENT_ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  return {
    code: result.outputFiles[0].text,
    inputs: Object.keys(result.metafile.inputs).map((input) => resolve(REPO_ROOT, input)),
  };
}

/**
 * For the CLI build: replaces client-script.ts with the bundled script as a constant. `inputs` collects the
 * client's source files, so the build can list them with its own (the launcher rebuilds when one is newer).
 */
export function inlineDashboardClientPlugin(): { readonly plugin: Plugin; readonly inputs: string[] } {
  const inputs: string[] = [];
  const plugin: Plugin = {
    name: 'inline-dashboard-client',
    setup(esbuild) {
      esbuild.onLoad({ filter: /[\\/]live[\\/]dashboard[\\/]client-script\.ts$/ }, async () => {
        const bundle = await bundleDashboardClient();
        inputs.push(...bundle.inputs);
        return {
          contents: `export function dashboardClientScript() { return Promise.resolve(${JSON.stringify(bundle.code)}); }\n`,
          loader: 'js',
          resolveDir: HERE,
        };
      });
    },
  };
  return { plugin, inputs };
}
