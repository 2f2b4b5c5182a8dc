// The consumer groups' fixed limits, each with its unit and reason, Kafka's broker setting named where
// there is one. The gateway's are in lib/gateway/limits.ts, the log's in lib/limits.ts.
import { assert } from "../assert.ts";
import { FETCH_MAX_WAIT_MS_MAX } from "../gateway/limits.ts";
import { BATCH_HEADER_BYTES, MAX_MESSAGE_BYTES_MAX, TOPIC_NAME_LENGTH_MAX } from "../limits.ts";

/**
 * Longest group id in UTF-8 bytes. Kafka allows an int16-length string (32,767 bytes); a group id is a
 * URL path segment here and is repeated in the key of every commit record, so a name-sized bound.
 */
export const GROUP_ID_BYTES_MAX = 255;

/** Longest client id in UTF-8 bytes: it prefixes every member id the group hands out. */
export const CLIENT_ID_BYTES_MAX = 255;

/** Kafka's offset.metadata.max.bytes: the free text a commit may carry per partition. */
export const OFFSET_METADATA_BYTES_MAX = 4096;

/** Kafka's group.min.session.timeout.ms: a shorter session mistakes a GC pause for a dead member. */
export const SESSION_TIMEOUT_MS_MIN = 6_000;
/** Kafka's group.max.session.timeout.ms: a dead member keeps its partitions at most this long. */
export const SESSION_TIMEOUT_MS_MAX = 30 * 60 * 1000;
/** Kafka's consumer session.timeout.ms default since 3.0. */
export const SESSION_TIMEOUT_MS_DEFAULT = 45_000;

/**
 * Longest rebalance in milliseconds: how long the group waits for its members to join again before it
 * drops those that did not. A join is a long poll that answers when the rebalance completes, so this
 * also bounds the join's wait, and it is kept to the fetch long poll's bound, below the idle timeouts of
 * common proxies. (Kafka's is the consumer's max.poll.interval.ms, 5 minutes by default.)
 */
export const REBALANCE_TIMEOUT_MS_MAX = FETCH_MAX_WAIT_MS_MAX;
export const REBALANCE_TIMEOUT_MS_MIN = 1;

/**
 * Kafka's group.initial.rebalance.delay.ms: the first rebalance of an empty group waits this long (and
 * again for each member that arrives meanwhile, up to the rebalance timeout), so consumers started
 * together land in one rebalance instead of one each.
 */
export const INITIAL_REBALANCE_DELAY_MS_DEFAULT = 3_000;

/**
 * Kafka's group.max.size (unbounded by default there). Each member holds a session timer and, during a
 * rebalance, a waiting request; the bound keeps one group from taking an edge box's memory and sockets.
 */
export const GROUP_MEMBERS_MAX = 1_000;

/** Topics one member may subscribe to: bounds the assignment work a single join can cause. */
export const SUBSCRIBED_TOPICS_MAX = 1_000;

/**
 * Partitions one commit may name. A commit is one batch in the offsets topic, so all of it lands or
 * none does; this bounds that batch (see OFFSETS_TOPIC_MAX_MESSAGE_BYTES).
 */
export const OFFSETS_PER_COMMIT_MAX = 1_024;

/**
 * Largest batch the offsets topic takes (its max.message.bytes): a commit of OFFSETS_PER_COMMIT_MAX
 * partitions at the longest group id, topic name and metadata.
 */
export const OFFSETS_TOPIC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * The offsets topic's segment.bytes. Kafka's offsets.topic.segment.bytes is 100 MiB; the cleaner never
 * compacts the active segment, and a restart replays what is not compacted, so an edge box wants less.
 */
export const OFFSETS_TOPIC_SEGMENT_BYTES = 16 * 1024 * 1024;

/** Bytes read per step when the coordinator replays the offsets topic at startup. */
export const OFFSETS_REPLAY_READ_BYTES = 1024 * 1024;

/** Largest body a group request may carry: a commit of OFFSETS_PER_COMMIT_MAX offsets as JSON. */
export const GROUP_REQUEST_BODY_BYTES_MAX = 8 * 1024 * 1024;

/**
 * A commit record's most bytes: its key (version, group, topic, partition), its value (v3, see
 * offset-commit-record.ts) and the record's own framing (length, attributes, deltas: at most 32).
 */
const COMMIT_RECORD_BYTES_MAX =
  2 +
  2 +
  GROUP_ID_BYTES_MAX +
  2 +
  TOPIC_NAME_LENGTH_MAX +
  4 +
  (2 + 8 + 4 + 2 + OFFSET_METADATA_BYTES_MAX + 8) +
  32;

assert(
  OFFSETS_PER_COMMIT_MAX * COMMIT_RECORD_BYTES_MAX + BATCH_HEADER_BYTES <= OFFSETS_TOPIC_MAX_MESSAGE_BYTES,
  "the largest commit must fit one batch of the offsets topic",
);
assert(OFFSETS_TOPIC_MAX_MESSAGE_BYTES <= MAX_MESSAGE_BYTES_MAX, "offsets batch above the log's maximum");
assert(OFFSETS_TOPIC_MAX_MESSAGE_BYTES <= OFFSETS_TOPIC_SEGMENT_BYTES, "a commit must fit a segment");
assert(SESSION_TIMEOUT_MS_MIN <= SESSION_TIMEOUT_MS_DEFAULT, "default session timeout below its minimum");
assert(SESSION_TIMEOUT_MS_DEFAULT <= SESSION_TIMEOUT_MS_MAX, "default session timeout above its maximum");
assert(
  INITIAL_REBALANCE_DELAY_MS_DEFAULT <= REBALANCE_TIMEOUT_MS_MAX,
  "the initial delay must fit in a rebalance",
);
