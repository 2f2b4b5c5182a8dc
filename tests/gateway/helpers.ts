// A Sluice node on a real loopback socket over a temp data dir (or one a test keeps, to restart a node
// over it) with a ManualClock, and small request helpers, so each gateway test says what it sends and
// what it expects.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { ERRORS, type ErrorName } from "../../lib/errors.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { createApp } from "../../routes/app.ts";
import { START_MS } from "../log/helpers.ts";

export { START_MS, seededRandom } from "../log/helpers.ts";

export interface TestNode extends AsyncDisposable {
  /** http://127.0.0.1:<port>/api/v1 */
  api: string;
  logs: LogManager;
  clock: ManualClock;
  dataDir: string;
  close(): Promise<void>;
}

export interface StartedNode extends TestNode {
  /**
   * Stops serving. Clean: the logs close as at shutdown (flushed, shutdown marker). Unclean: the files
   * close without a flush or the marker, as a crashed process leaves them. The data dir stays.
   */
  stop(options?: { clean?: boolean }): Promise<void>;
}

/**
 * Serves the app on an ephemeral loopback port over a fresh data dir, removed on close; or over
 * `dataDir`, which the test keeps, so another node can start over it after this one stops.
 */
export function startNode(options: { dataDir?: string } = {}): StartedNode {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sluice-gateway-"));
  const clock = new ManualClock(START_MS);
  const logs = LogManager.open({ dataDir, clock });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: createApp({ logs }).fetch });
  let stopped = false;
  const stop = async ({ clean = true }: { clean?: boolean } = {}) => {
    if (stopped) return;
    stopped = true;
    await server.stop(true);
    if (clean) return logs.close();
    for (const topic of logs.listTopics()) {
      for (let p = 0; p < topic.partitions; p++) logs.partition(topic.name, p).closeWithoutFlush();
    }
  };
  const close = async () => {
    await stop();
    if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    api: `http://127.0.0.1:${server.port}/api/v1`,
    logs,
    clock,
    dataDir,
    stop,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A request with a JSON body. */
export function sendJson(url: string, body: unknown, method = "POST"): Promise<Response> {
  return fetch(url, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

export async function createTopic(
  node: TestNode,
  name: string,
  options: { partitions?: number; config?: Record<string, unknown> } = {},
): Promise<void> {
  const response = await sendJson(`${node.api}/topics`, { name, ...options });
  expect(response.status).toBe(201);
}

export interface ProduceAnswer {
  offsets: Array<{ partition: number; offset: number }>;
  partitions: Array<{ partition: number; baseOffset: number; lastOffset: number; logAppendTime: number }>;
}

/** Produces a JSON body and expects 200. */
export async function produce(
  node: TestNode,
  topic: string,
  body: unknown,
  query = "",
): Promise<ProduceAnswer> {
  const response = await sendJson(`${node.api}/topics/${topic}/records${query}`, body);
  expect(response.status).toBe(200);
  return (await response.json()) as ProduceAnswer;
}

export interface FetchedRecord {
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  key: unknown;
  keyFormat?: string;
  value: unknown;
  valueFormat?: string;
  headers: Array<{ key: string; value: string | null; valueFormat?: string }>;
}

export interface FetchAnswer {
  records: FetchedRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
}

/** One JSON fetch; `query` without the leading "?". Expects 200. */
export async function fetchPartition(
  node: TestNode,
  topic: string,
  partition: number,
  query = "",
): Promise<FetchAnswer> {
  const response = await fetch(`${node.api}/topics/${topic}/partitions/${partition}/records?${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as FetchAnswer;
}

/** Every record of a partition from the log start, fetched page by page. */
export async function fetchAll(node: TestNode, topic: string, partition: number): Promise<FetchedRecord[]> {
  const records: FetchedRecord[] = [];
  let offset = 0;
  for (;;) {
    const page = await fetchPartition(node, topic, partition, `offset=${offset}&max_bytes=4096`);
    records.push(...page.records);
    if (page.nextOffset === offset) return records;
    offset = page.nextOffset;
  }
}

/** Asserts an error answer: its status, the code's name and number, and the field when given. */
export async function expectError(
  response: Response,
  status: number,
  name: ErrorName | "NOT_FOUND",
  field?: string,
): Promise<void> {
  const body = (await response.json()) as { error: { code: number; name: string; field?: string } };
  expect({ status: response.status, name: body.error.name }).toEqual({ status, name });
  if (name !== "NOT_FOUND") expect(body.error.code).toBe(ERRORS[name].code);
  if (field !== undefined) expect(body.error.field).toBe(field);
}

/**
 * Waits (in real time, polling each millisecond, at most `boundMs`) until `condition` holds: for
 * server-side effects of a request in flight, such as a long poll registering its timer.
 */
export async function until(condition: () => boolean, boundMs = 2000): Promise<void> {
  const deadline = performance.now() + boundMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${boundMs} ms`);
    await Bun.sleep(1);
  }
}
