/** Runs async work over a list with a bound on how many run at once. */

/** `fn` over every item, at most `limit` at a time; results in input order. The first failure rejects (others still settle). */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.err;
  return results;
}

/**
 * A bound shared by work that does not start together (e.g. one read per page as pages arrive): the returned
 * function runs `fn` once fewer than `limit` earlier ones are running, first come first served.
 */
export function concurrencyLimit(limit: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next in line (running stays as it is), or free it.
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
