// Fetched batches as JSON records: offsets, timestamps, keys, values and headers, with keys and values
// in the format the client asked for (or the one "auto" picked, said per record).
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import {
  type DecodedRecord,
  decodeRecords,
  readBatchHeader,
  type TimestampType,
  timestampTypeOf,
} from "../log/record-batch.ts";
import { splitBatches } from "./batch-frames.ts";
import { decodeText, type FetchPayloadFormat, type PayloadFormat, renderPayload } from "./payload-format.ts";

export interface JsonRecord {
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key: unknown;
  keyFormat?: PayloadFormat;
  value: unknown;
  valueFormat?: PayloadFormat;
  /** In the order stored (Kafka allows repeated keys); values are text, or base64 when not UTF-8. */
  headers: Array<{ key: string; value: string | null; valueFormat?: "base64" }>;
}

export interface RenderOptions {
  partition: number;
  /** Records below it are left out: the first batch may start earlier. */
  fetchOffset: number;
  keyFormat: FetchPayloadFormat;
  valueFormat: FetchPayloadFormat;
}

/** Every record at or past fetchOffset in `bytes` (whole batches, back to back). */
export function renderRecords(bytes: Uint8Array, options: RenderOptions): JsonRecord[] {
  const records: JsonRecord[] = [];
  for (const batch of splitBatches(bytes)) {
    const timestampType = timestampTypeOf(readBatchHeader(batch));
    for (const record of decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX)) {
      if (record.offset >= options.fetchOffset) records.push(renderRecord(record, timestampType, options));
    }
  }
  return records;
}

function renderRecord(
  record: DecodedRecord,
  timestampType: TimestampType,
  options: RenderOptions,
): JsonRecord {
  const key = renderPayload(record.key, options.keyFormat, () => ({
    what: `the key at offset ${record.offset}`,
    field: "key_format",
  }));
  const value = renderPayload(record.value, options.valueFormat, () => ({
    what: `the value at offset ${record.offset}`,
    field: "value_format",
  }));
  return {
    partition: options.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    timestampType,
    key: key.value,
    ...(key.format === undefined ? {} : { keyFormat: key.format }),
    value: value.value,
    ...(value.format === undefined ? {} : { valueFormat: value.format }),
    headers: record.headers.map(renderHeader),
  };
}

function renderHeader(header: { key: string; value: Uint8Array | null }): JsonRecord["headers"][number] {
  if (header.value === null) return { key: header.key, value: null };
  const text = decodeText(header.value);
  return text === undefined
    ? { key: header.key, value: header.value.toBase64(), valueFormat: "base64" }
    : { key: header.key, value: text };
}
