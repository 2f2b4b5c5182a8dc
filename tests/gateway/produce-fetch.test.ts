// JSON produce and fetch over a real loopback socket: order per partition, Kafka's partitioner, the
// key and value formats, headers, timestamps, acks and durability.
import { afterAll, describe, expect, test } from "bun:test";
import { partitionForKey } from "../../lib/gateway/partitioner.ts";
import { utf8 } from "../../lib/log/record-batch.ts";
import {
  createTopic,
  expectError,
  fetchAll,
  fetchPartition,
  produce,
  START_MS,
  seededRandom,
  sendJson,
  startNode,
} from "./helpers.ts";

const node = startNode();
afterAll(() => node.close());

describe("produce and fetch", () => {
  test("records keep their per-partition order and keys land where Kafka's murmur2 puts them", async () => {
    await createTopic(node, "ordered", { partitions: 4 });
    const random = seededRandom(7);
    const sent: Array<{ key: string; seq: number }> = [];
    for (let request = 0; request < 3; request++) {
      const records = Array.from({ length: 100 }, () => {
        const record = { key: `user-${Math.floor(random() * 20)}`, seq: sent.length };
        sent.push(record);
        return { key: record.key, value: { seq: record.seq } };
      });
      const answer = await produce(node, "ordered", { keyFormat: "text", records });
      // Offsets come back in request order, each on the key's partition.
      for (const [i, placed] of answer.offsets.entries()) {
        expect(placed.partition).toBe(partitionForKey(utf8(records[i]!.key), 4));
      }
    }
    for (let partition = 0; partition < 4; partition++) {
      const fetched = await fetchAll(node, "ordered", partition);
      const expected = sent.filter((record) => partitionForKey(utf8(record.key), 4) === partition);
      expect(fetched.map((record) => record.value)).toEqual(expected.map((record) => ({ seq: record.seq })));
      expect(fetched.map((record) => record.offset)).toEqual(expected.map((_, i) => i));
      expect(fetched.map((record) => record.key)).toEqual(expected.map((record) => record.key));
    }
  });

  test("a JSON key is hashed as its JSON text, so a text key and a JSON string key may differ", async () => {
    await createTopic(node, "json-keys", { partitions: 7 });
    const answer = await produce(node, "json-keys", { records: [{ key: { id: 42 }, value: 1 }] });
    expect(answer.offsets[0]!.partition).toBe(partitionForKey(utf8('{"id":42}'), 7));
  });

  test("an explicit partition wins over the key", async () => {
    await createTopic(node, "explicit", { partitions: 3 });
    const key = "k";
    const other = (partitionForKey(utf8(JSON.stringify(key)), 3) + 1) % 3;
    const answer = await produce(node, "explicit", { records: [{ key, value: 1, partition: other }] });
    expect(answer.offsets).toEqual([{ partition: other, offset: 0 }]);
  });

  test("keyless records of one request stick to one partition", async () => {
    await createTopic(node, "sticky", { partitions: 8 });
    const records = Array.from({ length: 50 }, (_, i) => ({ value: i }));
    const answer = await produce(node, "sticky", { records });
    const partitions = new Set(answer.offsets.map((placed) => placed.partition));
    expect(partitions.size).toBe(1);
    expect(answer.partitions).toHaveLength(1);
    expect(answer.partitions[0]).toMatchObject({ baseOffset: 0, lastOffset: 49 });
  });

  test("records for several partitions go out as one batch each, with per-partition base offsets", async () => {
    await createTopic(node, "grouped", { partitions: 2 });
    await produce(node, "grouped", { records: [{ value: "x", partition: 1 }] });
    const answer = await produce(node, "grouped", {
      records: [
        { value: "a", partition: 1 },
        { value: "b", partition: 0 },
        { value: "c", partition: 1 },
      ],
    });
    expect(answer.offsets).toEqual([
      { partition: 1, offset: 1 },
      { partition: 0, offset: 0 },
      { partition: 1, offset: 2 },
    ]);
    expect(
      answer.partitions.map(({ partition, baseOffset, lastOffset }) => [partition, baseOffset, lastOffset]),
    ).toEqual([
      [1, 1, 2],
      [0, 0, 0],
    ]);
    const described = await (await fetch(`${node.api}/topics/grouped`)).json();
    expect(described.partitions[1].segments[0].nextOffset).toBe(3);
  });
});

