/** Inline SVG line charts for the self-contained HTML report (no scripts, no external assets). */

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly values: ArrayLike<number>;
  readonly strokeWidth?: number;
  readonly dash?: string;
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
}

const PAD = { left: 58, right: 12, top: 30, bottom: 34 };

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

function defaultFormat(value: number): string {
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

/** One chart: axes, grid, warm-up shading, markers, a polyline per series (gaps at NaN) and a legend. */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 230;
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
  const ticks = niceTicks(lo, hi);
  const yMin = ticks[0];
  const yMax = ticks[ticks.length - 1];
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (ms: number) => PAD.left + ((ms - spec.startMs) / Math.max(1, endMs - spec.startMs)) * plotW;
  const y = (v: number) => PAD.top + plotH - ((v - yMin) / (yMax - yMin || 1)) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<text x="${PAD.left}" y="16" class="chart-title">${escapeXml(spec.title)}</text>`,
    `<text x="${width - PAD.right}" y="16" class="chart-unit" text-anchor="end">${escapeXml(spec.unit)}</text>`,
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
      `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${ty}" y2="${ty}" class="grid"/>`,
      `<text x="${PAD.left - 6}" y="${ty}" dy="0.32em" text-anchor="end" class="tick">${escapeXml(format(tick))}</text>`,
    );
  }
  const dayMs = 86_400_000;
  const days = Math.max(1, Math.round((endMs - spec.startMs) / dayMs));
  const every = Math.max(1, Math.ceil(days / 8));
  for (let d = Math.ceil(spec.startMs / dayMs) * dayMs, i = 0; d <= endMs; d += dayMs, i++) {
    const tx = x(d).toFixed(1);
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}" class="axis"/>`,
    );
    // Labels too close to the right edge would be clipped.
    if (i % every === 0 && x(d) < width - PAD.right - 18) {
      parts.push(
        `<text x="${tx}" y="${PAD.top + plotH + 16}" text-anchor="middle" class="tick">${dayLabel(d)}</text>`,
      );
    }
  }
  parts.push(
    `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" class="axis"/>`,
  );
  for (const marker of spec.markers ?? []) {
    if (marker.atMs < spec.startMs || marker.atMs > endMs) continue;
    const mx = x(marker.atMs).toFixed(1);
    parts.push(
      `<line x1="${mx}" x2="${mx}" y1="${PAD.top}" y2="${PAD.top + plotH}" class="marker"><title>${escapeXml(marker.label)}</title></line>`,
      `<text x="${mx}" y="${PAD.top - 3}" text-anchor="middle" class="marker-label">${escapeXml(marker.label)}</text>`,
    );
  }
  for (const s of spec.series) {
    let d = '';
    let pen = false;
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      const px = x(spec.startMs + (i + 0.5) * spec.stepMs).toFixed(1);
      const py = y(Math.min(v, yMax)).toFixed(1);
      d += `${pen ? 'L' : 'M'}${px} ${py}`;
      pen = true;
    }
    if (d === '') continue;
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.strokeWidth ?? 1.3}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} stroke-linejoin="round"><title>${escapeXml(s.name)}</title></path>`,
    );
  }
  let lx = PAD.left;
  const ly = height - 6;
  for (const s of spec.series) {
    parts.push(
      `<line x1="${lx}" x2="${lx + 16}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="${Math.max(2, s.strokeWidth ?? 2)}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text x="${lx + 20}" y="${ly}" class="legend">${escapeXml(s.name)}</text>`,
    );
    lx += 28 + s.name.length * 6.4;
  }
  parts.push('</svg>');
  return parts.join('');
}
