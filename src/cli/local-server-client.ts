import { InputValidationError } from '../domain/errors.ts';

/** The `--server` flag of the commands that drive a running `prestage serve --embedded`, checked. */
export function serverUrl(flag: string | undefined): string {
  const server = (flag ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(server)) {
    throw new InputValidationError(
      { field: '--server' },
      `expected a URL such as http://127.0.0.1:8080, found '${server}'`,
    );
  }
  return server;
}

/**
 * One request to the local server's admin API. An unreachable server is a bad `--server` (exit code 2, one
 * line); a body that is not JSON comes back as a `BAD_RESPONSE` error body, so callers handle one shape.
 */
export async function callLocalServer(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch {
    const server = new URL(url).origin;
    throw new InputValidationError(
      { field: '--server' },
      `cannot reach the prestage server at ${server}; start it with 'prestage serve --embedded'`,
    );
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return {
      status: response.status,
      body: { error: { code: 'BAD_RESPONSE', message: text.slice(0, 200) } },
    };
  }
}
