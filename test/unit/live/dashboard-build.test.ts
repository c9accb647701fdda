import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bundleDashboardClient,
  DASHBOARD_CLIENT_ENTRY,
  inlineDashboardClientPlugin,
} from '../../../src/live/dashboard/client-bundler.ts';
import { inlineScript } from '../../../src/live/dashboard/dashboard-page.ts';

// The compiled CLI carries the dashboard's browser script: built as scripts/build-cli.ts builds (ESM, Node,
// packages external, the same plugin), the server module holds the script as a constant, imports neither
// esbuild nor the bundler, and serves the page from a plain `node` process with no TypeScript loader.

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
// Under the repository (out/ is ignored), so the bundle's external packages resolve from node_modules.
const outRoot = join(REPO_ROOT, 'out');
mkdirSync(outRoot, { recursive: true });
const outdir = mkdtempSync(join(outRoot, 'dashboard-build-'));

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('the dashboard in a compiled build', () => {
  it('inlines the bundled client script in place of the on-demand bundler, and serves it from plain node', async () => {
    const dashboardClient = inlineDashboardClientPlugin();
    await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: { 'dashboard-server': 'src/live/dashboard/dashboard-server.ts' },
      outdir,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node24',
      packages: 'external',
      logLevel: 'silent',
      plugins: [dashboardClient.plugin],
    });
    expect(dashboardClient.inputs).toContain(DASHBOARD_CLIENT_ENTRY);
    const built = readdirSync(outdir)
      .map((file) => readFileSync(join(outdir, file), 'utf8'))
      .join('\n');
    expect(built).not.toMatch(/from ["']esbuild["']|client-bundler/);

    const serve = `
      const { startDashboard } = await import(${JSON.stringify(join(outdir, 'dashboard-server.js'))});
      const snapshot = () => ({ status: 'starting' });
      const dashboard = await startDashboard({ port: 0, snapshot });
      const page = await (await fetch(dashboard.url)).text();
      const json = await (await fetch(dashboard.url + 'api/snapshot')).json();
      await dashboard.close();
      process.stdout.write(JSON.stringify({ page, json }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', serve], {
      cwd: REPO_ROOT,
    });
    const { page, json } = JSON.parse(stdout) as { page: string; json: unknown };
    const { code } = await bundleDashboardClient();
    expect(page).toContain(`<script>${inlineScript(code)}</script>`);
    expect(json).toEqual({ status: 'starting' });
  });
});
