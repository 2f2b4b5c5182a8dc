// A token's produce rate: a token bucket per unit (bytes/s, records/s) that may go into debt. A
// produce is admitted while no bucket is in debt, then charged what it appended, so one request
// larger than the bucket still goes through and the producer then waits its debt off (Kafka's
// quotas throttle after the fact the same way). An empty rate (0) does not limit.
import type { Clock } from "../clock.ts";
import { SluiceError } from "../errors.ts";
import type { SluiceMetrics } from "../metrics/sluice-metrics.ts";
import { PRODUCE_RATE_BURST_S, PRODUCE_RATE_RETRY_AFTER_MS_MAX } from "./limits.ts";

export interface ProduceRates {
  /** 0: no limit. */
  bytesPerSecond: number;
  /** 0: no limit. */
  recordsPerSecond: number;
}

class Bucket {
  #level: number;
  #updatedMs: number;

  constructor(
    readonly perSecond: number,
    nowMs: number,
  ) {
    this.#level = this.capacity;
    this.#updatedMs = nowMs;
  }

  get capacity(): number {
    return this.perSecond * PRODUCE_RATE_BURST_S;
  }

  /** Milliseconds until the bucket is out of debt; 0 when it is not in debt. */
  waitMs(nowMs: number): number {
    this.#refill(nowMs);
    return this.#level >= 0 ? 0 : Math.ceil((-this.#level / this.perSecond) * 1000);
  }

  charge(amount: number, nowMs: number): void {
    this.#refill(nowMs);
    this.#level -= amount;
  }

  #refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.#updatedMs);
    this.#updatedMs = nowMs;
    this.#level = Math.min(this.capacity, this.#level + (elapsedMs / 1000) * this.perSecond);
  }
}

/** One token's buckets. */
export class ProduceRateLimiter {
  readonly #bytes: Bucket | undefined;
  readonly #records: Bucket | undefined;

  constructor(
    readonly rates: ProduceRates,
    readonly clock: Clock,
  ) {
    const nowMs = clock.monotonicMs();
    this.#bytes = rates.bytesPerSecond > 0 ? new Bucket(rates.bytesPerSecond, nowMs) : undefined;
    this.#records = rates.recordsPerSecond > 0 ? new Bucket(rates.recordsPerSecond, nowMs) : undefined;
  }

  get limits(): boolean {
    return this.#bytes !== undefined || this.#records !== undefined;
  }

  /** Whether records are counted at all (else callers need not count them). */
  get countsRecords(): boolean {
    return this.#records !== undefined;
  }

  /** 0 when a produce may go now; else how long to wait, in ms (bounded, for Retry-After). */
  retryAfterMs(): number {
    const nowMs = this.clock.monotonicMs();
    const waitMs = Math.max(this.#bytes?.waitMs(nowMs) ?? 0, this.#records?.waitMs(nowMs) ?? 0);
    return Math.min(waitMs, PRODUCE_RATE_RETRY_AFTER_MS_MAX);
  }

  /** What a produce sent: its bytes, and its records (0 when not counted). */
  charge(amount: { bytes: number; records: number }): void {
    const nowMs = this.clock.monotonicMs();
    this.#bytes?.charge(amount.bytes, nowMs);
    this.#records?.charge(amount.records, nowMs);
  }
}

/**
 * PRODUCE_RATE_LIMITED while the token is in debt, with the hit counted in /metrics; undefined when
 * the produce may go. HTTP answers it as a 429 with Retry-After, a WebSocket as an error frame.
 */
export function produceRateRefusal(
  limiter: ProduceRateLimiter,
  metrics: Pick<SluiceMetrics, "limitHit">,
): { error: SluiceError; waitMs: number } | undefined {
  const waitMs = limiter.retryAfterMs();
  if (waitMs <= 0) return undefined;
  metrics.limitHit("produce_rate");
  const error = new SluiceError(
    "PRODUCE_RATE_LIMITED",
    `this token's produce rate is used up: retry in ${waitMs} ms`,
  );
  return { error, waitMs };
}
