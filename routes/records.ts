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
import { allowIdleFor } from "./idle-timeout.ts";
import { produceQuery } from "./produce-query.ts";
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

const producedRecord = z
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
    keyFormat: z.enum(PAYLOAD_FORMATS).default("json"),
    valueFormat: z.enum(PAYLOAD_FORMATS).default("json"),
    records: z.array(producedRecord).min(1),
  })
  .strict();

const fetchQuery = z
  .object({
    offset: integerString().optional(),
    max_bytes: integerString({ min: 1, max: FETCH_MAX_BYTES_MAX }).default(FETCH_MAX_BYTES_DEFAULT),
    min_bytes: integerString({ min: 0, max: FETCH_MAX_BYTES_MAX }).default(FETCH_MIN_BYTES_DEFAULT),
    max_wait_ms: integerString({ min: 0, max: FETCH_MAX_WAIT_MS_MAX }).default(FETCH_MAX_WAIT_MS_DEFAULT),
    format: z.enum(["json", "binary"]).default("json"),
    key_format: z.enum(FETCH_PAYLOAD_FORMATS).default("auto"),
    value_format: z.enum(FETCH_PAYLOAD_FORMATS).default("auto"),
  })
  .strict();

export function recordRoutes(gateway: Gateway): Hono {
  const app = new Hono();

  app.post("/:topic/records", limitBody(), paramsOf(topicParams), queryOf(produceQuery), async (c) => {
    const { topic } = c.req.valid("param");
    const { acks, durable } = c.req.valid("query");
    const json = await readJsonBody(c);
    checkRecordCount(parseInput(recordList, json).records.length);
    const body = parseInput(produceBody, json);
    const result = await produceRecords(gateway, { topic, ...body, acks, durable });
    // acks=0: the producer asked not to hear where its records went.
    return acks === 0 ? c.body(null, 202) : c.json(result);
  });

  app.get(
    "/:topic/partitions/:partition/records",
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
  return c.json({
    records,
    nextOffset: result.nextOffset,
    highWatermark: read.highWatermark,
    logStartOffset: read.logStartOffset,
    logEndOffset: read.logEndOffset,
  });
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
