/** Where the bar is drawn: stderr, or a capture in tests. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * A one-line progress bar on a terminal (redrawn at most every 100 ms), or one line per finished step
 * when the stream is not a terminal (logs, CI, tests).
 */
export class ProgressBar {
  private lastDrawMs = 0;
  private lastLabel = '';
  private drawn = false;
  private readonly startedMs = Date.now();

  constructor(
    private readonly stream: ProgressStream,
    private readonly title: string,
    private readonly width = 30,
  ) {}

  /** `fraction` of the whole job, `label` the current step; `stepDone` marks the end of a step. */
  update(fraction: number, label: string, stepDone = false): void {
    const now = Date.now();
    if (!this.stream.isTTY) {
      if (stepDone) this.stream.write(`${this.title}: ${label} done (${this.elapsed(now)})\n`);
      return;
    }
    if (!stepDone && label === this.lastLabel && now - this.lastDrawMs < 100 && fraction < 1) return;
    this.lastDrawMs = now;
    this.lastLabel = label;
    const clamped = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(clamped * this.width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}`;
    const percent = `${Math.floor(clamped * 100)}`.padStart(3);
    this.stream.write(`\r\x1b[2K${this.title} ${bar} ${percent}% ${label} ${this.elapsed(now)}`);
    this.drawn = true;
  }

  /** Leave the bar's line (on a terminal) so the next output starts clean. */
  finish(): void {
    if (this.stream.isTTY && this.drawn) this.stream.write('\n');
  }

  private elapsed(now: number): string {
    return `${((now - this.startedMs) / 1000).toFixed(1)} s`;
  }
}
