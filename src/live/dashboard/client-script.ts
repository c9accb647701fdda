/**
 * The page's script, bundled from dashboard-client.ts. From the sources it is bundled on first use (esbuild is
 * a dev dependency, there whenever the sources run); the compiled CLI replaces this module with the bundled
 * string (client-bundler.ts's `inlineDashboardClientPlugin`), so this body never runs there.
 */
let bundled: Promise<string> | undefined;

export function dashboardClientScript(): Promise<string> {
  bundled ??= import('./client-bundler.ts').then(async ({ bundleDashboardClient }) => {
    const { code } = await bundleDashboardClient();
    return code;
  });
  return bundled;
}
