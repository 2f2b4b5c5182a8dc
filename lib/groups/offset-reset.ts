// Where a reset puts a group's offset for one partition: Kafka's kafka-consumer-groups --reset-offsets
// with --to-earliest, --to-latest, --to-datetime and --to-offset.
import { listOffset } from "../gateway/list-offsets.ts";
import type { PartitionLog } from "../log/partition-log.ts";

export type ResetTarget =
  | { to: "earliest" }
  | { to: "latest" }
  /** The first offset whose record is at least this late; the log end when none is. */
  | { to: "timestamp"; timestampMs: number }
  | { to: "offset"; offset: number };

export function resetOffsetFor(log: PartitionLog, target: ResetTarget): number {
  switch (target.to) {
    case "earliest":
      return listOffset(log, "earliest").offset;
    case "latest":
      return listOffset(log, "latest").offset;
    case "timestamp":
      return listOffset(log, { timestampMs: target.timestampMs }).offset;
    case "offset":
      // Kafka's tool moves an offset outside the log to the nearer end rather than commit it as given.
      return Math.min(Math.max(target.offset, log.logStartOffset), log.highWatermark);
  }
}
