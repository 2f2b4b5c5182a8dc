// RecordBatch v2: the bytes encodeBatch writes, read back at the offsets of Kafka's table (with this
// file's own DataView, not the module's constants); round trips through every codec; and validateBatch
// turning every malformed batch into the SluiceError Kafka's broker would answer.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { type ErrorName, isSluiceError } from "../../lib/errors.ts";
import type { CodecName } from "../../lib/log/compression.ts";
import { compress } from "../../lib/log/compression.ts";
import { crc32c } from "../../lib/log/crc32c.ts";
import {
  decodeRecords,
  encodeBatch,
  type RecordInput,
  readBatchHeader,
  setMaxTimestamp,
  stampBatch,
  timestampTypeOf,
  utf8,
  validateBatch,
} from "../../lib/log/record-batch.ts";
import { writeVarint, writeVarlong } from "../../lib/log/varint.ts";

const FAST_CHECK_SEED = 0xba7c4;
const CODECS: readonly CodecName[] = ["none", "gzip", "snappy", "lz4", "zstd"];
const UNCOMPRESSED_BYTES_MAX = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Helpers that know the layout from the reference table, independently of lib/log/record-batch.ts.

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function int64At(bytes: Uint8Array, offset: number): number {
  return Number(viewOf(bytes).getBigInt64(offset));
}

/** Rewrites the CRC at byte 17 over bytes 21..end, so a test can change a field under it. */
function resealCrc(batch: Uint8Array): Uint8Array {
  viewOf(batch).setUint32(17, crc32c(batch.subarray(21)));
  return batch;
}

/** Edits the batch through a DataView, then reseals the CRC (so only the edited field is wrong). */
function edited(batch: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = batch.slice();
  edit(viewOf(copy));
  return resealCrc(copy);
}

