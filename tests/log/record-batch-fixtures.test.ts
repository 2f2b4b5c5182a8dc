// RecordBatch v2 against another client, both ways: batches kafkajs 2.2.4 encoded (committed in
// tests/fixtures/record-batch/v2/, written by scripts/make-fixtures.ts) must validate and decode to
// exactly the records it was given, and batches Sluice encodes must decode in kafkajs's own decoder.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import {
  decodeRecords,
  encodeBatch,
  type RecordHeader,
  type RecordInput,
  setMaxTimestamp,
  validateBatch,
} from "../../lib/log/record-batch.ts";

const require = createRequire(import.meta.url);
const KafkajsDecoder = require("kafkajs/src/protocol/decoder");
const kafkajsDecodeRecordBatch: (
  decoder: unknown,
) => Promise<KafkajsBatch> = require("kafkajs/src/protocol/recordBatch/v0/decoder");
const kafkajsCrc32c: (bytes: Buffer) => number = require("kafkajs/src/protocol/recordBatch/crc32C");

const FIXTURE_DIR = join(import.meta.dir, "..", "fixtures", "record-batch", "v2");
const FIXTURE_NAMES = ["uncompressed", "gzip"] as const;
const UNCOMPRESSED_BYTES_MAX = 16 * 1024 * 1024;
const FAST_CHECK_SEED = 0xf1c5;

type FixtureBytes = { utf8: string } | { base64: string } | null;

interface Fixture {
  codec: "none" | "gzip";
  batch: {
    sizeBytes: number;
    baseOffset: number;
    partitionLeaderEpoch: number;
    magic: number;
    attributes: number;
    lastOffsetDelta: number;
    baseTimestamp: number;
    maxTimestamp: number;
    producerId: number;
    producerEpoch: number;
    baseSequence: number;
    recordsCount: number;
  };
  records: {
    offsetDelta: number;
    timestamp: number;
    key: FixtureBytes;
    value: FixtureBytes;
    headers: { key: string; value: FixtureBytes }[];
  }[];
}

interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}

interface KafkajsBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  timestampType: number;
  records: KafkajsRecord[];
}

function loadFixture(name: string): { bytes: Uint8Array; expected: Fixture } {
  const bytes = new Uint8Array(readFileSync(join(FIXTURE_DIR, `${name}.bin`)));
  const expected = JSON.parse(readFileSync(join(FIXTURE_DIR, `${name}.json`), "utf8")) as Fixture;
  return { bytes, expected };
}

function bytesOf(data: FixtureBytes): Uint8Array | null {
  if (data === null) return null;
  return "utf8" in data
    ? new TextEncoder().encode(data.utf8)
    : new Uint8Array(Buffer.from(data.base64, "base64"));
}

function plain(bytes: Uint8Array | null): number[] | null {
  return bytes === null ? null : Array.from(bytes);
}

/** The fixture's records as RecordInput, to encode the same records with Sluice. */
function inputsOf(expected: Fixture): RecordInput[] {
  return expected.records.map((record) => ({
    key: bytesOf(record.key),
    value: bytesOf(record.value),
    headers: record.headers.map((header) => ({ key: header.key, value: bytesOf(header.value) })),
    timestamp: record.timestamp,
  }));
}

type GroupedHeaders = [string, (number[] | null)[]][];

