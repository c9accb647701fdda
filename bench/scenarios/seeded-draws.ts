/** Seeded draws shared by the generator's parts: one independent stream per concern, weighted picks. */
import { seededRandom } from '../../src/domain/seeded-random.ts';

/** An independent seeded stream per concern (FNV-1a of seed and label). */
export function stream(seed: number, label: string): () => number {
  let h = 0x811c9dc5;
  const text = `${seed}:${label}`;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return seededRandom(h);
}

export function normalized(xs: readonly number[]): number[] {
  const total = xs.reduce((a, b) => a + b, 0);
  return xs.map((x) => x / total);
}

export function weightedIndex(random: () => number, weights: readonly number[]): number {
  let x = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/** Another region than `not`, by audience weight. */
export function otherRegion(random: () => number, weights: readonly number[], not: number): number {
  return weightedIndex(
    random,
    weights.map((w, r) => (r === not ? 0 : w)),
  );
}
