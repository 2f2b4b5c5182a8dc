// What an application hands the producer for one record, and its conversion to bytes for the batch:
// text becomes UTF-8 (as Kafka's StringSerializer does), bytes go as they are, null stays Kafka's null.
import type { EncodedHeader } from "./producer-batch.ts";

export type Payload = Uint8Array | string | null;

export type ProducerHeaders =
  | Record<string, Uint8Array | string | null>
  | Array<{ key: string; value: Uint8Array | string | null }>;

export interface ProducerRecord {
  key?: Payload;
  value: Payload;
  headers?: ProducerHeaders;
  /** Goes to this partition; else the key's murmur2 partition (Kafka's), else the sticky one. */
  partition?: number;
  /** CreateTime in ms since the epoch; now when left out. */
  timestamp?: number;
}

/** Where a record went; offset -1 with acks 0, which answer nothing (as Kafka reports it). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

/** Bytes a record adds to a batch besides its key, value and headers: varints and attributes, at most. */
export const RECORD_OVERHEAD_BYTES_MAX = 21;

const encoder = new TextEncoder();

export function payloadBytes(payload: Payload | undefined): Uint8Array | null {
  if (payload === undefined || payload === null) return null;
  return typeof payload === "string" ? encoder.encode(payload) : payload;
}

/** Headers as a batch stores them: keys as UTF-8, values as bytes or null. */
export function headersOf(headers: ProducerHeaders): EncodedHeader[] {
  const entries = Array.isArray(headers)
    ? headers
    : Object.entries(headers).map(([key, value]) => ({ key, value }));
  return entries.map(({ key, value }) => ({ key: encoder.encode(key), value: payloadBytes(value) }));
}

/** An upper bound of the record's bytes in an uncompressed batch, for batch.size and buffer.memory. */
export function recordSizeBound(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: EncodedHeader[] | undefined,
): number {
  let size = RECORD_OVERHEAD_BYTES_MAX + (key?.length ?? 0) + (value?.length ?? 0);
  if (headers !== undefined) {
    for (const header of headers) size += 10 + header.key.length + (header.value?.length ?? 0);
  }
  return size;
}
