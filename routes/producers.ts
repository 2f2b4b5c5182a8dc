// Idempotent producers: POST / hands out a producer id and epoch (Kafka's InitProducerId), or bumps
// the epoch of an id it issued, fencing the instance that held the old one. Also the `producer` part
// of a JSON produce body, which carries the id, epoch and each partition's base sequence.
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { Gateway } from "../lib/gateway/gateway.ts";
import { ProducerIds } from "../lib/gateway/producer-ids.ts";
import { PRODUCER_EPOCH_MAX } from "../lib/limits.ts";
import { SEQUENCE_MAX } from "../lib/log/producer-state.ts";
import { describeRoute, JSON_BODY_ERRORS, json, STORAGE_ERRORS } from "./route-docs.ts";
import { limitBody, parseInput, readJsonBody } from "./validate.ts";

const producerId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const producerEpoch = z.number().int().min(0).max(PRODUCER_EPOCH_MAX);

const initProducerBody = z
  .object({
    producerId: producerId.optional().meta({ description: "An id this node issued, to bump its epoch." }),
    producerEpoch: producerEpoch
      .optional()
      .meta({ description: "The epoch the caller holds; refused when a newer one was issued." }),
  })
  .strict()
  .refine((body) => body.producerEpoch === undefined || body.producerId !== undefined, {
    path: ["producerEpoch"],
    message: "needs producerId",
  })
  .meta({ examples: [{}, { producerId: 7, producerEpoch: 0 }] });

const producerAnswer = z.object({ producerId, producerEpoch }).strict();

/** The `producer` part of a JSON produce body (routes/records.ts). */
export const idempotentProduceBody = z
  .object({
    producerId,
    producerEpoch,
    baseSequences: z
      .record(
        z.string().regex(/^\d+$/, "must be a partition number"),
        z.number().int().min(0).max(SEQUENCE_MAX),
      )
      .meta({
        description:
          "The sequence of the first record going to each partition written; the next request to that " +
          "partition starts where this one's records end (sequences wrap after 2^31 - 1).",
      }),
  })
  .strict()
  .meta({
    description:
      "Makes the produce idempotent: a retry of the same request is not appended again and is answered " +
      "with the first attempt's offsets. Every record needs a partition or a key.",
  });

/** Content-Length 0, or neither a length nor a type: a plain POST asking for a new id. */
function hasNoBody(c: Context): boolean {
  const length = c.req.header("content-length");
  return length === "0" || (length === undefined && c.req.header("content-type") === undefined);
}

export function producerRoutes(gateway: Gateway): Hono {
  const producerIds = new ProducerIds(gateway.logs);
  const app = new Hono();

  app.post(
    "/",
    describeRoute({
      tag: "Producers",
      summary: "Get an idempotent producer id, or bump an id's epoch",
      description:
        "Without a body (or with {}), a new producer id with epoch 0; ids are never reissued. With a " +
        "producerId, the same id with the next epoch: batches of older epochs are then refused " +
        "(INVALID_PRODUCER_EPOCH) on every partition the new epoch has written to.",
      body: { content: json(initProducerBody) },
      responses: { 200: { description: "The id and epoch to produce with.", content: json(producerAnswer) } },
      errors: [...JSON_BODY_ERRORS, "INVALID_PRODUCER_EPOCH", ...STORAGE_ERRORS],
    }),
    limitBody(gateway.metrics),
    async (c) => {
      const body = hasNoBody(c) ? {} : parseInput(initProducerBody, await readJsonBody(c));
      return c.json(producerIds.initProducerId(body));
    },
  );

  return app;
}
