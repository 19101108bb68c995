/** Bounded concurrency that stops starting work at a deadline. */
import pLimit from 'p-limit';

/** Runs `fn` over items with bounded concurrency, starting none once `stop()` says so. */
export async function forEachUntil<T>(items: readonly T[], concurrency: number, stop: () => boolean, fn: (item: T) => Promise<void>): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(items.map((item) => limit(async () => {
    if (!stop()) await fn(item);
  })));
}
