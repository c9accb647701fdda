/**
 * Max-heap of greedy candidates (key, partition, candidate index) in three parallel arrays, so a push
 * allocates nothing per entry. Ties: lower partition, then lower candidate index, first (deterministic).
 */
export class CandidateHeap {
  private keys: number[] = [];
  private ps: number[] = [];
  private ks: number[] = [];

  get size(): number {
    return this.keys.length;
  }
  topKey(): number {
    return this.keys[0];
  }
  topP(): number {
    return this.ps[0];
  }
  topK(): number {
    return this.ks[0];
  }

  push(key: number, p: number, k: number): void {
    this.keys.push(key);
    this.ps.push(p);
    this.ks.push(k);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): void {
    const last = this.keys.length - 1;
    this.swap(0, last);
    this.keys.pop();
    this.ps.pop();
    this.ks.pop();
    let i = 0;
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let top = i;
      if (l < n && this.before(l, top)) top = l;
      if (r < n && this.before(r, top)) top = r;
      if (top === i) return;
      this.swap(i, top);
      i = top;
    }
  }

  private before(i: number, j: number): boolean {
    const a = this.keys[i];
    const b = this.keys[j];
    if (a !== b) return a > b;
    if (this.ps[i] !== this.ps[j]) return this.ps[i] < this.ps[j];
    return this.ks[i] < this.ks[j];
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
    const p = this.ps[i];
    this.ps[i] = this.ps[j];
    this.ps[j] = p;
    const q = this.ks[i];
    this.ks[i] = this.ks[j];
    this.ks[j] = q;
  }
}
