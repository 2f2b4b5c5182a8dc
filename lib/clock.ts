// Time comes from a clock object so retention, rolling, flush timers and long polls are testable
// without sleeping.

export type CancelTimer = () => void;

export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention). */
  nowMs(): number;
  /** Monotonic milliseconds for measuring intervals. */
  monotonicMs(): number;
  /** Runs `callback` once after `delayMs`; the returned function cancels it. */
  setTimer(callback: () => void, delayMs: number): CancelTimer;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    // A pending flush or retention check must not keep a finished process alive.
    (timer as { unref?: () => void }).unref?.();
    return () => clearTimeout(timer);
  },
};

interface ManualTimer {
  dueMs: number;
  callback: () => void;
}

/** A clock that moves only when a test tells it to; timers fire during advance(). */
export class ManualClock implements Clock {
  #nowMs: number;
  #monotonicMs = 0;
  #timers = new Set<ManualTimer>();

  constructor(startMs = 1_700_000_000_000) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  monotonicMs(): number {
    return this.#monotonicMs;
  }

  setTimer(callback: () => void, delayMs: number): CancelTimer {
    const timer = { dueMs: this.#monotonicMs + delayMs, callback };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** Moves time forward, firing due timers in order (timers they set may fire too). */
  advance(ms: number): void {
    const targetMs = this.#monotonicMs + ms;
    for (;;) {
      const next = [...this.#timers].filter((t) => t.dueMs <= targetMs).sort((a, b) => a.dueMs - b.dueMs)[0];
      if (next === undefined) break;
      this.#timers.delete(next);
      this.#nowMs += next.dueMs - this.#monotonicMs;
      this.#monotonicMs = next.dueMs;
      next.callback();
    }
    this.#nowMs += targetMs - this.#monotonicMs;
    this.#monotonicMs = targetMs;
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }
}
