// JSON produce: records whose keys and values come as JSON, text or base64, placed on partitions as
// Kafka's default partitioner places them (explicit, else murmur2 of the key bytes, else sticky),
// and appended as one RecordBatch per partition. An idempotent producer names its id, epoch and each
// partition's base sequence, and a retry of the same request is answered with the first one's offsets.

import { SluiceError } from "../errors.ts";
import type { AppendResult } from "../log/partition-log.ts";
import { encodeBatch, type RecordHeader, type RecordInput } from "../log/record-batch.ts";
import { type Acks, appendBatches, type PendingBatch } from "./append-batches.ts";
import type { Gateway } from "./gateway.ts";
import { RECORDS_PER_REQUEST_MAX } from "./limits.ts";
import { partitionForKey } from "./partitioner.ts";
import { checkText, encodePayload, encodeText, type PayloadFormat } from "./payload-format.ts";

export type ProducedHeaders = Record<string, string | null> | Array<{ key: string; value: string | null }>;

export interface ProducedRecord {
  key?: unknown;
  value: unknown;
  /** Header values are text, stored as UTF-8. */
  headers?: ProducedHeaders;
  partition?: number;
  /** CreateTime in ms since the epoch; defaults to now. */
  timestamp?: number;
}

/** An idempotent producer's fields (POST /producers hands out the id and epoch). */
export interface IdempotentProducer {
  producerId: number;
  producerEpoch: number;
  /** The first sequence of each partition's batch in this request, by partition number. */
  baseSequences: Record<string, number>;
}

export interface ProduceRecordsRequest {
  topic: string;
  keyFormat: PayloadFormat;
  valueFormat: PayloadFormat;
  records: ProducedRecord[];
  acks: Acks;
  durable: boolean;
  producer?: IdempotentProducer;
}

/** One partition's append, as the log answered it. */
export interface PartitionAppend extends AppendResult {
  partition: number;
}

export interface ProduceRecordsResult {
  /** Each record's place, in request order. */
  offsets: Array<{ partition: number; offset: number }>;
  /** One entry per partition written, in the order partitions first appear in the request. */
  partitions: PartitionAppend[];
}

interface PartitionGroup {
  partition: number;
  recordIndexes: number[];
  inputs: RecordInput[];
}

/** Refuses a request with more records than one may carry, before any of them is looked at. */
export function checkRecordCount(count: number): void {
  if (count > RECORDS_PER_REQUEST_MAX) {
    throw new SluiceError(
      "REQUEST_TOO_LARGE",
      `a produce request may carry at most ${RECORDS_PER_REQUEST_MAX} records, not ${count}`,
      { field: "records" },
    );
  }
}

export async function produceRecords(
  gateway: Gateway,
  request: ProduceRecordsRequest,
): Promise<ProduceRecordsResult> {
  checkRecordCount(request.records.length);
  const groups = groupByPartition(gateway, request);
  if (request.producer !== undefined) checkSequencesCover(groups, request.producer);
  const nowMs = gateway.logs.clock.nowMs();
  const batches: PendingBatch[] = groups.map((group) => ({
    partition: group.partition,
    bytes: encodeBatch(group.inputs, {
      timestampMs: nowMs,
      ...producerFields(request.producer, group.partition),
    }),
    field: "records",
  }));
  const results = await appendBatches(gateway, request.topic, batches, request);
  const offsets = new Array<{ partition: number; offset: number }>(request.records.length);
  const partitions = groups.map((group, g) => {
    const result = results[g]!;
    for (const [j, index] of group.recordIndexes.entries()) {
      offsets[index] = { partition: group.partition, offset: result.baseOffset + j };
    }
    return { partition: group.partition, ...result };
  });
  return { offsets, partitions };
}

/** Converts each record to bytes and puts it in its partition's group, keeping request order. */
function groupByPartition(gateway: Gateway, request: ProduceRecordsRequest): PartitionGroup[] {
  const { topic } = request;
  const partitionCount = gateway.logs.partitionCount(topic);
  const groups = new Map<number, PartitionGroup>();
  let keyless = false;
  for (const [i, record] of request.records.entries()) {
    const input = toRecordInput(record, request, `records[${i}]`);
    let partition = record.partition;
    if (partition !== undefined) checkPartition(topic, partition, partitionCount, i);
    else if (input.key != null) partition = partitionForKey(input.key, partitionCount);
    else if (request.producer !== undefined) {
      // A retry must land where the first attempt did, and sticky partitioning would move it.
      throw new SluiceError(
        "INVALID_REQUEST",
        `records[${i}].partition: an idempotent produce needs each record's partition or key`,
        { field: `records[${i}].partition` },
      );
    } else {
      partition = gateway.sticky.partition(topic, partitionCount);
      keyless = true;
    }
    let group = groups.get(partition);
    if (group === undefined) {
      group = { partition, recordIndexes: [], inputs: [] };
      groups.set(partition, group);
    }
    group.recordIndexes.push(i);
    group.inputs.push(input);
  }
  // A request is one batch per partition: the next request's keyless records move on (KIP-480).
  if (keyless) gateway.sticky.batchDone(topic, partitionCount);
  return [...groups.values()];
}

/** Each partition written needs its base sequence, and a sequence for a partition not written is a slip. */
function checkSequencesCover(groups: PartitionGroup[], producer: IdempotentProducer): void {
  const written = new Set(groups.map((group) => String(group.partition)));
  const fail = (partition: string, why: string) => {
    const field = `producer.baseSequences.${partition}`;
    return new SluiceError("INVALID_REQUEST", `${field}: ${why}`, { field });
  };
  for (const partition of written) {
    if (producer.baseSequences[partition] === undefined) {
      throw fail(partition, `records go to partition ${partition}, which has no base sequence`);
    }
  }
  for (const partition of Object.keys(producer.baseSequences)) {
    if (!written.has(partition)) throw fail(partition, `no record goes to partition ${partition}`);
  }
}

function producerFields(producer: IdempotentProducer | undefined, partition: number) {
  if (producer === undefined) return {};
  return {
    producerId: producer.producerId,
    producerEpoch: producer.producerEpoch,
    baseSequence: producer.baseSequences[String(partition)]!,
  };
}

function checkPartition(topic: string, partition: number, partitionCount: number, index: number): void {
  if (partition < partitionCount) return;
  throw new SluiceError(
    "UNKNOWN_TOPIC_OR_PARTITION",
    `records[${index}].partition: topic "${topic}" has no partition ${partition} (it has ${partitionCount})`,
    { field: `records[${index}].partition` },
  );
}

function toRecordInput(record: ProducedRecord, request: ProduceRecordsRequest, field: string): RecordInput {
  const input: RecordInput = {
    key: encodePayload(record.key, request.keyFormat, `${field}.key`),
    value: encodePayload(record.value, request.valueFormat, `${field}.value`),
    headers: toHeaders(record.headers, `${field}.headers`),
  };
  if (record.timestamp !== undefined) input.timestamp = record.timestamp;
  return input;
}

function toHeaders(headers: ProducedHeaders | undefined, field: string): RecordHeader[] {
  if (headers === undefined) return [];
  const entries = Array.isArray(headers)
    ? headers.map((header, i) => ({ ...header, at: `${field}[${i}]` }))
    : Object.entries(headers).map(([key, value]) => ({ key, value, at: `${field}.${key}` }));
  return entries.map(({ key, value, at }) => {
    checkText(key, at);
    return { key, value: value === null ? null : encodeText(value, at) };
  });
}
