// Cuts bytes holding RecordBatches back to back into one view per batch, checking only the framing
// (each batch's length field against the bytes that are there); validateBatch checks the rest.
import { SluiceError } from "../errors.ts";
import { BATCH_HEADER_BYTES } from "../limits.ts";
import { batchSizeAt } from "../log/record-batch.ts";

/** The media type of a body of RecordBatch v2 bytes, in raw produce and binary fetch. */
export const RECORD_BATCH_MEDIA_TYPE = "application/vnd.kafka.recordbatch";

/** One view per batch, in order. A batch cut short anywhere fails the whole body. */
export function splitBatches(bytes: Uint8Array): Uint8Array[] {
  const batches: Uint8Array[] = [];
  for (let position = 0; position < bytes.length; ) {
    const remaining = bytes.length - position;
    const field = `batches[${batches.length}]`;
    if (remaining < BATCH_HEADER_BYTES) {
      throw corrupt(
        field,
        `${remaining} bytes are left, less than a ${BATCH_HEADER_BYTES}-byte batch header`,
      );
    }
    const sizeBytes = batchSizeAt(bytes, position);
    if (sizeBytes < BATCH_HEADER_BYTES) {
      throw corrupt(field, `its batchLength gives ${sizeBytes} bytes, less than its own header`);
    }
    if (sizeBytes > remaining) {
      throw corrupt(
        field,
        `it is truncated: its batchLength gives ${sizeBytes} bytes but ${remaining} are left`,
      );
    }
    batches.push(bytes.subarray(position, position + sizeBytes));
    position += sizeBytes;
  }
  return batches;
}

function corrupt(field: string, why: string): SluiceError {
  return new SluiceError("CORRUPT_MESSAGE", `${field}: ${why}`, { field });
}
