// Fetch as a long poll: whole batches from an offset, answered as soon as at least minBytes are
// there, else after maxWaitMs with whatever there is (possibly nothing). Kafka's DelayedFetch, for
// one partition.
import { SluiceError } from "../errors.ts";
import type { PartitionLog, ReadResult } from "../log/partition-log.ts";
import type { Gateway } from "./gateway.ts";

export interface FetchRequest {
  topic: string;
  partition: number;
  /** Defaults to the log start. */
  fetchOffset?: number;
  maxBytes: number;
  minBytes: number;
  maxWaitMs: number;
  /** The client's request signal: a disconnect ends the wait. */
  signal?: AbortSignal;
}

export interface FetchResult {
  log: PartitionLog;
  fetchOffset: number;
  read: ReadResult;
  /** Where the next fetch starts: past the last batch answered, or fetchOffset when none was. */
  nextOffset: number;
}

export async function fetchRecords(gateway: Gateway, request: FetchRequest): Promise<FetchResult> {
  const { topic, partition } = request;
  const first = gateway.logs.partition(topic, partition);
  const fetchOffset = request.fetchOffset ?? first.logStartOffset;
  checkOffsetInRange(first, fetchOffset);
  const enough = () => hasEnough(gateway.logs.partition(topic, partition), fetchOffset, request);
  if (request.maxWaitMs > 0 && !enough()) {
    const waitOptions = { isSatisfied: enough, maxWaitMs: request.maxWaitMs };
    const outcome = await gateway.waiters.wait(
      topic,
      partition,
      request.signal ? { ...waitOptions, signal: request.signal } : waitOptions,
    );
    if (outcome === "overloaded") gateway.metrics.limitHit("fetch_waiters");
  }
  // Read afresh: while we waited the topic may have gone, or retention may have passed the offset.
  const log = gateway.logs.partition(topic, partition);
  checkOffsetInRange(log, fetchOffset);
  const read = log.read(fetchOffset, { maxBytes: request.maxBytes });
  const nextOffset = read.slice === undefined ? fetchOffset : read.slice.lastOffset + 1;
  if (read.slice !== undefined) {
    const bytes = read.slice.endPosition - read.slice.startPosition;
    gateway.metrics.recordsOut(topic, partition, { records: nextOffset - fetchOffset, bytes });
  }
  return { log, fetchOffset, read, nextOffset };
}

/**
 * Whether the fetch can be answered now: minBytes are there, or the answer cannot grow by waiting
 * (it is cut by maxBytes or by a segment's end, Kafka's "fetch offset on an older segment" case).
 */
function hasEnough(log: PartitionLog, fetchOffset: number, request: FetchRequest): boolean {
  if (request.minBytes <= 0) return true;
  const { slice, highWatermark } = log.read(fetchOffset, { maxBytes: request.maxBytes });
  if (slice === undefined) return false;
  return slice.endPosition - slice.startPosition >= request.minBytes || slice.lastOffset + 1 < highWatermark;
}

/** OFFSET_OUT_OF_RANGE naming both ends, so a consumer can reset without another request. */
export function checkOffsetInRange(log: PartitionLog, fetchOffset: number): void {
  const { logStartOffset, logEndOffset } = log;
  if (fetchOffset >= logStartOffset && fetchOffset <= logEndOffset) return;
  throw new SluiceError(
    "OFFSET_OUT_OF_RANGE",
    `offset ${fetchOffset} is out of range: logStartOffset=${logStartOffset}, logEndOffset=${logEndOffset}`,
    { field: "offset" },
  );
}
