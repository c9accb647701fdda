import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceClockLabel } from '../../../src/live/dashboard/chart-geometry.ts';
import { type Dashboard, startDashboard } from '../../../src/live/dashboard/dashboard-server.ts';
import { DEMO_STEPS, demoSnapshot } from '../../../src/live/dashboard/demo-snapshots.ts';
import type { LiveSnapshot } from '../../../src/live/live-snapshot.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

// The live dashboard in headless Chromium, served by startDashboard from the demo run: every panel shows, the
// page follows the snapshot as it advances, hover shows values, nothing errs in the console, the page weighs
// under 300 KB, and the starting and finished states read right. Screenshots (1280×800 and a narrow window) are
// for a person to look at: they go to PRESTAGE_SCREENSHOTS when set (kept, and printed at the end), else to a
// temporary directory removed with the suite. Every wait is on a DOM condition.

/** Where to keep the screenshots; unset, they are written (the test reads one back) and removed. */
const KEEP_SCREENSHOTS = process.env.PRESTAGE_SCREENSHOTS || undefined;
/** Where Debian's chromium package puts the browser (`apt-get install -y chromium`). */
const CHROMIUM = process.env.PRESTAGE_CHROMIUM ?? '/usr/bin/chromium';
/** How long a DOM condition may take to hold: generous, as the machine running the suite may be loaded. */
const WAIT_MS = 30_000;

