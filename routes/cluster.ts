// The cluster: GET /cluster (nodes, controller, health), partition reassignments (start, list,
// cancel), and the two requests followers make to their leaders (lib/cluster/replica-protocol.ts).
// On a single node /cluster says so, reassignments answer NOT_CLUSTERED and the replica routes
// NOT_LEADER_OR_FOLLOWER.
import { Hono } from "hono";
import { z } from "zod";
import { cancelReassignmentOf, listReassignments, startReassignments } from "../lib/cluster/reassignments.ts";
import {
  EPOCH_END_PATH,
  epochEndAnswer,
  epochEndQuery,
  REPLICA_FETCH_PATH,
  REPLICA_HEADERS,
  replicaFetchQuery,
} from "../lib/cluster/replica-protocol.ts";
import { SluiceError } from "../lib/errors.ts";
import { RECORD_BATCH_MEDIA_TYPE } from "../lib/gateway/batch-frames.ts";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { PARTITIONS_PER_TOPIC_MAX } from "../lib/limits.ts";
import { errorResponse } from "./errors.ts";
import { describeRoute, JSON_BODY_ERRORS, json } from "./route-docs.ts";
import { limitBody, paramsOf, parseInput, partitionParams, queryOf, readJsonBody } from "./validate.ts";

const API_PREFIX = "/api/v1/cluster";

