// Consumer groups: list, describe with lag, join (a long poll that answers with the member's
// partitions), heartbeat, leave, commit and read offsets, reset offsets, delete. The coordinator
// (lib/groups/group-coordinator.ts) checks the rules; these handlers check the shapes and pass them on.
import { Hono } from "hono";
import { z } from "zod";
import { listClusterGroups } from "../lib/cluster/group-list.ts";
import { leaderLogEnds } from "../lib/cluster/leader-log-ends.ts";
import { FORWARDED_HEADER } from "../lib/cluster/replicated-append.ts";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { ASSIGNOR_DEFAULT, ASSIGNOR_NAMES } from "../lib/groups/assignors.ts";
import type { GroupCoordinator, ResetInput } from "../lib/groups/group-coordinator.ts";
import {
  GROUP_ID_BYTES_MAX,
  GROUP_REQUEST_BODY_BYTES_MAX,
  OFFSET_METADATA_BYTES_MAX,
  OFFSETS_PER_COMMIT_MAX,
  REBALANCE_TIMEOUT_MS_MAX,
  SESSION_TIMEOUT_MS_DEFAULT,
  SESSION_TIMEOUT_MS_MAX,
  SESSION_TIMEOUT_MS_MIN,
  SUBSCRIBED_TOPICS_MAX,
} from "../lib/groups/limits.ts";
import { PARTITIONS_PER_TOPIC_MAX } from "../lib/limits.ts";
import { partitionKey } from "../lib/topics/offset-checkpoint.ts";
import { committedOffsetsAnswer, groupAnswer, groupListAnswer, joinAnswer } from "./group-answers.ts";
import { allowIdleFor } from "./idle-timeout.ts";
import { describeRoute, JSON_BODY_ERRORS, json, STORAGE_ERRORS } from "./route-docs.ts";
import { limitBody, paramsOf, parseInput, queryOf, readJsonBody } from "./validate.ts";

const groupId = z
  .string()
  .min(1)
  .meta({ description: `The group's id, URL-encoded: 1 to ${GROUP_ID_BYTES_MAX} bytes of UTF-8.` });
const memberId = z.string().min(1).meta({ description: "The member id the join answered with." });
const topicName = z.string().min(1);
const safeInteger = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Cluster mode: the group is another node's (answered by forwarding, else these). */
const COORDINATOR_ERRORS = ["NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE"] as const;
/** Cluster mode: offsets are answered once the offsets partition's ISR has them (acks=all). */
const REPLICATED_WRITE_ERRORS = [
  ...COORDINATOR_ERRORS,
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "REQUEST_TIMED_OUT",
] as const;

const groupParams = z.object({ group: groupId });
const memberParams = z.object({ group: groupId, member: memberId });

export const joinBody = z
  .object({
    memberId: memberId.optional().meta({ description: "Left out by a new member; its id to join again." }),
    clientId: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "Prefixes the member id; shown in describe." }),
    topics: z
      .array(topicName)
      .min(1)
      .max(SUBSCRIBED_TOPICS_MAX)
      .meta({ description: "The topics to consume; a topic that does not exist yet has nothing to assign." }),
    sessionTimeoutMs: z
      .number()
      .int()
      .optional()
      .meta({
        description:
          `${SESSION_TIMEOUT_MS_MIN} to ${SESSION_TIMEOUT_MS_MAX}, default ${SESSION_TIMEOUT_MS_DEFAULT}: a member ` +
          "silent this long is dropped and the group rebalances.",
      }),
    rebalanceTimeoutMs: z
      .number()
      .int()
      .min(1)
      .max(REBALANCE_TIMEOUT_MS_MAX)
      .optional()
      .meta({
        description:
          `How long a rebalance waits for the members to join again (default ${REBALANCE_TIMEOUT_MS_MAX}); ` +
          "it also bounds how long this join waits.",
      }),
    assignor: z
      .enum(ASSIGNOR_NAMES)
      .optional()
      .meta({
        description: `How partitions are dealt out (default ${ASSIGNOR_DEFAULT}); all members name the same.`,
      }),
  })
  .strict()
  .meta({
    examples: [{ topics: ["orders"] }, { clientId: "billing", topics: ["orders"], assignor: "roundrobin" }],
  });

