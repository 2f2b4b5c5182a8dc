// The next records frame of a subscription, read from the log and cut to fit its credit: whole
// batches for binary, whole records for JSON, never past the records or bytes the client granted.
import { Buffer } from "node:buffer";
import { assert } from "../assert.ts";
import { isSluiceError, SluiceError } from "../errors.ts";
import type { PartitionLog, ReadResult } from "../log/partition-log.ts";
import { batchSizeAt, readBatchHeader } from "../log/record-batch.ts";
import { splitBatches } from "./batch-frames.ts";
import type { FetchPayloadFormat } from "./payload-format.ts";
import { renderRecords } from "./record-json.ts";
import { BINARY_FRAME_HEADER_BYTES, writeBinaryFrameHeader } from "./ws-binary-frame.ts";
import type { RecordsFormat, SubscriptionId } from "./ws-protocol.ts";

export interface FrameRequest {
  id: SubscriptionId;
  partition: number;
  format: RecordsFormat;
  keyFormat: FetchPayloadFormat;
  valueFormat: FetchPayloadFormat;
  fetchOffset: number;
  /** Credit left: offsets to move past and bytes of frame; Infinity when not limited. */
  recordsMax: number;
  bytesMax: number;
  /** Bytes of batches (binary) or JSON text a frame aims at; at least one batch or record goes. */
  targetBytes: number;
}

export type FramePlan =
  | {
      kind: "frame";
      frame: string | Uint8Array;
      nextOffset: number;
      /** Offsets moved past: what the records credit is charged. */
      records: number;
      /** The frame's size as sent: what the bytes credit is charged. */
      frameBytes: number;
      /** Bytes of stored batches the subscription moved wholly past, for the bytes-out metric. */
      logBytes: number;
    }
  /** The next batch or record alone needs more than the whole credit of the kind `field` names. */
  | { kind: "too-small"; field: "records" | "bytes"; needed: number };

/** The next frame, or undefined when there is nothing below the high watermark to send. */
export function nextRecordsFrame(log: PartitionLog, request: FrameRequest): FramePlan | undefined {
  assert(request.recordsMax > 0 && request.bytesMax > 0, "a frame is planned only with credit left");
  const headerBytes = request.format === "binary" ? BINARY_FRAME_HEADER_BYTES : 0;
  // JSON text is rarely smaller than the batches it comes from, so reading no more than the byte
  // credit still fills the frame; what is read and not sent is read again next time.
  const maxBytes = Math.max(1, Math.min(request.targetBytes, request.bytesMax - headerBytes));
  const read = log.read(request.fetchOffset, { maxBytes });
  if (read.slice === undefined) return undefined;
  return request.format === "binary" ? binaryFrame(log, read, request) : jsonFrame(log, read, request);
}

function binaryFrame(log: PartitionLog, read: ReadResult, request: FrameRequest): FramePlan {
  const slice = read.slice!;
  const frame = new Uint8Array(BINARY_FRAME_HEADER_BYTES + slice.endPosition - slice.startPosition);
  const batches = log.readSliceInto(slice, frame.subarray(BINARY_FRAME_HEADER_BYTES));
  assert(batches.byteOffset === BINARY_FRAME_HEADER_BYTES, "the batches are read in place after the header");
  let end = 0;
  let nextOffset = request.fetchOffset;
  while (end < batches.length) {
    const sizeBytes = batchSizeAt(batches, end);
    const header = readBatchHeader(batches, end);
    const lastOffset = header.baseOffset + header.lastOffsetDelta;
    const frameBytes = BINARY_FRAME_HEADER_BYTES + end + sizeBytes;
    const records = lastOffset + 1 - request.fetchOffset;
    if (frameBytes > request.bytesMax) {
      if (end === 0) return { kind: "too-small", field: "bytes", needed: frameBytes };
      break;
    }
    if (records > request.recordsMax) {
      if (end === 0) return { kind: "too-small", field: "records", needed: records };
      break;
    }
    end += sizeBytes;
    nextOffset = lastOffset + 1;
  }
  const header = { subscriptionId: request.id, nextOffset, highWatermark: read.highWatermark };
  writeBinaryFrameHeader(frame, header);
  return {
    kind: "frame",
    frame: frame.subarray(0, BINARY_FRAME_HEADER_BYTES + end),
    nextOffset,
    records: nextOffset - request.fetchOffset,
    frameBytes: BINARY_FRAME_HEADER_BYTES + end,
    logBytes: end,
  };
}

/**
 * Records rendered one batch at a time, each added while the frame stays within the credit and the
 * target. The frame's text is assembled from the records' own JSON so its size is known before it is
 * sent: `{"type":"records","id":…,"records":[…],"nextOffset":…,"highWatermark":…}`.
 */
function jsonFrame(log: PartitionLog, read: ReadResult, request: FrameRequest): FramePlan {
  const { fetchOffset, recordsMax, bytesMax } = request;
  const highWatermark = read.highWatermark;
  const head = `{"type":"records","id":${request.id},"records":[`;
  const tail = (nextOffset: number) => `],"nextOffset":${nextOffset},"highWatermark":${highWatermark}}`;
  // nextOffset never passes the high watermark, so this tail is at least as long as the real one.
  let frameBytes = head.length + tail(highWatermark).length;
  const parts: string[] = [];
  let logBytes = 0;
  let nextOffset = fetchOffset;
  let cut = false;
  const options = { ...request, fetchOffset };
  batches: for (const batch of splitBatches(log.readSliceBytes(read.slice!))) {
    for (const record of renderBatch(batch, options)) {
      if (record.offset + 1 - fetchOffset > recordsMax) {
        nextOffset = fetchOffset + recordsMax; // what lies before it is sent or a compaction gap
        cut = true;
        break batches;
      }
      const text = JSON.stringify(record);
      const bytes = Buffer.byteLength(text) + (parts.length > 0 ? 1 : 0);
      const limitBytes = parts.length === 0 ? bytesMax : Math.min(bytesMax, request.targetBytes);
      if (frameBytes + bytes > limitBytes) {
        if (parts.length === 0) return { kind: "too-small", field: "bytes", needed: frameBytes + bytes };
        nextOffset = record.offset;
        cut = true;
        break batches;
      }
      parts.push(text);
      frameBytes += bytes;
    }
    logBytes += batch.length;
    nextOffset = lastOffsetOf(batch) + 1;
  }
  // A batch's tail may be a compaction gap past the record credit: stop the offset within it.
  if (!cut) nextOffset = Math.min(nextOffset, fetchOffset + recordsMax);
  const frame = head + parts.join(",") + tail(nextOffset);
  frameBytes = Buffer.byteLength(frame);
  assert(frameBytes <= bytesMax, "a JSON records frame went past its byte credit");
  return { kind: "frame", frame, nextOffset, records: nextOffset - fetchOffset, frameBytes, logBytes };
}

function lastOffsetOf(batch: Uint8Array): number {
  const header = readBatchHeader(batch);
  return header.baseOffset + header.lastOffsetDelta;
}

/** One batch's records from fetchOffset on; a format they do not fit names the subscription's field. */
function renderBatch(batch: Uint8Array, options: Parameters<typeof renderRecords>[1]) {
  try {
    return renderRecords(batch, options);
  } catch (error) {
    if (!isSluiceError(error) || error.field === undefined) throw error;
    const field = error.field === "key_format" ? "keyFormat" : "valueFormat";
    throw new SluiceError(error.errorName, error.message, { field, cause: error });
  }
}
