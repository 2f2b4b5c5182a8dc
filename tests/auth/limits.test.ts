// Limits an operator sets (requestBodyBytesMax, wsConnectionsMax, wsSubscriptionsPerConnectionMax)
// answer with their codes, and every hit, the WebSocket frame size included, is counted in /metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { WS_FRAME_BYTES_MAX } from "../../lib/gateway/limits.ts";
import { parseExposition } from "../metrics/exposition-parser.ts";
import { StreamClient } from "../ws/helpers.ts";
import { ADMIN_SECRET, type AuthNode, request, startAuthNode } from "./helpers.ts";

let node: AuthNode;
const BODY_MAX = 4096;

beforeAll(async () => {
  node = startAuthNode({
    requestBodyBytesMax: BODY_MAX,
    webSocketLimits: { connectionsMax: 2, subscriptionsMax: 1 },
  });
  const created = await request(`${node.api}/topics`, {
    method: "POST",
    secret: ADMIN_SECRET,
    body: { name: "t" },
  });
  expect(created.status).toBe(201);
});
afterAll(() => node.close());

async function hits(limit: string): Promise<number> {
  const families = parseExposition(await (await fetch(`${node.root}/metrics`)).text());
  return families.get("sluice_limit_hits_total")?.samples.find((s) => s.labels.limit === limit)?.value ?? 0;
}

const connect = () => StreamClient.connect(`${node.wsUrl}?access_token=${ADMIN_SECRET}`);

describe("limits with access control on", () => {
  test("a body over requestBodyBytesMax is refused with REQUEST_TOO_LARGE and counted", async () => {
    const before = await hits("request_body_bytes");
    const records = [{ value: "z".repeat(BODY_MAX) }];
    const response = await request(`${node.api}/topics/t/records`, {
      method: "POST",
      secret: ADMIN_SECRET,
      body: { records },
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { name: string } }).error.name).toBe("REQUEST_TOO_LARGE");
    expect(await hits("request_body_bytes")).toBe(before + 1);
  });

  test("subscriptions past the connection's maximum, and frames past WS_FRAME_BYTES_MAX, are counted", async () => {
    const client = await connect();
    client.send({ type: "subscribe", id: 1, topic: "t", partition: 0, from: "earliest" });
    await client.expectFrame("subscribed");
    client.send({ type: "subscribe", id: 2, topic: "t", partition: 0, from: "earliest" });
    await client.expectError("TOO_MANY_SUBSCRIPTIONS", { id: 2 });
    expect(await hits("ws_subscriptions")).toBe(1);
    client.send(
      `{"type":"produce","requestId":1,"topic":"t","records":[{"value":"${"a".repeat(WS_FRAME_BYTES_MAX)}"}]}`,
    );
    await client.expectError("REQUEST_TOO_LARGE", { field: "frame" });
    expect(await hits("ws_frame_bytes")).toBe(1);
    client.close();
  });

  test("connections past wsConnectionsMax are refused with 503 and counted", async () => {
    const open = [await connect(), await connect()];
    const before = await hits("ws_connections");
    const upgrade = {
      ...{ authorization: `Bearer ${ADMIN_SECRET}` },
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    };
    const refused = await fetch(node.wsUrl.replace(/^ws/, "http"), { headers: upgrade });
    expect(refused.status).toBe(503);
    expect(await hits("ws_connections")).toBe(before + 1);
    for (const client of open) client.close();
  });
});
