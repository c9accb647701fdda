/**
 * Compression of real-shaped values by the data tables' value codec (zstd level 3 where node:zlib has it,
 * brotli quality 5 otherwise), and what the storage policy (compress at ≥ 1 KiB of JSON) saves overall.
 *
 * Values are JSON documents built from the real series in data/real, the way an application would store
 * metrics: per series and window, `{"series","unit","start","step","points":[{"t","v"}...]}`.
 * - hourly windows of the NAB tweet-volume series (12 points, ~0.7 KB: below the threshold);
 * - daily windows of NAB tweets and AWS CloudWatch series (288 points, ~15 KB);
 * - weekly windows of the Prophet pedestrian counts (168 points, two locations per point).
 *
 * Run: npx tsx bench/value-compression.ts   (writes bench/results/value-compression.json)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeValue, encodeValue, preferredCompression } from '../src/data-plane/value-codec.ts';
import { DEFAULT_COMPRESSION_THRESHOLD_BYTES } from '../src/domain/data-plane/item-rules.ts';

function rows(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));
}

function windows(
  series: string,
  unit: string,
  data: string[][],
  size: number,
  toPoint: (row: string[]) => object,
) {
  const out: string[] = [];
  for (let i = 0; i + size <= data.length; i += size) {
    const chunk = data.slice(i, i + size);
    out.push(JSON.stringify({ series, unit, start: chunk[0][0], step: '5m', points: chunk.map(toPoint) }));
  }
  return out;
}

const tweets = readdirSync('data/real/nab/realTweets').filter((f) => f.endsWith('.csv'));
const cloudwatch = readdirSync('data/real/nab/realAWSCloudwatch').filter((f) => f.endsWith('.csv'));
const point = (r: string[]) => ({ t: r[0], v: Number(r[1]) });
const sets: Record<string, string[]> = {
  'tweets, hourly (12 points)': tweets.flatMap((f) =>
    windows(f, 'mentions', rows(join('data/real/nab/realTweets', f)), 12, point).slice(0, 400),
  ),
  'tweets, daily (288 points)': tweets.flatMap((f) =>
    windows(f, 'mentions', rows(join('data/real/nab/realTweets', f)), 288, point),
  ),
  'cloudwatch, daily (288 points)': cloudwatch.flatMap((f) =>
    windows(f, 'metric', rows(join('data/real/nab/realAWSCloudwatch', f)), 288, point),
  ),
  'pedestrians, weekly (168 points)': windows(
    'pedestrians',
    'count',
    rows('data/real/prophet/example_pedestrians_multivariate.csv'),
    168,
    (r) => ({ t: r[0], a: Number(r[1]), b: Number(r[2]) }),
  ),
};

interface Row {
  set: string;
  values: number;
  jsonBytes: number;
  zstdBytes: number;
  brotliBytes: number;
  storedBytes: number;
  compressMicros: number;
  decompressMicros: number;
}

const results: Row[] = [];
for (const [set, values] of Object.entries(sets)) {
  let jsonBytes = 0;
  let zstdBytes = 0;
  let brotliBytes = 0;
  let storedBytes = 0;
  let compressMs = 0;
  let decompressMs = 0;
  for (const json of values) {
    jsonBytes += Buffer.byteLength(json);
    zstdBytes += (encodeValue(json, { thresholdBytes: 0, codec: 'zstd' }).value as Uint8Array).length ?? 0;
    brotliBytes += (encodeValue(json, { thresholdBytes: 0, codec: 'br' }).value as Uint8Array).length ?? 0;
    const t0 = performance.now();
    const stored = encodeValue(json);
    compressMs += performance.now() - t0;
    storedBytes += typeof stored.value === 'string' ? Buffer.byteLength(stored.value) : stored.value.length;
    const t1 = performance.now();
    if (decodeValue(stored.encoding, stored.value) !== json) throw new Error('round trip failed');
    decompressMs += performance.now() - t1;
  }
  results.push({
    set,
    values: values.length,
    jsonBytes,
    zstdBytes,
    brotliBytes,
    storedBytes,
    compressMicros: (compressMs * 1000) / values.length,
    decompressMicros: (decompressMs * 1000) / values.length,
  });
}

const total = results.reduce((s, r) => ({ json: s.json + r.jsonBytes, stored: s.stored + r.storedBytes }), {
  json: 0,
  stored: 0,
});
process.stdout.write(
  `value compression on real-shaped JSON (policy: ${preferredCompression} at ≥ ${DEFAULT_COMPRESSION_THRESHOLD_BYTES} B)\n\n`,
);
process.stdout.write(
  `${'values'.padEnd(34)}${'n'.padStart(6)}${'avg JSON B'.padStart(11)}${'zstd ×'.padStart(8)}${'brotli ×'.padStart(10)}${'stored ×'.padStart(10)}${'enc µs'.padStart(8)}${'dec µs'.padStart(8)}\n`,
);
for (const r of results) {
  process.stdout.write(
    `${r.set.padEnd(34)}${String(r.values).padStart(6)}${(r.jsonBytes / r.values).toFixed(0).padStart(11)}${(r.jsonBytes / r.zstdBytes).toFixed(1).padStart(8)}${(r.jsonBytes / r.brotliBytes).toFixed(1).padStart(10)}${(r.jsonBytes / r.storedBytes).toFixed(1).padStart(10)}${r.compressMicros.toFixed(0).padStart(8)}${r.decompressMicros.toFixed(0).padStart(8)}\n`,
  );
}
process.stdout.write(
  `\nall values: ${(total.json / total.stored).toFixed(2)}× fewer bytes stored and shipped\n`,
);
await mkdir('bench/results', { recursive: true });
await writeFile(
  'bench/results/value-compression.json',
  `${JSON.stringify({ generatedAt: new Date().toISOString(), codec: preferredCompression, thresholdBytes: DEFAULT_COMPRESSION_THRESHOLD_BYTES, results, overallRatio: total.json / total.stored }, null, 2)}\n`,
);
