// The WebSocket limits, each answered clearly: subscriptions per connection (an error frame),
// connections per node (503 before the upgrade), a request that is no upgrade (426), and a frame too
// big for the platform to buffer (closed with 1009, that connection only). Limits are lowered through
// createApp's webSocketLimits so the tests stay small.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { WS_FRAME_BYTES_HARD_MAX } from "../../lib/gateway/limits.ts";
import { createTopic, expectError, produce } from "../gateway/helpers.ts";
import { StreamClient, startStreamNode, subscribe } from "./helpers.ts";
import { RawWebSocket } from "./raw-client.ts";

const node = startStreamNode({ webSocketLimits: { connectionsMax: 3, subscriptionsMax: 2 } });
const port = Number(new URL(node.root).port);
afterAll(() => node.close());

beforeAll(async () => {
  await createTopic(node, "limits", { partitions: 3 });
});

/** Resolves once the node has let go of closed connections (the close reaches it after a moment). */
async function settle(): Promise<void> {
  await Bun.sleep(50);
}

describe("subscriptions per connection", () => {
  test("one past the limit is refused with TOO_MANY_SUBSCRIPTIONS; unsubscribing makes room", async () => {
    const client = await StreamClient.connect(node.wsUrl);
    await subscribe(client, { id: 1, topic: "limits", partition: 0, from: "latest" });
    await subscribe(client, { id: 2, topic: "limits", partition: 1, from: "latest" });
    client.send({ type: "subscribe", id: 3, topic: "limits", partition: 2, from: "latest" });
    await client.expectError("TOO_MANY_SUBSCRIPTIONS", { id: 3, field: "id" });
    client.send({ type: "unsubscribe", id: 1 });
    await client.expectFrame("unsubscribed");
    await subscribe(client, { id: 3, topic: "limits", partition: 2, from: "latest", credit: { records: 1 } });
    await produce(node, "limits", { records: [{ value: "p2", partition: 2 }] });
    expect(await client.expectFrame("records")).toMatchObject({ id: 3, records: [{ value: "p2" }] });
    client.close();
    await settle();
  });
});

describe("connections per node", () => {
  test("past the limit the upgrade is answered 503 TOO_MANY_CONNECTIONS; closing one makes room", async () => {
    const open = await Promise.all([1, 2, 3].map(() => StreamClient.connect(node.wsUrl)));
    const refused = await RawWebSocket.connect(port, "/api/v1/ws").then(
      () => "upgraded",
      (error: Error) => error.message,
    );
    expect(refused).toStartWith("HTTP/1.1 503");
    // The same refusal, read as an HTTP answer: the error body every route answers with.
    const handshake = {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    };
    await expectError(await fetch(`${node.api}/ws`, { headers: handshake }), 503, "TOO_MANY_CONNECTIONS");
    open[0]!.close();
    await settle();
    const another = await StreamClient.connect(node.wsUrl);
    await subscribe(another, { id: 1, topic: "limits", partition: 0, from: "latest" });
    for (const client of [...open.slice(1), another]) client.close();
    await settle();
  });
});

describe("not an upgrade", () => {
  test("a plain GET is answered 426 UPGRADE_REQUIRED", async () => {
    await expectError(await fetch(`${node.api}/ws`), 426, "UPGRADE_REQUIRED", "upgrade");
  });
});

describe("frames too big to buffer", () => {
  test("a frame past WS_FRAME_BYTES_HARD_MAX closes that connection with 1009, and only that one", async () => {
    const other = await StreamClient.connect(node.wsUrl);
    await subscribe(other, { id: 1, topic: "limits", partition: 0, from: "latest", credit: { records: 10 } });
    const client = await StreamClient.connect(node.wsUrl);
    client.send("x".repeat(WS_FRAME_BYTES_HARD_MAX + 1));
    await expect(client.next(5000)).rejects.toThrow("closed (1009");
    await produce(node, "limits", { records: [{ value: "still", partition: 0 }] });
    expect(await other.expectFrame("records")).toMatchObject({ id: 1, records: [{ value: "still" }] });
    other.close();
  });
});
