// The crash workload's writers: several appends in flight per partition, some durable and some not,
// with batch sizes, record sizes and codecs from a seeded PRNG. Used by the SIGKILL child process
// and, in-process, by the power-loss test.
import { UNCOMPRESSED_BATCH_BYTES_MAX } from "../../lib/limits.ts";
import type { PartitionLog } from "../../lib/log/partition-log.ts";
import { decodeRecords, encodeBatch } from "../../lib/log/record-batch.ts";
import type { LogManager } from "../../lib/topics/log-manager.ts";
import { Prng } from "./prng.ts";
import {
  type Ack,
  decodeValue,
  encodeValue,
  PARTITIONS,
  PAYLOAD_BYTES_MAX,
  TOPIC,
  valuesCrc,
} from "./workload.ts";

/** Appends in flight per partition: enough that durable ones share fdatasyncs (group commit). */
export const WORKERS_PER_PARTITION = 4;
const RECORDS_PER_BATCH_MAX = 24;
const DURABLE_PROBABILITY = 0.6;
const GZIP_PROBABILITY = 0.1;
/** Small records mostly, a few large ones, so batches range from ~100 bytes to ~15 KiB. */
const SMALL_PAYLOAD_BYTES_MAX = 64;
const LARGE_PAYLOAD_PROBABILITY = 0.2;

export interface AppenderOptions {
  random: Prng;
  /** Called when a durable append resolves. */
  onAck: (ack: Ack) => void;
  /** Called after each append is in the page cache, before it is synced; may stop the appenders. */
  afterAppend?: (stop: () => void) => void;
  /** Let timers run now and then: a process whose appends all finish in microtasks never would. */
  yieldToTimers?: boolean;
}

export interface Appenders {
  /** Settles when every worker has stopped; rejects with the first error seen before stop(). */
  done: Promise<void>;
  /** Workers finish the append in hand and stop; errors after this are expected (a crash). */
  stop(): void;
}

export function startAppenders(manager: LogManager, options: AppenderOptions): Appenders {
  const state = { stopped: false };
  const stop = () => {
    state.stopped = true;
  };
  // Every log is read before any worker starts: a worker may stop the run (a crash) at once.
  const logs = Array.from({ length: PARTITIONS }, (_, partition) => {
    const log = manager.partition(TOPIC, partition);
    return { log, partition, counter: { nextSeq: nextSeqOf(log) } };
  });
  const workers: Promise<void>[] = [];
  for (const { log, partition, counter } of logs) {
    for (let w = 0; w < WORKERS_PER_PARTITION; w++) {
      const random = new Prng(options.random.intBetween(0, 2 ** 32 - 1));
      workers.push(appendUntilStopped(log, { partition, counter, random, state, stop, options }));
    }
  }
  return {
    done: Promise.all(workers).then(() => undefined),
    stop,
  };
}

/** Continues the sequence from the log's last record, so every record's seq equals its offset. */
export function nextSeqOf(log: PartitionLog): number {
  if (log.logEndOffset === log.logStartOffset) return log.logEndOffset;
  const { slice } = log.read(log.logEndOffset - 1, { maxBytes: 1, upTo: "log-end" });
  if (slice === undefined) throw new Error(`no batch holds offset ${log.logEndOffset - 1}`);
  const last = decodeRecords(log.readSliceBytes(slice), UNCOMPRESSED_BATCH_BYTES_MAX).at(-1)!;
  const fields = decodeValue(last.value);
  if (typeof fields === "string") throw new Error(`the last record at ${last.offset}: ${fields}`);
  return fields.seq + 1;
}

interface Worker {
  partition: number;
  counter: { nextSeq: number };
  random: Prng;
  state: { stopped: boolean };
  stop: () => void;
  options: AppenderOptions;
}

async function appendUntilStopped(log: PartitionLog, worker: Worker): Promise<void> {
  const { partition, counter, random, state, stop, options } = worker;
  while (!state.stopped) {
    const recordCount = random.intBetween(1, RECORDS_PER_BATCH_MAX);
    const sizeMax = random.chance(LARGE_PAYLOAD_PROBABILITY) ? PAYLOAD_BYTES_MAX : SMALL_PAYLOAD_BYTES_MAX;
    const firstSeq = counter.nextSeq;
    const values: Uint8Array[] = [];
    for (let i = 0; i < recordCount; i++) {
      values.push(encodeValue(partition, firstSeq + i, random.intBetween(0, sizeMax)));
    }
    const batch = encodeBatch(
      values.map((value) => ({ value })),
      { timestampMs: Date.now(), compression: random.chance(GZIP_PROBABILITY) ? "gzip" : "none" },
    );
    const durable = random.chance(DURABLE_PROBABILITY);
    // append() assigns offsets before its first await, so taking the seqs here keeps them in order.
    counter.nextSeq += recordCount;
    let appended: Promise<{ baseOffset: number; lastOffset: number }>;
    try {
      appended = log.append(batch, { durable });
      options.afterAppend?.(stop);
      const result = await appended;
      if (durable && !state.stopped) {
        options.onAck({
          partition,
          baseOffset: result.baseOffset,
          lastOffset: result.lastOffset,
          firstSeq,
          valuesCrc: valuesCrc(values),
          groupCommitSyncs: log.groupCommitSyncs,
        });
      }
    } catch (error) {
      if (state.stopped) return;
      throw error;
    }
    if (!durable && options.yieldToTimers && random.chance(0.25)) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
