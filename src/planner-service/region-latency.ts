/**
 * Inter-region round-trip latency for the planner's topology. The cells table knows regions, not latencies, so
 * the planner estimates them from where AWS regions are: RTT ≈ 5 ms + 2 × great-circle distance ÷ (200 km/ms,
 * light in fibre) × 1.25 (routes are not straight). Against typical public medians between AWS regions this
 * lands within 30% across oceans and within continents (us-east-1–eu-west-1: 73 vs ~68 ms;
 * us-east-1–ap-northeast-1: 141 vs ~145 ms), but it underestimates Europe–Asia routes, whose traffic detours
 * (eu-west-1–ap-northeast-1: 125 vs ~200 ms). The locality term compares placements with it; it does not promise
 * latencies. Measured figures, where an operator has them, go in as overrides.
 */

/** Approximate location (latitude, longitude) of each AWS region. */
export const REGION_COORDINATES: Readonly<Record<string, readonly [number, number]>> = {
  'us-east-1': [38.9, -77.4],
  'us-east-2': [40.0, -83.0],
  'us-west-1': [37.4, -121.9],
  'us-west-2': [45.8, -119.7],
  'ca-central-1': [45.5, -73.6],
  'ca-west-1': [51.0, -114.1],
  'mx-central-1': [20.6, -100.4],
  'sa-east-1': [-23.5, -46.6],
  'eu-west-1': [53.3, -6.3],
  'eu-west-2': [51.5, -0.1],
  'eu-west-3': [48.9, 2.4],
  'eu-central-1': [50.1, 8.7],
  'eu-central-2': [47.4, 8.5],
  'eu-north-1': [59.3, 18.1],
  'eu-south-1': [45.5, 9.2],
  'eu-south-2': [41.6, -0.9],
  'il-central-1': [32.1, 34.8],
  'me-south-1': [26.1, 50.6],
  'me-central-1': [24.5, 54.4],
  'af-south-1': [-33.9, 18.4],
  'ap-south-1': [19.1, 72.9],
  'ap-south-2': [17.4, 78.5],
  'ap-east-1': [22.3, 114.2],
  'ap-northeast-1': [35.7, 139.7],
  'ap-northeast-2': [37.6, 127.0],
  'ap-northeast-3': [34.7, 135.5],
  'ap-southeast-1': [1.3, 103.8],
  'ap-southeast-2': [-33.9, 151.2],
  'ap-southeast-3': [-6.2, 106.8],
  'ap-southeast-4': [-37.8, 145.0],
  'ap-southeast-5': [3.1, 101.7],
  'ap-southeast-7': [13.8, 100.5],
};

/** Used for a region this table does not know (and no override names). */
export const UNKNOWN_REGION_LATENCY_MS = 150;
/** Within one region (between availability zones). */
export const SAME_REGION_LATENCY_MS = 1;

const EARTH_RADIUS_KM = 6371;
const FIBRE_KM_PER_MS = 200;
const ROUTE_FACTOR = 1.25;
const BASE_MS = 5;

function distanceKm(
  [lat1, lon1]: readonly [number, number],
  [lat2, lon2]: readonly [number, number],
): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Estimated round trip between two regions, whole milliseconds. */
export function estimateLatencyMs(a: string, b: string): number {
  if (a === b) return SAME_REGION_LATENCY_MS;
  const pa = REGION_COORDINATES[a];
  const pb = REGION_COORDINATES[b];
  if (!pa || !pb) return UNKNOWN_REGION_LATENCY_MS;
  return Math.round(BASE_MS + ((2 * distanceKm(pa, pb)) / FIBRE_KM_PER_MS) * ROUTE_FACTOR);
}

export type LatencyOverrides = Readonly<Record<string, Readonly<Record<string, number>>>>;

/** A full latency matrix over `regions` (both directions), estimates unless `overrides` names the pair. */
export function latencyMatrix(
  regions: readonly string[],
  overrides: LatencyOverrides = {},
): Record<string, Record<string, number>> {
  const matrix: Record<string, Record<string, number>> = {};
  for (const a of regions) {
    matrix[a] = {};
    for (const b of regions) matrix[a][b] = overrides[a]?.[b] ?? overrides[b]?.[a] ?? estimateLatencyMs(a, b);
  }
  return matrix;
}
