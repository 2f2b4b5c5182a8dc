// Fetches waiting for data (long polls), per topic and partition. The produce paths call notify()
// after each append; a waiter leaves when its condition holds, when its time is up (on the injected
// clock, so tests need no sleeping) or when its client goes away.
import type { CancelTimer, Clock } from "../clock.ts";
import { FETCH_WAITERS_MAX } from "./limits.ts";

/**
 * Why a wait ended. "overloaded" means it never started: too many fetches were waiting already, so
 * this one answers at once with what there is.
 */
export type WaitOutcome = "satisfied" | "timeout" | "aborted" | "overloaded";

export interface WaitOptions {
  /** Whether the fetch can be answered now. A predicate that throws counts as true: the waiter
   * then reads again and meets the error itself (a deleted topic, an offset now out of range). */
  isSatisfied: () => boolean;
  maxWaitMs: number;
  /** The client's request signal: a disconnect releases the waiter. */
  signal?: AbortSignal;
}

interface Waiter {
  isSatisfied: () => boolean;
  finish: (outcome: WaitOutcome) => void;
}

export class AppendWaiters {
  readonly #byTopic = new Map<string, Map<number, Set<Waiter>>>();
  #count = 0;

  constructor(
    readonly clock: Clock,
    readonly options: { waitersMax?: number } = {},
  ) {}

  /** Fetches waiting now. */
  get size(): number {
    return this.#count;
  }

  /** Waits until `isSatisfied` holds after an append, `maxWaitMs` pass, or the signal aborts. */
  wait(topic: string, partition: number, options: WaitOptions): Promise<WaitOutcome> {
    if (options.signal?.aborted) return Promise.resolve("aborted");
    if (this.#count >= (this.options.waitersMax ?? FETCH_WAITERS_MAX)) return Promise.resolve("overloaded");
    return new Promise((resolve) => {
      let cancelTimer: CancelTimer | undefined;
      const onAbort = () => waiter.finish("aborted");
      const waiter: Waiter = {
        isSatisfied: options.isSatisfied,
        finish: (outcome) => {
          // Only the first ending counts; the others find the waiter gone.
          if (!this.#remove(topic, partition, waiter)) return;
          cancelTimer?.();
          options.signal?.removeEventListener("abort", onAbort);
          resolve(outcome);
        },
      };
      this.#add(topic, partition, waiter);
      cancelTimer = this.clock.setTimer(() => waiter.finish("timeout"), options.maxWaitMs);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Something was appended to the partition: wakes the waiters whose condition now holds. */
  notify(topic: string, partition: number): void {
    const waiters = this.#byTopic.get(topic)?.get(partition);
    if (waiters === undefined) return;
    for (const waiter of [...waiters]) {
      if (holds(waiter)) waiter.finish("satisfied");
    }
  }

  /** The topic changed as a whole (deleted): every waiter on it checks its condition again. */
  notifyTopic(topic: string): void {
    for (const partition of [...(this.#byTopic.get(topic)?.keys() ?? [])]) this.notify(topic, partition);
  }

  #add(topic: string, partition: number, waiter: Waiter): void {
    let partitions = this.#byTopic.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.#byTopic.set(topic, partitions);
    }
    let waiters = partitions.get(partition);
    if (waiters === undefined) {
      waiters = new Set();
      partitions.set(partition, waiters);
    }
    waiters.add(waiter);
    this.#count++;
  }

  #remove(topic: string, partition: number, waiter: Waiter): boolean {
    const partitions = this.#byTopic.get(topic);
    const waiters = partitions?.get(partition);
    if (partitions === undefined || waiters === undefined || !waiters.delete(waiter)) return false;
    this.#count--;
    if (waiters.size === 0) partitions.delete(partition);
    if (partitions.size === 0) this.#byTopic.delete(topic);
    return true;
  }
}

function holds(waiter: Waiter): boolean {
  try {
    return waiter.isSatisfied();
  } catch {
    return true;
  }
}
