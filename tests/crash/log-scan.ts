// Reads a whole partition log back through its public read path and checks what a consumer must be
// able to rely on after any crash: batches are whole and valid (CRC, framing), offsets run from the
// log start to the log end with no gap or repeat, and segments join up end to start.
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../../lib/limits.ts";
import type { PartitionLog } from "../../lib/log/partition-log.ts";
import { batchSizeAt, decodeRecords, validateBatch } from "../../lib/log/record-batch.ts";

export interface ScannedBatch {
  baseOffset: number;
  lastOffset: number;
  sizeBytes: number;
  values: (Uint8Array | null)[];
}

/** Read size for the scan: several batches per read, so slices of many batches are exercised. */
const SCAN_READ_BYTES = 64 * 1024;

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Every batch of the log, in order; throws on the first torn batch, gap or repeat. */
export function scanPartition(log: PartitionLog): ScannedBatch[] {
  const where = log.dir;
  const segments = log.describeSegments();
  check(segments.length > 0, `${where}: no segments`);
  check(
    segments[0]!.baseOffset === log.logStartOffset,
    `${where}: first segment does not start at the log start`,
  );
  for (let i = 1; i < segments.length; i++) {
    check(
      segments[i]!.baseOffset === segments[i - 1]!.nextOffset,
      `${where}: segment ${segments[i]!.baseOffset} does not start where ${segments[i - 1]!.baseOffset} ends (${segments[i - 1]!.nextOffset})`,
    );
  }
  check(
    segments.at(-1)!.nextOffset === log.logEndOffset,
    `${where}: the last segment does not end at the log end`,
  );

  const batches: ScannedBatch[] = [];
  let expected = log.logStartOffset;
  while (expected < log.logEndOffset) {
    const { slice } = log.read(expected, { maxBytes: SCAN_READ_BYTES, upTo: "log-end" });
    check(
      slice !== undefined,
      `${where}: read(${expected}) found nothing below the log end ${log.logEndOffset}`,
    );
    check(
      slice.firstOffset === expected,
      `${where}: read(${expected}) starts at offset ${slice.firstOffset}`,
    );
    const bytes = log.readSliceBytes(slice);
    let position = 0;
    while (position < bytes.length) {
      check(
        bytes.length - position >= 12,
        `${where}: ${bytes.length - position} stray bytes at the end of a slice`,
      );
      const sizeBytes = batchSizeAt(bytes, position);
      check(position + sizeBytes <= bytes.length, `${where}: torn batch at offset ${expected}`);
      const batch = bytes.subarray(position, position + sizeBytes);
      let validated: ReturnType<typeof validateBatch>;
      try {
        validated = validateBatch(batch, UNCOMPRESSED_BATCH_BYTES_MAX);
      } catch (error) {
        throw new Error(`${where}: the batch at offset ${expected} is invalid: ${(error as Error).message}`);
      }
      const { baseOffset, lastOffsetDelta } = validated.header;
      check(
        baseOffset === expected,
        `${where}: expected a batch at offset ${expected}, found one at ${baseOffset}`,
      );
      const records = decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX);
      records.forEach((record, i) => {
        check(
          record.offset === baseOffset + i,
          `${where}: record ${i} of batch ${baseOffset} has offset ${record.offset}`,
        );
      });
      batches.push({
        baseOffset,
        lastOffset: baseOffset + lastOffsetDelta,
        sizeBytes,
        values: records.map((r) => r.value),
      });
      expected = baseOffset + lastOffsetDelta + 1;
      position += sizeBytes;
    }
    check(
      expected === slice.lastOffset + 1,
      `${where}: slice says it ends at ${slice.lastOffset}, batches end at ${expected - 1}`,
    );
  }
  check(
    expected === log.logEndOffset,
    `${where}: batches end at ${expected}, the log end is ${log.logEndOffset}`,
  );
  return batches;
}

/** Point lookups through the (possibly rebuilt) offset index: each must land on the batch holding the offset. */
export function checkLookups(
  log: PartitionLog,
  batches: readonly ScannedBatch[],
  offsets: readonly number[],
): void {
  for (const offset of offsets) {
    const holder = batches.find((batch) => batch.baseOffset <= offset && offset <= batch.lastOffset);
    check(holder !== undefined, `${log.dir}: no scanned batch holds offset ${offset}`);
    const { slice } = log.read(offset, { maxBytes: 1, upTo: "log-end" });
    check(
      slice !== undefined && slice.firstOffset === holder.baseOffset && slice.batchCount === 1,
      `${log.dir}: read(${offset}) gave ${slice ? `${slice.firstOffset}..${slice.lastOffset}` : "nothing"}, expected the batch at ${holder.baseOffset}`,
    );
  }
}