const clusterAnswer = z
  .object({
    enabled: z.boolean().meta({ description: "false on a single node (no etcd); the rest is then absent." }),
    nodeId: z.number().int().optional(),
    controllerId: z.number().int().nullable().optional(),
    etcd: z.object({ reachable: z.boolean(), registered: z.boolean() }).strict().optional(),
    nodes: z
      .array(
        z
          .object({
            id: z.number().int(),
            url: z.string().optional().meta({ description: "Absent for a node that is down." }),
            live: z.boolean().meta({ description: "Registered in etcd now (its lease is alive)." }),
            leaders: z.number().int().meta({ description: "Partitions it leads." }),
            replicas: z.number().int().meta({ description: "Partitions it holds a replica of." }),
          })
          .strict(),
      )
      .optional()
      .meta({ description: "Nodes registered in etcd now, and nodes holding replicas that are not (down)." }),
    partitions: z
      .object({
        total: z.number().int(),
        ledHere: z.number().int(),
        offline: z.number().int().meta({ description: "Partitions with no leader now." }),
        underReplicated: z
          .number()
          .int()
          .meta({ description: "Partitions whose ISR is short of their replicas." }),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ClusterAnswer = z.output<typeof clusterAnswer>;

const nodeId = z.number().int().min(0);

const reassignBody = z
  .object({
    partitions: z
      .array(
        z
          .object({
            topic: z.string().min(1),
            partition: z.number().int().min(0),
            replicas: z.array(nodeId).min(1).max(PARTITIONS_PER_TOPIC_MAX).meta({
              description: "The node ids to hold the partition, preferred leader first.",
            }),
          })
          .strict(),
      )
      .min(1)
      .max(PARTITIONS_PER_TOPIC_MAX),
  })
  .strict()
  .meta({ examples: [{ partitions: [{ topic: "orders", partition: 0, replicas: [3, 2] }] }] });

const reassignmentStatus = z
  .object({
    topic: z.string(),
    partition: z.number().int(),
    replicas: z.array(nodeId).meta({ description: "The replicas it moves to (its replicas once done)." }),
    addingReplicas: z.array(nodeId).meta({ description: "Catching up as followers before they count." }),
    removingReplicas: z.array(nodeId).meta({ description: "Dropped once every new replica is in sync." }),
    leader: nodeId.nullable(),
    leaderEpoch: z.number().int(),
    isr: z.array(nodeId),
    inProgress: z.boolean(),
  })
  .strict();
const reassignmentsAnswer = z.object({ reassignments: z.array(reassignmentStatus) }).strict();

export function clusterRoutes(gateway: Gateway): Hono {
  const app = new Hono();
  const cluster = () => {
    if (gateway.cluster === undefined) {
      throw new SluiceError("NOT_LEADER_OR_FOLLOWER", "this node runs alone (no cluster mode)");
    }
    return gateway.cluster;
  };

  app.get(
    "/",
    describeRoute({
      tag: "Cluster",
      summary: "Cluster nodes and health",
      responses: { 200: { description: "This node's view of the cluster.", content: json(clusterAnswer) } },
    }),
    (c) => c.json(gateway.cluster ? { enabled: true, ...gateway.cluster.describe() } : { enabled: false }),
  );

  /** The admin routes need cluster mode: on a single node they answer a plain, final refusal. */
  const clustered = () => {
    if (gateway.cluster === undefined) {
      throw new SluiceError(
        "NOT_CLUSTERED",
        "this node runs alone: start it with nodeId, advertisedUrl and etcdEndpoints",
      );
    }
    return gateway.cluster;
  };

  app.get(
    "/reassignments",
    describeRoute({
      tag: "Cluster",
      summary: "Partition reassignments under way",
      responses: { 200: { description: "Partitions moving now.", content: json(reassignmentsAnswer) } },
      errors: ["NOT_CLUSTERED"],
    }),
    (c) => c.json({ reassignments: listReassignments(clustered()) }),
  );

  app.post(
    "/reassignments",
    describeRoute({
      tag: "Cluster",
      summary: "Move partitions to other nodes",
      description:
        "Kafka's reassignment: the new replicas fetch as followers while the partition keeps serving; " +
        "once all are in the ISR the old ones are dropped, and a leader that is not among the new " +
        "replicas hands over to one that is. Answers as soon as the moves are started; " +
        "GET /cluster/reassignments follows them. Every entry is checked before any starts.",
      body: { content: json(reassignBody) },
      responses: { 202: { description: "The moves, started.", content: json(reassignmentsAnswer) } },
      errors: [
        ...JSON_BODY_ERRORS,
        "NOT_CLUSTERED",
        "INVALID_REPLICA_ASSIGNMENT",
        "UNKNOWN_TOPIC_OR_PARTITION",
        "COORDINATOR_NOT_AVAILABLE",
      ],
    }),
    limitBody(gateway.metrics),
    async (c) => {
      const cluster = clustered();
      const body = parseInput(reassignBody, await readJsonBody(c));
      return c.json({ reassignments: await startReassignments(cluster, body.partitions) }, 202);
    },
  );

  app.delete(
    "/reassignments/:topic/:partition",
    describeRoute({
      tag: "Cluster",
      summary: "Cancel a partition's reassignment",
      description: "Goes back to the original replicas (possible while one of them is in sync).",
      responses: { 200: { description: "The partition, going back.", content: json(reassignmentStatus) } },
      errors: [
        "NOT_CLUSTERED",
        "UNKNOWN_TOPIC_OR_PARTITION",
        "NO_REASSIGNMENT_IN_PROGRESS",
        "REASSIGNMENT_NOT_CANCELLABLE",
        "COORDINATOR_NOT_AVAILABLE",
      ],
    }),
    paramsOf(partitionParams),
    async (c) => {
      const { topic, partition } = c.req.valid("param");
      return c.json(await cancelReassignmentOf(clustered(), topic, partition));
    },
  );

  app.get(
    REPLICA_FETCH_PATH.slice(API_PREFIX.length),
    describeRoute({
      tag: "Cluster",
      summary: "Replica fetch (follower to leader)",
      description:
        "A follower reads from its log end, which tells the leader its position; batches as stored, " +
        "up to the leader's log end, sent with zero copy. A follower below the leader's log start is " +
        "refused with OFFSET_OUT_OF_RANGE and the offset headers: it starts its log at the log start. " +
        "Not for clients.",
      responses: {
        200: {
          description: "Batches from the offset on.",
          content: { [RECORD_BATCH_MEDIA_TYPE]: null },
          headers: {
            [REPLICA_HEADERS.highWatermark]: "The leader's high watermark.",
            [REPLICA_HEADERS.logStartOffset]: "The leader's log start.",
            [REPLICA_HEADERS.logEndOffset]: "The leader's log end.",
            [REPLICA_HEADERS.leaderEpoch]: "The leader's epoch.",
          },
        },
        204: { description: "Nothing past the offset within max_wait_ms." },
      },
      errors: [
        "NOT_LEADER_OR_FOLLOWER",
        "FENCED_LEADER_EPOCH",
        "UNKNOWN_LEADER_EPOCH",
        "OFFSET_OUT_OF_RANGE",
        "UNKNOWN_TOPIC_OR_PARTITION",
      ],
    }),
    queryOf(replicaFetchQuery),
    async (c) => {
      const query = c.req.valid("query");
      const answer = await cluster().replicas.replicaFetch(query, c.req.raw.signal);
      const { log, read, leaderEpoch } = answer;
      const offsetHeaders = {
        [REPLICA_HEADERS.highWatermark]: String(read.highWatermark),
        [REPLICA_HEADERS.logStartOffset]: String(read.logStartOffset),
        [REPLICA_HEADERS.logEndOffset]: String(read.logEndOffset),
        [REPLICA_HEADERS.leaderEpoch]: String(leaderEpoch),
      };
      if (answer.belowLogStart !== undefined) {
        // The refusal says where the leader's log starts: the follower starts its own log there.
        const response = errorResponse(answer.belowLogStart, c);
        for (const [name, value] of Object.entries(offsetHeaders)) response.headers.set(name, value);
        return response;
      }
      const headers = { "content-type": RECORD_BATCH_MEDIA_TYPE, ...offsetHeaders };
      if (read.slice === undefined) return new Response(null, { status: 204, headers });
      return new Response(log.sliceBlob(read.slice), { headers });
    },
  );

  app.get(
    EPOCH_END_PATH.slice(API_PREFIX.length),
    describeRoute({
      tag: "Cluster",
      summary: "End offset of a leader epoch (follower to leader)",
      description:
        "Kafka's OffsetsForLeaderEpoch: where a follower's log and the leader's part. Not for clients.",
      responses: { 200: { description: "The epoch and its end offset.", content: json(epochEndAnswer) } },
      errors: [
        "NOT_LEADER_OR_FOLLOWER",
        "FENCED_LEADER_EPOCH",
        "UNKNOWN_LEADER_EPOCH",
        "UNKNOWN_TOPIC_OR_PARTITION",
      ],
    }),
    queryOf(epochEndQuery),
    (c) => c.json(cluster().replicas.epochEnd(c.req.valid("query"))),
  );

  return app;
}
