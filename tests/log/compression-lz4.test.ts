// LZ4: known answers from liblz4, the frame header and blocks Kafka writes, and what Kafka and librdkafka reject.
import { describe, expect, test } from "bun:test";
import { compress, decompress, decompressPortable } from "../../lib/log/compression.ts";
import {
  decode,
  encode,
  fromBase64,
  fromHex,
  jsonLikeBytes,
  MIB,
  outcomeOf,
  PATTERN_70000,
  randomBytes,
  SHORT_TEXT,
} from "./compression-helpers.ts";

describe("known answers from other implementations", () => {
  // liblz4 1.9.4 CLI: `lz4 -B4 --no-frame-crc` (the frame Kafka writes), `lz4` (4 MiB blocks, content
  // checksum, one stored block), and `lz4 -B4 -BX --content-size` (two 64 KiB blocks, every checksum).
  const LZ4_KAFKA_SHAPED = "04224d18604082180000006e6b61666b612006006d736c75696365070050756963650a00000000";
  const LZ4_DEFAULT =
    "04224d186440a72e000080536c7569636520737065616b73204b61666b613a20677a69702c20736e617070792c206c7a342c207a7374642e0a00000000f4af1509";
  const LZ4_CHECKSUMMED_BLOCKS =
    "BCJNGHxAcBEBAAAAAADKFAEAAK9hYmNkZWZnaGlqCgD///////////////////////////////////////////////////////////////////" +
    "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
    "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
    "//////////////////////////////////////////////////////3lBiY2RlZn81fc8lAAAAr2doaWphYmNkZWYKAP//////////////////" +
    "////X1BmZ2hpagmzr3cAAAAASEJRIw==";

  test("lz4 reads frames from liblz4 with and without block, content and size fields", () => {
    for (const read of [decompress, decompressPortable]) {
      expect(decode(read("lz4", fromHex(LZ4_KAFKA_SHAPED), MIB))).toBe(
        "kafka kafka kafka kafka sluice sluice sluice sluice\n",
      );
      expect(decode(read("lz4", fromHex(LZ4_DEFAULT), MIB))).toBe(SHORT_TEXT);
      expect(decode(read("lz4", fromBase64(LZ4_CHECKSUMMED_BLOCKS), MIB))).toBe(PATTERN_70000);
    }
  });

  test("lz4 checks the block checksum, content checksum and content size", () => {
    const frame = fromBase64(LZ4_CHECKSUMMED_BLOCKS);
    const corruptions = [
      [frame.length - 1, 0x24], // content checksum
      [frame.length - 9, 0x78], // the second block's checksum
      [6, 0x71], // content size, with the header checksum fixed below
    ] as const;
    for (const [position, value] of corruptions) {
      const mutated = frame.slice();
      mutated[position] = value;
      if (position === 6) mutated[14] = 0xcd; // the header checksum for a content size of 70001
      expect(outcomeOf(() => decompress("lz4", mutated, MIB))).toBe("CORRUPT_MESSAGE");
    }
  });

  test("lz4 writes Kafka's frame header and 64 KiB independent blocks", () => {
    const frame = compress("lz4", encode("kafka kafka kafka kafka sluice sluice sluice sluice\n"));
    // Magic, FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB), HC 0x82: what Kafka's producer writes.
    expect(Buffer.from(frame.subarray(0, 7)).toString("hex")).toBe("04224d18604082");
    expect(Buffer.from(frame.subarray(-4)).toString("hex")).toBe("00000000");
    expect(Buffer.from(compress("lz4", new Uint8Array(0))).toString("hex")).toBe("04224d1860408200000000");
    const blockSizes = lz4BlockSizes(compress("lz4", randomBytes(7, 200_000)));
    expect(blockSizes).toEqual([65536, 65536, 65536, 3392].map((size) => (0x80000000 | size) >>> 0));
  });

  test("lz4 keeps every block's last match 12 bytes clear of its end, as liblz4 requires", () => {
    // A repeat 10 bytes before the end tempts a greedy matcher (lz4js takes it; liblz4 then rejects the block).
    const input = jsonLikeBytes(8, 65536);
    input.set(input.subarray(65536 - 40, 65536 - 36), 65536 - 10);
    const frame = compress("lz4", input);
    const firstBlock = frame.subarray(7 + 4, 7 + 4 + (lz4BlockSizes(frame)[0]! & 0x7fffffff));
    expect(lz4LastMatchStart(firstBlock)).toBeLessThanOrEqual(65536 - 12);
    expect(decompress("lz4", frame, MIB)).toEqual(input);
  });

  test("lz4 rejects dependent blocks, the old header checksum and trailing bytes, as Kafka or librdkafka do", () => {
    // lz4js's own frame for "1" (FLG 0x40: blocks not independent), from RedisInsight's test constants.
    const dependent = Uint8Array.of(4, 34, 77, 24, 64, 112, 223, 1, 0, 0, 128, 49, 0, 0, 0, 0);
    const oldChecksum = fromHex(LZ4_KAFKA_SHAPED);
    oldChecksum[6] = 0x00; // pre-KIP-57 Kafka hashed the magic too; magic 2 batches never do
    const trailing = fromHex(`${LZ4_KAFKA_SHAPED}00`);
    for (const frame of [dependent, oldChecksum, trailing]) {
      expect(outcomeOf(() => decompress("lz4", frame, MIB))).toBe("CORRUPT_MESSAGE");
    }
  });
});

/** The size words of an LZ4 frame with a 7-byte header and no checksums. */
function lz4BlockSizes(frame: Uint8Array): number[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const sizes: number[] = [];
  for (let offset = 7; ; ) {
    const word = view.getUint32(offset, true);
    if (word === 0) return sizes;
    sizes.push(word);
    offset += 4 + (word & 0x7fffffff);
  }
}

/** Where, in decompressed bytes, the last match of an LZ4 block starts. */
function lz4LastMatchStart(block: Uint8Array): number {
  let i = 0;
  let output = 0;
  let lastMatchStart = -1;
  const readLength = (length: number) => {
    let total = length;
    if (length === 15) {
      let byte: number;
      do {
        byte = block[i++]!;
        total += byte;
      } while (byte === 255);
    }
    return total;
  };
  for (;;) {
    const token = block[i++]!;
    const literals = readLength(token >>> 4);
    i += literals;
    output += literals;
    if (i >= block.length) return lastMatchStart;
    i += 2;
    lastMatchStart = output;
    output += readLength(token & 15) + 4;
  }
}