/** The part of playwright-core's API this test uses, so the suite typechecks without the package. */
interface Locator {
  nth(index: number): Locator;
  first(): Locator;
  locator(selector: string): Locator;
  count(): Promise<number>;
  boundingBox(): Promise<{ x: number; y: number; width: number; height: number } | null>;
  innerText(): Promise<string>;
  textContent(): Promise<string | null>;
  getAttribute(name: string): Promise<string | null>;
  isVisible(): Promise<boolean>;
  click(): Promise<void>;
  scrollIntoViewIfNeeded(): Promise<void>;
}
interface Page {
  on(event: 'console', fn: (msg: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', fn: (error: Error) => void): void;
  on(event: 'request', fn: (request: { url(): string }) => void): void;
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  mouse: { move(x: number, y: number): Promise<void> };
  evaluate<T>(expression: string): Promise<T>;
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<Buffer>;
  close(): Promise<void>;
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
interface Chromium {
  launch(options: { executablePath: string; args: string[] }): Promise<Browser>;
}

// A variable specifier: playwright-core is a devDependency that a checkout may not have installed yet.
const playwrightModule = 'playwright-core';
const chromium = await import(playwrightModule)
  .then((m: { chromium: Chromium }) => m.chromium)
  .catch(() => undefined);
const skipReason = !chromium
  ? 'playwright-core is not installed (npm install)'
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set PRESTAGE_CHROMIUM)`
    : undefined;
if (skipReason) console.warn(`dashboard browser test skipped: ${skipReason}`);

/** The demo run at a settable step; each snapshot is computed once. */
class SteppedSource {
  step = 0;
  private readonly cache = new Map<number, LiveSnapshot>();
  snapshot = (): LiveSnapshot => {
    let snapshot = this.cache.get(this.step);
    if (!snapshot) {
      snapshot = demoSnapshot(this.step);
      this.cache.set(this.step, snapshot);
    }
    return snapshot;
  };
}

/** Panels (and the header) whose boxes intersect, as "a × b"; empty when the layout has no overlap. */
const OVERLAPS = `(() => {
  const boxes = [...document.querySelectorAll('#header, main > section')].map((e) => [e.id, e.getBoundingClientRect()]);
  const out = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i];
      const [b, q] = boxes[j];
      if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5)
        out.push(a + ' × ' + b);
    }
  return out;
})()`;

describe.skipIf(skipReason !== undefined)('live dashboard in headless Chromium', () => {
  const source = new SteppedSource();
  const screenshots = KEEP_SCREENSHOTS ?? suiteTempDir('prestage-dashboard-');
  if (KEEP_SCREENSHOTS) mkdirSync(KEEP_SCREENSHOTS, { recursive: true });
  const problems: string[] = [];
  const requests: string[] = [];
  let dashboard: Dashboard;
  let browser: Browser;
  let page: Page;

  /**
   * Polls a DOM condition until it holds. (Playwright's waitForFunction evaluates a string with `eval`, which the
   * page's Content-Security-Policy forbids; `page.evaluate` is not subject to it.)
   */
  async function waitFor(expression: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await page.evaluate<boolean>(expression))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Loads the page at a step of the demo run and waits until the client has drawn that step. */
  async function open(step: number): Promise<void> {
    source.step = step;
    await page.goto(dashboard.url);
    await waitFor(
      `document.querySelector('#header [data-status]')?.getAttribute('data-status') === ${JSON.stringify(source.snapshot().status)} && document.getElementById('trace-clock')?.textContent === ${JSON.stringify(traceClockLabel(source.snapshot().trace.nowMs))}`,
    );
  }

  beforeAll(async () => {
    dashboard = await startDashboard({ port: 0, snapshot: source.snapshot });
    browser = await chromium!.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => requests.push(request.url()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    if (!skipReason && KEEP_SCREENSHOTS) console.log(`dashboard screenshots: ${screenshots}`);
  });

  it('shows every panel of a run in progress, asks only its own server, and logs no error', async () => {
    await open(60);
    const snapshot = source.snapshot();
    expect(await page.locator('#header h1').innerText()).toBe('prestage up');
    expect(await page.locator('#header .loop').innerText()).toBe('loop on');
    for (const id of ['p50', 'p99', 'local-share', 'errors']) {
      expect(await page.locator(`#${id} svg .series`).count()).toBeGreaterThan(0);
    }
    const cells = page.locator('#placement .cell');
    expect(await cells.count()).toBe(snapshot.cells.length);
    expect(await page.locator('#placement .tile[data-partition]').count()).toBe(
      snapshot.cells.reduce((n, c) => n + c.partitions.length, 0),
    );
    expect(await page.locator('#migrations li.migration').count()).toBe(snapshot.migrations.length);
    expect(await page.locator('#plan ol.moves > li').count()).toBe(snapshot.plan!.moves.length);
    expect(await page.locator('#plan ul.reasons li').first().innerText()).toBe(
      snapshot.plan!.moves[0].reasons[0],
    );
    expect(await page.locator('#forecasts svg').count()).toBe(snapshot.forecasts.length);
    expect(await page.locator('#cells tbody tr').count()).toBe(snapshot.cellEvents.length);
    expect(await page.locator('#p50 .marker').count()).toBe(snapshot.cellEvents.length);
    await page.screenshot({ path: join(screenshots, 'dashboard-1280x800.png') });
    await page.screenshot({ path: join(screenshots, 'dashboard-1280-full.png'), fullPage: true });
    const png = readFileSync(join(screenshots, 'dashboard-1280x800.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(await page.evaluate<string[]>(OVERLAPS)).toEqual([]);
    expect(problems).toEqual([]);
    const origin = new URL(dashboard.url).origin;
    expect(requests.filter((url) => !url.startsWith(origin))).toEqual([]);
  });

  it('weighs under 300 KB: the page, its script and its stylesheet are one response', async () => {
    const response = await fetch(dashboard.url);
    const bytes = (await response.arrayBuffer()).byteLength;
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(300 * 1024);
  });

  it('follows the snapshot: the trace clock, the totals and the placement change when the run advances', async () => {
    await open(30);
    const clockBefore = await page.locator('#trace-clock').innerText();
    const requestsBefore = await page.locator('#header .stat').first().innerText();
    source.step = 50;
    const expected = traceClockLabel(source.snapshot().trace.nowMs);
    expect(expected).not.toBe(clockBefore);
    await waitFor(`document.getElementById('trace-clock')?.textContent === ${JSON.stringify(expected)}`);
    expect(await page.locator('#header .stat').first().innerText()).not.toBe(requestsBefore);
    expect(await page.locator('#header .stat').first().innerText()).toContain(
      source.snapshot().totals.requests.toLocaleString('en-US'),
    );
    // Step 50 is after the cell was added: the new cell is in the placement view and on the timeline.
    expect(await page.locator('#placement [data-cell="ap-northeast-1-c5"]').count()).toBe(1);
    expect(await page.locator('#p99 .marker').count()).toBe(1);
    expect(problems).toEqual([]);
  });

  it('shows each region’s value under the pointer, and keeps a switched-off line off across updates', async () => {
    await open(60);
    const chart = page.locator('#p50 svg');
    const area = (await chart.locator('.hover-area').boundingBox())!;
    await page.mouse.move(area.x + area.width * 0.3, area.y + area.height / 2);
    const tip = page.locator('.tip');
    await waitFor(`!document.querySelector('.tip').hidden`);
    const text = await tip.innerText();
    for (const region of source.snapshot().regions) expect(text).toContain(region);
    expect(text).toMatch(/^Apr \d\d \d\d:\d\d UTC/);
    expect(text).toMatch(/\d ms/);
    expect(await chart.locator('.crosshair').count()).toBe(1);
    await page.screenshot({ path: join(screenshots, 'dashboard-hover-chart.png') });

    const legend = chart.locator('[data-toggle="eu-west-1"]');
    await legend.click();
    await waitFor(
      `document.querySelector('#p50 [data-toggle="eu-west-1"]')?.getAttribute('aria-pressed') === 'false'`,
    );
    source.step = 62;
    await waitFor(
      `document.getElementById('trace-clock')?.textContent === ${JSON.stringify(traceClockLabel(source.snapshot().trace.nowMs))}`,
    );
    expect(await chart.locator('[data-toggle="eu-west-1"]').getAttribute('aria-pressed')).toBe('false');
    expect(await chart.locator('.series.hidden').count()).toBe(1);
    await chart.locator('[data-toggle="eu-west-1"]').click();
    await waitFor(`document.querySelectorAll('#p50 .series.hidden').length === 0`);

    const tile = page.locator('#placement .tile.remote').first();
    const box = (await tile.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await waitFor(`document.querySelector('.tip').innerText.includes('ops/s measured')`);
    await page.screenshot({ path: join(screenshots, 'dashboard-hover.png') });
    expect(problems).toEqual([]);
  });

  it('reads right before anything is measured', async () => {
    await open(0);
    expect(await page.locator('#header .status').innerText()).toBe('starting');
    expect(await page.locator('#p50 svg').textContent()).toContain('waiting for the first measured bucket');
    expect(await page.locator('#placement').innerText()).toContain('No cells yet');
    expect(await page.locator('#plan').innerText()).toContain('No plan yet');
    expect(await page.locator('#forecasts').innerText()).toContain('No forecasts yet');
    await page.screenshot({ path: join(screenshots, 'dashboard-starting.png') });
    expect(problems).toEqual([]);
  });

  it('reads right when the run has finished, and stops polling', async () => {
    await open(DEMO_STEPS - 1);
    expect(await page.locator('#header .status').innerText()).toBe('finished');
    expect(await page.locator('#header .progress').innerText()).toBe('100% of the window');
    expect(await page.locator('#migrations').innerText()).toContain('No migration in flight');
    await waitFor(`document.getElementById('connection')?.textContent.includes('updates stopped')`);
    await page.screenshot({ path: join(screenshots, 'dashboard-finished.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('fits a narrow window: one column, nothing wider than the window, no panel over another', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    await open(60);
    expect(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).toBe(
      true,
    );
    expect(await page.evaluate<string[]>(OVERLAPS)).toEqual([]);
    const p50 = (await page.locator('#p50').boundingBox())!;
    const p99 = (await page.locator('#p99').boundingBox())!;
    expect(p99.y).toBeGreaterThanOrEqual(p50.y + p50.height);
    await page.screenshot({ path: join(screenshots, 'dashboard-narrow.png') });
    await page.screenshot({ path: join(screenshots, 'dashboard-narrow-full.png'), fullPage: true });
    await page.locator('#placement').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(screenshots, 'dashboard-narrow-placement.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(problems).toEqual([]);
  });
});
