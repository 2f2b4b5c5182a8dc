// One partition's batch as the producer fills it: the records, a bound of their size, and one promise
// settled when the request carrying the batch is answered. Each record's send() derives its offset
// from the batch's base offset, so a batch of 10,000 records costs one deferred, not 10,000.
import type { RecordInput } from "../log/record-batch.ts";

export interface BatchOutcome {
  /** The first record's offset; -1 with acks 0. */
  baseOffset: number;
}

export class ProducerBatch {
  readonly records: RecordInput[] = [];
  sizeBytes = 0;
  readonly done: Promise<BatchOutcome>;
  resolve!: (outcome: BatchOutcome) => void;
  reject!: (error: unknown) => void;
  /** Send attempts so far. */
  attempts = 0;

  constructor(readonly createdMs: number) {
    this.done = new Promise<BatchOutcome>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Nobody may await a batch whose records' callers dropped their promises: no unhandled rejection.
    this.done.catch(() => {});
  }

  add(record: RecordInput, sizeBytes: number): number {
    this.sizeBytes += sizeBytes;
    return this.records.push(record) - 1;
  }
}
