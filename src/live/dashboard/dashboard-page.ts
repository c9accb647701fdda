/**
 * The page `GET /` serves: an empty frame for each panel, the stylesheet and the client script, all inline (the
 * page works offline and loads nothing else). The client fills the panels from `/api/snapshot` at once and on
 * every poll, so the page weighs the same whatever the run's length.
 */
import type { PanelId } from './dashboard-panels.ts';
import { DASHBOARD_CSS } from './dashboard-style.ts';

/** Each panel's frame: its classes in the grid (wide panels span two columns; the plan runs two rows deep). */
const FRAMES: Record<PanelId, string> = {
  header: '',
  p50: 'panel chart-panel',
  p99: 'panel chart-panel',
  'local-share': 'panel chart-panel',
  placement: 'panel span-2',
  migrations: 'panel',
  forecasts: 'panel span-2',
  plan: 'panel tall',
  errors: 'panel chart-panel',
  cells: 'panel',
};

/**
 * Nothing but the page itself and its own origin: scripts and styles are inline, the snapshot comes from
 * `/api/snapshot`. It also makes the browser test fail on any request elsewhere.
 */
export const DASHBOARD_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

/** Keep a `</script` inside the bundle from ending the inline script early. */
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

export function renderDashboardPage(clientScript: string): string {
  const panels = (Object.keys(FRAMES) as PanelId[])
    .filter((id) => id !== 'header')
    .map((id) => `<section id="${id}" class="${FRAMES[id]}" aria-live="off"></section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>prestage up</title>
<style>${DASHBOARD_CSS}</style></head><body>
<div class="page">
<header id="header"><div class="title-row"><h1>prestage up</h1><span class="status status-starting">connecting</span></div></header>
<main class="panels">
${panels}
</main>
<footer><span id="connection" class="connection">connecting to the run…</span> · trace times are UTC · hover a chart, tile or badge for values; click a legend entry to hide its line</footer>
</div>
<script>${inlineScript(clientScript)}</script>
</body></html>
`;
}
