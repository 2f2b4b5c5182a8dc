// Records from a binary frame of a WebSocket subscription (or a binary fetch): the 24-byte header,
// then RecordBatch v2 batches as stored. Each batch's CRC-32C is checked before it is decoded (the
// native CRC in Bun, the portable table one in browsers); gzip inflates with Bun's zlib or fflate.
import { ERRORS, isSluiceError, SluiceError } from "../errors.ts";
import { splitBatches } from "../gateway/batch-frames.ts";
import { readBinaryFrame } from "../gateway/ws-binary-frame.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import {
  CURRENT_MAGIC,
  computeBatchCrc,
  readBatchHeader,
  recordsPayload,
  timestampTypeOf,
} from "../log/record-batch.ts";
import { SluiceClientError } from "./http.ts";
import { type ConsumedRecord, pushRecords } from "./record-decoding.ts";

export type { ConsumedRecord };

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
      if (header.magic !== CURRENT_MAGIC) {
        throw new SluiceError(
          "UNSUPPORTED_MAGIC",
          `batch magic is ${header.magic}; only RecordBatch v2 can be decoded`,
        );
      }
      const payload = recordsPayload(batch, header, UNCOMPRESSED_BATCH_BYTES_MAX);
      pushRecords(records, payload, header, timestampTypeOf(header), topic, partition, fromOffset);
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
