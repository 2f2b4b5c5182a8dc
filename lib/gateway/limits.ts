// The gateway's fixed limits, each with its unit and reason: how much one HTTP request may carry and
// how long and how much one fetch may wait for. The log's own limits are in lib/limits.ts.
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

assert(
  REQUEST_BODY_BYTES_MAX >= MAX_MESSAGE_BYTES_MAX,
  "a raw produce must be able to carry the largest batch",
);
assert(RECORDS_PER_REQUEST_MAX <= RECORDS_PER_BATCH_MAX, "one request's records must fit one batch");
assert(FETCH_MAX_BYTES_DEFAULT <= FETCH_MAX_BYTES_MAX, "default fetch size above its maximum");
assert(FETCH_MAX_WAIT_MS_DEFAULT <= FETCH_MAX_WAIT_MS_MAX, "default fetch wait above its maximum");
