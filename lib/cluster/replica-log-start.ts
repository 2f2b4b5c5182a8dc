// The leader's log start in replication, as Kafka has it. A follower whose log end is below the
// leader's log start (retention went past it while it was away, or it is new and empty) can never
// fetch what it lacks: the leader answers OFFSET_OUT_OF_RANGE with its log start, and the follower
// empties its log and starts it there (ReplicaFetcherThread.handleOffsetOutOfRange,
// truncateFullyAndStartAt). Every other answer carries the log start too, and the follower drops the
// segments the leader already dropped (maybeIncrementLogStartOffset).
import { SluiceError } from "../errors.ts";
import type { PartitionLog, ReadResult } from "../log/partition-log.ts";
import { REPLICA_HEADERS, type ReplicaFetchQuery } from "./replica-protocol.ts";

/** The leader's answer to a fetch from below its log start: nothing to read, and why. */
export function refuseBelowLogStart(
  query: ReplicaFetchQuery,
  log: PartitionLog,
  leaderEpoch: number,
): { log: PartitionLog; read: ReadResult; leaderEpoch: number; belowLogStart: SluiceError } | undefined {
  if (query.offset >= log.logStartOffset) return undefined;
  const read: ReadResult = {
    slice: undefined,
    highWatermark: log.highWatermark,
    logStartOffset: log.logStartOffset,
    logEndOffset: log.logEndOffset,
  };
  const belowLogStart = new SluiceError(
    "OFFSET_OUT_OF_RANGE",
    `replica offset ${query.offset} is below the leader's log start ${log.logStartOffset}: ` +
      `the follower starts its log there (${REPLICA_HEADERS.logStartOffset})`,
    { field: "offset" },
  );
  return { log, read, leaderEpoch, belowLogStart };
}

/** The leader's log start in an answer's headers, or undefined when it is missing or not an offset. */
export function leaderLogStartOf(headers: Headers): number | undefined {
  const text = headers.get(REPLICA_HEADERS.logStartOffset);
  if (text === null || !/^\d+$/.test(text)) return undefined;
  const offset = Number(text);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

/**
 * Where a follower refused with OFFSET_OUT_OF_RANGE restarts its log: the leader's log start, when
 * this log ends below it. Undefined otherwise (a log end past the leader's is truncation by leader
 * epoch's business, not this).
 */
export function restartOffsetFor(headers: Headers, log: PartitionLog): number | undefined {
  const leaderLogStart = leaderLogStartOf(headers);
  if (leaderLogStart === undefined || leaderLogStart <= log.logEndOffset) return undefined;
  return leaderLogStart;
}
