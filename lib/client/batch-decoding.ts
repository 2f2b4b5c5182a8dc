// Records from a binary frame of a WebSocket subscription (or a binary fetch): the 24-byte header,
// then RecordBatch v2 batches as stored. Each batch's CRC-32C is checked before it is decoded (the
// native CRC in Bun, the portable table one in browsers); gzip inflates with Bun's zlib or fflate.
import { ERRORS, isSluiceError } from "../errors.ts";
import { splitBatches } from "../gateway/batch-frames.ts";
import { readBinaryFrame } from "../gateway/ws-binary-frame.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import {
  computeBatchCrc,
  decodeRecords,
  type RecordHeader,
  readBatchHeader,
  type TimestampType,
  timestampTypeOf,
} from "../log/record-batch.ts";
import { SluiceClientError } from "./http.ts";

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

/**
 * The records of `batches` (RecordBatch v2 bytes back to back) at or after `fromOffset`: the first
 * batch may start before the offset a subscription or fetch asked for.
 */
export function decodeBatches(
  batches: Uint8Array,
  topic: string,
  partition: number,
  fromOffset = 0,
): ConsumedRecord[] {
  const records: ConsumedRecord[] = [];
  try {
    for (const batch of splitBatches(batches)) {
      const header = readBatchHeader(batch);
      const crc = computeBatchCrc(batch);
      if (crc !== header.crc) {
        throw new SluiceClientError({
          status: 0,
          code: ERRORS.CORRUPT_MESSAGE.code,
          name: "CORRUPT_MESSAGE",
          message: `batch at offset ${header.baseOffset} of ${topic}-${partition} fails its CRC-32C`,
        });
      }
      if (header.baseOffset + header.lastOffsetDelta < fromOffset) continue;
      const timestampType = timestampTypeOf(header);
      for (const record of decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX)) {
        if (record.offset < fromOffset) continue;
        records.push({ topic, partition, timestampType, ...record });
      }
    }
  } catch (error) {
    throw asClientError(error);
  }
  return records;
}

/** A binary frame's header (subscription id, next offset, high watermark) and its batches. */
export function readFrame(frame: Uint8Array): ReturnType<typeof readBinaryFrame> {
  try {
    return readBinaryFrame(frame);
  } catch (error) {
    throw asClientError(error);
  }
}

/** The log's own errors (SluiceError) as the client's, keeping their code and name. */
export function asClientError(error: unknown): unknown {
  if (!isSluiceError(error)) return error;
  return new SluiceClientError(
    { status: 0, code: error.code, name: error.errorName, message: error.message, field: error.field },
    { cause: error },
  );
}
