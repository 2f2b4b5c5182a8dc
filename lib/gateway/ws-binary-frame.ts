// The binary records frame of a `format: "binary"` subscription: a fixed header, then whole
// RecordBatch v2 batches exactly as the log stores them (so a client validates their CRCs and decodes
// them as a Kafka client would).
//
// Header, 24 bytes, big-endian:
//   offset size field
//        0    1 version         1; a client refuses a frame whose version it does not know
//        1    3 reserved        zero
//        4    4 subscriptionId  uint32, the id the client chose in its subscribe frame
//        8    8 nextOffset      int64, where the subscription goes on: past the last batch here
//       16    8 highWatermark   int64, the offset up to which the partition may be read, as sent
//       24    - batches         one or more RecordBatch v2, back to back
import { SluiceError } from "../errors.ts";
import { readInt64, writeInt64 } from "../log/record-batch.ts";

export const BINARY_FRAME_VERSION = 1;

export const VERSION_OFFSET = 0;
export const SUBSCRIPTION_ID_OFFSET = 4;
export const NEXT_OFFSET_OFFSET = 8;
export const HIGH_WATERMARK_OFFSET = 16;
export const BATCHES_OFFSET = 24;
/** Bytes before the first batch. */
export const BINARY_FRAME_HEADER_BYTES = BATCHES_OFFSET;

export interface BinaryFrameHeader {
  subscriptionId: number;
  nextOffset: number;
  highWatermark: number;
}

/** Writes the header into the first BINARY_FRAME_HEADER_BYTES of `frame`; the batches follow. */
export function writeBinaryFrameHeader(frame: Uint8Array, header: BinaryFrameHeader): void {
  const view = new DataView(frame.buffer, frame.byteOffset, BINARY_FRAME_HEADER_BYTES);
  view.setUint32(VERSION_OFFSET, 0); // version and the reserved bytes
  view.setUint8(VERSION_OFFSET, BINARY_FRAME_VERSION);
  view.setUint32(SUBSCRIPTION_ID_OFFSET, header.subscriptionId);
  writeInt64(view, NEXT_OFFSET_OFFSET, header.nextOffset);
  writeInt64(view, HIGH_WATERMARK_OFFSET, header.highWatermark);
}

/** A received binary frame's header and a view of its batches (for clients and tests). */
export function readBinaryFrame(frame: Uint8Array): BinaryFrameHeader & { batches: Uint8Array } {
  if (frame.length < BINARY_FRAME_HEADER_BYTES) {
    throw new SluiceError(
      "CORRUPT_MESSAGE",
      `a binary frame has a ${BINARY_FRAME_HEADER_BYTES}-byte header; this one is ${frame.length} bytes`,
    );
  }
  const view = new DataView(frame.buffer, frame.byteOffset, BINARY_FRAME_HEADER_BYTES);
  const version = view.getUint8(VERSION_OFFSET);
  if (version !== BINARY_FRAME_VERSION) {
    throw new SluiceError(
      "CORRUPT_MESSAGE",
      `binary frame version ${version} is not ${BINARY_FRAME_VERSION}`,
    );
  }
  return {
    subscriptionId: view.getUint32(SUBSCRIPTION_ID_OFFSET),
    nextOffset: readInt64(view, NEXT_OFFSET_OFFSET),
    highWatermark: readInt64(view, HIGH_WATERMARK_OFFSET),
    batches: frame.subarray(BATCHES_OFFSET),
  };
}
