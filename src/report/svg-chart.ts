/**
 * Inline SVG charts for the self-contained HTML report: no external assets. Each chart carries its data in
 * a `data-chart` attribute so the page's inline script (chart-interactions.ts) can show values on hover;
 * without the script the charts still read as static pictures.
 */

/** Point symbols drawn along a line and in its legend, so lines that overlap can still be told apart. */
export type SymbolShape = 'circle' | 'ring' | 'triangle' | 'square' | 'diamond';

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly values: ArrayLike<number>;
  readonly strokeWidth?: number;
  readonly dash?: string;
  readonly symbol?: SymbolShape;
  /** Draw as a step function (each value holds for its whole slot), for counts such as cells. */
  readonly step?: boolean;
}

export interface ChartMarker {
  readonly atMs: number;
  readonly label: string;
}

export interface LineChartSpec {
  readonly title: string;
  readonly unit: string;
  /** Time of values[0]; every series shares the grid. */
  readonly startMs: number;
  readonly stepMs: number;
  readonly series: readonly ChartSeries[];
  /** Shade [startMs, shadeUntilMs) as the warm-up. */
  readonly shadeUntilMs?: number;
  readonly markers?: readonly ChartMarker[];
  readonly width?: number;
  readonly height?: number;
  /** Force the y axis to start at zero. @default true */
  readonly zeroBased?: boolean;
  readonly format?: (value: number) => string;
  /** Clip the axis here; higher values are drawn at the top edge. */
  readonly yMax?: number;
  /** Draw a stronger line at zero (for differences that change sign). */
  readonly zeroLine?: boolean;
  /** Significant digits of the values on hover. @default 3 */
  readonly hoverDigits?: number;
}

const PAD = { left: 58, right: 14, top: 30, bottom: 50 };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round ticks (1, 2, 5 × 10^k) covering [min, max]. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

export function defaultFormat(value: number): string {
  const abs = Math.abs(value);
  if (Number.isInteger(value) && abs < 1000) return String(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(0)}k`;
  if (abs >= 1000) return `${(value / 1e3).toFixed(1)}k`;
  if (abs >= 10 || value === 0) return value.toFixed(0);
  return value.toPrecision(2);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dayLabel(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** One symbol centred on (x, y); `r` is about half its width. */
export function symbolSvg(shape: SymbolShape, x: number, y: number, r: number, color: string): string {
  const f = (v: number) => v.toFixed(1);
  switch (shape) {
    case 'circle':
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r)}" fill="${color}"/>`;
    case 'ring':
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(r * 0.85)}" fill="#fff" stroke="${color}" stroke-width="1.5"/>`;
    case 'square':
      return `<rect x="${f(x - r * 0.85)}" y="${f(y - r * 0.85)}" width="${f(r * 1.7)}" height="${f(r * 1.7)}" fill="${color}"/>`;
    case 'triangle':
      return `<path d="M${f(x)} ${f(y - r * 1.1)}L${f(x + r)} ${f(y + r * 0.75)}L${f(x - r)} ${f(y + r * 0.75)}Z" fill="${color}"/>`;
    case 'diamond':
      return `<path d="M${f(x)} ${f(y - r * 1.2)}L${f(x + r)} ${f(y)}L${f(x)} ${f(y + r * 1.2)}L${f(x - r)} ${f(y)}Z" fill="${color}"/>`;
  }
}

/** Values for the hover script: NaN becomes null, and a few significant digits keep the page small. */
function compactValues(values: ArrayLike<number>, digits: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out.push(Number.isFinite(v) ? Number(v.toPrecision(digits + 1)) : null);
  }
  return out;
}