/** Headers as (key, values) sorted by key: kafkajs folds them into an object, repeated keys into an array. */
function grouped(headers: RecordHeader[] | undefined): GroupedHeaders {
  const byKey = new Map<string, (number[] | null)[]>();
  for (const { key, value } of headers ?? []) byKey.set(key, [...(byKey.get(key) ?? []), plain(value)]);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function groupedKafkajs(headers: KafkajsRecord["headers"]): GroupedHeaders {
  return Object.entries(headers)
    .map(([key, value]): [string, (number[] | null)[]] => [
      key,
      Array.isArray(value) ? value.map((one) => plain(one)) : [plain(value)],
    ])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

async function decodeWithKafkajs(batch: Uint8Array): Promise<KafkajsBatch> {
  return kafkajsDecodeRecordBatch(new KafkajsDecoder(Buffer.from(batch)));
}

describe("kafkajs fixtures decode in Sluice", () => {
  for (const name of FIXTURE_NAMES) {
    test(`${name}.bin passes validateBatch with the header kafkajs wrote`, () => {
      const { bytes, expected } = loadFixture(name);
      const validated = validateBatch(bytes, UNCOMPRESSED_BYTES_MAX);
      expect(validated.sizeBytes).toBe(expected.batch.sizeBytes);
      expect(validated.maxTimestamp).toBe(expected.batch.maxTimestamp);
      const { batchLength, crc, ...header } = validated.header;
      expect(batchLength).toBe(expected.batch.sizeBytes - 12);
      expect(crc).toBe(kafkajsCrc32c(Buffer.from(bytes.subarray(21))));
      const { sizeBytes, ...expectedHeader } = expected.batch;
      expect(header).toEqual(expectedHeader);
    });

    test(`${name}.bin decodes to exactly the records kafkajs was given`, () => {
      const { bytes, expected } = loadFixture(name);
      const decoded = decodeRecords(bytes, UNCOMPRESSED_BYTES_MAX);
      expect(
        decoded.map((record) => ({
          offset: record.offset,
          timestamp: record.timestamp,
          key: plain(record.key),
          value: plain(record.value),
          headers: record.headers.map((header) => ({ key: header.key, value: plain(header.value) })),
        })),
      ).toEqual(
        expected.records.map((record) => ({
          offset: expected.batch.baseOffset + record.offsetDelta,
          timestamp: record.timestamp,
          key: plain(bytesOf(record.key)),
          value: plain(bytesOf(record.value)),
          headers: record.headers.map((header) => ({ key: header.key, value: plain(bytesOf(header.value)) })),
        })),
      );
    });
  }

  test("encodeBatch writes kafkajs's uncompressed batch byte for byte", () => {
    const { bytes, expected } = loadFixture("uncompressed");
    const ours = encodeBatch(inputsOf(expected), {
      producerId: expected.batch.producerId,
      producerEpoch: expected.batch.producerEpoch,
      baseSequence: expected.batch.baseSequence,
      partitionLeaderEpoch: expected.batch.partitionLeaderEpoch,
    });
    expect(Buffer.from(ours).toString("hex")).toBe(Buffer.from(bytes).toString("hex"));
  });

  test("the records inside kafkajs's gzip stream are the bytes encodeBatch writes uncompressed", () => {
    const { bytes, expected } = loadFixture("gzip");
    const inflated = gunzipSync(bytes.subarray(61));
    const ours = encodeBatch(inputsOf(expected), { timestampMs: 0 });
    expect(Buffer.from(ours.subarray(61)).toString("hex")).toBe(inflated.toString("hex"));
  });

  test("a flipped bit in a fixture is caught", () => {
    for (const name of FIXTURE_NAMES) {
      const { bytes } = loadFixture(name);
      const flipped = bytes.slice();
      flipped[flipped.length - 1]! ^= 0x01;
      expect(() => validateBatch(flipped, UNCOMPRESSED_BYTES_MAX)).toThrow();
    }
  });
});

// ---------------------------------------------------------------------------------------------

const sampleRecords: RecordInput[] = [
  { key: null, value: new TextEncoder().encode("null key"), timestamp: 1_700_000_000_100 },
  {
    key: new TextEncoder().encode("user-7"),
    value: Uint8Array.of(0, 1, 2, 255),
    headers: [
      { key: "content-type", value: new TextEncoder().encode("text/plain") },
      { key: "nothing", value: null },
      { key: "clé-✓", value: new TextEncoder().encode("☃") },
      { key: "twice", value: Uint8Array.of(1) },
      { key: "twice", value: Uint8Array.of(2) },
    ],
    // Earlier than the first record: a negative timestamp delta.
    timestamp: 1_700_000_000_050,
  },
  { key: new Uint8Array(0), value: null, timestamp: 1_700_000_009_999 },
];

describe("Sluice batches decode in kafkajs", () => {
  for (const codec of ["none", "gzip"] as const) {
    test(`a ${codec} batch reads back in kafkajs's RecordBatch decoder`, async () => {
      const batch = encodeBatch(sampleRecords, {
        compression: codec,
        baseOffset: 500,
        partitionLeaderEpoch: 4,
        producerId: 99,
        producerEpoch: 2,
        baseSequence: 40,
      });
      const decoded = await decodeWithKafkajs(batch);
      expect(decoded.firstOffset).toBe("500");
      expect(decoded.firstTimestamp).toBe("1700000000100");
      expect(decoded.maxTimestamp).toBe("1700000009999");
      expect(decoded.producerId).toBe("99");
      expect(decoded.producerEpoch).toBe(2);
      expect(decoded.firstSequence).toBe(40);
      expect(decoded.partitionLeaderEpoch).toBe(4);
      expect(decoded.records.map((record) => record.offset)).toEqual(["500", "501", "502"]);
      expect(decoded.records.map((record) => record.timestamp)).toEqual([
        "1700000000100",
        "1700000000050",
        "1700000009999",
      ]);
      expect(decoded.records.map((record) => plain(record.key))).toEqual([
        null,
        plain(sampleRecords[1]!.key!),
        [],
      ]);
      expect(decoded.records.map((record) => plain(record.value))).toEqual([
        plain(sampleRecords[0]!.value),
        [0, 1, 2, 255],
        null,
      ]);
      expect(groupedKafkajs(decoded.records[1]!.headers)).toEqual(grouped(sampleRecords[1]!.headers));
      expect(decoded.records[0]!.headers).toEqual({});
      expect(kafkajsCrc32c(Buffer.from(batch.subarray(21)))).toBe(new DataView(batch.buffer).getUint32(17));
    });
  }

  test("kafkajs reads a LogAppendTime batch's records at the broker's time, as Sluice does", async () => {
    const batch = encodeBatch(sampleRecords, { compression: "gzip" });
    setMaxTimestamp(batch, "LogAppendTime", 1_800_000_000_000);
    const decoded = await decodeWithKafkajs(batch);
    expect(decoded.records.map((record) => record.timestamp)).toEqual(new Array(3).fill("1800000000000"));
    expect(decodeRecords(batch, UNCOMPRESSED_BYTES_MAX).map((record) => record.timestamp)).toEqual(
      new Array(3).fill(1_800_000_000_000),
    );
  });

  test("any records Sluice encodes, kafkajs decodes to the same records", async () => {
    const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 32 }), { nil: null, freq: 4 });
    const header = fc.record({
      key: fc.string({ unit: "binary", maxLength: 6 }),
      value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: null, freq: 3 }),
    });
    const record = fc.record({
      key: bytesOrNull,
      value: bytesOrNull,
      headers: fc.array(header, { maxLength: 3 }),
      timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.constantFrom("none", "gzip" as const),
        fc.integer({ min: 0, max: 2 ** 40 }),
        async (records, codec, baseOffset) => {
          const batch = encodeBatch(records, { compression: codec, baseOffset });
          const decoded = await decodeWithKafkajs(batch);
          expect(decoded.records.length).toBe(records.length);
          for (const [i, input] of records.entries()) {
            const got = decoded.records[i]!;
            expect(got.offset).toBe(String(baseOffset + i));
            expect(got.timestamp).toBe(String(input.timestamp));
            expect(plain(got.key)).toEqual(plain(input.key));
            expect(plain(got.value)).toEqual(plain(input.value));
            expect(groupedKafkajs(got.headers)).toEqual(grouped(input.headers));
          }
        },
      ),
      { seed: FAST_CHECK_SEED, numRuns: 150 },
    );
  });
});
