// Every fixed limit in one place, with its unit and the reason for it. Per-topic settings that a user
// may change live in lib/topics/topic-config.ts; these are the bounds around them.
import { assert } from "./assert.ts";

/** RecordBatch v2 header size in bytes (Kafka's RECORD_BATCH_OVERHEAD). */
export const BATCH_HEADER_BYTES = 61;

/** Kafka's default max.message.bytes: 1 MiB plus the batch header slack Kafka adds. */
export const MAX_MESSAGE_BYTES_DEFAULT = 1_048_588;
/** Upper bound a topic may set max.message.bytes to: a whole batch is held in memory on append. */
export const MAX_MESSAGE_BYTES_MAX = 64 * 1024 * 1024;

/** Kafka's segment.bytes default: 1 GiB. */
export const SEGMENT_BYTES_DEFAULT = 1024 * 1024 * 1024;
/** Smallest segment a topic may ask for (Kafka's minimum is 14 bytes; we keep one header's room). */
export const SEGMENT_BYTES_MIN = 1024;
/** Positions in `.index` are int32, so a segment file may not pass 2 GiB. */
export const SEGMENT_BYTES_MAX = 2 ** 31 - 1;

/** Kafka's index.interval.bytes default: one sparse index entry per 4 KiB of log. */
export const INDEX_INTERVAL_BYTES_DEFAULT = 4096;

/** Relative offsets in `.index` and `.timeindex` are int32. */
export const RELATIVE_OFFSET_MAX = 2 ** 31 - 1;

/**
 * Largest records section a compressed batch may inflate to: the whole section is held in memory
 * to validate it, so a small batch must not be able to claim gigabytes (a decompression bomb).
 */
export const UNCOMPRESSED_BATCH_BYTES_MAX = 256 * 1024 * 1024;

/** Records in one batch: Kafka does not bound it beyond size; we bound decode work per batch. */
export const RECORDS_PER_BATCH_MAX = 1_000_000;

/** Longest topic name, as in Kafka (249 so that `<topic>-<partition>` fits a file name). */
export const TOPIC_NAME_LENGTH_MAX = 249;
/** Partitions per topic: each is a directory with open files, so a small box wants a bound. */
export const PARTITIONS_PER_TOPIC_MAX = 1024;

/** How often retention looks for whole segments to delete (Kafka's log.retention.check.interval.ms). */
export const RETENTION_CHECK_INTERVAL_MS_DEFAULT = 5 * 60 * 1000;
/**
 * Shutdown: in-flight requests get this long to finish before their connections are cut (a long poll
 * may wait up to 30 s; a stop should not), and the whole stop is bounded so a service manager's
 * SIGTERM never hangs. systemd's default TimeoutStopSec is 90 s, well above.
 */
export const SHUTDOWN_DRAIN_MS_DEFAULT = 5_000;
export const SHUTDOWN_TIMEOUT_MS_DEFAULT = 15_000;

/**
 * Memory the log cleaner's key → offset map may use per pass (Kafka's log.cleaner.dedupe.buffer.size
 * is 128 MiB for all its threads; an edge box gets less). A pass whose dirty keys do not fit cleans
 * up to the last whole segment that did and leaves the rest to the next pass.
 */
export const CLEANER_OFFSET_MAP_BYTES_MAX = 32 * 1024 * 1024;
/** What one map entry costs besides its key bytes: string header, Map slot, the offset. */
export const CLEANER_OFFSET_MAP_ENTRY_OVERHEAD_BYTES = 64;
/**
 * Log bytes the cleaner reads before it yields to the event loop: cleaning runs on the thread that
 * takes appends, so it works in slices this size and appends wait at most one slice.
 */
export const CLEANER_SLICE_BYTES = 1024 * 1024;

/** The one leader epoch a single node stamps, so replication later changes no byte on disk. */
export const SINGLE_NODE_LEADER_EPOCH = 0;

/**
 * Kafka's producer.id.expiration.ms (a broker setting there too, so not a topic config here): a
 * producer whose last batch is older than this is forgotten, and its next batch may carry any sequence.
 */
export const PRODUCER_ID_EXPIRATION_MS_DEFAULT = 24 * 60 * 60 * 1000;
/** Kafka's producer.id.expiration.check.interval.ms: how often idle producers are swept from memory. */
export const PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS = 10 * 60 * 1000;
/** Kafka's NUM_BATCHES_TO_RETAIN: a retry of any of a producer's last 5 batches is a duplicate. */
export const PRODUCER_BATCHES_CACHED = 5;
/** Producer-state snapshots kept per partition: the newest, and one to fall back on if it is damaged. */
export const PRODUCER_SNAPSHOTS_KEPT = 2;
/**
 * Producer ids reserved (and persisted) at a time, so a restart never reissues one and the id file is
 * not written per request; ids left in a block at a crash are skipped. Kafka's controller hands out
 * blocks of 1000 too.
 */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** Producer epochs are int16; past this an epoch bump hands out a fresh producer id instead. */
export const PRODUCER_EPOCH_MAX = 32_767;

assert(MAX_MESSAGE_BYTES_DEFAULT <= MAX_MESSAGE_BYTES_MAX, "default batch size above its maximum");
assert(SEGMENT_BYTES_MIN > BATCH_HEADER_BYTES, "a segment must hold at least one batch header");
assert(SEGMENT_BYTES_DEFAULT <= SEGMENT_BYTES_MAX, "default segment size must fit int32 positions");
assert(
  PRODUCER_ID_EXPIRATION_CHECK_INTERVAL_MS <= PRODUCER_ID_EXPIRATION_MS_DEFAULT,
  "sweep at least once per expiry",
);

/**
 * Cluster mode: a node's etcd lease lives this long without a keepalive, so a dead node's
 * partitions move this long after it stopped (Kafka's broker session timeout, shorter for the edge).
 */
export const CLUSTER_SESSION_TIMEOUT_MS_DEFAULT = 3000;
/** Kafka's replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
export const REPLICA_LAG_TIME_MAX_MS_DEFAULT = 30_000;
