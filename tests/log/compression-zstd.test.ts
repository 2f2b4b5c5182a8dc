// Zstandard: known answers from the zstd CLI, concatenated and skippable frames, and frames cut short.
import { describe, expect, test } from "bun:test";
import { decompress, decompressPortable } from "../../lib/log/compression.ts";
import { decode, fromHex, MIB, outcomeOf, PATTERN_70000, SHORT_TEXT } from "./compression-helpers.ts";

describe("known answers from other implementations", () => {
  // zstd 1.5.4 CLI: `zstd -3 -c file` (content size and checksum in the frame) and `... | zstd -3 -c`
  // (streamed, no content size, as Kafka's and librdkafka's producers write); "1" from RedisInsight's tests.
  const ZSTD_WITH_SIZE =
    "28b52ffd242e710100536c7569636520737065616b73204b61666b613a20677a69702c20736e617070792c206c7a342c207a7374642e0a98b49080";
  const ZSTD_STREAMED = "28b52ffd0458950000506162636465666768696a01006311cd0b12df9b9841";

  test("zstd reads frames from the zstd CLI with and without a content size", () => {
    for (const read of [decompress, decompressPortable]) {
      expect(decode(read("zstd", fromHex(ZSTD_WITH_SIZE), MIB))).toBe(SHORT_TEXT);
      expect(decode(read("zstd", fromHex(ZSTD_STREAMED), MIB))).toBe(PATTERN_70000);
      expect(decode(read("zstd", Uint8Array.of(40, 181, 47, 253, 32, 1, 9, 0, 0, 49), MIB))).toBe("1");
      expect(outcomeOf(() => read("zstd", fromHex(ZSTD_STREAMED), 69_999))).toBe("MESSAGE_TOO_LARGE");
    }
  });

  test("zstd reads concatenated frames and skips skippable ones, as libzstd does", () => {
    const skippable = "502a4d1803000000abcdef";
    const frames = fromHex(ZSTD_WITH_SIZE + skippable + ZSTD_STREAMED);
    for (const read of [decompress, decompressPortable]) {
      expect(decode(read("zstd", frames, MIB))).toBe(SHORT_TEXT + PATTERN_70000);
    }
  });

  test("zstd rejects a frame cut at a block boundary, which Bun's streaming decoder would pass as empty", () => {
    const cut = fromHex(ZSTD_STREAMED).subarray(0, 6);
    for (const read of [decompress, decompressPortable]) {
      expect(outcomeOf(() => read("zstd", cut, MIB))).toBe("CORRUPT_MESSAGE");
    }
  });
});
