// Offsets: GET /:topic/partitions/:partition/offsets?at=earliest|latest|<timestamp ms>, Kafka's
// ListOffsets for one partition.
import { Hono } from "hono";
import { z } from "zod";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { listOffset, type OffsetSpec } from "../lib/gateway/list-offsets.ts";
import { listedOffsetAnswer } from "./answers.ts";
import { describeRoute, json } from "./route-docs.ts";
import { paramsOf, partitionParams, queryOf } from "./validate.ts";

const offsetSpec = z.string().transform((text, ctx): OffsetSpec => {
  if (text === "earliest" || text === "latest") return text;
  const timestampMs = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(timestampMs)) return { timestampMs };
  ctx.issues.push({
    code: "custom",
    input: text,
    message: "must be earliest, latest or a timestamp in milliseconds since the epoch",
  });
  return z.NEVER;
});

const offsetsQuery = z
  .object({
    at: offsetSpec.meta({
      description:
        "earliest, latest, or a timestamp in ms: the first offset whose record is at least as late.",
      examples: ["earliest", "latest", "1700000000000"],
    }),
  })
  .strict();

export function offsetRoutes(gateway: Gateway): Hono {
  const app = new Hono();

  app.get(
    "/:topic/partitions/:partition/offsets",
    describeRoute({
      tag: "Offsets",
      summary: "Look up an offset",
      description: "Kafka's ListOffsets for one partition; latest is the high watermark.",
      responses: { 200: { description: "The offset found.", content: json(listedOffsetAnswer) } },
      errors: ["UNKNOWN_TOPIC_OR_PARTITION", "STORAGE_ERROR"],
    }),
    paramsOf(partitionParams),
    queryOf(offsetsQuery),
    (c) => {
      const { topic, partition } = c.req.valid("param");
      return c.json(listOffset(gateway.logs.partition(topic, partition), c.req.valid("query").at));
    },
  );

  return app;
}
