/**
 * A client, or a function that builds it on first use. An adapter whose calls only some invocations make (the
 * profiler's coordinator and a cycle's last shard call Lambda and Step Functions) takes the function, so the
 * SDK module loads on demand rather than at every cold start.
 */
export type ClientSource<T> = T | (() => Promise<T>);

/** The client of `source`, built once on the first call when `source` is a function. */
export function onDemand<T extends object>(source: ClientSource<T>): () => Promise<T> {
  if (typeof source !== 'function') return async () => source;
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= source();
    return pending;
  };
}
