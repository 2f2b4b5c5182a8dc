// Topics: list, create, describe, change config, delete. The log manager validates names, partition
// counts and config keys; these handlers check the shapes and pass them on.
import { Hono } from "hono";
import { z } from "zod";
import { FORWARDED_HEADER } from "../lib/cluster/replicated-append.ts";
import { alterTopicConfig, createTopic, deleteTopic, describeTopic } from "../lib/cluster/topic-admin.ts";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { PARTITIONS_PER_TOPIC_MAX } from "../lib/limits.ts";
import { type TopicConfigInput, topicConfigSchema } from "../lib/topics/topic-config.ts";
import { topicAnswer, topicListAnswer } from "./answers.ts";
import { describeRoute, JSON_BODY_ERRORS, json, STORAGE_ERRORS } from "./route-docs.ts";
import { limitBody, paramsOf, parseInput, readJsonBody, topicParams } from "./validate.ts";

const createTopicBody = z
  .object({
    name: z.string(),
    partitions: z.number().optional(),
    // Each key and value is checked by the topic config schema, which names the bad key.
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** null resets a key to its default. */
const alterConfigBody = z.object({ config: z.record(z.string(), z.unknown()) }).strict();

/** The bodies as documented: the shapes above with the keys the topic config schema then checks. */
const configDoc = topicConfigSchema.meta({
  description: "Kafka's topic config keys; values are numbers or numeric strings. Unknown keys are refused.",
});
const createTopicDoc = createTopicBody
  .extend({
    partitions: createTopicBody.shape.partitions.meta({
      description: `1 to ${PARTITIONS_PER_TOPIC_MAX}; 1 when left out.`,
    }),
    config: configDoc.optional(),
  })
  .meta({ examples: [{ name: "orders", partitions: 3, config: { "retention.ms": 86_400_000 } }] });
/** A change names only the keys it changes, without defaults, and null puts a key back to its default. */
const configChangesDoc = z
  .object(
    Object.fromEntries(
      Object.entries(topicConfigSchema.shape).map(([key, value]) => {
        const withoutDefault = value instanceof z.ZodDefault ? value.unwrap() : value;
        return [key, withoutDefault.nullable().optional()];
      }),
    ),
  )
  .strict()
  .meta({ description: "The keys to change; null resets a key to its default. Unknown keys are refused." });
const alterConfigDoc = alterConfigBody
  .extend({ config: configChangesDoc })
  .meta({ examples: [{ config: { "retention.ms": 3_600_000, "segment.bytes": null } }] });

export function topicRoutes(gateway: Gateway): Hono {
  const { logs } = gateway;
  const app = new Hono();

  app.get(
    "/",
    describeRoute({
      tag: "Topics",
      summary: "List topics",
      responses: { 200: { description: "Every topic, by name.", content: json(topicListAnswer) } },
    }),
    (c) => c.json({ topics: logs.listTopics() }),
  );

  app.post(
    "/",
    describeRoute({
      tag: "Topics",
      summary: "Create a topic",
      body: { content: json(createTopicDoc) },
      responses: { 201: { description: "The new topic, described.", content: json(topicAnswer) } },
      errors: [
        ...JSON_BODY_ERRORS,
        "INVALID_TOPIC_NAME",
        "INVALID_PARTITIONS",
        "INVALID_CONFIG",
        "TOPIC_ALREADY_EXISTS",
        "INVALID_REPLICATION_FACTOR",
        ...STORAGE_ERRORS,
      ],
    }),
    limitBody(gateway.metrics),
    async (c) => {
      const body = parseInput(createTopicBody, await readJsonBody(c));
      const config = body.config as TopicConfigInput | undefined;
      return c.json(await createTopic(gateway, body.name, body.partitions, config), 201);
    },
  );

  app.get(
    "/:topic",
    describeRoute({
      tag: "Topics",
      summary: "Describe a topic",
      description:
        "Per partition: log start and end offsets, high watermark, segments and bytes; and the config.",
      responses: { 200: { description: "The topic.", content: json(topicAnswer) } },
      errors: ["UNKNOWN_TOPIC_OR_PARTITION"],
    }),
    paramsOf(topicParams),
    async (c) => {
      // A peer asking (forwarded) wants this node's own view of the partitions it leads.
      const localOnly = c.req.header(FORWARDED_HEADER) !== undefined;
      return c.json(await describeTopic(gateway, c.req.valid("param").topic, { localOnly }));
    },
  );

  app.patch(
    "/:topic/config",
    describeRoute({
      tag: "Topics",
      summary: "Change a topic's config",
      body: { content: json(alterConfigDoc) },
      responses: { 200: { description: "The topic with its new config.", content: json(topicAnswer) } },
      errors: [...JSON_BODY_ERRORS, "UNKNOWN_TOPIC_OR_PARTITION", "INVALID_CONFIG", ...STORAGE_ERRORS],
    }),
    limitBody(gateway.metrics),
    paramsOf(topicParams),
    async (c) => {
      const body = parseInput(alterConfigBody, await readJsonBody(c));
      return c.json(await alterTopicConfig(gateway, c.req.valid("param").topic, body.config));
    },
  );

  app.delete(
    "/:topic",
    describeRoute({
      tag: "Topics",
      summary: "Delete a topic",
      description: "Its partitions' files are removed at once; fetches waiting on it answer at once.",
      responses: { 204: { description: "Deleted." } },
      errors: ["UNKNOWN_TOPIC_OR_PARTITION", "TOPIC_IS_INTERNAL", ...STORAGE_ERRORS],
    }),
    paramsOf(topicParams),
    async (c) => {
      const { topic } = c.req.valid("param");
      await deleteTopic(gateway, topic);
      // Long polls on it wake now and answer UNKNOWN_TOPIC_OR_PARTITION rather than wait out their time.
      gateway.waiters.notifyTopic(topic);
      gateway.metrics.forgetTopic(topic);
      return c.body(null, 204);
    },
  );

  return app;
}
