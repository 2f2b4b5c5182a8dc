// Kafka's replication-offset-checkpoint: the high watermark of every replicated partition this node
// holds, in <dataDir>/replication-offset-checkpoint (Kafka's offset checkpoint text format: version
// 0, a count, `topic partition offset` lines; written atomically through the storage boundary), every
// replicaHighWatermarkCheckpointIntervalMs and at a clean close. A restarted node starts each
// partition's high watermark there, never past its log end, rather than at its log start: a restarted
// leader's consumers see its committed records before its followers report again.
import { isSluiceError, SluiceError } from "../errors.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import type { LogManager } from "../topics/log-manager.ts";
import {
  type PartitionOffsets,
  partitionKey,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from "../topics/offset-checkpoint.ts";

export const HIGH_WATERMARK_CHECKPOINT_FILE = "replication-offset-checkpoint";

type LogFn = (level: string, msg: string, fields?: Record<string, unknown>) => void;

/**
 * The checkpointed high watermarks, or none when the file is missing. A file that cannot be read or
 * parsed is only a saving lost: a warning, and every partition starts at its log start as before.
 */
export function readHighWatermarkCheckpoint(storage: Storage, path: string, log: LogFn): PartitionOffsets {
  try {
    const offsets = readOffsetCheckpoint(storage, path);
    for (const [key, offset] of offsets) {
      if (offset < 0)
        throw new SluiceError("STORAGE_ERROR", `${path} is malformed: offset ${offset} for ${key}`);
    }
    return offsets;
  } catch (error) {
    if (!isSluiceError(error)) throw error;
    log("warn", "high watermark checkpoint unreadable: replicated partitions start at their log start", {
      path,
      error: error.message,
    });
    return new Map();
  }
}

export interface HighWatermarkCheckpointOptions {
  logs: LogManager;
  intervalMs: number;
  /** The replicated partitions this node holds (it took them up): their high watermarks are written. */
  partitions: () => Iterable<{ topic: string; partition: number }>;
  log: LogFn;
}

export class HighWatermarkCheckpoint {
  readonly path: string;
  /** What the file said when this node started. */
  readonly #checkpointed: PartitionOffsets;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Reads the file; nothing is written before start(). */
  constructor(readonly options: HighWatermarkCheckpointOptions) {
    this.path = joinPath(options.logs.dataDir, HIGH_WATERMARK_CHECKPOINT_FILE);
    this.#checkpointed = readHighWatermarkCheckpoint(options.logs.storage, this.path, options.log);
  }

  /**
   * Starts the periodic writes, once the node has taken up its partitions: a node that never got that
   * far (etcd unreachable at start) must not replace the file with an empty one.
   */
  start(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.write(), this.options.intervalMs);
  }

  /** The partition's high watermark as the file said at start, when it had one. */
  checkpointed(topic: string, partition: number): number | undefined {
    return this.#checkpointed.get(partitionKey(topic, partition));
  }

  /** Writes every held partition's high watermark now; a failure is logged and retried next time. */
  write(): void {
    const { logs } = this.options;
    const offsets: PartitionOffsets = new Map();
    for (const { topic, partition } of this.options.partitions()) {
      if (!logs.hasTopic(topic) || partition >= logs.partitionCount(topic)) continue;
      offsets.set(partitionKey(topic, partition), logs.partition(topic, partition).highWatermark);
    }
    try {
      writeOffsetCheckpoint(logs.storage, this.path, offsets);
    } catch (error) {
      if (!isSluiceError(error)) throw error;
      this.options.log("warn", "high watermark checkpoint not written", {
        path: this.path,
        error: error.message,
      });
    }
  }

  /** Stops the timer and writes the last checkpoint (a clean stop, after the replicas stopped). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.write();
  }
}
