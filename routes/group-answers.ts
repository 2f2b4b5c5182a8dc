// The JSON answers of the consumer group routes as zod schemas, for the OpenAPI document. As in
// answers.ts, each is typed against the lib result it describes and strict, so a field added on one
// side only fails tsc or the OpenAPI test.
import { z } from "zod";
import { ASSIGNOR_NAMES } from "../lib/groups/assignors.ts";
import type { CommittedOffset } from "../lib/groups/committed-offsets.ts";
import type {
  GroupDescription,
  GroupSummary,
  JoinResult,
  MemberDescription,
} from "../lib/groups/group-coordinator.ts";
import type { GroupPartitionDescription } from "../lib/groups/group-lag.ts";
import { GROUP_STATES } from "../lib/groups/group-state.ts";
import type { TopicPartitions } from "../lib/groups/partition-assignor.ts";

const offset = z.number().int().min(0);
const partition = z.number().int().min(0);
const generationId = z.number().int().min(0);
const state = z.enum(GROUP_STATES).meta({
  description:
    "Kafka's group states: Empty (no members), PreparingRebalance (waiting for members to join), " +
    "Stable; CompletingRebalance is passed through in one step (the server assigns), Dead once deleted.",
});
const assignor = z.enum(ASSIGNOR_NAMES);

const topicPartitions: z.ZodType<TopicPartitions> = z
  .object({ topic: z.string(), partitions: z.array(partition) })
  .strict();

export const joinAnswer: z.ZodType<JoinResult> = z
  .object({
    memberId: z.string().meta({ description: "Name it in heartbeats, commits, leaving and joining again." }),
    generationId,
    leader: z.boolean().meta({
      description:
        "Whether this member is the group's leader (the one in the group longest), as Kafka names one; " +
        "the server assigns partitions itself, so the leader has no extra work.",
    }),
    assignor,
    assignment: z.array(topicPartitions).meta({ description: "The partitions this member consumes." }),
    heartbeatIntervalMs: z.number().int().min(1).meta({
      description: "Heartbeat at least this often to keep the place and hear of rebalances in time.",
    }),
  })
  .strict()
  .meta({
    examples: [
      {
        memberId: "billing-7f3c1f0e-2b8a-4a57-9d52-8d1c2f1c6a10",
        generationId: 1,
        leader: true,
        assignor: "range",
        assignment: [{ topic: "orders", partitions: [0, 1] }],
        heartbeatIntervalMs: 10_000,
      },
    ],
  });

const groupSummary: z.ZodType<GroupSummary> = z
  .object({ group: z.string(), state, generationId, members: z.number().int().min(0) })
  .strict();

export const groupListAnswer = z.object({ groups: z.array(groupSummary) }).strict();

const memberDescription: z.ZodType<MemberDescription> = z
  .object({
    memberId: z.string(),
    clientId: z.string(),
    topics: z.array(z.string()),
    sessionTimeoutMs: z.number().int(),
    rebalanceTimeoutMs: z.number().int(),
    assignment: z.array(topicPartitions),
  })
  .strict();

const partitionDescription: z.ZodType<GroupPartitionDescription> = z
  .object({
    topic: z.string(),
    partition,
    memberId: z.string().nullable().meta({ description: "The member it is assigned to; null when none." }),
    committedOffset: offset.nullable().meta({ description: "null when the group has committed nothing." }),
    logEndOffset: offset.nullable().meta({ description: "null when the topic or partition is gone." }),
    lag: z.number().int().min(0).nullable().meta({
      description: "max(0, logEndOffset − committedOffset); null when nothing is committed.",
    }),
  })
  .strict();

export const groupAnswer: z.ZodType<GroupDescription> = z
  .object({
    group: z.string(),
    state,
    generationId,
    assignor: assignor.nullable(),
    members: z.array(memberDescription),
    partitions: z
      .array(partitionDescription)
      .meta({ description: "Every partition the group has committed or been assigned." }),
  })
  .strict();

const committedOffset: z.ZodType<CommittedOffset> = z
  .object({
    topic: z.string(),
    partition,
    offset,
    metadata: z.string(),
    commitTimestampMs: z.number().int(),
  })
  .strict();

export const committedOffsetsAnswer = z.object({ offsets: z.array(committedOffset) }).strict();