class Bytes {
  readonly parts: number[] = [];
  varint(value: number): this {
    const scratch = new Uint8Array(5);
    this.parts.push(...scratch.subarray(0, writeVarint(scratch, 0, value)));
    return this;
  }
  varlong(value: number): this {
    const scratch = new Uint8Array(10);
    this.parts.push(...scratch.subarray(0, writeVarlong(scratch, 0, value)));
    return this;
  }
  raw(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  array(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

interface RawRecordSpec {
  offsetDelta: number;
  timestampDelta?: number;
  key?: number[] | null;
  value?: number[] | null;
  /** A negative count or null key are written as given, to test what the reader makes of them. */
  headerCount?: number;
  headers?: { key: number[] | null; value: number[] | null }[];
  /** Added to the correct body length. */
  lengthError?: number;
}

/** One record's bytes, written field by field from the reference's record table. */
function rawRecord(spec: RawRecordSpec): number[] {
  const body = new Bytes()
    .raw(0)
    .varlong(spec.timestampDelta ?? 0)
    .varint(spec.offsetDelta);
  for (const field of [spec.key ?? null, spec.value ?? null]) {
    if (field === null) body.varint(-1);
    else body.varint(field.length).raw(...field);
  }
  const headers = spec.headers ?? [];
  body.varint(spec.headerCount ?? headers.length);
  for (const header of headers) {
    for (const field of [header.key, header.value]) {
      if (field === null) body.varint(-1);
      else body.varint(field.length).raw(...field);
    }
  }
  return new Bytes().varint(body.parts.length + (spec.lengthError ?? 0)).raw(...body.parts).parts;
}

interface RawBatchSpec {
  records: number[];
  recordsCount: number;
  lastOffsetDelta?: number;
  attributes?: number;
  producerId?: number;
  baseSequence?: number;
  codec?: CodecName;
}

/** A whole batch built from the reference table, with a correct batchLength and CRC. */
function rawBatch(spec: RawBatchSpec): Uint8Array {
  const codec = spec.codec ?? "none";
  const records = Uint8Array.from(spec.records);
  const payload = codec === "none" ? records : compress(codec, records);
  const batch = new Uint8Array(61 + payload.length);
  const view = viewOf(batch);
  view.setBigInt64(0, 0n);
  view.setInt32(8, batch.length - 12);
  view.setInt32(12, -1);
  view.setInt8(16, 2);
  view.setInt16(21, (spec.attributes ?? 0) | { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[codec]);
  view.setInt32(23, spec.lastOffsetDelta ?? spec.recordsCount - 1);
  view.setBigInt64(27, 1_000n);
  view.setBigInt64(35, 1_000n);
  view.setBigInt64(43, BigInt(spec.producerId ?? -1));
  view.setInt16(51, -1);
  view.setInt32(53, spec.baseSequence ?? -1);
  view.setInt32(57, spec.recordsCount);
  batch.set(payload, 61);
  return resealCrc(batch);
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectSluiceError(run: () => unknown, name: ErrorName): void {
  const error = thrownBy(run);
  if (!isSluiceError(error, name)) {
    throw new Error(
      `expected SluiceError ${name}, got ${isSluiceError(error) ? error.errorName : String(error)}`,
    );
  }
}

function plain(bytes: Uint8Array | null | undefined): number[] | null {
  return bytes === null || bytes === undefined ? null : Array.from(bytes);
}

function sampleBatch(codec: CodecName = "none"): Uint8Array {
  return encodeBatch(
    [
      {
        key: utf8("k1"),
        value: utf8("first"),
        headers: [{ key: "trace", value: utf8("abc") }],
        timestamp: 1_000,
      },
      { key: null, value: null, timestamp: 1_500 },
      { key: new Uint8Array(0), value: utf8("third"), headers: [{ key: "n", value: null }], timestamp: 900 },
    ],
    { compression: codec, partitionLeaderEpoch: 3 },
  );
}

// ---------------------------------------------------------------------------------------------

describe("encodeBatch layout", () => {
  test("every header field sits at the offset of the reference table", () => {
    const batch = encodeBatch(
      [
        {
          key: utf8("k"),
          value: utf8("v1"),
          headers: [{ key: "h", value: null }],
          timestamp: 1_700_000_000_000,
        },
        { value: utf8("v2"), timestamp: 1_700_000_000_005 },
      ],
      {
        baseOffset: 1_234_567_890_123,
        partitionLeaderEpoch: 7,
        producerId: 4_242,
        producerEpoch: 3,
        baseSequence: 17,
        isTransactional: true,
      },
    );
    const view = viewOf(batch);
    expect(int64At(batch, 0)).toBe(1_234_567_890_123); // baseOffset
    expect(view.getInt32(8)).toBe(batch.length - 12); // batchLength
    expect(view.getInt32(12)).toBe(7); // partitionLeaderEpoch
    expect(view.getInt8(16)).toBe(2); // magic
    expect(view.getUint32(17)).toBe(crc32c(batch.subarray(21))); // crc over attributes..end
    expect(view.getInt16(21)).toBe(0x10); // attributes: no codec, CreateTime, transactional
    expect(view.getInt32(23)).toBe(1); // lastOffsetDelta
    expect(int64At(batch, 27)).toBe(1_700_000_000_000); // baseTimestamp
    expect(int64At(batch, 35)).toBe(1_700_000_000_005); // maxTimestamp
    expect(int64At(batch, 43)).toBe(4_242); // producerId
    expect(view.getInt16(51)).toBe(3); // producerEpoch
    expect(view.getInt32(53)).toBe(17); // baseSequence
    expect(view.getInt32(57)).toBe(2); // recordsCount

    // Records, byte for byte: length, attributes, timestampDelta, offsetDelta, key, value, headers.
    const records = Array.from(batch.subarray(61));
    const first = [0x18, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x04, 0x76, 0x31, 0x02, 0x02, 0x68, 0x01];
    const second = [0x10, 0x00, 0x0a, 0x02, 0x01, 0x04, 0x76, 0x32, 0x00];
    expect(records).toEqual([...first, ...second]);
    expect(batch.length).toBe(61 + first.length + second.length);
  });

  test("the CRC covers exactly bytes 21..end", () => {
    const batch = sampleBatch();
    const stored = viewOf(batch).getUint32(17);
    // A CRC-32C computed here bit by bit, so the module's CRC is not checked against itself.
    let crc = 0xffffffff;
    for (const byte of batch.subarray(21)) {
      crc ^= byte;
      for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    }
    expect(stored).toBe((crc ^ 0xffffffff) >>> 0);
  });

  test("defaults: baseOffset 0, epoch -1, no producer, CreateTime", () => {
    const batch = encodeBatch([{ value: utf8("x") }], { timestampMs: 42 });
    const view = viewOf(batch);
    expect(int64At(batch, 0)).toBe(0);
    expect(view.getInt32(12)).toBe(-1);
    expect(view.getInt16(21)).toBe(0);
    expect(int64At(batch, 27)).toBe(42);
    expect(int64At(batch, 35)).toBe(42);
    expect(int64At(batch, 43)).toBe(-1);
    expect(view.getInt16(51)).toBe(-1);
    expect(view.getInt32(53)).toBe(-1);
  });

  test("each codec sets its id in attribute bits 0-2", () => {
    for (const [id, codec] of CODECS.entries()) {
      const batch = sampleBatch(codec);
      expect(viewOf(batch).getInt16(21) & 0x07).toBe(id);
      expect(viewOf(batch).getInt32(57)).toBe(3);
    }
  });

  test("a record without a timestamp takes timestampMs, not the first record's timestamp", () => {
    const batch = encodeBatch([{ value: utf8("a"), timestamp: 1_000 }, { value: utf8("b") }], {
      timestampMs: 5_000,
    });
    expect(decodeRecords(batch, UNCOMPRESSED_BYTES_MAX).map((record) => record.timestamp)).toEqual([
      1_000, 5_000,
    ]);
    expect(int64At(batch, 27)).toBe(1_000);
    expect(int64At(batch, 35)).toBe(5_000);
  });

  test("an empty record list is INVALID_RECORD", () => {
    expectSluiceError(() => encodeBatch([]), "INVALID_RECORD");
  });
});

// ---------------------------------------------------------------------------------------------

const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 48 }), { nil: null, freq: 4 });
const recordHeader = fc.record({
  key: fc.string({ unit: "binary", maxLength: 6 }),
  value: fc.option(fc.uint8Array({ maxLength: 12 }), { nil: null, freq: 3 }),
});
const timestamp = fc.integer({ min: 0, max: 2 ** 50 });
const recordInput: fc.Arbitrary<RecordInput> = fc.record(
  {
    key: bytesOrNull,
    value: bytesOrNull,
    headers: fc.array(recordHeader, { maxLength: 4 }),
    timestamp,
  },
  { requiredKeys: ["value"] },
);
const producer = fc.oneof(
  fc.constant({ producerId: -1, producerEpoch: -1, baseSequence: -1 }),
  fc.record({
    producerId: fc.maxSafeNat(),
    producerEpoch: fc.integer({ min: 0, max: 0x7fff }),
    baseSequence: fc.integer({ min: 0, max: 0x7fffffff }),
  }),
);

describe("round trips", () => {
  test("any records through any codec decode to the same records at baseOffset + i", () => {
    fc.assert(
      fc.property(
        fc.array(recordInput, { minLength: 1, maxLength: 12 }),
        fc.constantFrom(...CODECS),
        producer,
        fc.integer({ min: 0, max: 2 ** 52 }),
        timestamp,
        fc.integer({ min: -1, max: 0x7fffffff }),
        fc.boolean(),
        (records, codec, producerFields, baseOffset, timestampMs, epoch, isTransactional) => {
          const batch = encodeBatch(records, {
            ...producerFields,
            compression: codec,
            baseOffset,
            timestampMs,
            partitionLeaderEpoch: epoch,
            isTransactional,
          });
          const decoded = decodeRecords(batch, UNCOMPRESSED_BYTES_MAX);
          expect(decoded.length).toBe(records.length);
          const timestamps = records.map((record) => record.timestamp ?? timestampMs);
          for (const [i, record] of records.entries()) {
            const got = decoded[i]!;
            expect(got.offset).toBe(baseOffset + i);
            expect(got.timestamp).toBe(timestamps[i]!);
            expect(plain(got.key)).toEqual(plain(record.key ?? null));
            expect(plain(got.value)).toEqual(plain(record.value));
            expect(got.headers.map((header) => ({ key: header.key, value: plain(header.value) }))).toEqual(
              (record.headers ?? []).map((header) => ({ key: header.key, value: plain(header.value) })),
            );
          }

          const validated = validateBatch(batch, UNCOMPRESSED_BYTES_MAX);
          expect(validated.sizeBytes).toBe(batch.length);
          expect(validated.maxTimestamp).toBe(Math.max(...timestamps));
          const header = validated.header;
          expect(header.maxTimestamp).toBe(Math.max(...timestamps));
          expect(header.baseTimestamp).toBe(timestamps[0]!);
          expect(header.recordsCount).toBe(records.length);
          expect(header.lastOffsetDelta).toBe(records.length - 1);
          expect(header.producerId).toBe(producerFields.producerId);
          expect(header.producerEpoch).toBe(producerFields.producerEpoch);
          expect(header.baseSequence).toBe(producerFields.baseSequence);
          expect(header.partitionLeaderEpoch).toBe(epoch);
          expect((header.attributes & 0x10) !== 0).toBe(isTransactional);
        },
      ),
      { seed: FAST_CHECK_SEED, numRuns: 400 },
    );
  });

  test("large records cross codec block boundaries and still round trip", () => {
    const value = new Uint8Array(200_000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7919) % 251;
    const records = [{ value }, { key: utf8("k"), value: value.subarray(0, 70_000) }, { value: null }];
    for (const codec of CODECS) {
      const batch = encodeBatch(records, { compression: codec, timestampMs: 1 });
      validateBatch(batch, UNCOMPRESSED_BYTES_MAX);
      const decoded = decodeRecords(batch, UNCOMPRESSED_BYTES_MAX);
      expect(decoded.map((record) => record.value?.length ?? null)).toEqual([200_000, 70_000, null]);
      expect(Buffer.from(decoded[0]!.value!).equals(Buffer.from(value))).toBe(true);
    }
  });

  test("a batch inside a larger buffer (non-zero byteOffset) validates and decodes", () => {
    const batch = sampleBatch("gzip");
    const backing = new Uint8Array(batch.length + 13);
    backing.set(batch, 7);
    const view = backing.subarray(7, 7 + batch.length);
    expect(validateBatch(view, UNCOMPRESSED_BYTES_MAX).header.recordsCount).toBe(3);
    expect(decodeRecords(view, UNCOMPRESSED_BYTES_MAX).map((record) => record.timestamp)).toEqual([
      1_000, 1_500, 900,
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("validateBatch rejects", () => {
  const good = sampleBatch();

  test("a batch shorter than its 61-byte header: CORRUPT_MESSAGE", () => {
    expectSluiceError(() => validateBatch(new Uint8Array(0), UNCOMPRESSED_BYTES_MAX), "CORRUPT_MESSAGE");
    expectSluiceError(() => validateBatch(good.subarray(0, 60), UNCOMPRESSED_BYTES_MAX), "CORRUPT_MESSAGE");
  });

  test("a magic other than 2: UNSUPPORTED_MAGIC", () => {
    for (const magic of [0, 1, 3, -1]) {
      const batch = good.slice();
      viewOf(batch).setInt8(16, magic);
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "UNSUPPORTED_MAGIC");
    }
  });

  test("a batchLength that disagrees with the bytes: CORRUPT_MESSAGE", () => {
    for (const delta of [-1, 1, -1000, 2 ** 30]) {
      const batch = good.slice();
      viewOf(batch).setInt32(8, good.length - 12 + delta);
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "CORRUPT_MESSAGE");
    }
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expectSluiceError(() => validateBatch(longer, UNCOMPRESSED_BYTES_MAX), "CORRUPT_MESSAGE");
  });

  test("a flipped bit anywhere under the CRC (bytes 17..end): CORRUPT_MESSAGE", () => {
    for (const codec of CODECS) {
      const batch = sampleBatch(codec);
      for (let bit = 17 * 8; bit < batch.length * 8; bit++) {
        const flipped = batch.slice();
        flipped[bit >>> 3]! ^= 0x80 >>> (bit & 7);
        expectSluiceError(() => validateBatch(flipped, UNCOMPRESSED_BYTES_MAX), "CORRUPT_MESSAGE");
      }
    }
  });

  test("baseOffset and partitionLeaderEpoch are not under the CRC", () => {
    const batch = good.slice();
    viewOf(batch).setBigInt64(0, 99n);
    viewOf(batch).setInt32(12, 12);
    const header = validateBatch(batch, UNCOMPRESSED_BYTES_MAX).header;
    expect(header.baseOffset).toBe(99);
    expect(header.partitionLeaderEpoch).toBe(12);
  });

  test("codecs 5, 6 and 7: UNSUPPORTED_COMPRESSION_TYPE", () => {
    for (const codec of [5, 6, 7]) {
      const batch = edited(good, (view) => view.setInt16(21, codec));
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "UNSUPPORTED_COMPRESSION_TYPE");
    }
  });

  test("a lastOffsetDelta that does not match recordsCount: INVALID_RECORD", () => {
    for (const lastOffsetDelta of [0, 1, 3, -1, 1000]) {
      const batch = edited(good, (view) => view.setInt32(23, lastOffsetDelta));
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    }
  });

  test("a batch with zero or a negative count of records: INVALID_RECORD", () => {
    expectSluiceError(
      () => validateBatch(rawBatch({ records: [], recordsCount: 0 }), UNCOMPRESSED_BYTES_MAX),
      "INVALID_RECORD",
    );
    expectSluiceError(
      () =>
        validateBatch(
          rawBatch({ records: [], recordsCount: -1, lastOffsetDelta: -2 }),
          UNCOMPRESSED_BYTES_MAX,
        ),
      "INVALID_RECORD",
    );
  });

  test("a control batch: INVALID_RECORD", () => {
    for (const attributes of [0x20, 0x30]) {
      const batch = edited(good, (view) => view.setInt16(21, attributes));
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    }
  });

  test("reserved attribute bits: INVALID_RECORD", () => {
    for (const attributes of [0x80, 0x100, -0x8000]) {
      const batch = edited(good, (view) => view.setInt16(21, attributes));
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    }
  });

  test("producerId >= 0 with baseSequence -1: INVALID_RECORD", () => {
    const batch = encodeBatch([{ value: utf8("x") }], { producerId: 5, producerEpoch: 0, baseSequence: -1 });
    expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    const idempotent = encodeBatch([{ value: utf8("x") }], {
      producerId: 5,
      producerEpoch: 0,
      baseSequence: 0,
    });
    expect(validateBatch(idempotent, UNCOMPRESSED_BYTES_MAX).header.producerId).toBe(5);
  });

  test("offset deltas that do not run 0..n-1: INVALID_RECORD, compressed or not", () => {
    const orders = [
      [1, 2, 3],
      [0, 2, 1],
      [0, 1, 1],
      [0, 0, 0],
      [-1, 0, 1],
    ];
    for (const codec of CODECS) {
      for (const deltas of orders) {
        const records = deltas.flatMap((offsetDelta) => rawRecord({ offsetDelta, value: [1] }));
        const batch = rawBatch({ records, recordsCount: 3, codec });
        expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
      }
      const inOrder = [0, 1, 2].flatMap((offsetDelta) => rawRecord({ offsetDelta, value: [1] }));
      expect(
        validateBatch(rawBatch({ records: inOrder, recordsCount: 3, codec }), UNCOMPRESSED_BYTES_MAX)
          .sizeBytes,
      ).toBeGreaterThan(61);
    }
  });

  test("a record length that disagrees with its fields: INVALID_RECORD", () => {
    for (const codec of CODECS) {
      for (const lengthError of [-1, 1, 2]) {
        const records = [
          ...rawRecord({ offsetDelta: 0, key: [1, 2], value: [3], lengthError }),
          ...rawRecord({ offsetDelta: 1, value: [4] }),
        ];
        const batch = rawBatch({ records, recordsCount: 2, codec });
        expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
      }
    }
  });

  test("a record whose last field runs past the batch: INVALID_RECORD", () => {
    const records = rawRecord({ offsetDelta: 0, value: [1, 2, 3] });
    const batch = rawBatch({ records: records.slice(0, -1), recordsCount: 1 });
    expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    const fewer = rawBatch({ records: rawRecord({ offsetDelta: 0, value: [1] }), recordsCount: 2 });
    expectSluiceError(() => validateBatch(fewer, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
  });

  test("trailing bytes after the last record: INVALID_RECORD, compressed or not", () => {
    for (const codec of CODECS) {
      const records = [...rawRecord({ offsetDelta: 0, value: [1] }), 0x00];
      const batch = rawBatch({ records, recordsCount: 1, codec });
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    }
  });

  test("negative lengths, header counts and null header keys: INVALID_RECORD", () => {
    const broken: RawRecordSpec[] = [
      { offsetDelta: 0, headerCount: -1 },
      { offsetDelta: 0, headers: [{ key: null, value: [1] }] },
      { offsetDelta: 0, headerCount: 1_000 },
    ];
    for (const spec of broken) {
      const batch = rawBatch({ records: rawRecord(spec), recordsCount: 1 });
      expectSluiceError(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    }
    const negativeKey = new Bytes().varint(4).raw(0).varlong(0).varint(0).varint(-2).parts;
    expectSluiceError(
      () => validateBatch(rawBatch({ records: negativeKey, recordsCount: 1 }), UNCOMPRESSED_BYTES_MAX),
      "INVALID_RECORD",
    );
  });

  test("a compressed payload that does not decompress: INVALID_RECORD", () => {
    for (const codec of ["gzip", "snappy", "lz4", "zstd"] as const) {
      const batch = rawBatch({ records: [], recordsCount: 1 });
      const garbage = edited(batch, (view) =>
        view.setInt16(21, { gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[codec]),
      );
      const withPayload = new Uint8Array(garbage.length + 8).fill(0x5a);
      withPayload.set(garbage);
      viewOf(withPayload).setInt32(8, withPayload.length - 12);
      resealCrc(withPayload);
      expectSluiceError(() => validateBatch(withPayload, UNCOMPRESSED_BYTES_MAX), "INVALID_RECORD");
    }
  });

  test("records that inflate past maxUncompressedBytes: MESSAGE_TOO_LARGE", () => {
    const batch = encodeBatch([{ value: new Uint8Array(100_000) }], { compression: "gzip", timestampMs: 1 });
    expectSluiceError(() => validateBatch(batch, 10_000), "MESSAGE_TOO_LARGE");
    expectSluiceError(() => decodeRecords(batch, 10_000), "MESSAGE_TOO_LARGE");
  });
});

describe("validateBatch on hostile input", () => {
  const acceptable = (run: () => unknown): boolean => {
    const error = thrownBy(run);
    if (error === undefined || isSluiceError(error)) return true;
    throw error;
  };

  test("random bytes only ever raise a SluiceError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        acceptable(() => validateBatch(bytes, UNCOMPRESSED_BYTES_MAX));
        acceptable(() => decodeRecords(bytes, UNCOMPRESSED_BYTES_MAX));
      }),
      { seed: FAST_CHECK_SEED, numRuns: 1_000 },
    );
  });

  test("random bytes behind a well-formed header and a valid CRC only ever raise a SluiceError", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 61, maxLength: 300 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 1, max: 20 }),
        (bytes, codec, count) => {
          const view = viewOf(bytes);
          view.setInt32(8, bytes.length - 12);
          view.setInt8(16, 2);
          view.setInt16(21, codec);
          view.setInt32(23, count - 1);
          view.setInt32(57, count);
          resealCrc(bytes);
          acceptable(() => validateBatch(bytes, UNCOMPRESSED_BYTES_MAX));
          acceptable(() => decodeRecords(bytes, UNCOMPRESSED_BYTES_MAX));
        },
      ),
      { seed: FAST_CHECK_SEED, numRuns: 1_000 },
    );
  });

  test("random mutations of a valid batch, resealed or not, only ever raise a SluiceError", () => {
    const batches = CODECS.map((codec) => sampleBatch(codec));
    fc.assert(
      fc.property(
        fc.nat({ max: batches.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        (which, edits, reseal) => {
          const batch = batches[which]!.slice();
          for (const [at, byte] of edits) batch[21 + (at % (batch.length - 21))] = byte;
          if (reseal) resealCrc(batch);
          acceptable(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX));
          acceptable(() => decodeRecords(batch, UNCOMPRESSED_BYTES_MAX));
        },
      ),
      { seed: FAST_CHECK_SEED, numRuns: 2_000 },
    );
  });

  test("a batch validateBatch accepts always decodes", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (which, edits) => {
          const batch = sampleBatch(CODECS[which]!).slice();
          for (const [at, byte] of edits) batch[61 + (at % (batch.length - 61))] = byte;
          resealCrc(batch);
          if (thrownBy(() => validateBatch(batch, UNCOMPRESSED_BYTES_MAX)) === undefined) {
            expect(decodeRecords(batch, UNCOMPRESSED_BYTES_MAX).length).toBe(3);
          }
        },
      ),
      { seed: FAST_CHECK_SEED, numRuns: 1_000 },
    );
  });

  test("a header key that is not UTF-8 is accepted and decodes with U+FFFD, as Kafka's consumer reads it", () => {
    const records = rawRecord({ offsetDelta: 0, value: [1], headers: [{ key: [0x61, 0xff], value: null }] });
    const batch = rawBatch({ records, recordsCount: 1 });
    validateBatch(batch, UNCOMPRESSED_BYTES_MAX);
    expect(decodeRecords(batch, UNCOMPRESSED_BYTES_MAX)[0]!.headers).toEqual([
      { key: "a\ufffd", value: null },
    ]);
  });

  test("decodeRecords refuses a batch of another magic", () => {
    const batch = sampleBatch().slice();
    viewOf(batch).setInt8(16, 1);
    expectSluiceError(() => decodeRecords(batch, UNCOMPRESSED_BYTES_MAX), "UNSUPPORTED_MAGIC");
  });
});

