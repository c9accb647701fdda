/**
 * The page's script (bundled by client-bundler.ts and inlined by the server): polls `/api/snapshot` every
 * second, re-renders the panels with dashboard-panels.ts and replaces only those whose HTML changed, and shows
 * values on hover. Listeners sit on the document, so they outlive the panels' re-renders; when a chart under the
 * pointer is replaced, its reading is drawn again at the same place. A finished, stopped or failed run does not
 * change any more, so polling stops there.
 */
import type { LiveRunStatus, LiveSnapshot } from '../live-snapshot.ts';
import { browserGlobals, type DomElement, type DomEvent, eventElement } from './browser-dom.ts';
import { traceClockLabel } from './chart-geometry.ts';
import { hoverHtml, readHover, svgX } from './chart-hover.ts';
import { PANEL_IDS, type PanelId, renderPanels } from './dashboard-panels.ts';
import type { TimeChartHoverData } from './time-chart.ts';

/** How often the page asks for a snapshot. */
export const POLL_INTERVAL_MS = 1_000;
const FINAL_STATUSES: readonly LiveRunStatus[] = ['finished', 'stopped', 'failed'];
const SVG_NS = 'http://www.w3.org/2000/svg';

const { document, window } = browserGlobals();
const hidden = new Map<string, Set<string>>();
const shown = new Map<PanelId, string>();
let latest: LiveSnapshot | undefined;
let pointer: { x: number; y: number } | undefined;

const tip = document.createElement('div');
tip.className = 'tip';
tip.setAttribute('role', 'tooltip');
tip.hidden = true;
document.body.appendChild(tip);

function render(): void {
  if (!latest) return;
  const panels = renderPanels(latest, { hidden });
  let replaced = false;
  for (const id of PANEL_IDS) {
    if (shown.get(id) === panels[id]) continue;
    const element = document.getElementById(id);
    if (!element) continue;
    element.innerHTML = panels[id];
    shown.set(id, panels[id]);
    replaced = true;
  }
  document.title = `prestage up · ${latest.status} · ${traceClockLabel(latest.trace.nowMs)}`;
  if (replaced && pointer) hoverAt(pointer.x, pointer.y);
}

function setConnection(text: string, lost: boolean): void {
  const element = document.getElementById('connection');
  if (!element) return;
  element.textContent = text;
  element.classList.toggle('lost', lost);
}