const heartbeatBody = z
  .object({ generationId: safeInteger.meta({ description: "The generation the last join answered with." }) })
  .strict()
  .meta({ examples: [{ generationId: 1 }] });

export const commitBody = z
  .object({
    offsets: z
      .array(
        z
          .object({
            topic: topicName,
            partition: safeInteger,
            offset: safeInteger.meta({ description: "The next offset to consume, as in Kafka." }),
            metadata: z
              .string()
              .optional()
              .meta({
                description: `Free text kept with the offset, at most ${OFFSET_METADATA_BYTES_MAX} bytes.`,
              }),
          })
          .strict(),
      )
      .min(1)
      .max(OFFSETS_PER_COMMIT_MAX),
    memberId: memberId.optional(),
    generationId: safeInteger.optional(),
  })
  .strict()
  .meta({
    description:
      "A member names itself and its generation; a commit naming neither (a standalone consumer's) is " +
      "taken only while the group has no members.",
    examples: [
      { offsets: [{ topic: "orders", partition: 0, offset: 42 }] },
      {
        offsets: [{ topic: "orders", partition: 1, offset: 7, metadata: "batch 3" }],
        memberId: "billing-7f3c1f0e-2b8a-4a57-9d52-8d1c2f1c6a10",
        generationId: 1,
      },
    ],
  });

const offsetsQuery = z
  .object({ topic: topicName.optional().meta({ description: "Only this topic's offsets." }) })
  .strict();

const resetPartitions = z
  .array(
    z
      .number()
      .int()
      .min(0)
      .max(PARTITIONS_PER_TOPIC_MAX - 1),
  )
  .min(1)
  .max(PARTITIONS_PER_TOPIC_MAX)
  .refine((partitions) => new Set(partitions).size === partitions.length, "must not repeat a partition")
  .optional()
  .meta({ description: "Every partition of the topic when left out." });
const resetBase = { topic: topicName, partitions: resetPartitions };
const resetBody = z
  .discriminatedUnion("to", [
    z.object({ to: z.literal("earliest"), ...resetBase }).strict(),
    z.object({ to: z.literal("latest"), ...resetBase }).strict(),
    z
      .object({
        to: z.literal("timestamp"),
        ...resetBase,
        timestamp: safeInteger.meta({
          description:
            "ms since the epoch: the first offset whose record is at least this late, else the log end.",
        }),
      })
      .strict(),
    z
      .object({
        to: z.literal("offset"),
        ...resetBase,
        offset: safeInteger.meta({ description: "Moved to the nearer end of the log when outside it." }),
      })
      .strict(),
  ])
  .meta({
    examples: [
      { to: "earliest", topic: "orders" },
      { to: "timestamp", topic: "orders", partitions: [0, 2], timestamp: 1_700_000_000_000 },
      { to: "offset", topic: "orders", partitions: [1], offset: 100 },
    ],
  });

function toResetInput(body: z.output<typeof resetBody>): ResetInput {
  const partitions = body.partitions === undefined ? {} : { partitions: body.partitions };
  if (body.to === "timestamp")
    return { to: body.to, timestampMs: body.timestamp, topic: body.topic, ...partitions };
  if (body.to === "offset") return { to: body.to, offset: body.offset, topic: body.topic, ...partitions };
  return { to: body.to, topic: body.topic, ...partitions };
}

