// The consumer's fast record decoder against the log's general one (lib/log/record-batch.ts): the
// same records, fields and offsets for keys, nulls, headers, timestamps far apart, LogAppendTime,
// compression and a start offset inside a batch; and a malformed record fails as CORRUPT_MESSAGE.
import { describe, expect, test } from "bun:test";
import { decodeBatches } from "../../lib/client/batch-decoding.ts";
import { SluiceClientError } from "../../lib/client/http.ts";
import {
  CRC_OFFSET,
  computeBatchCrc,
  decodeRecords,
  encodeBatch,
  RECORDS_OFFSET,
  type RecordInput,
  readBatchHeader,
  setMaxTimestamp,
  timestampTypeOf,
  utf8,
} from "../../lib/log/record-batch.ts";

const T0 = 1_700_000_000_000;

function records(): RecordInput[] {
  return [
    { key: utf8("k1"), value: utf8("first"), timestamp: T0 },
    { key: null, value: null, timestamp: T0 + 1 },
    { value: utf8("x".repeat(300)), timestamp: T0 - 5_000_000_000, headers: [{ key: "h", value: null }] },
    {
      key: new Uint8Array(0),
      value: utf8("with headers"),
      timestamp: T0 + 2,
      headers: [
        { key: "trace-id", value: utf8("abc") },
        { key: "ünï", value: new Uint8Array([0, 255]) },
      ],
    },
  ];
}

/** What lib/log's decoder says, shaped as the consumer hands records out. */
function expected(batch: Uint8Array, fromOffset = 0) {
  const timestampType = timestampTypeOf(readBatchHeader(batch));
  return decodeRecords(batch, 1 << 24)
    .filter((record) => record.offset >= fromOffset)
    .map((record) => ({ topic: "t", partition: 3, timestampType, ...record }));
}

describe("consumer record decoding", () => {
  test("matches the log's decoder, record for record", () => {
    const batch = encodeBatch(records(), { baseOffset: 40 });
    const decoded = decodeBatches(batch, "t", 3);
    expect(decoded).toEqual(expected(batch));
    expect(decoded.map((r) => r.offset)).toEqual([40, 41, 42, 43]);
    expect(decoded[3]!.headers[1]!.key).toBe("ünï");
  });

  test("several batches back to back, compressed ones too, from an offset inside the first", () => {
    const plain = encodeBatch(records(), { baseOffset: 10 });
    const gzip = encodeBatch(records(), { baseOffset: 14, compression: "gzip" });
    const lz4 = encodeBatch(records(), { baseOffset: 18, compression: "lz4" });
    const all = new Uint8Array(plain.length + gzip.length + lz4.length);
    all.set(plain, 0);
    all.set(gzip, plain.length);
    all.set(lz4, plain.length + gzip.length);
    const decoded = decodeBatches(all, "t", 3, 12);
    expect(decoded).toEqual([...expected(plain, 12), ...expected(gzip), ...expected(lz4)]);
    expect(decoded.map((r) => r.offset)).toEqual([12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
  });

  test("LogAppendTime: every record carries the batch's max timestamp", () => {
    const batch = encodeBatch(records(), { baseOffset: 0 });
    setMaxTimestamp(batch, "LogAppendTime", T0 + 99);
    const decoded = decodeBatches(batch, "t", 3);
    expect(decoded).toEqual(expected(batch));
    expect(new Set(decoded.map((r) => r.timestamp))).toEqual(new Set([T0 + 99]));
    expect(decoded[0]!.timestampType).toBe("LogAppendTime");
  });

  test("a record whose fields do not add up fails as CORRUPT_MESSAGE, even under a valid CRC", () => {
    const batch = encodeBatch([{ value: utf8("abc") }]);
    // The record's length varint (first byte of the records) says one byte more than there is.
    batch[RECORDS_OFFSET] = batch[RECORDS_OFFSET]! + 2;
    new DataView(batch.buffer).setUint32(CRC_OFFSET, computeBatchCrc(batch));
    expect(() => decodeBatches(batch, "t", 0)).toThrow(SluiceClientError);
    try {
      decodeBatches(batch, "t", 0);
    } catch (error) {
      expect((error as SluiceClientError).name).toBe("CORRUPT_MESSAGE");
    }
  });
});