async function poll(): Promise<void> {
  let next = POLL_INTERVAL_MS;
  try {
    const response = await fetch('/api/snapshot', { cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    latest = (await response.json()) as LiveSnapshot;
    render();
    const final = FINAL_STATUSES.includes(latest.status);
    setConnection(
      final ? `the run has ${latest.status}; updates stopped` : 'live, updated every second',
      false,
    );
    if (final) return;
  } catch (error) {
    setConnection(`lost the run (${(error as Error).message}); retrying`, true);
    next = 3 * POLL_INTERVAL_MS;
  }
  setTimeout(() => void poll(), next);
}

function placeTip(x: number, y: number): void {
  const gap = 14;
  let left = x + gap;
  let top = y + gap;
  if (left + tip.offsetWidth > window.innerWidth - 4) left = x - gap - tip.offsetWidth;
  if (top + tip.offsetHeight > window.innerHeight - 4) top = y - gap - tip.offsetHeight;
  tip.style.left = `${Math.max(4, left)}px`;
  tip.style.top = `${Math.max(4, top)}px`;
}

function showTip(html: string, x: number, y: number): void {
  tip.innerHTML = html;
  tip.hidden = false;
  placeTip(x, y);
}

function clearChartHover(): void {
  document.querySelector('.hover-layer')?.remove();
}

/** Crosshair and dots for a reading, in a layer of their own on top of the chart. */
function drawReading(
  svg: DomElement,
  x: number,
  rows: readonly { color: string; y: number }[],
  top: number,
  bottom: number,
): void {
  const layer = document.createElementNS(SVG_NS, 'g');
  layer.setAttribute('class', 'hover-layer');
  const cross = document.createElementNS(SVG_NS, 'line');
  cross.setAttribute('class', 'crosshair');
  for (const [name, value] of [
    ['x1', x],
    ['x2', x],
    ['y1', top],
    ['y2', bottom],
  ] as const)
    cross.setAttribute(name, String(value));
  layer.appendChild(cross);
  for (const row of rows) {
    const dot = document.createElementNS(SVG_NS, 'circle');
    dot.setAttribute('class', 'hover-dot');
    dot.setAttribute('r', '4.5');
    dot.setAttribute('cx', String(x));
    dot.setAttribute('cy', String(row.y));
    dot.setAttribute('fill', row.color);
    layer.appendChild(dot);
  }
  svg.appendChild(layer);
}

function hoverChart(area: DomElement, x: number, y: number): boolean {
  const svg = area.closest('svg[data-chart]');
  const raw = svg?.getAttribute('data-chart');
  if (!svg || !raw) return false;
  const data = JSON.parse(raw) as TimeChartHoverData;
  const viewBoxWidth = Number((svg.getAttribute('viewBox') ?? '0 0 1 1').split(' ')[2]);
  const box = svg.getBoundingClientRect();
  const reading = readHover(data, svgX(x, box.left, box.width, viewBoxWidth));
  if (!reading) return false;
  drawReading(svg, reading.x, reading.rows, data.plot[1], data.plot[3]);
  showTip(hoverHtml(data, reading), x, y);
  return true;
}

function escapeText(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Whatever is under the point: a chart's reading, an element's `data-tip`, or nothing. */
function hoverAt(x: number, y: number): void {
  clearChartHover();
  const element = document.elementFromPoint(x, y);
  const area = element?.closest('.hover-area');
  if (area && hoverChart(area, x, y)) return;
  const tipped = element?.closest('[data-tip]');
  const text = tipped?.getAttribute('data-tip');
  if (text) {
    showTip(escapeText(text), x, y);
    return;
  }
  tip.hidden = true;
}

function toggleSeries(item: DomElement): void {
  const chartId = item.closest('svg[data-chart-id]')?.getAttribute('data-chart-id');
  const name = item.getAttribute('data-toggle');
  if (!chartId || name === null) return;
  const set = hidden.get(chartId) ?? new Set<string>();
  if (!set.delete(name)) set.add(name);
  hidden.set(chartId, set);
  render();
  // The legend was drawn again: give the keyboard focus back to the same entry.
  const again = document.querySelector(
    `svg[data-chart-id="${attributeValue(chartId)}"] [data-toggle="${attributeValue(name)}"]`,
  );
  again?.focus();
}

/** Quote a value for an attribute selector (ids and series names are plain text). */
function attributeValue(value: string): string {
  return value.replace(/["\\]/g, '\\$&');
}

document.addEventListener(
  'pointermove',
  (event: DomEvent) => {
    pointer = { x: event.clientX, y: event.clientY };
    hoverAt(event.clientX, event.clientY);
  },
  { passive: true },
);
document.addEventListener('pointerleave', () => {
  pointer = undefined;
  clearChartHover();
  tip.hidden = true;
});
window.addEventListener(
  'scroll',
  () => {
    if (pointer) hoverAt(pointer.x, pointer.y);
  },
  { passive: true },
);
document.addEventListener('click', (event: DomEvent) => {
  const item = eventElement(event)?.closest('[data-toggle]');
  if (item) toggleSeries(item);
});
document.addEventListener('keydown', (event: DomEvent) => {
  if (event.key !== 'Enter' && event.key !== ' ') return;
  const item = eventElement(event)?.closest('[data-toggle]');
  if (!item) return;
  event.preventDefault();
  toggleSeries(item);
});

void poll();