/**
 * One time chart: axes, grid, warm-up shading, markers, a line per series (gaps at NaN) with symbols every
 * few points, and a legend whose entries toggle their series. The SVG scales to its container's width.
 */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 250;
  const format = spec.format ?? defaultFormat;
  const n = Math.max(0, ...spec.series.map((s) => s.values.length));
  const endMs = spec.startMs + n * spec.stepMs;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of spec.series) {
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, spec.yMax === undefined ? v : Math.min(v, spec.yMax));
      }
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (spec.zeroBased ?? true) lo = Math.min(0, lo);
  if (spec.zeroLine) hi = Math.max(0, hi);
  const ticks = niceTicks(lo, hi);
  const yMin = ticks[0];
  const yMax = ticks[ticks.length - 1];
  const right = width - PAD.right;
  const bottom = height - PAD.bottom;
  const plotW = right - PAD.left;
  const plotH = bottom - PAD.top;
  const x = (ms: number) => PAD.left + ((ms - spec.startMs) / Math.max(1, endMs - spec.startMs)) * plotW;
  const y = (v: number) => bottom - ((Math.min(v, yMax) - yMin) / (yMax - yMin || 1)) * plotH;
  const hoverData = {
    plot: [PAD.left, PAD.top, right, bottom],
    y: [yMin, yMax],
    t: [spec.startMs, spec.stepMs],
    unit: spec.unit,
    series: spec.series.map((s) => ({
      name: s.name,
      color: s.color,
      symbol: s.symbol ?? 'circle',
      values: compactValues(s.values, spec.hoverDigits ?? 3),
    })),
  };
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}" data-chart="${escapeXml(JSON.stringify(hoverData))}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text x="${PAD.left}" y="17" class="chart-title">${escapeXml(spec.title)}</text>`,
    `<text x="${right}" y="17" class="chart-unit" text-anchor="end">${escapeXml(spec.unit)}</text>`,
  );
  if (spec.shadeUntilMs !== undefined && spec.shadeUntilMs > spec.startMs) {
    const x1 = x(Math.min(spec.shadeUntilMs, endMs));
    parts.push(
      `<rect x="${PAD.left}" y="${PAD.top}" width="${(x1 - PAD.left).toFixed(1)}" height="${plotH}" class="warmup"/>`,
      `<text x="${(PAD.left + 4).toFixed(1)}" y="${PAD.top + 12}" class="warmup-label">warm-up (not measured)</text>`,
    );
  }
  for (const tick of ticks) {
    const ty = y(tick).toFixed(1);
    parts.push(
      `<line x1="${PAD.left}" x2="${right}" y1="${ty}" y2="${ty}" class="${tick === 0 && spec.zeroLine ? 'zero' : 'grid'}"/>`,
      `<text x="${PAD.left - 6}" y="${ty}" dy="0.32em" text-anchor="end" class="tick">${escapeXml(format(tick))}</text>`,
    );
  }
  const dayMs = 86_400_000;
  const days = Math.max(1, Math.round((endMs - spec.startMs) / dayMs));
  const every = Math.max(1, Math.ceil(days / 8));
  for (let d = Math.ceil(spec.startMs / dayMs) * dayMs, i = 0; d <= endMs; d += dayMs, i++) {
    const tx = x(d).toFixed(1);
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${bottom}" y2="${bottom + 4}" class="axis"/>`);
    // Labels too close to the right edge would be clipped.
    if (i % every === 0 && x(d) < right - 18) {
      parts.push(
        `<text x="${tx}" y="${bottom + 16}" text-anchor="middle" class="tick">${dayLabel(d)}</text>`,
      );
    }
  }
  parts.push(`<line x1="${PAD.left}" x2="${right}" y1="${bottom}" y2="${bottom}" class="axis"/>`);
  for (const marker of spec.markers ?? []) {
    if (marker.atMs < spec.startMs || marker.atMs > endMs) continue;
    const mx = x(marker.atMs).toFixed(1);
    parts.push(
      `<line x1="${mx}" x2="${mx}" y1="${PAD.top}" y2="${bottom}" class="marker"><title>${escapeXml(marker.label)}</title></line>`,
      `<text x="${mx}" y="${PAD.top - 3}" text-anchor="middle" class="marker-label">${escapeXml(marker.label)}</text>`,
    );
  }
  // Symbols every ~1/10 of the width, staggered per series so coinciding lines show all their symbols.
  const symbolEvery = Math.max(1, Math.round(n / 10));
  spec.series.forEach((s, k) => {
    let d = '';
    let pen = false;
    const symbols: string[] = [];
    const offset = Math.round(((k + 0.5) * symbolEvery) / Math.max(1, spec.series.length));
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      const py = y(v).toFixed(1);
      if (s.step) {
        const x0 = x(spec.startMs + i * spec.stepMs).toFixed(1);
        const x1 = x(spec.startMs + (i + 1) * spec.stepMs).toFixed(1);
        d += `${pen ? 'L' : 'M'}${x0} ${py}L${x1} ${py}`;
      } else {
        d += `${pen ? 'L' : 'M'}${x(spec.startMs + (i + 0.5) * spec.stepMs).toFixed(1)} ${py}`;
      }
      pen = true;
      if (s.symbol && i % symbolEvery === offset % symbolEvery) {
        symbols.push(symbolSvg(s.symbol, x(spec.startMs + (i + 0.5) * spec.stepMs), y(v), 3.2, s.color));
      }
    }
    if (d === '') return;
    parts.push(
      `<g class="series" data-series="${k}"><path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.strokeWidth ?? 1.4}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"/>${symbols.join('')}</g>`,
    );
  });
  parts.push(legend(spec.series, PAD.left, height - 12, right));
  parts.push('</svg>');
  return parts.join('');
}