// ---------------------------------------------------------------------------------------------

describe("leader rewrites", () => {
  test("stampBatch sets baseOffset and partitionLeaderEpoch and keeps the CRC valid", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CODECS),
        fc.integer({ min: 0, max: 2 ** 52 }),
        fc.integer({ min: -1, max: 0x7fffffff }),
        (codec, baseOffset, epoch) => {
          const batch = sampleBatch(codec);
          const crcBefore = viewOf(batch).getUint32(17);
          const underCrc = batch.slice(17);
          stampBatch(batch, baseOffset, epoch);
          expect(int64At(batch, 0)).toBe(baseOffset);
          expect(viewOf(batch).getInt32(12)).toBe(epoch);
          expect(Array.from(batch.subarray(17))).toEqual(Array.from(underCrc));
          expect(viewOf(batch).getUint32(17)).toBe(crcBefore);
          const validated = validateBatch(batch, UNCOMPRESSED_BYTES_MAX);
          expect(validated.header.baseOffset).toBe(baseOffset);
          expect(decodeRecords(batch, UNCOMPRESSED_BYTES_MAX).map((record) => record.offset)).toEqual([
            baseOffset,
            baseOffset + 1,
            baseOffset + 2,
          ]);
        },
      ),
      { seed: FAST_CHECK_SEED, numRuns: 100 },
    );
  });

  test("setMaxTimestamp rewrites maxTimestamp and the type bit and recomputes the CRC", () => {
    for (const codec of CODECS) {
      const batch = sampleBatch(codec);
      setMaxTimestamp(batch, "LogAppendTime", 9_999);
      expect(int64At(batch, 35)).toBe(9_999);
      expect(viewOf(batch).getInt16(21) & 0x08).toBe(0x08);
      expect(viewOf(batch).getInt16(21) & 0x07).toBe(CODECS.indexOf(codec));
      expect(viewOf(batch).getUint32(17)).toBe(crc32c(batch.subarray(21)));
      expect(timestampTypeOf(readBatchHeader(batch))).toBe("LogAppendTime");
      validateBatch(batch, UNCOMPRESSED_BYTES_MAX);

      setMaxTimestamp(batch, "CreateTime", 1_500);
      expect(viewOf(batch).getInt16(21) & 0x08).toBe(0);
      expect(timestampTypeOf(readBatchHeader(batch))).toBe("CreateTime");
      expect(validateBatch(batch, UNCOMPRESSED_BYTES_MAX).header.maxTimestamp).toBe(1_500);
    }
  });

  test("under LogAppendTime every record reads back with the batch's maxTimestamp, as in Kafka", () => {
    const batch = sampleBatch("lz4");
    setMaxTimestamp(batch, "LogAppendTime", 77_777);
    expect(decodeRecords(batch, UNCOMPRESSED_BYTES_MAX).map((record) => record.timestamp)).toEqual([
      77_777, 77_777, 77_777,
    ]);
    // The create times are still there, under the CRC, should the batch go back to CreateTime.
    setMaxTimestamp(batch, "CreateTime", 1_500);
    expect(decodeRecords(batch, UNCOMPRESSED_BYTES_MAX).map((record) => record.timestamp)).toEqual([
      1_000, 1_500, 900,
    ]);
  });
});
