// GET /metrics over a real loopback socket: after produce and fetch the counters for that topic and
// partition say what went in and out, the partition gauges match the logs, request latency is
// labelled by route pattern and timed on the node's clock, and every scrape parses strictly.
import { afterAll, describe, expect, test } from "bun:test";
import { RECORDS_PER_REQUEST_MAX, REQUEST_BODY_BYTES_MAX } from "../../lib/gateway/limits.ts";
import { encodeBatch, utf8 } from "../../lib/log/record-batch.ts";
import {
  createTopic,
  expectError,
  fetchPartition,
  produce,
  sendJson,
  startNode,
  until,
} from "../gateway/helpers.ts";
import { type Family, parseExposition, sampleValue } from "../metrics/exposition-parser.ts";

const node = startNode();
afterAll(() => node.close());
const root = node.api.replace(/\/api\/v1$/, "");

async function scrape(): Promise<Map<string, Family>> {
  const response = await fetch(`${root}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await response.text());
}

function partitionValue(families: Map<string, Family>, name: string, topic: string, partition: number) {
  return sampleValue(families, name, { topic, partition: String(partition) });
}

const FETCH_ROUTE = "/api/v1/topics/:topic/partitions/:partition/records";

function latency(families: Map<string, Family>, labels: Record<string, string>, le: string): number {
  return sampleValue(families, "sluice_http_request_duration_seconds_bucket", { ...labels, le }) ?? 0;
}

describe("/metrics", () => {
  test("answers the text format 0.0.4, which parses strictly, with every Sluice family described", async () => {
    const families = await scrape();
    for (const name of [
      "sluice_records_in_total",
      "sluice_bytes_in_total",
      "sluice_records_out_total",
      "sluice_bytes_out_total",
      "sluice_http_request_duration_seconds",
      "sluice_http_requests_in_flight",
      "sluice_http_pending_requests",
      "sluice_websocket_connections",
      "sluice_limit_hits_total",
      "sluice_log_start_offset",
      "sluice_log_end_offset",
      "sluice_high_watermark",
      "sluice_partition_size_bytes",
    ]) {
      expect(families.get(name)?.help).toBeTruthy();
    }
    expect(families.get("sluice_http_request_duration_seconds")!.type).toBe("histogram");
  });

  test("produce and fetch are counted per topic and partition, in records and batch bytes", async () => {
    await createTopic(node, "traffic", { partitions: 2 });
    await produce(node, "traffic", { records: [0, 1, 2].map((i) => ({ value: i, partition: 0 })) });
    await produce(node, "traffic", { records: [3, 4].map((i) => ({ value: i, partition: 1 })) });
    const batch = encodeBatch([{ value: utf8("raw") }], { timestampMs: 0 });
    const raw = await fetch(`${node.api}/topics/traffic/partitions/1/batches`, {
      method: "POST",
      headers: { "content-type": "application/vnd.kafka.recordbatch" },
      body: batch.slice(),
    });
    expect(raw.status).toBe(200);

    let families = await scrape();
    const sizes = node.logs.describeTopic("traffic").partitions.map((p) => p.sizeBytes);
    expect(partitionValue(families, "sluice_records_in_total", "traffic", 0)).toBe(3);
    expect(partitionValue(families, "sluice_records_in_total", "traffic", 1)).toBe(3);
    // Every byte appended came in a produce: the batches are stored as received.
    expect(partitionValue(families, "sluice_bytes_in_total", "traffic", 0)).toBe(sizes[0]!);
    expect(partitionValue(families, "sluice_bytes_in_total", "traffic", 1)).toBe(sizes[1]!);
    expect(partitionValue(families, "sluice_records_out_total", "traffic", 0)).toBeUndefined();

    const page = await fetchPartition(node, "traffic", 0, "offset=0");
    expect(page.records).toHaveLength(3);
    // A binary fetch from the middle of the first batch sends it whole; the consumer moves past 2 offsets.
    const binary = await fetch(`${node.api}/topics/traffic/partitions/1/records?offset=1&format=binary`);
    const sentBytes = (await binary.arrayBuffer()).byteLength;
    expect(sentBytes).toBe(sizes[1]!);

    families = await scrape();
    expect(partitionValue(families, "sluice_records_out_total", "traffic", 0)).toBe(3);
    expect(partitionValue(families, "sluice_bytes_out_total", "traffic", 0)).toBe(sizes[0]!);
    expect(partitionValue(families, "sluice_records_out_total", "traffic", 1)).toBe(2);
    expect(partitionValue(families, "sluice_bytes_out_total", "traffic", 1)).toBe(sentBytes);
  });

  test("partition gauges show each partition's offsets and size as the logs have them at scrape time", async () => {
    await createTopic(node, "gauges", { partitions: 2 });
    await produce(node, "gauges", {
      records: [
        { value: "a", partition: 1 },
        { value: "b", partition: 1 },
      ],
    });
    const families = await scrape();
    for (const p of node.logs.describeTopic("gauges").partitions) {
      expect(partitionValue(families, "sluice_log_start_offset", "gauges", p.partition)).toBe(
        p.logStartOffset,
      );
      expect(partitionValue(families, "sluice_log_end_offset", "gauges", p.partition)).toBe(p.logEndOffset);
      expect(partitionValue(families, "sluice_high_watermark", "gauges", p.partition)).toBe(p.highWatermark);
      expect(partitionValue(families, "sluice_partition_size_bytes", "gauges", p.partition)).toBe(
        p.sizeBytes,
      );
    }
    expect(partitionValue(families, "sluice_log_end_offset", "gauges", 1)).toBe(2);
  });

  test("a deleted topic's series go with it", async () => {
    await createTopic(node, "doomed");
    await produce(node, "doomed", { records: [{ value: 1 }] });
    expect(partitionValue(await scrape(), "sluice_records_in_total", "doomed", 0)).toBe(1);
    expect((await fetch(`${node.api}/topics/doomed`, { method: "DELETE" })).status).toBe(204);
    const families = await scrape();
    expect(partitionValue(families, "sluice_records_in_total", "doomed", 0)).toBeUndefined();
    expect(partitionValue(families, "sluice_log_end_offset", "doomed", 0)).toBeUndefined();
  });
});

describe("HTTP metrics", () => {
  test("requests are labelled by route pattern, not raw path, and unmatched ones share one label", async () => {
    await createTopic(node, "left");
    await createTopic(node, "right");
    const before = await scrape();
    const produceRoute = { method: "POST", route: "/api/v1/topics/:topic/records", status: "2xx" };
    const produced = latency(before, produceRoute, "+Inf");
    await produce(node, "left", { records: [{ value: 1 }] });
    await produce(node, "right", { records: [{ value: 1 }] });
    await expectError(await fetch(`${root}/no/such/path`), 404, "NOT_FOUND");
    await expectError(await fetch(`${root}/another/${"x".repeat(40)}`), 404, "NOT_FOUND");
    await expectError(
      await fetch(`${node.api}/topics/nope/partitions/0/records`),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
    );

    const families = await scrape();
    expect(latency(families, produceRoute, "+Inf")).toBe(produced + 2);
    expect(latency(families, { method: "GET", route: "unmatched", status: "4xx" }, "+Inf")).toBe(2);
    expect(latency(families, { method: "GET", route: FETCH_ROUTE, status: "4xx" }, "+Inf")).toBe(1);
    const routes = families
      .get("sluice_http_request_duration_seconds")!
      .samples.map((sample) => sample.labels.route!);
    expect(routes.some((route) => route.includes("left") || route.includes("/no/"))).toBe(false);
  });

  test("a long poll is timed on the node's clock and counted in flight while it waits", async () => {
    await createTopic(node, "slow");
    const labels = { method: "GET", route: FETCH_ROUTE, status: "2xx" };
    const before = await scrape();
    const timers = node.clock.pendingTimers;
    const pending = fetch(`${node.api}/topics/slow/partitions/0/records?min_bytes=1&max_wait_ms=1500`);
    await until(() => node.clock.pendingTimers === timers + 1);

    const waiting = await scrape();
    // The waiting fetch and this scrape.
    expect(sampleValue(waiting, "sluice_http_requests_in_flight")).toBe(2);
    expect(sampleValue(waiting, "sluice_http_pending_requests")).toBeGreaterThanOrEqual(2);

    node.clock.advance(1500);
    expect((await pending).status).toBe(200);
    const after = await scrape();
    expect(latency(after, labels, "1") - latency(before, labels, "1")).toBe(0);
    expect(latency(after, labels, "2.5") - latency(before, labels, "2.5")).toBe(1);
    const sum = (families: Map<string, Family>) =>
      sampleValue(families, "sluice_http_request_duration_seconds_sum", labels) ?? 0;
    expect(sum(after) - sum(before)).toBeCloseTo(1.5, 9);
    expect(sampleValue(after, "sluice_http_requests_in_flight")).toBe(1);
  });
});

describe("limit hits", () => {
  const hits = async (limit: string) => sampleValue(await scrape(), "sluice_limit_hits_total", { limit });

  test("every limit is exposed at 0 before it is hit", async () => {
    const families = await scrape();
    for (const limit of ["request_body_bytes", "records_per_request", "fetch_waiters"]) {
      expect(sampleValue(families, "sluice_limit_hits_total", { limit })).toBeNumber();
    }
  });

  test("a produce with too many records counts a records_per_request hit", async () => {
    await createTopic(node, "many");
    const before = (await hits("records_per_request"))!;
    const records = Array.from({ length: RECORDS_PER_REQUEST_MAX + 1 }, () => ({ value: 1 }));
    await expectError(
      await sendJson(`${node.api}/topics/many/records`, { records }),
      413,
      "REQUEST_TOO_LARGE",
    );
    expect(await hits("records_per_request")).toBe(before + 1);
  });

  test("a body over the limit counts a request_body_bytes hit", async () => {
    const before = (await hits("request_body_bytes"))!;
    const response = await fetch(`${node.api}/topics/many/records`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array(REQUEST_BODY_BYTES_MAX + 1),
    });
    await expectError(response, 413, "REQUEST_TOO_LARGE", "body");
    expect(await hits("request_body_bytes")).toBe(before + 1);
  });
});
