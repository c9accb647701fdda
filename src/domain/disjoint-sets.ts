/**
 * Disjoint sets over 0..n−1 (union–find with path halving). A set's representative is always its smallest
 * member, so numbering sets in order of their representatives is deterministic, whatever the order of unions.
 */
export class DisjointSets {
  private readonly root: Int32Array;

  constructor(n: number) {
    this.root = new Int32Array(n);
    for (let i = 0; i < n; i++) this.root[i] = i;
  }

  /** The smallest member of i's set. */
  find(i: number): number {
    const root = this.root;
    while (root[i] !== i) {
      root[i] = root[root[i]];
      i = root[i];
    }
    return i;
  }

  union(x: number, y: number): void {
    const a = this.find(x);
    const b = this.find(y);
    if (a !== b) this.root[Math.max(a, b)] = Math.min(a, b);
  }
}
