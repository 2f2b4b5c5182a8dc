// Records: JSON produce to a topic (POST /:topic/records) and the fetch long poll on one partition
// (GET /:topic/partitions/:partition/records), answered as JSON records or as the raw batch bytes
// straight from the segment file.
import { type Context, Hono } from "hono";
import { z } from "zod";
import { RECORD_BATCH_MEDIA_TYPE } from "../lib/gateway/batch-frames.ts";
import { type FetchResult, fetchRecords } from "../lib/gateway/fetch-records.ts";
import type { Gateway } from "../lib/gateway/gateway.ts";
import {
  FETCH_MAX_BYTES_DEFAULT,
  FETCH_MAX_BYTES_MAX,
  FETCH_MAX_WAIT_MS_DEFAULT,
  FETCH_MAX_WAIT_MS_MAX,
  FETCH_MIN_BYTES_DEFAULT,
} from "../lib/gateway/limits.ts";
import { FETCH_PAYLOAD_FORMATS, PAYLOAD_FORMATS } from "../lib/gateway/payload-format.ts";
import { checkRecordCount, produceRecords } from "../lib/gateway/produce-records.ts";
import { type RenderOptions, renderRecords } from "../lib/gateway/record-json.ts";
import { type FetchAnswer, fetchAnswer, produceRecordsAnswer } from "./answers.ts";
import { allowIdleFor } from "./idle-timeout.ts";
import { produceQuery } from "./produce-query.ts";
import { idempotentProduceBody } from "./producers.ts";
import { APPEND_ERRORS, describeRoute, JSON_BODY_ERRORS, json } from "./route-docs.ts";
import {
  integerString,
  limitBody,
  paramsOf,
  parseInput,
  partitionParams,
  queryOf,
  readJsonBody,
  topicParams,
} from "./validate.ts";

const headerValue = z.string().nullable();

