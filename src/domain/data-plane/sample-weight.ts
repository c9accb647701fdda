/**
 * A sampled request's weight: the reads and writes of real traffic one request stands for. A replay that sends one
 * request per many of a trace (`prestage up`) declares it in `x-prestage-sample-weight`, so the access recorders
 * count the trace's demand rather than the sample's, as a metrics client declares its sample rate. Only an
 * interceptor built to trust it reads the header (a local replay's listeners); a deployed one counts every request
 * as one, since it sees all of them, and a client cannot inflate its counts.
 */
export interface SampleWeight {
  readonly reads: number;
  readonly writes: number;
  /**
   * The instant (epoch ms, on the replay's clock) whose demand the weight is a share of: a replay that falls
   * behind sends a request late, and a recorder built to count at this instant (`prestage up`'s listeners) counts
   * it in the bucket it stands for rather than the one it arrives in. Absent: counted on arrival.
   */
  readonly atMs?: number;
}

export const SAMPLE_WEIGHT_HEADER = 'x-prestage-sample-weight';

/** The largest weight one request may carry (a bound on what one header can add to a counter). */
export const MAX_SAMPLE_WEIGHT = 1e12;

/** The latest instant a weight may name (the largest epoch ms a JavaScript Date holds). */
export const MAX_SAMPLE_WEIGHT_AT_MS = 8.64e15;

/** `reads=12.5,writes=0.25` for the header, `…,at=1425999600000` when it names its instant. */
export function formatSampleWeight(weight: SampleWeight): string {
  const at = weight.atMs === undefined ? '' : `,at=${weight.atMs}`;
  return `reads=${weight.reads},writes=${weight.writes}${at}`;
}

/**
 * Parse the header's value: `reads=R,writes=W`, each a finite number in [0, MAX_SAMPLE_WEIGHT], both present,
 * not both 0, and optionally `at=T`, an integer epoch ms in [0, MAX_SAMPLE_WEIGHT_AT_MS]. Returns a message
 * naming what is wrong instead of a weight.
 */
export function parseSampleWeight(value: string): SampleWeight | string {
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const [name, raw, extra] = part.split('=').map((s) => s.trim());
    if (!name || raw === undefined || extra !== undefined) return `'${part.trim()}' is not name=number`;
    if (fields.has(name)) return `'${name}' is given twice`;
    fields.set(name, raw);
  }
  const numbers: Record<string, number> = {};
  for (const name of ['reads', 'writes']) {
    const raw = fields.get(name);
    if (raw === undefined) return `'${name}' is missing`;
    const n = Number(raw);
    if (raw === '' || !Number.isFinite(n) || n < 0 || n > MAX_SAMPLE_WEIGHT)
      return `${name} must be a number from 0 to ${MAX_SAMPLE_WEIGHT}, got '${raw}'`;
    numbers[name] = n;
    fields.delete(name);
  }
  const rawAt = fields.get('at');
  fields.delete('at');
  if (fields.size > 0) return `unknown field '${[...fields.keys()][0]}'`;
  if (numbers.reads + numbers.writes <= 0) return 'reads and writes are both 0';
  if (rawAt === undefined) return { reads: numbers.reads, writes: numbers.writes };
  const atMs = Number(rawAt);
  if (rawAt === '' || !Number.isInteger(atMs) || atMs < 0 || atMs > MAX_SAMPLE_WEIGHT_AT_MS)
    return `at must be an integer epoch ms from 0 to ${MAX_SAMPLE_WEIGHT_AT_MS}, got '${rawAt}'`;
  return { reads: numbers.reads, writes: numbers.writes, atMs };
}
