// What a leader does to a produced batch before it is stored, as Kafka's LogValidator: check its size
// against the topic, recompress it to the topic's compression.type, and apply the topic's timestamp
// type (recomputing the CRC only when a field under it changed).
import { SluiceError } from "../errors.ts";
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../limits.ts";
import type { LogConfig } from "./log-config.ts";
import {
  compressionOf,
  decodeRecords,
  encodeBatch,
  readBatchHeader,
  setMaxTimestamp,
  TRANSACTIONAL_FLAG_MASK,
  timestampTypeOf,
} from "./record-batch.ts";

/**
 * Throws MESSAGE_TOO_LARGE past max.message.bytes and RECORD_LIST_TOO_LARGE past segment.bytes.
 * `field` names the request part for the error (a gateway checking a whole request up front).
 */
export function checkBatchSize(
  sizeBytes: number,
  config: Pick<LogConfig, "maxMessageBytes" | "segmentBytes">,
  field?: string,
): void {
  const where = field === undefined ? "" : `${field}: `;
  const options = field === undefined ? {} : { field };
  if (sizeBytes > config.maxMessageBytes) {
    throw new SluiceError(
      "MESSAGE_TOO_LARGE",
      `${where}the batch is ${sizeBytes} bytes; this topic's max.message.bytes is ${config.maxMessageBytes}`,
      options,
    );
  }
  if (sizeBytes > config.segmentBytes) {
    throw new SluiceError(
      "RECORD_LIST_TOO_LARGE",
      `${where}the batch is ${sizeBytes} bytes, more than this topic's segment.bytes ${config.segmentBytes}`,
      options,
    );
  }
}

export interface ConvertedBatch {
  batch: Uint8Array;
  maxTimestamp: number;
  /** The broker's time under LogAppendTime, else -1 (Kafka's reply). */
  logAppendTime: number;
}

/**
 * Applies the topic's compression type and timestamp type to a validated batch whose records'
 * largest timestamp is `maxTimestamp`. May rewrite `batch` in place or return a new one.
 */
export function convertForTopic(
  batch: Uint8Array,
  maxTimestamp: number,
  config: Pick<LogConfig, "compressionType" | "messageTimestampType">,
  nowMs: number,
): ConvertedBatch {
  const header = readBatchHeader(batch);
  let converted = batch;
  const target = config.compressionType;
  if (target !== "producer" && target !== compressionOf(header)) {
    converted = encodeBatch(
      decodeRecords(batch, UNCOMPRESSED_BATCH_BYTES_MAX).map((record) => ({
        key: record.key,
        value: record.value,
        headers: record.headers,
        timestamp: record.timestamp,
      })),
      {
        compression: target,
        producerId: header.producerId,
        producerEpoch: header.producerEpoch,
        baseSequence: header.baseSequence,
        isTransactional: (header.attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
      },
    );
  }
  if (config.messageTimestampType === "LogAppendTime") {
    setMaxTimestamp(converted, "LogAppendTime", nowMs);
    return { batch: converted, maxTimestamp: nowMs, logAppendTime: nowMs };
  }
  if (header.maxTimestamp !== maxTimestamp || timestampTypeOf(header) !== "CreateTime") {
    setMaxTimestamp(converted, "CreateTime", maxTimestamp);
  }
  return { batch: converted, maxTimestamp, logAppendTime: -1 };
}
