// A Sluice node served through lib/platform/http-server.ts (so WebSockets upgrade as in main.ts) on a
// loopback port, and a WebSocket client over Bun's own WebSocket that queues the frames it receives,
// so each stream test says what it sends and which frames it expects, in order.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { ERRORS, type ErrorName } from "../../lib/errors.ts";
import type { StreamLimits } from "../../lib/gateway/ws-hub.ts";
import type { ServerFrame } from "../../lib/gateway/ws-protocol.ts";
import { startHttpServer } from "../../lib/platform/http-server.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { createApp } from "../../routes/app.ts";
import { START_MS, type TestNode } from "../gateway/helpers.ts";
import { parseExposition } from "../metrics/exposition-parser.ts";

export interface StreamNode extends TestNode {
  /** ws://127.0.0.1:<port>/api/v1/ws */
  wsUrl: string;
  /** http://127.0.0.1:<port> */
  root: string;
}

export function startStreamNode(options: { webSocketLimits?: Partial<StreamLimits> } = {}): StreamNode {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-ws-"));
  const clock = new ManualClock(START_MS);
  const logs = LogManager.open({ dataDir, clock });
  const app = createApp({ logs, ...options });
  const server = startHttpServer({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  const root = `http://127.0.0.1:${server.port}`;
  const close = async () => {
    await server.stop(true);
    await logs.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    root,
    api: `${root}/api/v1`,
    wsUrl: `ws://127.0.0.1:${server.port}/api/v1/ws`,
    logs,
    clock,
    dataDir,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A frame as received: JSON frames parsed, binary frames as bytes. */
export type Received = ServerFrame | Uint8Array;

/** The id a barrier uses: no test subscribes with it. */
const BARRIER_ID = 0xffff_ffff;

/** Bun's WebSocket with a queue of received frames. */
export class StreamClient {
  readonly #received: Received[] = [];
  #notify: (() => void) | undefined;
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", (event) => {
      const data = event.data as string | ArrayBuffer;
      this.#received.push(typeof data === "string" ? JSON.parse(data) : new Uint8Array(data));
      this.#notify?.();
    });
    socket.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.#notify?.();
    });
  }

  /** `init`: Bun's WebSocket options (headers such as Authorization, tls for wss). */
  static async connect(
    url: string,
    init?: { headers?: Record<string, string>; tls?: object },
  ): Promise<StreamClient> {
    const socket = init === undefined ? new WebSocket(url) : new WebSocket(url, init as never);
    const client = new StreamClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener("error", () => reject(new Error(`could not connect to ${url}`)), {
        once: true,
      });
    });
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame, waiting at most `boundMs` of real time for it. */
  async next(boundMs = 2000): Promise<Received> {
    const deadline = performance.now() + boundMs;
    while (this.#received.length === 0) {
      if (this.closed !== undefined) throw new Error(`closed (${this.closed.code} ${this.closed.reason})`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no frame within ${boundMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#notify = undefined;
    }
    return this.#received.shift()!;
  }

  /** The next frame, which must be a JSON frame of `type`. */
  async expectFrame<T extends ServerFrame["type"]>(type: T): Promise<Extract<ServerFrame, { type: T }>> {
    const frame = await this.next();
    expect(frame instanceof Uint8Array ? "binary" : frame.type).toBe(type);
    return frame as Extract<ServerFrame, { type: T }>;
  }

  /** The next frame, which must be binary. */
  async expectBinary(): Promise<Uint8Array> {
    const frame = await this.next();
    expect(frame instanceof Uint8Array ? "binary" : frame.type).toBe("binary");
    return frame as Uint8Array;
  }

  /** The next frame must be this error (and name this field, id or requestId when given). */
  async expectError(
    name: ErrorName,
    expected: { field?: string; id?: number; requestId?: string | number; needed?: number } = {},
  ) {
    const frame = await this.expectFrame("error");
    expect({ name: frame.name, code: frame.code }).toEqual({ name, code: ERRORS[name].code });
    expect(frame).toMatchObject(expected);
    return frame;
  }

  /**
   * Waits for a round trip, and returns every frame that came before it. Sluice answers frames in
   * order and sends a records frame as soon as it may, so when the barrier's answer arrives, nothing
   * owed before it is still on its way.
   */
  async barrier(): Promise<Received[]> {
    this.send({ type: "unsubscribe", id: BARRIER_ID });
    const before: Received[] = [];
    for (;;) {
      const frame = await this.next();
      if (!(frame instanceof Uint8Array) && frame.type === "error" && frame.id === BARRIER_ID) return before;
      before.push(frame);
    }
  }

  /** Expects that nothing arrives before a round trip. */
  async expectQuiet(): Promise<void> {
    expect(await this.barrier()).toEqual([]);
  }

  /** JSON records frames for subscription `id` until `count` records have come (other frames fail). */
  async collectRecords(id: number, count: number): Promise<Array<{ offset: number; value: unknown }>> {
    const records: Array<{ offset: number; value: unknown }> = [];
    while (records.length < count) {
      const frame = await this.expectFrame("records");
      expect(frame.id).toBe(id);
      records.push(...frame.records);
    }
    return records;
  }

  close(): void {
    this.socket.close();
  }
}

/** Subscribes and expects `subscribed`; returns its starting offset. */
export async function subscribe(client: StreamClient, frame: Record<string, unknown>): Promise<number> {
  client.send({ type: "subscribe", format: "json", ...frame });
  const subscribed = await client.expectFrame("subscribed");
  expect(subscribed.id).toBe(frame["id"] as number);
  return subscribed.offset;
}

/** One sample of the node's /metrics (summed over the series that match `labels`). */
export async function scrape(
  node: StreamNode,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const families = parseExposition(await (await fetch(`${node.root}/metrics`)).text());
  const samples = families.get(name)?.samples ?? [];
  const matching = samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matching.reduce((sum, s) => sum + s.value, 0);
}

/** Waits in real time, polling every 5 ms, until `condition` holds (at most `boundMs`). */
export async function eventually(
  condition: () => Promise<boolean> | boolean,
  boundMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + boundMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${boundMs} ms`);
    await Bun.sleep(5);
  }
}
