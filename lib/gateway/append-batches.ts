// Appends a produce request's batches to a topic's partitions: everything that can be checked is
// checked for every batch before the first is written, so a rejected request leaves the log as it
// was; then the appends run without yielding, waiting fetches are woken, and durable requests wait
// for the fsync.

import { appendReplicated } from "../cluster/replicated-append.ts";
import { SluiceError } from "../errors.ts";
import { checkBatchSize } from "../log/batch-conversion.ts";
import type { AppendResult, PartitionLog } from "../log/partition-log.ts";
import { type ProducerDryRun, producerBatchOf } from "../log/producer-state.ts";
import type { ValidatedBatch } from "../log/record-batch.ts";
import { readBatchHeader } from "../log/record-batch.ts";
import { isInternalTopic } from "../topics/log-manager.ts";
import type { Gateway } from "./gateway.ts";

/**
 * Kafka's acks: 0 answers without waiting, 1 after the leader's append, "all" once the ISR has the
 * records (on a single node, the same as 1).
 */
export type Acks = 0 | 1 | "all";

export interface PendingBatch {
  partition: number;
  /** A producer batch (baseOffset 0); the log rewrites it in place, so the caller gives it up. */
  bytes: Uint8Array;
  /** Names the batch in errors: batches[2], or records for a JSON produce. */
  field: string;
  /** validateBatch's verdict on `bytes`, when the caller already ran it. */
  validated?: ValidatedBatch;
}

export interface AppendBatchesOptions {
  acks: Acks;
  /** Answer only after the batches are fsynced (group commit). */
  durable: boolean;
}

/** Appends every batch, in order, and returns their results in the same order. */
export async function appendBatches(
  gateway: Gateway,
  topic: string,
  batches: PendingBatch[],
  options: AppendBatchesOptions,
): Promise<AppendResult[]> {
  // Internal topics are written by Sluice alone, as Kafka refuses client writes to its own: a forged
  // record in __consumer_offsets would move a group's committed offsets.
  if (isInternalTopic(topic)) {
    throw new SluiceError(
      "TOPIC_IS_INTERNAL",
      `topic "${topic}" is Sluice's own; clients cannot write to it`,
      {
        field: "topic",
      },
    );
  }
  // Cluster mode: each partition's leader takes its batches (lib/cluster/replicated-append.ts).
  const cluster = gateway.cluster;
  if (cluster?.manages(topic))
    return appendReplicated(gateway, cluster, topic, batches, options, appendLocal);
  return appendLocal(gateway, topic, batches, options);
}

/** Appends to this node's own logs: every check up front, then the appends without yielding. */
async function appendLocal(
  gateway: Gateway,
  topic: string,
  batches: PendingBatch[],
  options: AppendBatchesOptions,
): Promise<AppendResult[]> {
  const logs = batches.map((batch) => gateway.logs.partition(topic, batch.partition));
  // The log's own size checks, made for every batch up front so a request fails whole. A topic that
  // recompresses on append may still grow one past them; that batch then fails alone.
  for (const [i, batch] of batches.entries())
    checkBatchSize(batch.bytes.length, logs[i]!.config, batch.field);
  checkProducerSequences(logs, batches, gateway.logs.clock.nowMs());
  const results: AppendResult[] = [];
  const touched = new Map<number, PartitionLog>();
  try {
    for (const [i, batch] of batches.entries()) {
      results.push(
        withField(batch.field, () =>
          logs[i]!.appendSync(batch.bytes, batch.validated ? { validated: batch.validated } : {}),
        ),
      );
      touched.set(batch.partition, logs[i]!);
      // A retried duplicate is answered, not appended: it brings nothing in.
      const { recordCount: records, duplicate } = results.at(-1)!;
      const bytes = batch.bytes.length;
      if (!duplicate) gateway.metrics.recordsIn(topic, batch.partition, { records, bytes });
    }
  } finally {
    // Even when a later batch failed (a storage error), fetches waiting on the earlier ones wake.
    for (const partition of touched.keys()) gateway.waiters.notify(topic, partition);
  }
  if (options.durable) {
    const flushes = Promise.all([...touched.values()].map((log) => log.flush()));
    // acks=0 does not wait; a failed fsync still takes the log offline for the next writer to see.
    if (options.acks === 0) flushes.catch(() => undefined);
    else await flushes;
  }
  return results;
}

/**
 * The idempotent-producer checks the log makes on append (out of order, fenced epoch), made up front
 * for every batch in request order on a scratch copy of each partition's producer state: a batch
 * refused late in a request must not leave the earlier ones written. Duplicates pass; the log answers
 * them with their original offsets.
 */
function checkProducerSequences(logs: PartitionLog[], batches: PendingBatch[], nowMs: number): void {
  const dryRuns = new Map<PartitionLog, ProducerDryRun>();
  for (const [i, batch] of batches.entries()) {
    const log = logs[i]!;
    withField(batch.field, () => {
      const producer = producerBatchOf(readBatchHeader(batch.bytes));
      if (producer === undefined) return;
      let dryRun = dryRuns.get(log);
      if (dryRun === undefined) {
        dryRun = log.producerState.dryRun(nowMs);
        dryRuns.set(log, dryRun);
      }
      dryRun.append(producer);
    });
  }
}

/** Runs `action`, naming `field` in any SluiceError it throws that names no field of its own. */
export function withField<T>(field: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (!(error instanceof SluiceError) || error.field !== undefined) throw error;
    throw new SluiceError(error.errorName, `${field}: ${error.message}`, { field, cause: error });
  }
}
