// The connection's send loop against a fake socket (the one stand-in these tests allow), for what a
// real socket will not do on cue: answer a send with backpressure (-1) or drop it (0). Bun's real
// backpressure is in backpressure.test.ts; here each outcome is scripted, frame by frame.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../lib/clock.ts";
import { createGateway, type Gateway } from "../../lib/gateway/gateway.ts";
import { WS_PRODUCES_IN_FLIGHT_MAX, WS_SEND_BYTES_PER_TURN_MAX } from "../../lib/gateway/limits.ts";
import { produceRecords } from "../../lib/gateway/produce-records.ts";
import { readBinaryFrame } from "../../lib/gateway/ws-binary-frame.ts";
import { StreamConnection } from "../../lib/gateway/ws-connection.ts";
import { GroupCoordinator } from "../../lib/groups/group-coordinator.ts";
import type { SendOutcome, WebSocketPeer } from "../../lib/platform/http-server.ts";
import { MemoryStorage } from "../../lib/storage/memory-storage.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { parseClientFrame } from "../../routes/ws-frames.ts";
import { START_MS } from "../gateway/helpers.ts";
import { settle } from "../log/helpers.ts";
import { eventually } from "./helpers.ts";

class FakePeer implements WebSocketPeer {
  readonly sent: Array<string | Uint8Array> = [];
  /** What the next sends answer, in order; "sent" once these run out. */
  readonly outcomes: SendOutcome[] = [];
  bufferedBytes = 0;
  readingPaused = false;
  closedWith: { code: number; reason: string } | undefined;

  send(frame: string | Uint8Array): SendOutcome {
    this.sent.push(frame);
    return this.outcomes.shift() ?? "sent";
  }
  pauseReading(): void {
    this.readingPaused = true;
  }
  resumeReading(): void {
    this.readingPaused = false;
  }
  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  /** The frames sent since the last call: JSON parsed, binary as its header's nextOffset. */
  take(): unknown[] {
    const frames = this.sent
      .splice(0)
      .map((f) =>
        typeof f === "string" ? JSON.parse(f) : { binaryNextOffset: readBinaryFrame(f).nextOffset },
      );
    return frames;
  }
}

let dataDir: string;
let logs: LogManager;
let gateway: Gateway;
let peer: FakePeer;
let deferred: Array<() => void>;
let connection: StreamConnection;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), "sluice-ws-connection-"));
  logs = LogManager.open({ dataDir, clock: new ManualClock(START_MS) });
  gateway = createGateway(logs);
  logs.createTopic("t");
  peer = new FakePeer();
  deferred = [];
  connection = new StreamConnection(gateway, peer, {
    groups: GroupCoordinator.open({ logs }),
    describeError: (error) => (error as { toJSON(): never }).toJSON(),
    defer: (task) => deferred.push(task),
  });
});

