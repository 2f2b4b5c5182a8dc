// The WebSocket with access control on: the upgrade needs a token (?access_token= or Authorization),
// and each frame is checked against the token's grants as it arrives: a frame of the wrong role gets an
// error frame and the connection goes on. Revoking the token closes its connections.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FRAME_TYPES } from "../../routes/ws-frames.ts";
import { StreamClient } from "../ws/helpers.ts";
import { ADMIN_SECRET, type AuthNode, bearer, createToken, request, startAuthNode } from "./helpers.ts";

const TOPIC = "data.t";
let node: AuthNode;
let producer: string;
let consumer: string;
let stranger: string;

beforeAll(async () => {
  node = startAuthNode();
  producer = await createToken(node, "producer", [{ role: "produce", topics: "data.*" }]);
  consumer = await createToken(node, "consumer", [{ role: "consume", topics: "data.*" }]);
  stranger = await createToken(node, "stranger", [
    { role: "produce", topics: "other.*" },
    { role: "consume", topics: "other.*" },
  ]);
  const created = await request(`${node.api}/topics`, {
    method: "POST",
    secret: ADMIN_SECRET,
    body: { name: TOPIC },
  });
  expect(created.status).toBe(201);
});
afterAll(() => node.close());

const connectAs = (secret: string) =>
  StreamClient.connect(`${node.wsUrl}?access_token=${encodeURIComponent(secret)}`);

/** One frame of each type, and the token each needs that `refused` lacks. */
const FRAMES: Record<string, { frame: Record<string, unknown>; refusedTo: () => string[] }> = {
  subscribe: {
    frame: { type: "subscribe", id: 7, topic: TOPIC, partition: 0, from: "earliest" },
    refusedTo: () => [producer, stranger],
  },
  produce: {
    frame: { type: "produce", requestId: "r1", topic: TOPIC, records: [{ value: "intruder" }] },
    refusedTo: () => [consumer, stranger],
  },
  // Consumer-group frames need consume on their topics: a token without any consume grant is refused.
  join: { frame: { type: "join", requestId: "j1", topics: [TOPIC] }, refusedTo: () => [producer] },
  commit: { frame: { type: "commit", requestId: "c1" }, refusedTo: () => [producer] },
  // credit and unsubscribe act on the connection's own subscriptions, checked when they were made.
  credit: { frame: { type: "credit", id: 7, records: 1 }, refusedTo: () => [] },
  unsubscribe: { frame: { type: "unsubscribe", id: 7 }, refusedTo: () => [] },
};

async function logEndOffset(): Promise<number> {
  const response = await request(`${node.api}/topics/${TOPIC}`, { secret: ADMIN_SECRET });
  const topic = (await response.json()) as { partitions: Array<{ logEndOffset: number }> };
  return topic.partitions[0]!.logEndOffset;
}

describe("WebSocket access", () => {
  test("the upgrade is refused without a token or with an unknown one", async () => {
    const upgrade = {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-version": "13",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    };
    for (const url of [node.wsUrl, `${node.wsUrl}?access_token=sluice_unknown`]) {
      const response = await fetch(url.replace(/^ws/, "http"), { headers: upgrade });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toStartWith("Bearer");
      await expect(StreamClient.connect(url)).rejects.toThrow();
    }
  });

  test("the token may come as ?access_token= or in the Authorization header", async () => {
    const byQuery = await connectAs(consumer);
    byQuery.send(FRAMES.subscribe!.frame);
    await byQuery.expectFrame("subscribed");
    byQuery.close();
    const byHeader = await StreamClient.connect(node.wsUrl, { headers: bearer(consumer) });
    byHeader.send(FRAMES.subscribe!.frame);
    await byHeader.expectFrame("subscribed");
    byHeader.close();
  });

  test("the frames this test tries are every frame type there is", () => {
    expect(Object.keys(FRAMES).sort()).toEqual([...FRAME_TYPES].sort());
  });

  test("each frame of the wrong role gets an error frame naming it, and the connection goes on", async () => {
    const endBefore = await logEndOffset();
    for (const [type, { frame, refusedTo }] of Object.entries(FRAMES)) {
      for (const secret of refusedTo()) {
        const client = await connectAs(secret);
        client.send(frame);
        const error = await client.expectError("FORBIDDEN", { field: "type" });
        expect({ type, id: error.id, requestId: error.requestId }).toEqual({
          type,
          id: frame.id as number | undefined,
          requestId: frame.requestId as string | undefined,
        });
        // The same connection still serves what the token may do.
        client.send({ type: "unsubscribe", id: 99 });
        await client.expectError("UNKNOWN_SUBSCRIPTION", { id: 99 });
        expect(client.closed).toBeUndefined();
        client.close();
      }
    }
    expect(await logEndOffset()).toBe(endBefore);
  });

  test("a consume-only token subscribes on the connection where its produce was refused", async () => {
    const client = await connectAs(consumer);
    client.send(FRAMES.produce!.frame);
    await client.expectError("FORBIDDEN", { requestId: "r1" });
    client.send({ ...FRAMES.subscribe!.frame, credit: { records: 10 } });
    await client.expectFrame("subscribed");
    client.close();
  });

  test("a producer produces, and consumer-group frames pass access control for a consumer", async () => {
    const client = await connectAs(producer);
    client.send({ type: "produce", requestId: "ok", topic: TOPIC, records: [{ value: 1 }] });
    expect((await client.expectFrame("produced")).requestId).toBe("ok");
    client.close();
    const member = await connectAs(consumer);
    member.send(FRAMES.join!.frame);
    const answer = await member.expectFrame("error");
    expect(answer.name).not.toBe("FORBIDDEN");
    member.close();
  });

  test("revoking a token closes its connections with 1008 and refuses its next upgrade", async () => {
    const secret = await createToken(node, "short-lived", [{ role: "consume", topics: "data.*" }]);
    const client = await connectAs(secret);
    client.send(FRAMES.subscribe!.frame);
    await client.expectFrame("subscribed");
    const revoked = await request(`${node.api}/tokens/short-lived`, {
      method: "DELETE",
      secret: ADMIN_SECRET,
    });
    expect(revoked.status).toBe(204);
    await expect(client.next()).rejects.toThrow(/closed/);
    expect(client.closed?.code).toBe(1008);
    await expect(connectAs(secret)).rejects.toThrow();
  });
});
