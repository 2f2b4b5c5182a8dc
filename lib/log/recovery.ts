// Recovery of a segment after an unclean shutdown, as Kafka's LogSegment.recover(): reset the
// indexes, walk every batch checking its length, magic and CRC-32C, rebuild the indexes, and cut
// the log at the first batch that is torn or corrupt.
import { isSluiceError } from "../errors.ts";
import { BATCH_HEADER_BYTES, RELATIVE_OFFSET_MAX } from "../limits.ts";
import { type BatchLocation, ChunkedReader } from "./batch-reader.ts";
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CURRENT_MAGIC,
  computeBatchCrc,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD_BYTES,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  readInt64,
} from "./record-batch.ts";
import type { Segment } from "./segment.ts";

export interface SegmentRecovery {
  baseOffset: number;
  batches: number;
  validBytes: number;
  truncatedBytes: number;
  /** Why the scan stopped before the end of the file, when it did. */
  stopReason?: string;
}

/** Recovery reads whole batches: large reads keep a full scan near disk speed. */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;

/** Largest batch recovery will read whole; anything larger is treated as a corrupt length. */
const RECOVERY_BATCH_BYTES_MAX = 256 * 1024 * 1024;

/** Where a batch may start: exactly at the segment's next offset, or past it in a compacted log. */
interface OffsetExpectation {
  baseOffset: number;
  nextOffset: number;
  allowGaps: boolean;
}

/** Checks one batch in place; returns why it is invalid, or its facts when it is whole and sound. */
function checkBatchAt(
  reader: ChunkedReader,
  position: number,
  fileEnd: number,
  expected: OffsetExpectation,
): string | BatchFacts {
  if (fileEnd - position < BATCH_HEADER_BYTES) return `partial batch header at byte ${position}`;
  const head = reader.view(position, BATCH_HEADER_BYTES);
  if (head === undefined) return `partial batch header at byte ${position}`;
  const headView = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const sizeBytes = headView.getInt32(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD_BYTES;
  if (sizeBytes < BATCH_HEADER_BYTES || sizeBytes > RECOVERY_BATCH_BYTES_MAX) {
    return `impossible batch length ${sizeBytes} at byte ${position}`;
  }
  if (position + sizeBytes > fileEnd) return `batch at byte ${position} is cut short (torn write)`;
  const magic = headView.getInt8(MAGIC_OFFSET);
  if (magic !== CURRENT_MAGIC) return `batch at byte ${position} has magic ${magic}`;
  const batch = reader.view(position, sizeBytes)!;
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  if (view.getUint32(CRC_OFFSET) !== computeBatchCrc(batch))
    return `CRC-32C mismatch in batch at byte ${position}`;
  const baseOffset = readInt64(view, BASE_OFFSET_OFFSET);
  const lastOffsetDelta = view.getInt32(LAST_OFFSET_DELTA_OFFSET);
  // baseOffset is outside the CRC, so a flipped bit there passes every other check. Each batch starts
  // exactly where the one before it ended, unless the log is compacted: the cleaner drops whole
  // batches, so there a batch may start later, though never before, and never past what a segment's
  // int32 relative offsets can name.
  const { nextOffset } = expected;
  const startsRight = expected.allowGaps ? baseOffset >= nextOffset : baseOffset === nextOffset;
  const fits = baseOffset + lastOffsetDelta - expected.baseOffset <= RELATIVE_OFFSET_MAX;
  if (!startsRight || lastOffsetDelta < 0 || !fits) {
    const where = expected.allowGaps ? "at or after" : "at";
    return `batch at byte ${position} has offsets ${baseOffset}+${lastOffsetDelta}, expected to start ${where} ${nextOffset}`;
  }
  return {
    sizeBytes,
    baseOffset,
    lastOffset: baseOffset + lastOffsetDelta,
    maxTimestamp: readInt64(view, MAX_TIMESTAMP_OFFSET),
    partitionLeaderEpoch: view.getInt32(PARTITION_LEADER_EPOCH_OFFSET),
  };
}

interface BatchFacts {
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
}

export interface RecoverOptions {
  /** Called for every valid batch, in order, so the caller can re-add leader epochs. */
  onBatch?: (batch: BatchLocation) => void;
  /** The log is compacted: a batch may start past the previous one's end (offsets the cleaner removed). */
  allowOffsetGaps?: boolean;
}

/** Recovers one segment in place; the log is truncated after its last valid batch. */
export function recoverSegment(segment: Segment, options: RecoverOptions = {}): SegmentRecovery {
  segment.offsetIndex.reset();
  segment.timeIndex.reset();
  segment.resetState();
  const reader = new ChunkedReader(segment.log, RECOVERY_CHUNK_BYTES);
  const fileEnd = segment.sizeBytes;
  let position = 0;
  let batches = 0;
  let stopReason: string | undefined;
  while (position < fileEnd) {
    let facts: string | BatchFacts;
    try {
      facts = checkBatchAt(reader, position, fileEnd, {
        baseOffset: segment.baseOffset,
        nextOffset: segment.nextOffset,
        allowGaps: options.allowOffsetGaps ?? false,
      });
    } catch (error) {
      if (!isSluiceError(error)) throw error;
      facts = `${error.message} in batch at byte ${position}`;
    }
    if (typeof facts === "string") {
      stopReason = facts;
      break;
    }
    const location = { position, ...facts, magic: CURRENT_MAGIC };
    segment.noteRecoveredBatch(location, true);
    options.onBatch?.(location);
    position += facts.sizeBytes;
    batches++;
  }
  const truncatedBytes = fileEnd - position;
  if (truncatedBytes > 0) segment.log.truncate(position);
  const result: SegmentRecovery = {
    baseOffset: segment.baseOffset,
    batches,
    validBytes: position,
    truncatedBytes,
  };
  if (stopReason !== undefined) result.stopReason = stopReason;
  return result;
}
