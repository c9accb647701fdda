/**
 * Run `fn` over `items` with at most `limit` calls in flight; results keep the input order.
 *
 * Structured: the returned promise settles only once every call it started has settled. On the first failure
 * no further item is started, `signal` (passed to every call) is aborted so running calls can stop early, and
 * the first error is thrown after the others have finished. This matters in Lambda: a handler that returns or
 * throws while promises it started are still pending leaves them in the sandbox, where they freeze and resume at
 * the next invocation of the function, possibly on behalf of another migration minutes later. A step built on
 * this never leaves work behind.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<R>,
  options: { readonly signal?: AbortSignal } = {},
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const stop = new AbortController();
  const parent = options.signal;
  const onParentAbort = () => stop.abort(parent?.reason);
  if (parent?.aborted) stop.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index, stop.signal);
      } catch (error) {
        failure ??= { error };
        stop.abort(error);
      }
    }
  });
  try {
    await Promise.all(workers);
  } finally {
    parent?.removeEventListener('abort', onParentAbort);
  }
  if (failure) throw failure.error;
  return results;
}
