// Writes the committed RecordBatch v2 fixtures in tests/fixtures/record-batch/v2/ with another
// client's encoder, so tests/log/record-batch-fixtures.test.ts holds Sluice's codec to bytes it did
// not write itself.
//
// A one-off generator, not part of the build or the tests: run it only to add or replace a fixture,
// and commit what it writes.
//
//   node_modules/.bin/bun scripts/make-fixtures.ts
//
// The bytes come from kafkajs 2.2.4 (an exact devDependency): its Produce v3 request encoder
// (src/protocol/requests/produce/v3/request.js), which builds the RecordBatch exactly as its
// producer sends it (RecordBatch v0 = magic 2, Record v0, its zlib gzip codec). The batch is cut out
// of the encoded request. The expected records in the .json files are written from the inputs below,
// never by decoding with Sluice, so a bug in Sluice's decoder cannot leak into its own fixture.
//
// Files per fixture <name>:
//   <name>.bin   one RecordBatch, exactly as kafkajs put it in the Produce request
//   <name>.json  { source, codec, batch: {header fields}, records: [{offsetDelta, timestamp, key,
//                value, headers: [{key, value}]}] } with bytes as {"utf8": ...} or {"base64": ...}
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const Long = require("kafkajs/src/utils/long");
const ProduceV3 = require("kafkajs/src/protocol/requests/produce/v3/request");
const { Types: CompressionTypes } = require("kafkajs/src/protocol/message/compression");
const KAFKAJS_VERSION: string = require("kafkajs/package.json").version;

const OUT_DIR = join(import.meta.dir, "..", "tests", "fixtures", "record-batch", "v2");
const TOPIC = "fixtures";

/** A message as kafkajs's producer.send() takes it. */
interface KafkajsMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
  timestamp: number;
}

type Bytes = { utf8: string } | { base64: string } | null;

interface FixtureSpec {
  name: string;
  codec: "none" | "gzip";
  compression: number;
  producerId: number;
  producerEpoch: number;
  firstSequence: number;
  messages: KafkajsMessage[];
}

const T0 = 1_700_000_000_000;

const FIXTURES: FixtureSpec[] = [
  {
    name: "uncompressed",
    codec: "none",
    compression: CompressionTypes.None,
    // kafkajs without idempotence: producerId -1, but producerEpoch and firstSequence 0.
    producerId: -1,
    producerEpoch: 0,
    firstSequence: 0,
    messages: [
      { key: null, value: "first, with a null key", timestamp: T0 },
      {
        key: "user-42",
        value: JSON.stringify({ event: "login", ok: true }),
        headers: { "content-type": "application/json", "trace-id": Buffer.from([0x00, 0x01, 0xfe, 0xff]) },
        timestamp: T0 + 17,
      },
      {
        key: Buffer.from([0x00, 0xff, 0x10, 0x80]),
        value: "",
        headers: { "clé-✓": "naïve ☃", repeated: ["one", "two"] },
        timestamp: T0 + 5,
      },
      { key: "deleted-key", value: null, timestamp: T0 + 1_000 },
    ],
  },
  {
    name: "gzip",
    codec: "gzip",
    compression: CompressionTypes.GZIP,
    // An idempotent producer's batch.
    producerId: 4_242,
    producerEpoch: 3,
    firstSequence: 17,
    messages: [
      { key: "a", value: "gzip ".repeat(40), timestamp: T0 + 2_000 },
      { key: null, value: Buffer.from([0xde, 0xad, 0xbe, 0xef]), headers: { h: "v" }, timestamp: T0 + 2_001 },
      {
        key: "c",
        value: "third",
        headers: { "x-empty": "", "x-bytes": Buffer.from([0x80]) },
        timestamp: T0 + 2_500,
      },
    ],
  },
];

function bytesOf(data: string | Buffer | null): Bytes {
  if (data === null) return null;
  if (typeof data === "string") return { utf8: data };
  return { base64: data.toString("base64") };
}

/** The records kafkajs was asked to write, in the order and shape its encoder lays them out. */
function expectedRecords(messages: KafkajsMessage[]) {
  return messages.map((message, offsetDelta) => ({
    offsetDelta,
    timestamp: message.timestamp,
    key: bytesOf(message.key),
    value: bytesOf(message.value),
    // kafkajs flattens a header object in key order, an array value into one header per element.
    headers: Object.entries(message.headers ?? {}).flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map((one) => ({ key, value: bytesOf(one) })),
    ),
  }));
}

/** Cuts the one record set out of an encoded Produce v3 request for one topic and partition. */
function recordSetOf(request: Buffer): Buffer {
  let at = 0;
  const transactionalIdLength = request.readInt16BE(at);
  at += 2 + Math.max(0, transactionalIdLength);
  at += 2 + 4; // acks, timeout
  if (request.readInt32BE(at) !== 1) throw new Error("expected one topic");
  at += 4;
  at += 2 + request.readInt16BE(at); // topic name
  if (request.readInt32BE(at) !== 1) throw new Error("expected one partition");
  at += 4 + 4; // partition count, partition id
  const size = request.readInt32BE(at);
  at += 4;
  if (at + size !== request.length) throw new Error("record set does not end the request");
  return request.subarray(at, at + size);
}

async function makeFixture(spec: FixtureSpec): Promise<void> {
  const request = ProduceV3({
    acks: -1,
    timeout: 30_000,
    compression: spec.compression,
    producerId: Long.fromNumber(spec.producerId),
    producerEpoch: spec.producerEpoch,
    topicData: [
      {
        topic: TOPIC,
        partitions: [{ partition: 0, firstSequence: spec.firstSequence, messages: spec.messages }],
      },
    ],
  });
  const encoded = await request.encode();
  const batch = recordSetOf(encoded.buffer);
  const timestamps = spec.messages.map((message) => message.timestamp);
  const expected = {
    source: `kafkajs ${KAFKAJS_VERSION}, Produce v3 request encoder (scripts/make-fixtures.ts)`,
    codec: spec.codec,
    batch: {
      sizeBytes: batch.length,
      baseOffset: 0,
      partitionLeaderEpoch: 0,
      magic: 2,
      attributes: spec.compression,
      lastOffsetDelta: spec.messages.length - 1,
      // kafkajs stores the smallest timestamp as the base, not the first record's.
      baseTimestamp: Math.min(...timestamps),
      maxTimestamp: Math.max(...timestamps),
      producerId: spec.producerId,
      producerEpoch: spec.producerEpoch,
      baseSequence: spec.firstSequence,
      recordsCount: spec.messages.length,
    },
    records: expectedRecords(spec.messages),
  };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, `${spec.name}.bin`), batch);
  writeFileSync(join(OUT_DIR, `${spec.name}.json`), `${JSON.stringify(expected, null, 2)}\n`);
  console.log(`${spec.name}: ${batch.length} bytes, ${spec.messages.length} records`);
}

for (const spec of FIXTURES) await makeFixture(spec);