export function groupRoutes(gateway: Gateway, groups: GroupCoordinator): Hono {
  const app = new Hono();
  const limitGroupBody = () => limitBody(gateway.metrics, GROUP_REQUEST_BODY_BYTES_MAX);

  app.get(
    "/",
    describeRoute({
      tag: "Groups",
      summary: "List consumer groups",
      responses: { 200: { description: "Every group, by id.", content: json(groupListAnswer) } },
    }),
    async (c) => {
      const local = groups.list();
      // Cluster mode: every node coordinates some groups; a node asked by another lists its own.
      const cluster = gateway.cluster;
      if (cluster === undefined || c.req.header(FORWARDED_HEADER) !== undefined)
        return c.json({ groups: local });
      return c.json({ groups: await listClusterGroups(cluster, local) });
    },
  );

  app.get(
    "/:group",
    describeRoute({
      tag: "Groups",
      summary: "Describe a consumer group",
      description:
        "State, generation, members with their assignments, and per partition the committed offset, the " +
        "log end offset and the lag between them.",
      responses: { 200: { description: "The group.", content: json(groupAnswer) } },
      errors: [...COORDINATOR_ERRORS, "INVALID_GROUP_ID", "GROUP_ID_NOT_FOUND"],
    }),
    paramsOf(groupParams),
    async (c) => {
      const group = c.req.valid("param").group;
      const described = groups.describe(group);
      if (gateway.cluster === undefined) return c.json(described);
      // Lag against the partitions' leaders, not this node's replicas (or its empty logs).
      const ends = await leaderLogEnds(gateway.cluster, described.partitions);
      return c.json(
        groups.describe(group, { logEndOffsetOf: (topic, p) => ends.get(partitionKey(topic, p)) ?? null }),
      );
    },
  );

  app.delete(
    "/:group",
    describeRoute({
      tag: "Groups",
      summary: "Delete a consumer group",
      description:
        "Only a group without members: a tombstone goes to the offsets topic for each committed offset, " +
        "so the group stays gone after a restart.",
      responses: { 204: { description: "Deleted." } },
      errors: [
        ...REPLICATED_WRITE_ERRORS,
        "INVALID_GROUP_ID",
        "GROUP_ID_NOT_FOUND",
        "NON_EMPTY_GROUP",
        ...STORAGE_ERRORS,
      ],
    }),
    paramsOf(groupParams),
    async (c) => {
      await groups.deleteGroupReplicated(c.req.valid("param").group);
      return c.body(null, 204);
    },
  );

  app.post(
    "/:group/members",
    describeRoute({
      tag: "Groups",
      summary: "Join a consumer group (long poll)",
      description:
        "Adds a member (or takes a member's join again) and starts a rebalance. Answers when the rebalance " +
        "completes: once every member has joined again, or after the rebalance timeout without those that " +
        "did not. The first rebalance of an empty group waits a few seconds for others arriving together.",
      body: { content: json(joinBody) },
      responses: {
        200: { description: "The member's id, generation and partitions.", content: json(joinAnswer) },
      },
      errors: [
        ...COORDINATOR_ERRORS,
        ...JSON_BODY_ERRORS,
        "INVALID_GROUP_ID",
        "UNKNOWN_MEMBER_ID",
        "INVALID_SESSION_TIMEOUT",
        "INCONSISTENT_GROUP_PROTOCOL",
        "GROUP_MAX_SIZE_REACHED",
        "LOG_CLOSED",
      ],
    }),
    limitGroupBody(),
    paramsOf(groupParams),
    async (c) => {
      const body = parseInput(joinBody, await readJsonBody(c));
      allowIdleFor(c, REBALANCE_TIMEOUT_MS_MAX);
      return c.json(await groups.join(c.req.valid("param").group, body));
    },
  );

  app.post(
    "/:group/members/:member/heartbeat",
    describeRoute({
      tag: "Groups",
      summary: "Heartbeat",
      description:
        "Keeps the member in the group. REBALANCE_IN_PROGRESS means: join again (with the member id) for " +
        "the new assignment; UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION: join again without it.",
      body: { content: json(heartbeatBody) },
      responses: { 204: { description: "The member is in the group and its assignment stands." } },
      errors: [
        ...COORDINATOR_ERRORS,
        ...JSON_BODY_ERRORS,
        "INVALID_GROUP_ID",
        "UNKNOWN_MEMBER_ID",
        "ILLEGAL_GENERATION",
        "REBALANCE_IN_PROGRESS",
      ],
    }),
    limitGroupBody(),
    paramsOf(memberParams),
    async (c) => {
      const body = parseInput(heartbeatBody, await readJsonBody(c));
      const { group, member } = c.req.valid("param");
      groups.heartbeat(group, member, body.generationId);
      return c.body(null, 204);
    },
  );

  app.delete(
    "/:group/members/:member",
    describeRoute({
      tag: "Groups",
      summary: "Leave a consumer group",
      description:
        "The member leaves at once and the others rebalance, without waiting for its session timeout.",
      responses: { 204: { description: "Left." } },
      errors: [...COORDINATOR_ERRORS, "INVALID_GROUP_ID", "UNKNOWN_MEMBER_ID"],
    }),
    paramsOf(memberParams),
    (c) => {
      const { group, member } = c.req.valid("param");
      groups.leave(group, member);
      return c.body(null, 204);
    },
  );

  app.post(
    "/:group/offsets",
    describeRoute({
      tag: "Groups",
      summary: "Commit offsets",
      description:
        "All of them or none, as one batch in the internal compacted topic __consumer_offsets, so they " +
        "survive a restart.",
      body: { content: json(commitBody) },
      responses: { 200: { description: "The offsets committed.", content: json(committedOffsetsAnswer) } },
      errors: [
        ...REPLICATED_WRITE_ERRORS,
        ...JSON_BODY_ERRORS,
        "INVALID_GROUP_ID",
        "UNKNOWN_TOPIC_OR_PARTITION",
        "UNKNOWN_MEMBER_ID",
        "ILLEGAL_GENERATION",
        "OFFSET_METADATA_TOO_LARGE",
        ...STORAGE_ERRORS,
      ],
    }),
    limitGroupBody(),
    paramsOf(groupParams),
    async (c) => {
      const body = parseInput(commitBody, await readJsonBody(c));
      return c.json({ offsets: await groups.commitReplicated(c.req.valid("param").group, body) });
    },
  );

  app.get(
    "/:group/offsets",
    describeRoute({
      tag: "Groups",
      summary: "Read committed offsets",
      description: "None for a group that has committed nothing (as Kafka's OffsetFetch answers).",
      responses: {
        200: { description: "The group's committed offsets.", content: json(committedOffsetsAnswer) },
      },
      errors: [...COORDINATOR_ERRORS, "INVALID_GROUP_ID"],
    }),
    paramsOf(groupParams),
    queryOf(offsetsQuery),
    (c) => c.json({ offsets: groups.committedOffsets(c.req.valid("param").group, c.req.valid("query")) }),
  );

  app.post(
    "/:group/offsets/reset",
    describeRoute({
      tag: "Groups",
      summary: "Reset offsets",
      description:
        "Commits new offsets for a topic's partitions: the earliest, the latest, the first at or after a " +
        "time, or a given offset. Only while the group has no members (NON_EMPTY_GROUP otherwise), as " +
        "Kafka's kafka-consumer-groups --reset-offsets requires.",
      body: { content: json(resetBody) },
      responses: { 200: { description: "The offsets committed.", content: json(committedOffsetsAnswer) } },
      errors: [
        ...REPLICATED_WRITE_ERRORS,
        ...JSON_BODY_ERRORS,
        "INVALID_GROUP_ID",
        "NON_EMPTY_GROUP",
        "UNKNOWN_TOPIC_OR_PARTITION",
        ...STORAGE_ERRORS,
      ],
    }),
    limitGroupBody(),
    paramsOf(groupParams),
    async (c) => {
      const body = parseInput(resetBody, await readJsonBody(c));
      return c.json({
        offsets: await groups.resetOffsetsReplicated(c.req.valid("param").group, toResetInput(body)),
      });
    },
  );

  return app;
}