/** Legend entries as toggles (the script makes them clickable); wraps to a second row when needed. */
function legend(series: readonly ChartSeries[], left: number, baseline: number, right: number): string {
  const parts: string[] = [];
  let lx = left;
  let ly = baseline;
  const entryWidth = (s: ChartSeries) => 40 + s.name.length * 6.3;
  const total = series.reduce((sum, s) => sum + entryWidth(s), 0);
  if (total > right - left) ly -= 14;
  series.forEach((s, k) => {
    if (lx + entryWidth(s) > right) {
      lx = left;
      ly += 14;
    }
    parts.push(
      `<g class="legend-item" data-toggle="${k}" role="button" tabindex="0" aria-pressed="true">`,
      `<rect x="${lx - 2}" y="${ly - 11}" width="${entryWidth(s) - 8}" height="14" class="legend-hit"/>`,
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="${Math.max(2, s.strokeWidth ?? 2)}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      s.symbol ? symbolSvg(s.symbol, lx + 11, ly - 4, 3.2, s.color) : '',
      `<text x="${lx + 27}" y="${ly}" class="legend">${escapeXml(s.name)}</text></g>`,
    );
    lx += entryWidth(s);
  });
  return parts.join('');
}

export interface BarSegment {
  readonly value: number;
  readonly color: string;
  /** Shown on hover. */
  readonly tip: string;
  /** Written inside the segment when it is wide enough. */
  readonly label?: string;
}

export interface BarRow {
  readonly label: string;
  readonly segments: readonly BarSegment[];
  /** Written after the bar. */
  readonly note?: string;
  readonly emphasis?: boolean;
  readonly swatch?: string;
}

export interface BarChartSpec {
  readonly title: string;
  readonly unit: string;
  readonly rows: readonly BarRow[];
  /** The axis ends here; by default at the longest bar. */
  readonly max?: number;
  readonly format?: (value: number) => string;
  readonly legend?: readonly { readonly name: string; readonly color: string }[];
  /** A line of text in the legend's place, for charts whose bars need no legend. */
  readonly caption?: string;
  readonly width?: number;
  /** Room for the row labels on the left. @default 185 */
  readonly labelWidth?: number;
  /** Room for the notes on the right. @default 120 */
  readonly noteWidth?: number;
}

