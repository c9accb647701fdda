import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, INPUTS_FILE, REPO_ROOT } from '../../../scripts/build-cli.ts';

// The CLI as `npm install` ships it: compiled by scripts/build-cli.ts, started by bin/prestage.js.

/** The files and packages Node loads, before running any code, for an ES module of esbuild's output. */
function staticImportGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, 'utf8');
    const specifiers = [
      ...code.matchAll(/^(?:import|export)\s[^;]*?from\s*"([^"]+)";/gms),
      ...code.matchAll(/^import\s*"([^"]+)";/gm),
    ].map((m) => m[1]);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier));
      else if (!specifier.startsWith('node:')) packages.add(specifier);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('the compiled CLI', () => {
  // Inside the repository, so the bundle resolves node_modules and finds the data files as dist/cli/ does.
  const outdir = join(REPO_ROOT, 'dist', `test-build-${process.pid}`);
  let inputs: readonly string[];

  beforeAll(async () => {
    ({ inputs } = await buildCli(outdir));
  }, 60_000);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(outdir, 'prestage.js'), ...args], { cwd: REPO_ROOT, encoding: 'utf8' });

  it('records the sources it was built from, for the launcher to check', () => {
    expect(inputs).toContain('bin/prestage.ts');
    expect(inputs).toContain('src/cli/commands/backtest.ts');
    expect(inputs.every((p) => !p.startsWith('..') && !p.includes('node_modules'))).toBe(true);
    expect(JSON.parse(readFileSync(join(outdir, INPUTS_FILE), 'utf8')).inputs).toEqual(inputs);
  });

  it('loads no package for `prestage --help`: each command is a chunk imported when it runs', () => {
    const entry = staticImportGraph(join(outdir, 'prestage.js'));
    expect(entry.files.size).toBeGreaterThan(1);
    expect([...entry.packages]).toEqual([]);
    expect([...entry.files].some((f) => /approve|serve|backtest/.test(relative(outdir, f)))).toBe(false);
    // The same scan does see the AWS SDK behind `prestage approve`.
    const approveChunk = readdirSync(join(outdir, 'chunks')).find((f) => /^approve-.*\.js$/.test(f))!;
    expect(staticImportGraph(join(outdir, 'chunks', approveChunk)).packages).toContain('@aws-sdk/client-sfn');
  });

  it('prints the usage and each command’s help, loading that command’s chunk', () => {
    const usage = run('--help');
    expect(usage.status).toBe(0);
    expect(usage.stdout).toContain('Usage: prestage <command> [options]');
    expect(usage.stdout).toMatch(/^ {2}backtest {2,}replay a demand trace/m);
    const serve = run('serve', '--help');
    expect(serve.status).toBe(0);
    expect(serve.stdout).toContain('Usage: prestage serve');
  });

  it('finds the bundled traces from dist/, not relative to the chunk', () => {
    const result = run('demo', '--trace', 'no-such-trace');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('looked for data/traces/no-such-trace/trace.csv[.gz]');
  });

  it('runs a command end to end on a file from the repository', () => {
    const result = run(
      'forecast',
      '--series',
      'data/real/nab/realKnownCause/nyc_taxi.csv',
      '--horizon',
      '2',
      '--json',
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).mean).toHaveLength(2);
  });
});

describe('bin/prestage.js', () => {
  // A stand-in checkout: the real launcher, a "compiled" entry and a "source" entry that say which ran.
  let root: string;
  const manifest = () => join(root, 'dist', 'cli', INPUTS_FILE);
  const setMtime = (path: string, seconds: number) => utimesSync(path, seconds, seconds);
  const launch = (env: Record<string, string> = {}) =>
    execFileSync(process.execPath, [join(root, 'bin', 'prestage.js'), 'x'], {
      encoding: 'utf8',
      env: { ...process.env, PRESTAGE_FROM_SOURCE: '', ...env },
    }).trim();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'prestage-launcher-'));
    mkdirSync(join(root, 'bin'));
    mkdirSync(join(root, 'src'));
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    copyFileSync(join(REPO_ROOT, 'bin', 'prestage.js'), join(root, 'bin', 'prestage.js'));
    writeFileSync(
      join(root, 'bin', 'prestage.ts'),
      "console.log('source', process.argv.slice(2).join(' '));\n",
    );
    writeFileSync(join(root, 'src', 'used.ts'), 'export {};\n');
    writeFileSync(
      join(root, 'dist', 'cli', 'prestage.js'),
      "console.log('compiled', process.argv.slice(2).join(' '));\n",
    );
    writeFileSync(manifest(), JSON.stringify({ inputs: ['bin/prestage.ts', 'src/used.ts'] }));
    setMtime(join(root, 'bin', 'prestage.ts'), 1_000);
    setMtime(join(root, 'src', 'used.ts'), 1_000);
    setMtime(manifest(), 2_000);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs the build when it is newer than every source it was built from', () => {
    expect(launch()).toBe('compiled x');
  });

  it('runs the sources when one of them changed after the build, or on request', () => {
    expect(launch({ PRESTAGE_FROM_SOURCE: '1' })).toBe('source x');
    setMtime(join(root, 'src', 'used.ts'), 3_000);
    expect(launch()).toBe('source x');
    setMtime(join(root, 'src', 'used.ts'), 1_000);
    expect(launch()).toBe('compiled x');
  });

  it('runs the sources when a source the build used is gone, or there is no build', () => {
    rmSync(join(root, 'src', 'used.ts'));
    expect(launch()).toBe('source x');
    rmSync(manifest());
    expect(launch()).toBe('source x');
  });
});