export const producedRecord = z
  .object({
    // Keys and values are checked against the request's formats when they are converted.
    key: z.unknown().optional(),
    value: z.unknown().refine((value) => value !== undefined, "is required (null for a tombstone)"),
    headers: z
      .union(
        [
          z.record(z.string(), headerValue),
          z.array(z.object({ key: z.string(), value: headerValue }).strict()),
        ],
        {
          error: "must be {name: text or null} or [{key, value: text or null}]",
        },
      )
      .optional(),
    partition: z.number().int().min(0).optional(),
    timestamp: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

/** The record count is checked on this cheap shape first, before any record is parsed. */
const recordList = z.object({ records: z.array(z.unknown()) });

const produceBody = z
  .object({
    keyFormat: z
      .enum(PAYLOAD_FORMATS)
      .default("json")
      .meta({ description: "How every key is given: a JSON value, text, or base64 bytes." }),
    valueFormat: z.enum(PAYLOAD_FORMATS).default("json").meta({ description: "How every value is given." }),
    records: z.array(producedRecord).min(1),
    producer: idempotentProduceBody.optional(),
  })
  .strict()
  .meta({
    examples: [
      {
        records: [
          { key: "order-17", value: { item: "tea", qty: 2 }, headers: { source: "till-3" } },
          { value: { item: "cake", qty: 1 }, partition: 0 },
        ],
      },
    ],
  });

const fetchQuery = z
  .object({
    offset: integerString()
      .optional()
      .meta({ description: "First offset to read; the log start if left out." }),
    max_bytes: integerString({ min: 1, max: FETCH_MAX_BYTES_MAX })
      .default(FETCH_MAX_BYTES_DEFAULT)
      .meta({ description: "Bytes of batches to answer with at most; at least one whole batch." }),
    min_bytes: integerString({ min: 0, max: FETCH_MAX_BYTES_MAX })
      .default(FETCH_MIN_BYTES_DEFAULT)
      .meta({ description: "Answer as soon as this many bytes are there." }),
    max_wait_ms: integerString({ min: 0, max: FETCH_MAX_WAIT_MS_MAX })
      .default(FETCH_MAX_WAIT_MS_DEFAULT)
      .meta({ description: "Wait this long at most for min_bytes (a long poll); 0 answers at once." }),
    format: z
      .enum(["json", "binary"])
      .default("json")
      .meta({ description: "json: decoded records; binary: the batches as stored, sent with zero copy." }),
    key_format: z
      .enum(FETCH_PAYLOAD_FORMATS)
      .default("auto")
      .meta({ description: "How keys are rendered; auto picks per record and says which." }),
    value_format: z
      .enum(FETCH_PAYLOAD_FORMATS)
      .default("auto")
      .meta({ description: "How values are rendered; auto picks per record and says which." }),
  })
  .strict();

/** What a binary answer says in headers, the JSON answer's fields being in its body. */
const BINARY_FETCH_HEADERS = {
  "x-sluice-next-offset": "format=binary: where the next fetch starts.",
  "x-sluice-high-watermark": "format=binary: offset up to which consumers may read.",
  "x-sluice-log-start-offset": "format=binary: first offset still in the log.",
};

export function recordRoutes(gateway: Gateway): Hono {
  const app = new Hono();

  app.post(
    "/:topic/records",
    describeRoute({
      tag: "Records",
      summary: "Produce records",
      description:
        "Keys and values as JSON, text or base64. A record goes to its partition if given, else by the " +
        "murmur2 hash of its key (as Kafka places it), else to the sticky partition for keyless records.",
      body: { content: json(produceBody) },
      responses: {
        200: { description: "Each record's partition and offset.", content: json(produceRecordsAnswer) },
        202: { description: "acks=0: accepted, with nothing said about where the records went." },
      },
      errors: [...JSON_BODY_ERRORS, ...APPEND_ERRORS],
    }),
    limitBody(gateway.metrics),
    paramsOf(topicParams),
    queryOf(produceQuery),
    async (c) => {
      const { topic } = c.req.valid("param");
      const { acks, durable } = c.req.valid("query");
      const json = await readJsonBody(c);
      checkRecordCountCounted(gateway, parseInput(recordList, json).records.length);
      const body = parseInput(produceBody, json);
      const result = await produceRecords(gateway, { topic, ...body, acks, durable });
      // acks=0: the producer asked not to hear where its records went.
      return acks === 0 ? c.body(null, 202) : c.json(result);
    },
  );

  app.get(
    "/:topic/partitions/:partition/records",
    describeRoute({
      tag: "Records",
      summary: "Fetch records (long poll)",
      description:
        "Whole batches from an offset, answered as soon as min_bytes are there, else after max_wait_ms " +
        "with what there is. JSON decodes the records; binary sends the stored RecordBatch v2 bytes.",
      responses: {
        200: {
          description: "Records from the offset on (JSON), or their batches as stored (binary).",
          content: { ...json(fetchAnswer), [RECORD_BATCH_MEDIA_TYPE]: null },
          headers: BINARY_FETCH_HEADERS,
        },
        204: { description: "format=binary and nothing to answer with.", headers: BINARY_FETCH_HEADERS },
      },
      errors: ["UNKNOWN_TOPIC_OR_PARTITION", "OFFSET_OUT_OF_RANGE", "CORRUPT_MESSAGE", "STORAGE_ERROR"],
    }),
    paramsOf(partitionParams),
    queryOf(fetchQuery),
    async (c) => {
      const { topic, partition } = c.req.valid("param");
      const query = c.req.valid("query");
      if (query.max_wait_ms > 0) allowIdleFor(c, query.max_wait_ms);
      const result = await fetchRecords(gateway, {
        topic,
        partition,
        fetchOffset: query.offset,
        maxBytes: query.max_bytes,
        minBytes: query.min_bytes,
        maxWaitMs: query.max_wait_ms,
        signal: c.req.raw.signal,
      });
      if (query.format === "binary") return binaryFetchResponse(result);
      const options = {
        partition,
        fetchOffset: result.fetchOffset,
        keyFormat: query.key_format,
        valueFormat: query.value_format,
      };
      return jsonFetchResponse(c, result, options);
    },
  );

  return app;
}

function jsonFetchResponse(c: Context, result: FetchResult, options: RenderOptions): Response {
  const { log, read } = result;
  const records = read.slice === undefined ? [] : renderRecords(log.readSliceBytes(read.slice), options);
  const answer: FetchAnswer = {
    records,
    nextOffset: result.nextOffset,
    highWatermark: read.highWatermark,
    logStartOffset: read.logStartOffset,
    logEndOffset: read.logEndOffset,
  };
  return c.json(answer);
}

/** The records-per-request limit, each refusal counted. */
function checkRecordCountCounted(gateway: Gateway, count: number): void {
  try {
    checkRecordCount(count);
  } catch (error) {
    gateway.metrics.limitHit("records_per_request");
    throw error;
  }
}

/** The batches as stored, sent from the segment file with sendfile(2); 204 when there are none. */
function binaryFetchResponse(result: FetchResult): Response {
  const { log, read } = result;
  const headers = {
    "content-type": RECORD_BATCH_MEDIA_TYPE,
    "x-sluice-next-offset": String(result.nextOffset),
    "x-sluice-high-watermark": String(read.highWatermark),
    "x-sluice-log-start-offset": String(read.logStartOffset),
  };
  if (read.slice === undefined) return new Response(null, { status: 204, headers });
  return new Response(log.sliceBlob(read.slice), { headers });
}
