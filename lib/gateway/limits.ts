// The gateway's fixed limits, each with its unit and reason: how much one HTTP request may carry, how
// long and how much one fetch may wait for, and what one WebSocket connection may hold. The log's own
// limits are in lib/limits.ts.
import { assert } from "../assert.ts";
import { MAX_MESSAGE_BYTES_MAX, RECORDS_PER_BATCH_MAX } from "../limits.ts";

/**
 * Largest produce body in bytes. A raw produce of the largest batch a topic may accept
 * (max.message.bytes at its maximum) must fit; the whole body is held in memory while it is checked.
 * Bun.serve's own default cap (maxRequestBodySize, 128 MiB) sits above it.
 */
export const REQUEST_BODY_BYTES_MAX = 64 * 1024 * 1024;

/** Records in one JSON produce request: bounds the decode and encode work one request can cause. */
export const RECORDS_PER_REQUEST_MAX = 100_000;

/** Kafka's max.partition.fetch.bytes default: bytes of batches one fetch answers with. */
export const FETCH_MAX_BYTES_DEFAULT = 1024 * 1024;
/** Largest max_bytes a fetch may ask for: a JSON fetch decodes that much into memory. */
export const FETCH_MAX_BYTES_MAX = 64 * 1024 * 1024;

/** Kafka's fetch.min.bytes default: answer as soon as anything is there. */
export const FETCH_MIN_BYTES_DEFAULT = 1;

/** A fetch answers at once unless it asks to wait (HTTP clients poll; Kafka's default is 500). */
export const FETCH_MAX_WAIT_MS_DEFAULT = 0;
/** Longest long poll in milliseconds: below the idle timeouts of common proxies (60 s). */
export const FETCH_MAX_WAIT_MS_MAX = 30_000;

/**
 * Fetches waiting at once, over all partitions. Each holds a socket, a timer and a closure; past the
 * bound a fetch answers at once with what there is, as if it had asked not to wait.
 */
export const FETCH_WAITERS_MAX = 10_000;

// WebSocket streams (/api/v1/ws). What one connection may cost the node is bounded by these: at most
// WS_SEND_BUFFER_BYTES_MAX queued for sending plus one frame, WS_PRODUCES_IN_FLIGHT_MAX frames being
// appended, and WS_SUBSCRIPTIONS_PER_CONNECTION_MAX small subscription states. Records are never
// queued in memory: a subscription re-reads the log when its credit and the socket allow.

/** Open WebSocket connections per node: each may hold the per-connection bounds below. */
export const WS_CONNECTIONS_MAX = 256;

/**
 * Subscriptions on one connection: each holds a waiter for appends (a closure and a timer), and all
 * connections' subscriptions together stay below FETCH_WAITERS_MAX.
 */
export const WS_SUBSCRIPTIONS_PER_CONNECTION_MAX = 32;

/**
 * Consumer-group members joined through one connection (lib/gateway/ws-group-members.ts): each holds a
 * place in its group with a session timer, and its join may wait a whole rebalance timeout. A client
 * reads its groups' partitions through subscriptions, so as many members as subscriptions is plenty.
 */
export const WS_GROUP_MEMBERS_PER_CONNECTION_MAX = WS_SUBSCRIPTIONS_PER_CONNECTION_MAX;

/**
 * Bytes of one client frame Sluice reads. A produce frame of this size is held in memory while it is
 * parsed and appended; larger frames are answered with REQUEST_TOO_LARGE and dropped.
 */
export const WS_FRAME_BYTES_MAX = 4 * 1024 * 1024;

/**
 * Bytes of a client frame the platform buffers at all (Bun's maxPayloadLength). Frames between
 * WS_FRAME_BYTES_MAX and this get an error frame; past it the platform would have to buffer without
 * bound, so it closes the connection with 1009 (message too big) instead.
 */
export const WS_FRAME_BYTES_HARD_MAX = 2 * WS_FRAME_BYTES_MAX;

/**
 * Bytes of batches one records frame carries, aimed at rather than exact: at least one whole batch
 * (or one record in JSON) goes in a frame, as a fetch answers at least one batch (KIP-74). 256 KiB
 * frames already reach Bun's WebSocket throughput (4.4 GB/s in 16 KiB frames) while keeping what a
 * slow connection holds small.
 */
export const WS_RECORDS_FRAME_BYTES_TARGET = 256 * 1024;

/**
 * Bytes a connection's send buffer may hold before a send is dropped (Bun's backpressureLimit).
 * Records frames go out only when the buffer is empty, so this bounds the replies (errors, produced)
 * queued for a client that does not read them; past it the connection is closed.
 */
export const WS_SEND_BUFFER_BYTES_MAX = 4 * 1024 * 1024;

/** Produce frames being appended on one connection; past it the connection stops reading (TCP backpressure). */
export const WS_PRODUCES_IN_FLIGHT_MAX = 16;

/**
 * Bytes of records frames one connection sends in one turn of the event loop before it lets other
 * connections and requests run.
 */
export const WS_SEND_BYTES_PER_TURN_MAX = 4 * 1024 * 1024;

/**
 * How long a subscription at the high watermark waits for an append before looking again. Appends
 * wake it at once; the timeout only catches a high watermark moved by a path that does not notify.
 */
export const WS_SUBSCRIPTION_WAIT_MS = FETCH_MAX_WAIT_MS_MAX;

/** How long a subscription turned away by FETCH_WAITERS_MAX waits before it asks again, in ms. */
export const WS_WAITERS_RETRY_MS = 100;

/** Seconds a connection may be silent before the platform closes it; it pings before then. */
export const WS_IDLE_TIMEOUT_S = 120;

/** Longest subscription or request id a client may choose, in characters: ids are echoed in every frame. */
export const WS_REQUEST_ID_LENGTH_MAX = 64;

assert(
  REQUEST_BODY_BYTES_MAX >= MAX_MESSAGE_BYTES_MAX,
  "a raw produce must be able to carry the largest batch",
);
assert(RECORDS_PER_REQUEST_MAX <= RECORDS_PER_BATCH_MAX, "one request's records must fit one batch");
assert(FETCH_MAX_BYTES_DEFAULT <= FETCH_MAX_BYTES_MAX, "default fetch size above its maximum");
assert(FETCH_MAX_WAIT_MS_DEFAULT <= FETCH_MAX_WAIT_MS_MAX, "default fetch wait above its maximum");
assert(
  WS_CONNECTIONS_MAX * WS_SUBSCRIPTIONS_PER_CONNECTION_MAX <= FETCH_WAITERS_MAX,
  "WebSocket subscriptions alone must not be able to fill the append waiters",
);
assert(WS_FRAME_BYTES_MAX < WS_FRAME_BYTES_HARD_MAX, "an oversized frame must reach Sluice to be answered");
assert(WS_RECORDS_FRAME_BYTES_TARGET <= WS_SEND_BUFFER_BYTES_MAX, "a records frame must fit the send buffer");
