// Raw produce: RecordBatch v2 bytes as a Kafka producer sends them, one or more back to back, for
// one partition. Every batch is validated before the first is appended, so a bad or truncated batch
// anywhere in the body leaves the log untouched.
import { SluiceError } from "../errors.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import type { AppendResult } from "../log/partition-log.ts";
import { validateBatch } from "../log/record-batch.ts";
import { type Acks, appendBatches, type PendingBatch, withField } from "./append-batches.ts";
import { splitBatches } from "./batch-frames.ts";
import type { Gateway } from "./gateway.ts";

export interface ProduceBatchesRequest {
  topic: string;
  partition: number;
  /** The request body; its batches are rewritten in place (offsets, leader epoch) on append. */
  body: Uint8Array;
  acks: Acks;
  durable: boolean;
}

export interface ProduceBatchesResult {
  /** `duplicate` marks an idempotent producer's retry: nothing appended, the original's offsets. */
  batches: Array<
    Pick<AppendResult, "baseOffset" | "lastOffset" | "recordCount" | "logAppendTime" | "duplicate">
  >;
  logStartOffset: number;
}

export async function produceBatches(
  gateway: Gateway,
  request: ProduceBatchesRequest,
): Promise<ProduceBatchesResult> {
  // The partition first: an unknown one is a 404 whatever the body holds.
  const log = gateway.logs.partition(request.topic, request.partition);
  const batches = checkBatches(request.body, request.partition);
  const results = await appendBatches(gateway, request.topic, batches, request);
  return {
    batches: results.map(({ baseOffset, lastOffset, recordCount, logAppendTime, duplicate }) =>
      duplicate
        ? { baseOffset, lastOffset, recordCount, logAppendTime, duplicate }
        : { baseOffset, lastOffset, recordCount, logAppendTime },
    ),
    logStartOffset: log.logStartOffset,
  };
}

/**
 * Splits and validates every batch of the body as the log would on append, naming the bad one
 * (batches[i]). The verdict travels with each batch, so the log does not check the bytes again.
 */
export function checkBatches(body: Uint8Array, partition: number): PendingBatch[] {
  if (body.length === 0) {
    throw new SluiceError("INVALID_REQUEST", "the body holds no record batch", { field: "body" });
  }
  return splitBatches(body).map((bytes, i) => {
    const field = `batches[${i}]`;
    const validated = withField(field, () => validateBatch(bytes, UNCOMPRESSED_BATCH_BYTES_MAX));
    const { header } = validated;
    if (header.baseOffset !== 0) {
      throw new SluiceError(
        "INVALID_RECORD",
        `${field}: a produced batch must have baseOffset 0, not ${header.baseOffset}`,
        { field },
      );
    }
    return { partition, bytes, field, validated };
  });
}
