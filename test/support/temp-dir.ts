import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

// Temporary directories that are removed when the test (or the suite) that made them ends. Nothing else removes
// them: the OS keeps /tmp until reboot, and vitest's workers end without the process 'exit' event that
// aws-cdk-lib relies on to remove the outdir of an `App` made without one. Every run of the suite used to leave
// hundreds of directories behind.

const remove = (dir: string) => rmSync(dir, { recursive: true, force: true });

/**
 * A new directory under os.tmpdir() named `prefix` + six random characters, removed when the current test
 * finishes, whether it passed or failed. Call it inside a test: `onTestFinished` throws anywhere else.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => remove(dir));
  return dir;
}

/**
 * A new directory like `tempDir`'s, removed after the last test of the enclosing `describe` (of the file, at
 * module scope): for fixtures made while the file is collected or in `beforeAll` and shared by several tests.
 * Call it at module or `describe` scope, not inside a hook or a test: vitest takes `afterAll` hooks only while it
 * collects the file.
 */
export function suiteTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => remove(dir));
  return dir;
}