/** Horizontal stacked bars, one row per policy; every segment shows its value on hover (`data-tip`). */
export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? 640;
  const labelWidth = spec.labelWidth ?? 185;
  const noteWidth = spec.noteWidth ?? 120;
  const rowH = 26;
  const top = 30;
  const legendRows = spec.legend?.length || spec.caption ? 1 : 0;
  const height = top + spec.rows.length * rowH + 26 + legendRows * 18 + 6;
  const format = spec.format ?? defaultFormat;
  const left = labelWidth;
  const right = width - noteWidth;
  const totals = spec.rows.map((r) => r.segments.reduce((sum, s) => sum + s.value, 0));
  const ticks = niceTicks(0, spec.max ?? Math.max(...totals, 0), 4);
  const axisMax = spec.max ?? ticks[ticks.length - 1];
  const x = (v: number) => left + (v / (axisMax || 1)) * (right - left);
  const axisY = top + spec.rows.length * rowH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="bars" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text x="12" y="17" class="chart-title">${escapeXml(spec.title)}</text>`,
    `<text x="${width - 14}" y="17" class="chart-unit" text-anchor="end">${escapeXml(spec.unit)}</text>`,
  ];
  for (const tick of ticks) {
    if (tick > axisMax + 1e-9) continue;
    const tx = x(tick).toFixed(1);
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${top - 4}" y2="${axisY}" class="grid"/>`,
      `<text x="${tx}" y="${axisY + 14}" text-anchor="middle" class="tick">${escapeXml(format(tick))}</text>`,
    );
  }
  spec.rows.forEach((row, r) => {
    const y = top + r * rowH;
    parts.push(
      `<text x="${left - 8}" y="${y + rowH / 2}" dy="0.32em" text-anchor="end" class="bar-label${row.emphasis ? ' strong' : ''}">${escapeXml(row.label)}</text>`,
    );
    if (row.swatch) {
      parts.push(`<rect x="12" y="${y + rowH / 2 - 5}" width="10" height="10" rx="2" fill="${row.swatch}"/>`);
    }
    let acc = 0;
    for (const segment of row.segments) {
      if (!(segment.value > 0)) continue;
      const x0 = x(acc);
      const x1 = x(Math.min(axisMax, acc + segment.value));
      acc += segment.value;
      parts.push(
        `<rect x="${x0.toFixed(1)}" y="${y + 4}" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="${rowH - 8}" fill="${segment.color}" class="segment" data-tip="${escapeXml(segment.tip)}"/>`,
      );
      if (segment.label && x1 - x0 > segment.label.length * 6.2 + 6) {
        parts.push(
          `<text x="${((x0 + x1) / 2).toFixed(1)}" y="${y + rowH / 2}" dy="0.32em" text-anchor="middle" class="segment-label">${escapeXml(segment.label)}</text>`,
        );
      }
    }
    if (row.note) {
      parts.push(
        `<text x="${(x(Math.min(axisMax, acc)) + 6).toFixed(1)}" y="${y + rowH / 2}" dy="0.32em" class="bar-note${row.emphasis ? ' strong' : ''}">${escapeXml(row.note)}</text>`,
      );
    }
  });
  parts.push(`<line x1="${left}" x2="${right}" y1="${axisY}" y2="${axisY}" class="axis"/>`);
  let lx = left;
  const ly = height - 10;
  for (const item of spec.legend ?? []) {
    parts.push(
      `<rect x="${lx}" y="${ly - 9}" width="12" height="10" rx="2" fill="${item.color}"/>`,
      `<text x="${lx + 17}" y="${ly}" class="legend">${escapeXml(item.name)}</text>`,
    );
    lx += 32 + item.name.length * 6.3;
  }
  if (spec.caption)
    parts.push(`<text x="${left}" y="${ly}" class="legend">${escapeXml(spec.caption)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
