// AppendWaiters on a ManualClock: who wakes on notify, timeouts, aborts and the bound on waiters.
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../lib/clock.ts";
import { AppendWaiters, type WaitOutcome } from "../../lib/gateway/append-waiters.ts";

const never = () => false;

function waitersOnClock(options: { waitersMax?: number } = {}) {
  const clock = new ManualClock();
  return { clock, waiters: new AppendWaiters(clock, options) };
}

/** Nothing left behind: no waiter, no timer. */
function expectReleased({ clock, waiters }: ReturnType<typeof waitersOnClock>): void {
  expect({ waiters: waiters.size, timers: clock.pendingTimers }).toEqual({ waiters: 0, timers: 0 });
}

/** Resolves with the outcome, or "pending" when the wait has not ended after the microtasks run. */
async function stateOf(wait: Promise<WaitOutcome>): Promise<WaitOutcome | "pending"> {
  return Promise.race([wait, new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 0))]);
}

describe("AppendWaiters", () => {
  test("notify wakes only the waiters of that partition whose condition holds", async () => {
    const { waiters } = waitersOnClock();
    let ready = false;
    const waiting = waiters.wait("t", 0, { isSatisfied: () => ready, maxWaitMs: 1000 });
    const other = waiters.wait("t", 1, { isSatisfied: () => true, maxWaitMs: 1000 });
    waiters.notify("t", 0);
    expect(await stateOf(waiting)).toBe("pending");
    ready = true;
    waiters.notify("t", 0);
    expect(await waiting).toBe("satisfied");
    expect(await stateOf(other)).toBe("pending");
    expect(waiters.size).toBe(1);
  });

  test("a waiter times out when the clock passes maxWaitMs, and its timer is gone", async () => {
    const fixture = waitersOnClock();
    const waiting = fixture.waiters.wait("t", 0, { isSatisfied: never, maxWaitMs: 500 });
    fixture.clock.advance(499);
    expect(await stateOf(waiting)).toBe("pending");
    fixture.clock.advance(1);
    expect(await waiting).toBe("timeout");
    expectReleased(fixture);
  });

  test("an abort releases the waiter and cancels its timer", async () => {
    const fixture = waitersOnClock();
    const controller = new AbortController();
    const waiting = fixture.waiters.wait("t", 0, {
      isSatisfied: never,
      maxWaitMs: 500,
      signal: controller.signal,
    });
    controller.abort();
    expect(await waiting).toBe("aborted");
    expectReleased(fixture);
  });

  test("an already aborted signal never waits", async () => {
    const fixture = waitersOnClock();
    const signal = AbortSignal.abort();
    expect(await fixture.waiters.wait("t", 0, { isSatisfied: never, maxWaitMs: 500, signal })).toBe(
      "aborted",
    );
    expectReleased(fixture);
  });

  test("a condition that throws counts as met, so the fetch reads again and meets the error", async () => {
    const fixture = waitersOnClock();
    const isSatisfied = () => {
      throw new Error("topic deleted");
    };
    const waiting = fixture.waiters.wait("t", 0, { isSatisfied, maxWaitMs: 500 });
    fixture.waiters.notifyTopic("t");
    expect(await waiting).toBe("satisfied");
    expectReleased(fixture);
  });

  test("past waitersMax a wait ends at once as overloaded", async () => {
    const { waiters } = waitersOnClock({ waitersMax: 1 });
    const first = waiters.wait("t", 0, { isSatisfied: never, maxWaitMs: 500 });
    expect(await waiters.wait("t", 0, { isSatisfied: never, maxWaitMs: 500 })).toBe("overloaded");
    expect(await stateOf(first)).toBe("pending");
  });
});
