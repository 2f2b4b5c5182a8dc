// The two requests a follower makes to its leader, over HTTP like everything else:
//   GET /api/v1/cluster/replica/fetch       Kafka's Fetch from a replica: batches from the follower's
//       log end (its position, so the leader learns it), up to the leader's log end, as stored
//       (binary, zero copy), with the leader's high watermark and log ends in headers.
//   GET /api/v1/cluster/replica/epoch-end   Kafka's OffsetsForLeaderEpoch (KIP-101/279): the largest
//       epoch the leader has at or below the one asked for, and where it ends on the leader.
import { z } from "zod";

export const REPLICA_FETCH_PATH = "/api/v1/cluster/replica/fetch";
export const EPOCH_END_PATH = "/api/v1/cluster/replica/epoch-end";

export const REPLICA_HEADERS = {
  highWatermark: "x-sluice-high-watermark",
  logStartOffset: "x-sluice-log-start-offset",
  logEndOffset: "x-sluice-log-end-offset",
  leaderEpoch: "x-sluice-leader-epoch",
} as const;

const integerText = (min: number) =>
  z
    .string()
    .regex(/^-?\d+$/, "must be an integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(Number.MAX_SAFE_INTEGER));

export const replicaFetchQuery = z
  .object({
    topic: z.string().min(1),
    partition: integerText(0),
    offset: integerText(0).meta({ description: "The follower's log end offset: where it reads from." }),
    replica_id: integerText(0),
    leader_epoch: integerText(0).meta({ description: "The leader epoch the follower follows." }),
    high_watermark: integerText(0).meta({
      description: "The follower's high watermark: the leader answers at once when its own is past it.",
    }),
    max_bytes: integerText(1),
    max_wait_ms: integerText(0).pipe(z.number().max(60_000)),
  })
  .strict();
export type ReplicaFetchQuery = z.output<typeof replicaFetchQuery>;

export const epochEndQuery = z
  .object({
    topic: z.string().min(1),
    partition: integerText(0),
    epoch: integerText(0).meta({ description: "The follower's latest leader epoch." }),
    leader_epoch: integerText(0),
  })
  .strict();
export type EpochEndQuery = z.output<typeof epochEndQuery>;

export const epochEndAnswer = z
  .object({
    epoch: z.number().int().meta({ description: "The largest epoch at or below the one asked; -1: none." }),
    endOffset: z.number().int().meta({ description: "Where that epoch ends on the leader; -1: none." }),
  })
  .strict();
export type EpochEndAnswer = z.output<typeof epochEndAnswer>;

export function queryString(values: Record<string, string | number>): string {
  return new URLSearchParams(Object.entries(values).map(([k, v]) => [k, String(v)])).toString();
}
