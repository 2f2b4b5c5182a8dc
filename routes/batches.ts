// Raw produce: POST /:topic/partitions/:partition/batches with RecordBatch v2 bytes back to back
// (application/vnd.kafka.recordbatch), appended as sent once every batch has been validated.
import { Hono } from "hono";
import { RECORD_BATCH_MEDIA_TYPE } from "../lib/gateway/batch-frames.ts";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { produceBatches } from "../lib/gateway/produce-batches.ts";
import { produceBatchesAnswer } from "./answers.ts";
import { produceQuery } from "./produce-query.ts";
import { APPEND_ERRORS, describeRoute, json } from "./route-docs.ts";
import { limitBody, paramsOf, partitionParams, queryOf, requireMediaType } from "./validate.ts";

export function batchRoutes(gateway: Gateway): Hono {
  const app = new Hono();

  app.post(
    "/:topic/partitions/:partition/batches",
    describeRoute({
      tag: "Batches",
      summary: "Produce raw record batches",
      description:
        "One or more RecordBatch v2 batches back to back, as a Kafka producer sends them (baseOffset 0). " +
        "Every batch is validated before the first is appended, so a bad one leaves the log as it was.",
      body: { content: { [RECORD_BATCH_MEDIA_TYPE]: null } },
      responses: {
        200: { description: "Where each batch was appended.", content: json(produceBatchesAnswer) },
        202: { description: "acks=0: accepted, with nothing said about where the batches went." },
      },
      errors: [
        "UNSUPPORTED_MEDIA_TYPE",
        "CORRUPT_MESSAGE",
        "INVALID_RECORD",
        "UNSUPPORTED_MAGIC",
        "UNSUPPORTED_COMPRESSION_TYPE",
        ...APPEND_ERRORS,
      ],
    }),
    limitBody(gateway.metrics),
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