describe("key and value formats", () => {
  test("keys and values round trip in json, text and base64", async () => {
    await createTopic(node, "formats");
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 255]);
    await produce(node, "formats", { records: [{ key: ["a", 1], value: { nested: [true, null, 1.5] } }] });
    await produce(node, "formats", {
      keyFormat: "text",
      valueFormat: "text",
      records: [{ key: "é", value: "line\n" }],
    });
    await produce(node, "formats", {
      keyFormat: "base64",
      valueFormat: "base64",
      records: [{ key: bytes.toBase64(), value: bytes.toBase64() }],
    });
    const json = await fetchPartition(
      node,
      "formats",
      0,
      "offset=0&max_bytes=1&key_format=json&value_format=json",
    );
    expect(json.records[0]).toMatchObject({ key: ["a", 1], value: { nested: [true, null, 1.5] } });
    const text = await fetchPartition(
      node,
      "formats",
      0,
      "offset=1&max_bytes=1&key_format=text&value_format=text",
    );
    expect(text.records[0]).toMatchObject({
      key: "é",
      keyFormat: "text",
      value: "line\n",
      valueFormat: "text",
    });
    const raw = await fetchPartition(node, "formats", 0, "offset=2&key_format=base64&value_format=base64");
    expect(raw.records[0]).toMatchObject({ key: bytes.toBase64(), value: bytes.toBase64() });
  });

  test("auto gives JSON when the bytes are canonical JSON, else text, else base64, and says which", async () => {
    await createTopic(node, "auto");
    const values = ['{"a":1}', '{ "a": 1 }', "plain words", "12345678901234567890"];
    const invalidUtf8 = new Uint8Array([0xff, 0xfe, 0x00]);
    await produce(node, "auto", {
      valueFormat: "base64",
      records: [
        ...values.map((value) => ({ value: utf8(value).toBase64() })),
        { value: invalidUtf8.toBase64() },
      ],
    });
    const { records } = await fetchPartition(node, "auto", 0);
    expect(records.map((record) => [record.value, record.valueFormat])).toEqual([
      [{ a: 1 }, "json"],
      ['{ "a": 1 }', "text"],
      ["plain words", "text"],
      // JSON.parse would round it: text keeps every digit.
      ["12345678901234567890", "text"],
      [invalidUtf8.toBase64(), "base64"],
    ]);
  });

  test("null keys and values are Kafka nulls in every format", async () => {
    await createTopic(node, "nulls");
    await produce(node, "nulls", { valueFormat: "base64", records: [{ key: null, value: null }] });
    const { records } = await fetchPartition(node, "nulls", 0, "value_format=text");
    expect(records[0]).toMatchObject({ key: null, value: null });
    expect(records[0]!.keyFormat).toBeUndefined();
  });

  test("a fixed format the stored bytes do not fit is refused, naming the query field", async () => {
    await createTopic(node, "unfit");
    await produce(node, "unfit", { valueFormat: "base64", records: [{ value: "/w==" }] });
    await produce(node, "unfit", { valueFormat: "text", records: [{ value: "not json" }] });
    const url = `${node.api}/topics/unfit/partitions/0/records`;
    await expectError(await fetch(`${url}?value_format=text`), 400, "INVALID_REQUEST", "value_format");
    await expectError(
      await fetch(`${url}?offset=1&value_format=json`),
      400,
      "INVALID_REQUEST",
      "value_format",
    );
  });

  test("headers round trip in both forms, repeated keys in order", async () => {
    await createTopic(node, "headers");
    await produce(node, "headers", {
      records: [
        { value: 1, headers: { trace: "abc", empty: null } },
        {
          value: 2,
          headers: [
            { key: "k", value: "1" },
            { key: "k", value: "2" },
          ],
        },
      ],
    });
    const { records } = await fetchPartition(node, "headers", 0);
    expect(records.map((record) => record.headers)).toEqual([
      [
        { key: "trace", value: "abc" },
        { key: "empty", value: null },
      ],
      [
        { key: "k", value: "1" },
        { key: "k", value: "2" },
      ],
    ]);
  });
});

