import { describe, expect, test } from "bun:test";
import { murmur2, partitionForKey, StickyPartitioner, toPositive } from "../../lib/gateway/partitioner.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("murmur2", () => {
  test("matches the hashes of Kafka's Utils.murmur2", () => {
    // Values produced by Kafka's own implementation (Utils.java), as quoted by Akka's Murmur2Spec.
    const expected: Record<string, number> = {
      "1": -1993445489,
      "12": 126087238,
      "123": -267702483,
      "1234": -1614185708,
      "12345": -1188365604,
    };
    for (const [key, hash] of Object.entries(expected)) expect(murmur2(utf8(key))).toBe(hash);
  });

  test("agrees with kafkajs's Java-compatible partitioner hash on many keys", () => {
    const kafkajsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2") as (
      key: Buffer,
    ) => number;
    expect(murmur2(new Uint8Array(0))).toBe(kafkajsMurmur2(Buffer.alloc(0)));
    for (let i = 0; i < 2000; i++) {
      const key = utf8(`key-${i}-${"x".repeat(i % 13)}`);
      expect(murmur2(key)).toBe(kafkajsMurmur2(Buffer.from(key)));
    }
  });
});

describe("partitionForKey", () => {
  test("is stable and within range", () => {
    for (let i = 0; i < 500; i++) {
      const partition = partitionForKey(utf8(`order-${i}`), 7);
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(7);
      expect(partitionForKey(utf8(`order-${i}`), 7)).toBe(partition);
    }
  });

  test("toPositive clears the sign bit rather than taking the absolute value", () => {
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(-1)).toBe(2147483647);
  });
});

describe("StickyPartitioner", () => {
  test("keeps keyless records on one partition until the batch is done, then moves", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const sticky = new StickyPartitioner(random);
    const first = sticky.partition("t", 4);
    for (let i = 0; i < 10; i++) expect(sticky.partition("t", 4)).toBe(first);
    sticky.batchDone("t", 4);
    expect(sticky.partition("t", 4)).not.toBe(first);
  });
});
