/**
 * `expectThrows`: the one way to assert that something fails and then look at the failure.
 *
 * The pattern it replaces, `try { f(); expect.unreachable(); } catch (e) { expect(e.message)... }`, passes when `f`
 * does not throw: `expect.unreachable()` throws an AssertionError, the `catch` takes it, and assertions that only
 * check what is *absent* from the message (a secret) hold for the assertion's own text too. Here the "did not
 * throw" failure is raised outside any `catch`, and the error comes back typed for the assertions that follow.
 * test/security/no-vacuous-throws.test.ts keeps the old pattern from coming back.
 *
 * @example
 * const e = expectThrows(() => parseConfig(bad, {}), ConfigError);
 * expect(e.message).not.toContain(secret);
 * const r = await expectThrows(() => client.send(x), ValidationError);
 */

// biome-ignore lint/suspicious/noExplicitAny: a constructor of any arity; only its instances are checked
type ErrorClass<E> = abstract new (...args: any[]) => E;

/** Thrown when the function did not fail, or failed with the wrong kind of error. Never caught here. */
export class ExpectThrowsError extends Error {
  override readonly name = 'ExpectThrowsError';
}

/** A function that always throws returns `never`; it is synchronous, not a promise. */
type Thrown<E, R> = [R] extends [never] ? E : R extends PromiseLike<unknown> ? Promise<E> : E;

export function expectThrows<E = unknown, R = unknown>(fn: () => R, type?: ErrorClass<E>): Thrown<E, R>;
export function expectThrows<E>(fn: () => unknown, type?: ErrorClass<E>): E | Promise<E> {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return checked(e, type);
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      () => {
        throw new ExpectThrowsError('expected the promise to reject, but it resolved');
      },
      (e: unknown) => checked(e, type),
    );
  }
  throw new ExpectThrowsError('expected the function to throw, but it returned');
}

function checked<E>(e: unknown, type: ErrorClass<E> | undefined): E {
  if (e instanceof ExpectThrowsError) throw e;
  if (type && !(e instanceof type)) {
    const got = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new ExpectThrowsError(`expected an instance of ${type.name}, got ${got}`);
  }
  return e as E;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}
