/** The helper itself must fail when nothing fails, or when the wrong thing fails. */

import { describe, expect, it } from 'vitest';
import { ExpectThrowsError, expectThrows } from './expect-throws.js';

class Oops extends Error {
  readonly detail = 42;
}

describe('expectThrows', () => {
  it('returns the thrown error, typed', () => {
    const e = expectThrows(() => {
      throw new Oops('x');
    }, Oops);
    expect(e.detail).toBe(42);
  });

  it('returns the rejection of an async function', async () => {
    const e = await expectThrows(() => Promise.reject(new Oops('y')), Oops);
    expect(e.message).toBe('y');
  });

  it('fails when the function returns, even when the caller only checks what is absent', () => {
    expect(() => expectThrows(() => 1)).toThrow(ExpectThrowsError);
  });

  it('fails when the promise resolves', async () => {
    await expect(expectThrows(() => Promise.resolve(1))).rejects.toBeInstanceOf(ExpectThrowsError);
  });

  it('fails when the error is of another class', () => {
    expect(() =>
      expectThrows(() => {
        throw new TypeError('t');
      }, Oops),
    ).toThrow(/expected an instance of Oops, got TypeError: t/);
  });
});
