/**
 * Where the time goes in a V8 CPU profile (`node --cpu-prof`): self time by function and by source file,
 * and inclusive time of the functions named on the command line.
 *
 *   npx tsx bench/scenarios/cpu-profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 25] [--inclusive planMoves,observe]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function shortUrl(url: string): string {
  const at = url.search(/\/(src|bench|node_modules)\//);
  return at >= 0 ? url.slice(at + 1) : url || '(native)';
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, inclusive: { type: 'string' } },
  });
  const top = Number(values.top);
  for (const path of positionals) {
    const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const selfMs = new Map<number, number>();
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i];
      selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    }
    const total = [...selfMs.values()].reduce((a, b) => a + b, 0);
    const byFunction = new Map<string, number>();
    const byFile = new Map<string, number>();
    for (const [id, ms] of selfMs) {
      const frame = byId.get(id)!.callFrame;
      const file = shortUrl(frame.url);
      const name = `${frame.functionName || '(anonymous)'}  ${file}:${frame.lineNumber + 1}`;
      byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
      byFile.set(file, (byFile.get(file) ?? 0) + ms);
    }
    const print = (title: string, entries: Map<string, number>) => {
      process.stdout.write(`\n${title}\n`);
      for (const [name, ms] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top))
        process.stdout.write(
          `${(ms / 1000).toFixed(1).padStart(8)} s ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}\n`,
        );
    };
    process.stdout.write(`${path}: ${(total / 1000).toFixed(1)} s sampled\n`);
    print('self time by function', byFunction);
    print('self time by file', byFile);
    if (values.inclusive) {
      // Inclusive time: a sample counts for a function when it appears anywhere on the sample's stack (once).
      const names = values.inclusive.split(',');
      const inclusive = new Map(names.map((n) => [n, 0]));
      for (const [id, ms] of selfMs) {
        const seen = new Set<string>();
        for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
          const fn = byId.get(at)!.callFrame.functionName;
          if (inclusive.has(fn) && !seen.has(fn)) {
            seen.add(fn);
            inclusive.set(fn, inclusive.get(fn)! + ms);
          }
        }
      }
      print('inclusive time', inclusive);
    }
  }
}

main();
