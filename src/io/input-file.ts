import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { InputValidationError } from '../domain/errors.ts';

/**
 * Reading a user's input file. Every failure is an InputValidationError that names the file, so the CLI
 * prints one line and exits 2: Node's own messages (`EISDIR: illegal operation on a directory, read`,
 * zlib's `unexpected end of file`) name neither the file nor what was expected.
 */

/** The first two bytes of every gzip stream (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** An fs error on an input path, as one line that names the file; anything else is rethrown as is. */
export function inputFileError(error: unknown, path: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new InputValidationError({ file: path }, 'file not found');
    case 'EISDIR':
      return new InputValidationError({ file: path }, 'is a directory; expected a file');
    case 'ENOTDIR':
      return new InputValidationError({ file: path }, 'a part of the path is not a directory');
    case 'EACCES':
    case 'EPERM':
      return new InputValidationError({ file: path }, 'permission denied; expected a readable file');
    default:
      return error;
  }
}

/**
 * The file's text, decompressed when it is gzip data. Compression is recognised by content, not by the
 * name, so a `.csv.gz` that is plain text still reads and a gzip stream named `.csv` does too.
 */
export function readInputTextSync(path: string): string {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (error) {
    throw inputFileError(error, path);
  }
  return decodeInput(raw, path);
}

export async function readInputText(path: string): Promise<string> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    throw inputFileError(error, path);
  }
  return decodeInput(raw, path);
}

function decodeInput(raw: Buffer, path: string): string {
  if (raw[0] !== GZIP_MAGIC[0] || raw[1] !== GZIP_MAGIC[1]) return raw.toString('utf8');
  try {
    return gunzipSync(raw).toString('utf8');
  } catch (error) {
    const reason = (error as Error).message;
    const truncated = (error as NodeJS.ErrnoException).code === 'Z_BUF_ERROR';
    throw new InputValidationError(
      { file: path },
      truncated
        ? `gzip data ends early (${reason}); the file is truncated, expected a complete gzip file`
        : `corrupt gzip data (${reason}); expected a complete gzip file`,
    );
  }
}
