/**
 * How the report looks, apart from what it shows: each policy's line style, the wide panels' width and the
 * page's stylesheet. The stylesheet is inlined in the page so that the report works offline as a single file.
 */
import type { PolicyName } from '../domain/simulation/simulation-options.ts';
import type { SymbolShape } from './svg-chart.ts';

export interface PolicyStyle {
  readonly color: string;
  readonly width: number;
  readonly dash?: string;
  readonly symbol: SymbolShape;
}

/**
 * Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), and a dash pattern and a
 * symbol each, so reactive, predictive and oracle, which often run close together, stay apart in print.
 */
export const POLICY_STYLES: Record<PolicyName, PolicyStyle> = {
  static: { color: '#7a7a7a', width: 1.4, symbol: 'ring' },
  reactive: { color: '#d55e00', width: 1.5, dash: '7 4', symbol: 'triangle' },
  'replicate-all': { color: '#cc79a7', width: 1.5, dash: '2 3', symbol: 'square' },
  predictive: { color: '#0072b2', width: 2.6, symbol: 'circle' },
  oracle: { color: '#009e73', width: 1.6, dash: '11 3 2 3', symbol: 'diamond' },
};

/** Wide panels (demand, latency) span both columns of the chart grid: 2 × 640 + the 24 px gap. */
export const WIDE_PANEL_WIDTH = 1304;

/** The contents of the page's `<style>` element. */
export const REPORT_STYLESHEET = `body{font:14px/1.45 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d2329;margin:24px 32px;max-width:1304px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:30px 0 8px}
.sub{color:#5f6b76;margin:0 0 14px}
.banner{background:#fff4d6;border:1px solid #f0c36d;padding:10px 14px;border-radius:6px;margin:12px 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:8px 0}
dl.facts dt{color:#5f6b76}dl.facts dd{margin:0}
table{border-collapse:collapse}
table.metrics th,table.metrics td{padding:5px 9px;border-bottom:1px solid #e3e7eb;text-align:right;white-space:nowrap}
table.metrics th:first-child,table.metrics td:first-child{text-align:left}
table.metrics th{font-weight:600;font-size:12px;vertical-align:bottom}
.unit{font-weight:400;color:#7a8691}
tr.prestage td{background:#e3f0fd;font-weight:600}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
table.targets td{padding:5px 9px;border-bottom:1px solid #e3e7eb}
table.targets td.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;min-width:38px;text-align:center;padding:1px 6px;border-radius:4px;font-weight:700;font-size:12px}
.pass{background:#d8f3dc;color:#1b5e20}.fail{background:#fde0e0;color:#b71c1c}.na{background:#eceff1;color:#546e7a}
.charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px 24px}
.charts .wide{grid-column:1/-1}
.panel svg{display:block;width:100%;height:auto}
svg{background:#fff;border:1px solid #e3e7eb;border-radius:6px;box-sizing:border-box}
.note{color:#5f6b76;margin:4px 0 10px;max-width:1000px}
.hint{color:#7a8691;font-size:12px;margin:0 0 10px}
.chart-title{font-size:13px;font-weight:600;fill:#1d2329}.chart-unit{font-size:11px;fill:#7a8691}
.tick{font-size:10px;fill:#5f6b76}.legend{font-size:11px;fill:#1d2329}
.grid{stroke:#eef1f4}.axis{stroke:#9aa5b1}.zero{stroke:#9aa5b1;stroke-dasharray:4 3}
.warmup{fill:#f3f4f6}.warmup-label{font-size:10px;fill:#9aa5b1}
.marker{stroke:#c62828;stroke-dasharray:3 3}.marker-label{font-size:9px;fill:#c62828}
.bar-label{font-size:12px;fill:#1d2329}.bar-note{font-size:11px;fill:#37474f}.strong{font-weight:700}
.segment-label{font-size:10px;fill:#fff;pointer-events:none}
.segment:hover{stroke:#1d2329;stroke-width:1}
.legend-item{cursor:pointer}.legend-item.off{opacity:.35}.legend-hit{fill:transparent}
.legend-item:focus{outline:none}.legend-item:focus .legend-hit{stroke:#0072b2}
.series.hidden{display:none}
svg.focusing .series{opacity:.18}svg.focusing .series.focused{opacity:1}
.hover-area{fill:transparent;cursor:crosshair}
.crosshair{stroke:#37474f;stroke-width:1;stroke-dasharray:2 2;pointer-events:none}
.hover-dot{stroke:#fff;stroke-width:1.5;pointer-events:none}
.tip{position:absolute;z-index:10;background:#fff;border:1px solid #c9d1d9;border-radius:6px;box-shadow:0 2px 8px rgba(0,0,0,.15);padding:6px 9px;font-size:12px;pointer-events:none;max-width:360px}
.tip[hidden]{display:none}
.tip-time{font-weight:600;margin-bottom:3px}
.tip table td{padding:1px 4px}.tip-value{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.tip-swatch{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:5px}
footer{color:#5f6b76;font-size:12px;margin-top:28px}
@media (max-width:900px){.charts{grid-template-columns:1fr}}`;