describe("timestamps, offsets and sizes", () => {
  test("timestamps default to the clock and may be given per record", async () => {
    await createTopic(node, "timed");
    await produce(node, "timed", { records: [{ value: 1 }, { value: 2, timestamp: START_MS - 5000 }] });
    const { records } = await fetchPartition(node, "timed", 0);
    expect(records.map((record) => [record.timestamp, record.timestampType])).toEqual([
      [node.clock.nowMs(), "CreateTime"],
      [START_MS - 5000, "CreateTime"],
    ]);
  });

  test("a LogAppendTime topic stamps the broker's time and says so in the answer", async () => {
    await createTopic(node, "append-time", { config: { "message.timestamp.type": "LogAppendTime" } });
    node.clock.advance(1234);
    const answer = await produce(node, "append-time", { records: [{ value: 1, timestamp: 5 }] });
    expect(answer.partitions[0]!.logAppendTime).toBe(node.clock.nowMs());
    const { records } = await fetchPartition(node, "append-time", 0);
    expect(records[0]).toMatchObject({ timestamp: node.clock.nowMs(), timestampType: "LogAppendTime" });
  });

  test("a fetch from inside a batch leaves out the batch's earlier records", async () => {
    await createTopic(node, "mid-batch");
    await produce(node, "mid-batch", { records: [0, 1, 2, 3, 4].map((value) => ({ value })) });
    const answer = await fetchPartition(node, "mid-batch", 0, "offset=2");
    expect(answer.records.map((record) => record.offset)).toEqual([2, 3, 4]);
    expect(answer.nextOffset).toBe(5);
  });

  test("max_bytes bounds a fetch, but a fetch always answers at least one whole batch", async () => {
    await createTopic(node, "paged");
    for (let i = 0; i < 3; i++)
      await produce(node, "paged", { records: [{ value: "x".repeat(500) }, { value: i }] });
    const first = await fetchPartition(node, "paged", 0, "max_bytes=1");
    expect(first.records.map((record) => record.offset)).toEqual([0, 1]);
    expect(first.nextOffset).toBe(2);
    const rest = await fetchPartition(node, "paged", 0, "offset=2&max_bytes=100000");
    expect(rest.records.map((record) => record.offset)).toEqual([2, 3, 4, 5]);
    expect(rest).toMatchObject({ nextOffset: 6, highWatermark: 6, logStartOffset: 0, logEndOffset: 6 });
  });

  test("a fetch at the log end answers no records and the same next offset", async () => {
    await createTopic(node, "at-end");
    await produce(node, "at-end", { records: [{ value: 1 }] });
    const answer = await fetchPartition(node, "at-end", 0, "offset=1");
    expect(answer).toMatchObject({ records: [], nextOffset: 1, highWatermark: 1 });
  });
});

describe("acks and durability", () => {
  test("acks=0 answers 202 without offsets, and the records are appended all the same", async () => {
    await createTopic(node, "fire-and-forget");
    const response = await sendJson(`${node.api}/topics/fire-and-forget/records?acks=0`, {
      records: [{ value: 1 }],
    });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("");
    expect((await fetchPartition(node, "fire-and-forget", 0)).records).toHaveLength(1);
  });

  test("acks=all answers like acks=1 on a single node", async () => {
    await createTopic(node, "acks-all");
    const answer = await produce(node, "acks-all", { records: [{ value: 1 }] }, "?acks=all");
    expect(answer.offsets).toEqual([{ partition: 0, offset: 0 }]);
  });

  test("durable=true answers only once the records are fsynced", async () => {
    await createTopic(node, "durable");
    const log = node.logs.partition("durable", 0);
    await produce(node, "durable", { records: [{ value: 1 }] });
    expect(log.recoveryPoint).toBe(0);
    await produce(node, "durable", { records: [{ value: 2 }] }, "?durable=true");
    expect(log.recoveryPoint).toBe(2);
  });

  test("a produce to an unknown topic answers 404 and creates nothing", async () => {
    await expectError(
      await sendJson(`${node.api}/topics/nowhere/records`, { records: [{ value: 1 }] }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      "topic",
    );
    expect(node.logs.hasTopic("nowhere")).toBe(false);
  });
});
