// Raw produce: POST /:topic/partitions/:partition/batches with RecordBatch v2 bytes back to back
// (application/vnd.kafka.recordbatch), appended as sent once every batch has been validated.
import { Hono } from "hono";
import { RECORD_BATCH_MEDIA_TYPE } from "../lib/gateway/batch-frames.ts";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { produceBatches } from "../lib/gateway/produce-batches.ts";
import { produceQuery } from "./produce-query.ts";
import { limitBody, paramsOf, partitionParams, queryOf, requireMediaType } from "./validate.ts";

export function batchRoutes(gateway: Gateway): Hono {
  const app = new Hono();

  app.post(
    "/:topic/partitions/:partition/batches",
    limitBody(),
    paramsOf(partitionParams),
    queryOf(produceQuery),
    async (c) => {
      requireMediaType(c, RECORD_BATCH_MEDIA_TYPE);
      const { topic, partition } = c.req.valid("param");
      const { acks, durable } = c.req.valid("query");
      const body = new Uint8Array(await c.req.arrayBuffer());
      const result = await produceBatches(gateway, { topic, partition, body, acks, durable });
      return acks === 0 ? c.body(null, 202) : c.json(result);
    },
  );

  return app;
}
