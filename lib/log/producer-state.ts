// One partition's idempotent-producer state, as Kafka's ProducerStateManager keeps it: per producer id
// its epoch and its last five batches, and the checks a batch with producerId >= 0 must pass before
// it is appended (reference/kafka-formats.md §4).
import { assert } from "../assert.ts";
import { SluiceError } from "../errors.ts";
import { PRODUCER_BATCHES_CACHED, PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS } from "../limits.ts";
import { type BatchHeader, isControlBatch } from "./record-batch.ts";

/** Sequences are int32 and wrap to 0 after this. */
export const SEQUENCE_MAX = 2 ** 31 - 1;

/** The producer fields of one batch header, and what the log needs to know about it. */
export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** lastOffset − baseOffset, which is also lastSequence − baseSequence (before the wrap). */
  lastOffsetDelta: number;
  /** The batch's maxTimestamp as stored: a producer expires measured from its last one. */
  maxTimestamp: number;
}

/** A batch appended earlier, kept so that a retry of it is answered with its offsets. */
export interface CachedBatch {
  firstSequence: number;
  lastSequence: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  /** Oldest first, at most PRODUCER_BATCHES_CACHED, all of the current epoch. */
  batches: CachedBatch[];
  /** maxTimestamp of the newest batch (Kafka's lastTimestamp). */
  lastTimestamp: number;
}

/** baseSequence + delta on int32 sequences: after SEQUENCE_MAX comes 0 (Kafka's incrementSequence). */
export function incrementSequence(sequence: number, delta: number): number {
  assert(sequence >= 0 && sequence <= SEQUENCE_MAX && delta >= 0, `sequence ${sequence} + ${delta}`);
  return sequence > SEQUENCE_MAX - delta ? delta - (SEQUENCE_MAX - sequence) - 1 : sequence + delta;
}

/** The producer fields of an idempotent data batch; undefined for any other batch. */
export function producerBatchOf(header: BatchHeader): ProducerBatch | undefined {
  if (header.producerId < 0 || isControlBatch(header)) return undefined;
  return {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    lastOffsetDelta: header.lastOffsetDelta,
    maxTimestamp: header.maxTimestamp,
  };
}

export function lastSequenceOf(batch: Pick<ProducerBatch, "baseSequence" | "lastOffsetDelta">): number {
  return incrementSequence(batch.baseSequence, batch.lastOffsetDelta);
}

/** Checks batches against a scratch copy of the state, as if each before it had been appended. */
export interface ProducerDryRun {
  /** Throws what the append would throw; a duplicate passes. */
  append(batch: ProducerBatch): void;
}

