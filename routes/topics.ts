// Topics: list, create, describe, change config, delete. The log manager validates names, partition
// counts and config keys; these handlers check the shapes and pass them on.
import { Hono } from "hono";
import { z } from "zod";
import type { Gateway } from "../lib/gateway/gateway.ts";
import type { TopicConfigInput } from "../lib/topics/topic-config.ts";
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

export function topicRoutes(gateway: Gateway): Hono {
  const { logs } = gateway;
  const app = new Hono();

  app.get("/", (c) => c.json({ topics: logs.listTopics() }));

  app.post("/", limitBody(), async (c) => {
    const body = parseInput(createTopicBody, await readJsonBody(c));
    const config = body.config as TopicConfigInput | undefined;
    return c.json(logs.createTopic(body.name, { partitions: body.partitions, config }), 201);
  });

  app.get("/:topic", paramsOf(topicParams), (c) => c.json(logs.describeTopic(c.req.valid("param").topic)));

  app.patch("/:topic/config", limitBody(), paramsOf(topicParams), async (c) => {
    const body = parseInput(alterConfigBody, await readJsonBody(c));
    return c.json(logs.alterTopicConfig(c.req.valid("param").topic, body.config));
  });

  app.delete("/:topic", paramsOf(topicParams), (c) => {
    const { topic } = c.req.valid("param");
    logs.deleteTopic(topic);
    // Long polls on it wake now and answer UNKNOWN_TOPIC_OR_PARTITION rather than wait out their time.
    gateway.waiters.notifyTopic(topic);
    return c.body(null, 204);
  });

  return app;
}