afterEach(async () => {
  connection.closed();
  await logs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const receive = (frame: unknown) => connection.receive(parseClientFrame(JSON.stringify(frame)));

/** One batch of `count` records on partition 0, through the gateway (so subscriptions wake). */
async function append(count: number, valueBytes = 10): Promise<void> {
  const records = Array.from({ length: count }, () => ({ value: "v".repeat(valueBytes), partition: 0 }));
  await produceRecords(gateway, {
    topic: "t",
    keyFormat: "json",
    valueFormat: "text",
    records,
    acks: 1,
    durable: false,
  });
  await Bun.sleep(0); // the woken subscriptions send on the next turns of the microtask queue
}

function subscribeBinary(id: number, credit: { records?: number; bytes?: number }) {
  receive({ type: "subscribe", id, topic: "t", partition: 0, from: "earliest", format: "binary", credit });
}

describe("backpressure", () => {
  test("after a send answers backpressure, no records frame goes until drain", async () => {
    await append(1);
    peer.outcomes.push("sent", "backpressure"); // subscribed, then the first records frame
    subscribeBinary(1, { records: 100 });
    expect(peer.take()).toEqual([expect.objectContaining({ type: "subscribed" }), { binaryNextOffset: 1 }]);

    await append(1);
    await append(1);
    expect(peer.take()).toEqual([]); // data and credit, but the socket said wait

    connection.drain();
    expect(peer.take()).toEqual([{ binaryNextOffset: 3 }]);
    await append(1);
    expect(peer.take()).toEqual([{ binaryNextOffset: 4 }]);
  });

  test("replies still go while records wait for drain", async () => {
    await append(1);
    peer.outcomes.push("sent", "backpressure");
    subscribeBinary(1, { records: 100 });
    peer.take();
    receive({ type: "unsubscribe", id: 42 });
    expect(peer.take()).toEqual([
      expect.objectContaining({ type: "error", name: "UNKNOWN_SUBSCRIPTION", id: 42 }),
    ]);
  });

  test("a dropped send closes the connection (1008) and ends every subscription's wait", async () => {
    peer.outcomes.push("sent", "sent", "dropped");
    subscribeBinary(1, { records: 100 });
    subscribeBinary(2, { records: 100 });
    expect(gateway.waiters.size).toBe(2); // both wait at the log end
    await append(1);
    expect(peer.closedWith?.code).toBe(1008);
    expect(connection.isClosed).toBe(true);
    expect(connection.subscriptionCount).toBe(0);
    expect(gateway.waiters.size).toBe(0);
    peer.take();
    receive({ type: "credit", id: 1, records: 1 });
    expect(peer.take()).toEqual([]); // a closed connection answers nothing
  });
});

describe("bounded work", () => {
  test("the send loop lets others run after WS_SEND_BYTES_PER_TURN_MAX bytes, then goes on", async () => {
    const batchBytes = 64 * 1024;
    const batches = Math.ceil((2 * WS_SEND_BYTES_PER_TURN_MAX) / batchBytes) + 2;
    for (let i = 0; i < batches; i++) await append(1, batchBytes);
    subscribeBinary(1, { bytes: Number.MAX_SAFE_INTEGER });
    const bytesOf = (frames: Array<string | Uint8Array>) =>
      frames.reduce((sum, f) => sum + (typeof f === "string" ? 0 : f.length), 0);
    const firstTurn = bytesOf(peer.sent.splice(0));
    expect(firstTurn).toBeGreaterThanOrEqual(WS_SEND_BYTES_PER_TURN_MAX);
    expect(firstTurn).toBeLessThan(WS_SEND_BYTES_PER_TURN_MAX + 512 * 1024);
    expect(deferred).toHaveLength(1);
    while (deferred.length > 0) deferred.shift()!();
    const frames = peer.take() as Array<{ binaryNextOffset: number }>;
    expect(frames.at(-1)!.binaryNextOffset).toBe(batches);
  });

  test("past WS_PRODUCES_IN_FLIGHT_MAX unanswered produce frames, the connection stops reading until answers go", async () => {
    // A disk whose fsyncs wait for the test holds the durable produces in flight, for as long as the
    // test looks: a real fsync's latency is no bound (under load it outlasted the test's timeout).
    const storage = new MemoryStorage();
    const slowLogs = LogManager.open({ dataDir: "/data", clock: new ManualClock(START_MS), storage });
    slowLogs.createTopic("t");
    const slowPeer = new FakePeer();
    const slow = new StreamConnection(createGateway(slowLogs), slowPeer, {
      groups: GroupCoordinator.open({ logs: slowLogs }),
      describeError: (error) => (error as { toJSON(): never }).toJSON(),
    });
    const release = storage.holdDatasyncs();
    const produce = (i: number) =>
      slow.receive(
        parseClientFrame(
          JSON.stringify({
            type: "produce",
            requestId: i,
            topic: "t",
            durable: true,
            records: [{ value: i }],
          }),
        ),
      );
    for (let i = 0; i < WS_PRODUCES_IN_FLIGHT_MAX - 1; i++) produce(i);
    expect(slowPeer.readingPaused).toBe(false);
    produce(WS_PRODUCES_IN_FLIGHT_MAX - 1);
    expect(slowPeer.readingPaused).toBe(true);
    await settle();
    expect({ paused: slowPeer.readingPaused, sent: slowPeer.sent }).toEqual({ paused: true, sent: [] });

    release();
    await eventually(() => slowPeer.sent.length === WS_PRODUCES_IN_FLIGHT_MAX);
    expect(slowPeer.readingPaused).toBe(false);
    const produced = slowPeer.take() as Array<{ type: string; requestId: number }>;
    expect(produced.map((f) => [f.type, f.requestId])).toEqual(
      Array.from({ length: WS_PRODUCES_IN_FLIGHT_MAX }, (_, i) => ["produced", i]),
    );
    slow.closed();
    await slowLogs.close();
  });
});
