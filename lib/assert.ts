// Invariant checks for programmer errors. A failed assertion means Sluice itself is wrong, never the
// user's input: bad input is a SluiceError (lib/errors.ts).

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertSafeOffset(offset: number, what = "offset"): void {
  assert(
    Number.isSafeInteger(offset) && offset >= 0,
    `${what} must be a non-negative safe integer, got ${offset}`,
  );
}
