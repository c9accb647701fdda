/**
 * The dashboard's colours. Regions take Okabe–Ito hues (told apart with the common colour-vision deficiencies),
 * in the order the snapshot lists the regions, so a region keeps its colour on every panel; each region also
 * has a symbol and a dash pattern, so the lines can be told apart without colour.
 */
import type { SymbolShape } from '../../report/svg-chart.ts';

const REGION_HUES = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#d55e00', '#56b4e9', '#f0e442'] as const;
const REGION_SYMBOLS: readonly SymbolShape[] = ['circle', 'triangle', 'square', 'diamond', 'ring'];
const REGION_DASHES: readonly (string | undefined)[] = [undefined, '7 3', '2 3', '10 3 2 3'];

/** A partition whose predicted region is not known yet. */
export const UNKNOWN_REGION_COLOR = '#b8c0c8';

export interface RegionStyle {
  readonly color: string;
  readonly symbol: SymbolShape;
  readonly dash: string | undefined;
}

export function regionStyle(regions: readonly string[], region: string | null): RegionStyle {
  const index = region === null ? -1 : regions.indexOf(region);
  if (index < 0) return { color: UNKNOWN_REGION_COLOR, symbol: 'ring', dash: '2 2' };
  return {
    color: REGION_HUES[index % REGION_HUES.length],
    symbol: REGION_SYMBOLS[index % REGION_SYMBOLS.length],
    dash: REGION_DASHES[index % REGION_DASHES.length],
  };
}

/** Forecast panels: the measured line is solid and dark, the forecast dashed in the accent blue. */
export const ACTUAL_COLOR = '#1d2329';
export const FORECAST_COLOR = '#0072b2';
/** Error panel: write errors in vermillion, 503s in reddish purple (both Okabe–Ito). */
export const WRITE_ERROR_COLOR = '#d55e00';
export const HTTP_503_COLOR = '#cc79a7';
