import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root directory: the nearest directory at or above `fromUrl` whose package.json is
 * prestage's. Found by walking up rather than by a fixed `../../..`, because the same module runs from
 * src/cli/ (tsx) and from a chunk of the compiled CLI in dist/cli/chunks/.
 */
export function projectRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'prestage'
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no prestage package.json above ${fileURLToPath(fromUrl)}`);
    dir = parent;
  }
}
