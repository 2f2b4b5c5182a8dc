// Builders for the idempotent-producer tests: batches that carry a producer id, epoch and base
// sequence, and a way to append them and say what happened.
import { type DecodedRecord, encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import { START_MS } from "./helpers.ts";

export interface ProducerBatchSpec {
  producerId: number;
  epoch?: number;
  sequence: number;
  /** Records in the batch (default 1). */
  count?: number;
  /** Timestamp of every record (default START_MS). */
  timestampMs?: number;
  /** Prefix of the record values, so batches differ (default "v"). */
  label?: string;
}

/** A producer batch (baseOffset 0) from an idempotent producer. */
export function producerBatch(spec: ProducerBatchSpec): Uint8Array {
  const timestampMs = spec.timestampMs ?? START_MS;
  const records = Array.from({ length: spec.count ?? 1 }, (_, i) => ({
    key: null,
    value: utf8(`${spec.label ?? "v"}${i}`),
    headers: [],
    timestamp: timestampMs,
  }));
  return encodeBatch(records, {
    timestampMs,
    producerId: spec.producerId,
    producerEpoch: spec.epoch ?? 0,
    baseSequence: spec.sequence,
  });
}

/** Record values in offset order, for checking what the log holds. */
export function valuesOf(records: DecodedRecord[]): string[] {
  return records.map((record) => new TextDecoder().decode(record.value!));
}
