// The JSON answers of the API as zod schemas, for the OpenAPI document. Each is typed against the lib
// result it describes, so tsc fails when a field is added to one and not the other, and they are
// strict, so the OpenAPI test fails when a real answer carries a field the schema does not name.
import { z } from "zod";
import type { ListedOffset } from "../lib/gateway/list-offsets.ts";
import { PAYLOAD_FORMATS } from "../lib/gateway/payload-format.ts";
import type { ProduceBatchesResult } from "../lib/gateway/produce-batches.ts";
import type { ProduceRecordsResult } from "../lib/gateway/produce-records.ts";
import type { JsonRecord } from "../lib/gateway/record-json.ts";
import type { TopicDescription, TopicSummary } from "../lib/topics/log-manager.ts";
import { topicConfigSchema } from "../lib/topics/topic-config.ts";

const offset = z.number().int().min(0);
const partition = z.number().int().min(0);
/** Kafka's answer where there is no time: -1. */
const timestampMs = z.number().int().min(-1);

/** An idempotent producer's retry: nothing was appended, and the offsets are the first attempt's. */
const duplicateFlag = z
  .literal(true)
  .optional()
  .meta({ description: "A retry of a batch already in the log: not appended again; its original offsets." });

export const healthAnswer = z.object({ status: z.literal("ok") }).strict();

export const readyAnswer = z.object({ status: z.literal("ready"), topics: z.number().int().min(0) }).strict();

const topicSummary: z.ZodType<TopicSummary> = z
  .object({ name: z.string(), partitions: z.number().int().min(1), sizeBytes: z.number().int().min(0) })
  .strict();

export const topicListAnswer = z.object({ topics: z.array(topicSummary) }).strict();

export const topicAnswer: z.ZodType<TopicDescription> = z
  .object({
    name: z.string(),
    partitions: z.array(
      z
        .object({
          partition,
          logStartOffset: offset,
          logEndOffset: offset,
          highWatermark: offset,
          segmentCount: z.number().int().min(1),
          sizeBytes: z.number().int().min(0),
          segments: z.array(
            z
              .object({
                baseOffset: offset,
                nextOffset: offset,
                sizeBytes: z.number().int().min(0),
                maxTimestamp: timestampMs,
              })
              .strict(),
          ),
          replication: z
            .object({
              leader: z.number().int().min(0).nullable(),
              leaderEpoch: z.number().int().min(0),
              replicas: z.array(z.number().int().min(0)),
              isr: z.array(z.number().int().min(0)),
              addingReplicas: z
                .array(z.number().int().min(0))
                .meta({ description: "A reassignment under way: replicas catching up to join." }),
              removingReplicas: z
                .array(z.number().int().min(0))
                .meta({ description: "A reassignment under way: replicas to drop once it completes." }),
              offsetsFrom: z
                .number()
                .int()
                .min(0)
                .meta({
                  description:
                    "The node whose log the offsets and segments describe: the leader, or the node " +
                    "answering when the leader could not be asked.",
                }),
            })
            .strict()
            .optional()
            .meta({
              description:
                "Cluster mode: leader (null: none now), leader epoch, replicas and ISR by node id.",
            }),
        })
        .strict(),
    ),
    config: topicConfigSchema,
    createdMs: z.number().int(),
  })
  .strict();

export const produceRecordsAnswer: z.ZodType<ProduceRecordsResult> = z
  .object({
    offsets: z
      .array(z.object({ partition, offset }).strict())
      .meta({ description: "Each record's place, in request order." }),
    partitions: z
      .array(
        z
          .object({
            partition,
            baseOffset: offset,
            lastOffset: offset,
            recordCount: z.number().int().min(1),
            logAppendTime: timestampMs,
            logStartOffset: offset,
            duplicate: duplicateFlag,
          })
          .strict(),
      )
      .meta({ description: "One entry per partition written." }),
  })
  .strict();

export const produceBatchesAnswer: z.ZodType<ProduceBatchesResult> = z
  .object({
    batches: z.array(
      z
        .object({
          baseOffset: offset,
          lastOffset: offset,
          recordCount: z.number().int().min(0),
          logAppendTime: timestampMs,
          duplicate: duplicateFlag,
        })
        .strict(),
    ),
    logStartOffset: offset,
  })
  .strict();

const payloadFormat = z.enum(PAYLOAD_FORMATS);

const jsonRecord: z.ZodType<JsonRecord> = z
  .object({
    partition,
    offset,
    timestamp: z.number().int(),
    timestampType: z.enum(["CreateTime", "LogAppendTime"]),
    key: z.unknown(),
    keyFormat: payloadFormat.optional().meta({ description: 'The format "auto" picked for the key.' }),
    value: z.unknown(),
    valueFormat: payloadFormat.optional().meta({ description: 'The format "auto" picked for the value.' }),
    headers: z.array(
      z
        .object({
          key: z.string(),
          value: z.string().nullable(),
          valueFormat: z.literal("base64").optional().meta({ description: "Present when not UTF-8." }),
        })
        .strict(),
    ),
  })
  .strict();

export const fetchAnswer = z
  .object({
    records: z.array(jsonRecord),
    nextOffset: offset.meta({ description: "Where the next fetch starts." }),
    highWatermark: offset,
    logStartOffset: offset,
    logEndOffset: offset,
  })
  .strict()
  .meta({
    examples: [
      {
        records: [
          {
            partition: 0,
            offset: 41,
            timestamp: 1_700_000_000_000,
            timestampType: "CreateTime",
            key: "order-17",
            keyFormat: "text",
            value: { item: "tea", qty: 2 },
            valueFormat: "json",
            headers: [{ key: "source", value: "till-3" }],
          },
        ],
        nextOffset: 42,
        highWatermark: 42,
        logStartOffset: 0,
        logEndOffset: 42,
      },
    ],
  });

export type FetchAnswer = z.output<typeof fetchAnswer>;

export const listedOffsetAnswer: z.ZodType<ListedOffset> = z
  .object({
    offset,
    timestamp: timestampMs.optional().meta({
      description: "By-time lookups only: the found record's timestamp, -1 when none is that late.",
    }),
  })
  .strict();
