// The offsets topic's records, byte for byte as Kafka writes them (golden bytes), the versions Kafka
// wrote before, refusals of damaged records, and the group → partition rule of Kafka's coordinator.
import { describe, expect, test } from "bun:test";
import {
  decodeOffsetCommitKey,
  decodeOffsetCommitValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from "../../lib/groups/offset-commit-record.ts";
import { javaStringHash, offsetsPartitionFor } from "../../lib/groups/offsets-topic.ts";
import { expectSluiceError, thrownBy } from "../log/helpers.ts";

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s/g, ""), "hex"));
}

describe("keys", () => {
  test("a commit key is version 1, the group, the topic and the partition", () => {
    const key = encodeOffsetCommitKey({ group: "g1", topic: "orders", partition: 3 });
    // 0001 | 0002 "g1" | 0006 "orders" | 00000003
    expect(hex(key)).toBe("0001" + "0002" + "6731" + "0006" + "6f7264657273" + "00000003");
    expect(decodeOffsetCommitKey(key)).toEqual({ group: "g1", topic: "orders", partition: 3 });
  });

  test("a version 0 key reads the same; a group metadata key (version 2) reads as nothing", () => {
    expect(decodeOffsetCommitKey(fromHex("0000 0001 61 0001 74 00000000"))).toEqual({
      group: "a",
      topic: "t",
      partition: 0,
    });
    expect(decodeOffsetCommitKey(fromHex("0002 0001 61"))).toBeUndefined();
  });

  test("group and topic names are UTF-8", () => {
    const key = { group: "grüße/Ω", topic: "t", partition: 7 };
    expect(decodeOffsetCommitKey(encodeOffsetCommitKey(key))).toEqual(key);
  });

  test("a damaged key is CORRUPT_MESSAGE: short, trailing bytes, unknown version, not UTF-8", () => {
    for (const damaged of [
      "0001 0005 6731",
      "0001 0002 6731 0006 6f7264657273 00000003 00",
      "0009 0002 6731",
      "0001 0001 ff 0001 74 00000000",
      "0001 ffff",
    ]) {
      expectSluiceError(
        thrownBy(() => decodeOffsetCommitKey(fromHex(damaged))),
        "CORRUPT_MESSAGE",
      );
    }
  });
});

describe("values", () => {
  test("a commit value is version 3: offset, leader epoch -1, metadata and commit timestamp", () => {
    const value = encodeOffsetCommitValue({
      offset: 42,
      metadata: "m",
      commitTimestampMs: 1_700_000_000_000,
    });
    expect(hex(value)).toBe("0003" + "000000000000002a" + "ffffffff" + "0001" + "6d" + "0000018bcfe56800");
    expect(decodeOffsetCommitValue(value)).toEqual({
      offset: 42,
      metadata: "m",
      commitTimestampMs: 1_700_000_000_000,
    });
  });

  test("versions 0 to 2, as older Kafka brokers wrote them, are read too", () => {
    const v0 = "0000 0000000000000007 0000 0000000000000064";
    const v1 = "0001 0000000000000007 0002 6869 0000000000000064 00000000000003e8";
    expect(decodeOffsetCommitValue(fromHex(v0))).toEqual({ offset: 7, metadata: "", commitTimestampMs: 100 });
    expect(decodeOffsetCommitValue(fromHex(v1))).toEqual({
      offset: 7,
      metadata: "hi",
      commitTimestampMs: 100,
    });
    expect(decodeOffsetCommitValue(fromHex(v0.replace(/^0000/, "0002")))).toEqual({
      offset: 7,
      metadata: "",
      commitTimestampMs: 100,
    });
  });

  test("a damaged value is CORRUPT_MESSAGE: truncated, unknown version, negative offset", () => {
    const good = hex(encodeOffsetCommitValue({ offset: 1, metadata: "", commitTimestampMs: 0 }));
    for (const damaged of [
      good.slice(0, -2),
      `0004${good.slice(4)}`,
      `0003ffffffffffffffff${good.slice(20)}`,
    ]) {
      expectSluiceError(
        thrownBy(() => decodeOffsetCommitValue(fromHex(damaged))),
        "CORRUPT_MESSAGE",
      );
    }
  });
});

describe("group → partition", () => {
  test("is Java's String.hashCode, as Kafka's coordinator uses", () => {
    expect(javaStringHash("")).toBe(0);
    expect(javaStringHash("hello")).toBe(99_162_322);
    // A known collision and a known Integer.MIN_VALUE of Java's hash.
    expect(javaStringHash("Aa")).toBe(javaStringHash("BB"));
    expect(javaStringHash("polygenelubricants")).toBe(-2_147_483_648);
  });

  test("is Utils.abs(hash) % partitions, with int32 min going to partition 0", () => {
    expect(offsetsPartitionFor("hello", 50)).toBe(99_162_322 % 50);
    expect(offsetsPartitionFor("polygenelubricants", 4)).toBe(0);
    expect(offsetsPartitionFor("a", 4)).toBe(97 % 4);
    // A negative hash: abs before the modulo (Java's % would keep the sign).
    const negative = "billing";
    expect(javaStringHash(negative)).toBeLessThan(0);
    expect(offsetsPartitionFor(negative, 50)).toBe(Math.abs(javaStringHash(negative)) % 50);
  });
});
