/**
 * The one polling helper of the tests: calls `fn` until it returns something truthy and resolves to that.
 * A throw counts as "not yet" (the condition may read a file or a socket that is not there yet); on timeout the
 * error names what was awaited and the last throw. Polling, not sleeping: it returns as soon as the condition
 * holds, so the timeout is only a bound for a failure.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
  );
}
