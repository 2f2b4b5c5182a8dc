// Offsets: GET /:topic/partitions/:partition/offsets?at=earliest|latest|<timestamp ms>, Kafka's
// ListOffsets for one partition.
import { Hono } from "hono";
import { z } from "zod";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { listOffset, type OffsetSpec } from "../lib/gateway/list-offsets.ts";
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

const offsetsQuery = z.object({ at: offsetSpec }).strict();

export function offsetRoutes(gateway: Gateway): Hono {
  const app = new Hono();

  app.get("/:topic/partitions/:partition/offsets", paramsOf(partitionParams), queryOf(offsetsQuery), (c) => {
    const { topic, partition } = c.req.valid("param");
    return c.json(listOffset(gateway.logs.partition(topic, partition), c.req.valid("query").at));
  });

  return app;
}