export class ProducerState {
  readonly #entries = new Map<number, ProducerEntry>();
  #lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    /** A producer whose last batch is this much older than now is forgotten (producer.id.expiration.ms). */
    readonly expirationMs: number,
    entries: Iterable<ProducerEntry> = [],
  ) {
    assert(Number.isSafeInteger(expirationMs) && expirationMs > 0, `expirationMs ${expirationMs}`);
    for (const entry of entries) this.#entries.set(entry.producerId, copyEntry(entry));
  }

  get producerCount(): number {
    return this.#entries.size;
  }

  /** The state of one producer, as recorded (expiry aside). Do not change it. */
  entry(producerId: number): Readonly<ProducerEntry> | undefined {
    return this.#entries.get(producerId);
  }

  /** Every producer, by id: what a snapshot holds and what tests compare. */
  entries(): ProducerEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.producerId - b.producerId).map(copyEntry);
  }

  /**
   * The checks before an append, in Kafka's order. Returns the cached batch when `batch` is a retry of
   * one (the caller appends nothing and answers with its offsets), undefined when it may be appended;
   * throws INVALID_PRODUCER_EPOCH or OUT_OF_ORDER_SEQUENCE_NUMBER otherwise.
   */
  check(batch: ProducerBatch, nowMs: number): CachedBatch | undefined {
    assert(batch.producerId >= 0, `check of a batch without a producer id`);
    this.#maybeSweep(nowMs);
    const entry = this.#liveEntry(batch.producerId, nowMs);
    // No state (a new producer, or one that expired): any sequence starts it.
    if (entry === undefined) return undefined;
    const lastSequence = lastSequenceOf(batch);
    // 1. A retry of a cached batch. Kafka answers success, never DUPLICATE_SEQUENCE_NUMBER (46):
    // kafkajs treats 46 as fatal.
    if (batch.producerEpoch === entry.producerEpoch) {
      const cached = entry.batches.find(
        (old) => old.firstSequence === batch.baseSequence && old.lastSequence === lastSequence,
      );
      if (cached !== undefined) return { ...cached };
    }
    // 2. A zombie: a newer instance of this producer has written with a higher epoch.
    if (batch.producerEpoch < entry.producerEpoch) {
      throw new SluiceError(
        "INVALID_PRODUCER_EPOCH",
        `producer ${batch.producerId} has epoch ${batch.producerEpoch}, below the current ${entry.producerEpoch}: it was fenced`,
      );
    }
    // 3. A new epoch starts its sequences at 0.
    if (batch.producerEpoch > entry.producerEpoch) {
      if (batch.baseSequence !== 0) {
        throw new SluiceError(
          "OUT_OF_ORDER_SEQUENCE_NUMBER",
          `producer ${batch.producerId} starts epoch ${batch.producerEpoch} at sequence ${batch.baseSequence}, not 0`,
        );
      }
      return undefined;
    }
    // 4. Same epoch: exactly the next sequence, with the int32 wrap.
    const newest = entry.batches.at(-1)!;
    const expected = incrementSequence(newest.lastSequence, 1);
    if (batch.baseSequence !== expected) {
      throw new SluiceError(
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        `producer ${batch.producerId} epoch ${batch.producerEpoch} sent sequence ${batch.baseSequence}; expected ${expected}`,
      );
    }
    return undefined;
  }

  /**
   * 5. Records a batch that is now in the log: the newest five are kept. Appends, followers and
   * rebuilds from the log all come through here, so state rebuilt from the log equals state kept live.
   */
  record(batch: ProducerBatch, firstOffset: number): void {
    assert(
      batch.producerId >= 0 && batch.lastOffsetDelta >= 0,
      `record of producer batch ${batch.producerId}`,
    );
    let entry = this.#entries.get(batch.producerId);
    if (entry === undefined) {
      entry = {
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        batches: [],
        lastTimestamp: 0,
      };
      this.#entries.set(batch.producerId, entry);
    }
    // Batches of an older epoch can never be retried successfully: a new epoch starts afresh.
    if (entry.producerEpoch !== batch.producerEpoch) {
      entry.producerEpoch = batch.producerEpoch;
      entry.batches = [];
    }
    entry.batches.push({
      firstSequence: batch.baseSequence,
      lastSequence: lastSequenceOf(batch),
      firstOffset,
      lastOffset: firstOffset + batch.lastOffsetDelta,
      timestamp: batch.maxTimestamp,
    });
    if (entry.batches.length > PRODUCER_BATCHES_CACHED) entry.batches.shift();
    entry.lastTimestamp = batch.maxTimestamp;
  }

  /** Forgets producers idle longer than expirationMs; returns how many. */
  removeExpired(nowMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.#entries) {
      if (this.#isExpired(entry, nowMs)) {
        this.#entries.delete(producerId);
        removed++;
      }
    }
    this.#lastSweepMs = nowMs;
    return removed;
  }

  /**
   * A scratch copy for checking several batches that will be appended in order (one request) before
   * any of them is: entries are copied on first use, so a check costs nothing for other producers.
   */
  dryRun(nowMs: number): ProducerDryRun {
    const scratch = new ProducerState(this.expirationMs);
    let nextOffset = 0;
    return {
      append: (batch) => {
        const entry = this.#liveEntry(batch.producerId, nowMs);
        if (entry !== undefined && !scratch.#entries.has(batch.producerId)) {
          scratch.#entries.set(batch.producerId, copyEntry(entry));
        }
        if (scratch.check(batch, nowMs) !== undefined) return;
        scratch.record(batch, nextOffset);
        nextOffset += batch.lastOffsetDelta + 1;
      },
    };
  }

  #liveEntry(producerId: number, nowMs: number): ProducerEntry | undefined {
    const entry = this.#entries.get(producerId);
    if (entry === undefined || !this.#isExpired(entry, nowMs)) return entry;
    this.#entries.delete(producerId);
    return undefined;
  }

  #isExpired(entry: ProducerEntry, nowMs: number): boolean {
    return nowMs - entry.lastTimestamp >= this.expirationMs;
  }

  /** Expired producers are dropped on lookup; a periodic sweep bounds the memory of the idle ones. */
  #maybeSweep(nowMs: number): void {
    if (nowMs - this.#lastSweepMs >= PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS) this.removeExpired(nowMs);
  }
}

function copyEntry(entry: ProducerEntry): ProducerEntry {
  return { ...entry, batches: entry.batches.map((batch) => ({ ...batch })) };
}
